//! The panel beside the stage: chat, people, speaking time, one's settings, or (hosts) the
//! meeting's settings.

use sprechstunde_shared::{ClientMessage, ModerationAction, Participant, ParticipantId};
use yew::prelude::*;

use super::local::{LocalState, MediaControls, Panel};
use crate::components::blur_toggle::{BlurState, BlurToggle};
use crate::components::chat_panel::ChatPanel;
use crate::components::device_settings::DeviceSettings;
use crate::components::host_panel::HostPanel;
use crate::components::people_panel::PeoplePanel;
use crate::components::shortcuts_toggle::ShortcutsToggle;
use crate::components::speaking_panel::SpeakingPanel;
use crate::i18n::Key;
use crate::media::sending::Sending;
use crate::state::RoomView;

/// What the panel needs of the room.
pub struct SidePanel<'a> {
    pub which: Panel,
    pub room: &'a RoomView,
    pub local: &'a LocalState,
    pub sending: &'a Sending,
    pub controls: &'a MediaControls,
    /// Everyone, oneself first.
    pub everyone: Vec<Participant>,
    pub own_label: String,
    pub chat_error: Option<Key>,
    pub on_send_chat: Callback<(String, Option<ParticipantId>)>,
    pub on_download: Callback<()>,
    pub on_moderate: Callback<(ParticipantId, ModerationAction)>,
    pub send_message: Callback<ClientMessage>,
}

/// What the blur switch shows, from what is being sent.
fn blur_state(sending: &Sending) -> BlurState {
    match &sending.blur {
        _ if !sending.blur_wanted => BlurState::Off,
        Some(running) => BlurState::Running(running.clone()),
        None if sending.blur_failed => BlurState::Failed,
        None if sending.camera.is_none() => BlurState::Waiting,
        None => BlurState::Loading,
    }
}

pub fn side_panel(panel: SidePanel<'_>) -> Html {
    let SidePanel {
        which,
        room,
        local,
        sending,
        controls,
        ..
    } = panel;
    match which {
        Panel::Chat => html! {
            <ChatPanel messages={room.chat.clone()} me={room.me}
                others={room.participants.clone()} on_send={panel.on_send_chat}
                on_download={panel.on_download} error={panel.chat_error} host={room.host} />
        },
        Panel::People => html! {
            <PeoplePanel people={panel.everyone} own_label={panel.own_label}
                on_moderate={room.host.then_some(panel.on_moderate)}
                contacts={room.contacts.clone()} />
        },
        Panel::Speaking => html! {
            <SpeakingPanel speakers={room.speakers.clone()} active={room.active_speaker} />
        },
        Panel::Settings => html! {
            <>
            <BlurToggle on={local.blur_on} state={blur_state(sending)}
                on_change={controls.blur.clone()} holds_camera=true />
            <DeviceSettings choice={local.devices.clone()} on_choice={controls.devices.clone()}
                quality={local.quality} on_quality={controls.quality.clone()}
                receive={Some(local.receive)} on_receive={controls.receive.clone()}
                refresh={local.device_epoch} />
            <ShortcutsToggle />
            </>
        },
        Panel::Host => html! {
            <HostPanel meeting={room.meeting.clone()} on_send={panel.send_message} />
        },
    }
}
