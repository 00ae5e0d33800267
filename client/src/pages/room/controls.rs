//! The control bar: microphone, camera, screen, hand, the panels, layout, full screen and
//! leaving. Each button says what it does and, where it toggles, whether it is on. On a
//! phone only what a call needs is shown at first; "Mehr" shows the rest.

use sprechstunde_shared::MediaState;
use yew::prelude::*;

use super::local::{Layout, Panel};
use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::media::support::{full_screen_support, FullScreen};
use crate::settings::{self, SettingKey};

#[derive(Properties, PartialEq)]
pub struct ControlBarProps {
    pub media: MediaState,
    /// The camera is being switched.
    pub busy: bool,
    pub hand_raised: bool,
    pub panel: Option<Panel>,
    pub layout: Layout,
    pub host: bool,
    /// People in the room, oneself included.
    pub people: usize,
    pub unread: usize,
    pub toggle_mic: Callback<MouseEvent>,
    pub toggle_camera: Callback<MouseEvent>,
    pub toggle_screen: Callback<MouseEvent>,
    pub toggle_hand: Callback<MouseEvent>,
    pub open: Callback<Panel>,
    pub toggle_layout: Callback<MouseEvent>,
    pub leave: Callback<MouseEvent>,
}

/// Full screen on or off; the choice is remembered for the next time.
fn toggle_fullscreen() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
        settings::remove(SettingKey::Fullscreen);
    } else if let Some(root) = document.document_element() {
        let _ = root.request_fullscreen();
        settings::set(SettingKey::Fullscreen, "on");
    }
}

#[function_component(ControlBar)]
pub fn control_bar(props: &ControlBarProps) -> Html {
    let lang = use_lang();
    let media = props.media;
    let expanded = use_state(|| false);
    let pressed = |on: bool| on.to_string();
    // Hidden on a phone until "Mehr" (CSS decides; everything is there on wider screens).
    let secondary = |which: Panel| (which != Panel::Chat).then_some("secondary");
    let panel_button = |which: Panel, label: String| {
        html! {
            <button type="button" id={which.button_id()} class={classes!(secondary(which))} aria-pressed={pressed(props.panel == Some(which))}
                onclick={
                    let (open, expanded) = (props.open.clone(), expanded.clone());
                    // The panel covers a phone's stage: fold the extra controls away.
                    Callback::from(move |_: MouseEvent| { expanded.set(false); open.emit(which) })
                }>
                { label }
                if which == Panel::Chat && props.unread > 0 {
                    <span class="unread" id="chat-unread">
                        { props.unread }<span class="visually-hidden">{ format!(" {}", t(lang, Key::UnreadMessages)) }</span>
                    </span>
                }
            </button>
        }
    };
    html! {
        <nav class={classes!("controls", expanded.then_some("expanded"))} id="controls" aria-label={t(lang, Key::Settings)}>
            <button type="button" id="toggle-mic" aria-pressed={pressed(!media.mic)}
                class={classes!((!media.mic).then_some("off"))} onclick={props.toggle_mic.clone()}>
                { if media.mic { t(lang, Key::MuteAction) } else { t(lang, Key::UnmuteAction) } }
            </button>
            <button type="button" id="toggle-camera" aria-pressed={pressed(!media.camera)}
                class={classes!((!media.camera).then_some("off"))} onclick={props.toggle_camera.clone()}
                disabled={props.busy}>
                { if media.camera { t(lang, Key::CameraOffAction) } else { t(lang, Key::CameraOnAction) } }
            </button>
            // Phones cannot share their screen: no button that could only fail.
            if crate::media::support::can_share_screen() {
                <button type="button" id="toggle-screen" class="secondary" aria-pressed={pressed(media.screen)} onclick={props.toggle_screen.clone()}>
                    { if media.screen { t(lang, Key::StopSharing) } else { t(lang, Key::ShareScreen) } }
                </button>
            }
            <button type="button" id="toggle-hand" aria-pressed={pressed(props.hand_raised)} onclick={props.toggle_hand.clone()}>
                { if props.hand_raised { t(lang, Key::LowerHand) } else { t(lang, Key::RaiseHand) } }
            </button>
            { panel_button(Panel::Chat, t(lang, Key::Chat).to_string()) }
            { panel_button(Panel::People, format!("{} ({})", t(lang, Key::People), props.people)) }
            { panel_button(Panel::Speaking, t(lang, Key::SpeakingTime).to_string()) }
            <button type="button" id="toggle-layout" class="secondary" onclick={props.toggle_layout.clone()}>
                { match props.layout { Layout::Tiles => t(lang, Key::LayoutSpeaker), Layout::Speaker => t(lang, Key::LayoutTiles) } }
            </button>
            // The whole page goes full screen only where elements can (not on iPhones).
            if full_screen_support() == FullScreen::Element {
                <button type="button" id="toggle-fullscreen" class="secondary" onclick={Callback::from(|_: MouseEvent| toggle_fullscreen())}>
                    { t(lang, Key::Fullscreen) }
                </button>
            }
            { panel_button(Panel::Settings, t(lang, Key::Settings).to_string()) }
            if props.host {
                { panel_button(Panel::Host, t(lang, Key::RoomPanel).to_string()) }
            }
            <button type="button" class="more" id="more-controls" aria-expanded={expanded.to_string()}
                aria-controls="controls" onclick={
                    let expanded = expanded.clone();
                    Callback::from(move |_: MouseEvent| expanded.set(!*expanded))
                }>
                { t(lang, Key::MoreControls) }
            </button>
            <button type="button" class="leave" onclick={props.leave.clone()}>{ t(lang, Key::Leave) }</button>
        </nav>
    }
}
