//! The room: everyone's video, the controls (microphone, camera, screen, hand, chat, people,
//! speaking time, layout, settings) and the leave button. The page wires the session (the
//! relay's view of the room, through the `RoomView` reducer) to this participant's own
//! media and view (the `LocalState` reducer in `local`), and composes the stage, the side
//! panel and the control bar.

mod controls;
mod keyboard;
mod local;
mod side_panel;
mod stage;
mod tile_heights;

use sprechstunde_shared::{
    ClientMessage, ErrorCode, MediaState, ModerationAction, Participant, ParticipantId, RoomName,
};
use web_sys::{MediaStream, RtcPeerConnectionState};
use yew::prelude::*;

use crate::app::use_lang;
use crate::components::knock_notice::KnockNotice;
use crate::components::password_prompt::PasswordPrompt;
use crate::components::unreachable_notice::UnreachableNotice;
use crate::components::waiting_view::WaitingRoomView;
use crate::i18n::{t, tf, Key, Lang};
use crate::media::local::DeviceChoice;
use crate::media::peer::MediaTransport;
use crate::media::quality::Quality;
use crate::media::sending::SharedSending;
use crate::session::{EndReason, Session};
use crate::state::RoomView;
use crate::transcript;
use controls::ControlBar;
use local::{use_local_media, use_sending, LocalAction, LocalState, Panel, SessionRef};
use side_panel::{side_panel, SidePanel};
use stage::Stage;

/// What pre-join hands over to the room.
#[derive(Clone, PartialEq)]
pub struct JoinChoice {
    pub name: String,
    /// Optional; the relay shows it to hosts only.
    pub email: Option<String>,
    pub stream: Option<MediaStream>,
    pub mic_on: bool,
    pub camera_on: bool,
    pub devices: DeviceChoice,
    pub quality: Quality,
    /// Background blur wanted: the camera is sent only blurred.
    pub blur: bool,
    /// Nothing was captured before the click: capture while joining.
    pub capture_at_join: bool,
}

#[derive(Properties, PartialEq)]
pub struct RoomProps {
    pub room: RoomName,
    pub choice: JoinChoice,
    pub on_leave: Callback<Option<EndReason>>,
}

fn refusal_text(code: ErrorCode) -> Option<Key> {
    match code {
        ErrorCode::MessageTooLong => Some(Key::ChatTooLong),
        ErrorCode::EmptyMessage => Some(Key::ChatEmptyError),
        ErrorCode::RateLimited => Some(Key::ChatRateLimited),
        ErrorCode::UnknownParticipant => Some(Key::ChatUnknownReceiver),
        ErrorCode::NotHost => Some(Key::NotHostError),
        _ => None,
    }
}

/// Start the session with the room; leaving the page ends everything (connections and
/// capture).
#[hook]
fn use_session(
    session: &SessionRef,
    room: &RoomName,
    choice: &JoinChoice,
    sending: &SharedSending,
    media: MediaState,
    dispatcher: UseReducerDispatcher<RoomView>,
) {
    let (handle, room, sending) = (session.clone(), room.clone(), sending.clone());
    let (name, email) = (choice.name.clone(), choice.email.clone());
    use_effect_with((), move |_| {
        let on_event = Callback::from(move |event| dispatcher.dispatch(event));
        *handle.borrow_mut() = Some(Session::start(
            room,
            name,
            email,
            crate::route::link_token_from_location(),
            sending.clone(),
            media,
            on_event,
        ));
        move || {
            if let Some(session) = handle.borrow_mut().take() {
                session.leave();
            }
            sending.borrow_mut().stop_all();
        }
    });
}

/// A message to the relay, if the session runs.
fn sender(session: &SessionRef) -> Callback<ClientMessage> {
    let session = session.clone();
    Callback::from(move |message: ClientMessage| {
        if let Some(session) = session.borrow().as_ref() {
            session.send(&message);
        }
    })
}

fn download_chat(lang: Lang, room: &RoomName, state: &RoomView) -> Callback<()> {
    let (chat, room) = (state.chat.clone(), room.clone());
    Callback::from(move |_: ()| {
        let text = transcript::transcript(lang, &chat);
        let date = js_sys::Date::new_0();
        let file = format!(
            "chat-{}-{:04}-{:02}-{:02}.txt",
            room.as_str(),
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date()
        );
        let _ = transcript::download(&file, &text);
    })
}

fn media_status(state: Option<RtcPeerConnectionState>) -> Key {
    match state {
        Some(RtcPeerConnectionState::Connected) => Key::MediaEncrypted,
        Some(RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed) => {
            Key::MediaReconnecting
        }
        _ => Key::MediaConnecting,
    }
}

/// The path media takes, in plain words: a counselor can tell a family on a blocked network
/// why the picture lags.
fn transport_key(transport: MediaTransport) -> Key {
    match transport {
        MediaTransport::Udp => Key::MediaPathUdp,
        MediaTransport::Tcp => Key::MediaPathTcp,
        MediaTransport::Turn => Key::MediaPathTurn,
    }
}

/// The name a screen reader gives the open panel.
fn panel_name(lang: Lang, panel: Option<Panel>) -> Option<&'static str> {
    let key = match panel? {
        Panel::Chat => Key::ChatHeading,
        Panel::People => Key::People,
        Panel::Speaking => Key::SpeakingTimeHeading,
        Panel::Settings => Key::Settings,
        Panel::Host => Key::RoomPanel,
    };
    Some(t(lang, key))
}

fn transport_name(transport: MediaTransport) -> &'static str {
    match transport {
        MediaTransport::Udp => "udp",
        MediaTransport::Tcp => "tcp",
        MediaTransport::Turn => "turn",
    }
}

/// Chat messages of others not seen yet.
fn unread(state: &RoomView, local: &LocalState) -> usize {
    state
        .chat
        .iter()
        .skip(local.chat_seen)
        .filter(|m| Some(m.from) != state.me)
        .count()
}

/// Topic (or the room's name), description, how many are here and how media travels.
fn room_header(lang: Lang, state: &RoomView, room: &RoomName, people: usize) -> Html {
    html! {
        <header class="room-header">
            <div>
                <h1 id="room-topic-heading" dir="auto">{ state.meeting.topic.clone().unwrap_or_else(|| room.as_str().to_string()) }</h1>
                if let Some(description) = &state.meeting.description {
                    <p class="description" dir="auto">{ description.clone() }</p>
                }
            </div>
            <p class="status-line">
                <span id="people-count" role="status" aria-live="polite">
                    { tf(lang, Key::PeopleInRoom, &[("count", &people.to_string())]) }
                </span>
                <span id="media-status" role="status">{ t(lang, media_status(state.media_state)) }</span>
                if let (Some(RtcPeerConnectionState::Connected), Some(transport)) = (state.media_state, state.media_transport) {
                    <span id="media-path" data-transport={transport_name(transport)}>{ t(lang, transport_key(transport)) }</span>
                }
            </p>
        </header>
    }
}

#[function_component(RoomPage)]
pub fn room_page(props: &RoomProps) -> Html {
    let lang = use_lang();
    let state = use_reducer(RoomView::default);
    let choice = &props.choice;
    let sending = use_sending(choice);
    let session: SessionRef = use_mut_ref(|| None::<Session>);
    let local = use_local_media(choice, &sending, &session, state.moderated);
    // The join declares what is sent from the start (corrected later if a device is missing).
    let declared = local.state.media;
    use_session(
        &session,
        &props.room,
        choice,
        &sending,
        declared,
        state.dispatcher(),
    );
    let dispatch = local.state.dispatcher();
    {
        let on_leave = props.on_leave.clone();
        use_effect_with(state.ended, move |ended| {
            if let Some(reason) = ended {
                on_leave.emit(Some(*reason));
            }
        });
    }
    {
        // The chat counts as read while it is open.
        let dispatch = dispatch.clone();
        use_effect_with(
            (local.state.panel, state.chat.len()),
            move |(panel, count)| {
                if *panel == Some(Panel::Chat) {
                    dispatch.dispatch(LocalAction::ChatSeen(*count));
                }
            },
        );
    }
    keyboard::use_room_keyboard(
        local.state.panel,
        dispatch.to_callback().reform(|()| LocalAction::ClosePanel),
    );
    let send_message = sender(&session);
    let act = dispatch.to_callback();
    let leave = props.on_leave.reform(|_: MouseEvent| None);

    if let Some(reason) = state.password_needed {
        let session = session.clone();
        let on_password = Callback::from(move |password: String| {
            if let Some(session) = session.borrow().as_ref() {
                session.join_with_password(password);
            }
        });
        return html! { <PasswordPrompt {reason} on_submit={on_password} on_leave={leave} /> };
    }
    if let Some(view) = &state.waiting {
        return html! {
            <WaitingRoomView view={view.clone()} room={props.room.as_str().to_string()} on_leave={leave} />
        };
    }
    let Some(me) = state.me else {
        return html! {
            <main class="page narrow" aria-busy="true">
                <p role="status"><span class="spinner" aria-hidden="true"></span>{ t(lang, Key::Joining) }</p>
            </main>
        };
    };
    let view = &*local.state;
    let own = Participant {
        id: me,
        name: choice.name.clone(),
        media: view.media,
        hand: state.own.as_ref().and_then(|p| p.hand),
        host: state.host,
        interpreter: state.own.as_ref().is_some_and(|p| p.interpreter),
        connection: state.own.as_ref().map(|p| p.connection).unwrap_or_default(),
    };
    let own_label = format!("{} ({})", choice.name, t(lang, Key::You));
    let hand_raised = own.hand.is_some();
    let on_moderate =
        send_message.reform(|(participant, action): (ParticipantId, ModerationAction)| {
            ClientMessage::Moderate {
                participant,
                action,
            }
        });
    let mut everyone = vec![own.clone()];
    everyone.extend(state.participants.iter().cloned());
    let panel = view.panel.map(|which| {
        side_panel(SidePanel {
            which,
            room: &state,
            local: view,
            sending: &local.sending.borrow(),
            controls: &local.controls,
            everyone,
            own_label,
            chat_error: state.refused.and_then(|(code, _)| refusal_text(code)),
            on_send_chat: send_message.reform(|(text, to)| ClientMessage::Chat { text, to }),
            on_download: download_chat(lang, &props.room, &state),
            on_moderate: on_moderate.clone(),
            send_message: send_message.clone(),
        })
    });
    let people = state.participants.len() + 1;

    html! {
        <main class={classes!("room", view.panel.is_some().then_some("with-panel"))}>
            { room_header(lang, &state, &props.room, people) }
            // Read out by screen readers as it happens, panels open or not.
            <div id="announcements" class="visually-hidden" aria-live="polite">
                { for state.announcements.recent().iter().map(|(number, event)| html! {
                    <p key={*number}>{ event.text(lang) }</p>
                }) }
            </div>
            if view.media.screen {
                <div class="sharing-banner" role="status" id="sharing-banner">
                    <span>{ t(lang, Key::YouAreSharing) }</span>
                    <button type="button" onclick={local.controls.toggle_screen.clone()}>{ t(lang, Key::StopSharing) }</button>
                </div>
            }
            if state.reconnecting {
                <div class="notice reconnecting" role="status" aria-live="polite" id="reconnecting">
                    <span class="spinner" aria-hidden="true"></span>
                    <span>{ t(lang, Key::Reconnecting) }</span>
                </div>
            }
            if state.host {
                <KnockNotice guests={state.knocking.clone()}
                    on_admit={on_moderate.reform(|id| (id, ModerationAction::Admit))}
                    on_deny={on_moderate.reform(|id| (id, ModerationAction::Deny))} />
                <UnreachableNotice people={state.unreachable.clone()} />
            }
            if let Some(key) = view.notice {
                <div class="notice" role="alert">
                    <span>{ t(lang, key) }</span>
                    <button type="button" onclick={act.reform(|_: MouseEvent| LocalAction::Notice(None))}>
                        { t(lang, Key::Close) }
                    </button>
                </div>
            }
            <div class="room-body">
                <Stage own={own} own_stream={view.own_stream.clone()}
                    others={state.participants.clone()} streams={state.streams.clone()}
                    active_speaker={state.active_speaker} video_paused={state.video_paused.clone()}
                    layout={view.layout} pinned={view.pinned}
                    on_pin={act.reform(LocalAction::TogglePin)}
                    sink_id={view.devices.speaker.clone()}
                    on_switch_camera={local.controls.switch_camera.clone()} />
                if let Some(panel) = panel {
                    <aside class="side" id="side-panel" tabindex="-1" aria-label={panel_name(lang, view.panel)}>
                        <button type="button" class="close-panel"
                            onclick={act.reform(|_: MouseEvent| LocalAction::ClosePanel)}>{ t(lang, Key::Close) }</button>
                        { panel }
                    </aside>
                }
            </div>
            <ControlBar media={view.media} busy={view.busy} {hand_raised} panel={view.panel}
                layout={view.layout} host={state.host} {people} unread={unread(&state, view)}
                toggle_mic={local.controls.toggle_mic.clone()}
                toggle_camera={local.controls.toggle_camera.clone()}
                toggle_screen={local.controls.toggle_screen.clone()}
                toggle_hand={send_message.reform(move |_: MouseEvent| ClientMessage::SetHand { raised: !hand_raised })}
                open={act.reform(LocalAction::TogglePanel)}
                toggle_layout={act.reform(|_: MouseEvent| LocalAction::ToggleLayout)}
                {leave} />
        </main>
    }
}
