//! The room: everyone's video, the controls (microphone, camera, screen, hand, chat, people,
//! speaking time, layout, settings) and the leave button.

use std::cell::RefCell;
use std::rc::Rc;

use sprechstunde_shared::{
    ClientMessage, ErrorCode, MediaState, ModerationAction, Participant, ParticipantId, RoomName,
    TrackSource,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::{MediaStream, RtcPeerConnectionState};
use yew::prelude::*;

use crate::app::use_lang;
use crate::components::blur_toggle::{BlurState, BlurToggle};
use crate::components::chat_panel::ChatPanel;
use crate::components::device_settings::DeviceSettings;
use crate::components::host_panel::HostPanel;
use crate::components::knock_notice::KnockNotice;
use crate::components::password_prompt::PasswordPrompt;
use crate::components::people_panel::PeoplePanel;
use crate::components::speaking_panel::SpeakingPanel;
use crate::components::video_tile::VideoTile;
use crate::components::waiting_view::WaitingRoomView;
use crate::i18n::{t, Key};
use crate::media::local::{self, DeviceChoice};
use crate::media::quality::Quality;
use crate::media::sending::{self, Sending, SharedSending};
use crate::session::{EndReason, Session};
use crate::settings::{self, SettingKey};
use crate::state::RoomState;
use crate::transcript;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    Chat,
    People,
    Speaking,
    Settings,
    /// Hosts only: the meeting's settings.
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Tiles,
    Speaker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TileId(ParticipantId, TrackSource);

struct Tile {
    id: TileId,
    stream: Option<MediaStream>,
    label: String,
    own: bool,
    participant: Participant,
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

#[function_component(RoomPage)]
pub fn room_page(props: &RoomProps) -> Html {
    let lang = use_lang();
    let state = use_reducer(RoomState::default);
    let session = use_mut_ref(|| None::<Session>);
    let choice = &props.choice;
    let sending: SharedSending = (*use_state(|| {
        Rc::new(RefCell::new(Sending::from_prejoin(
            choice.stream.as_ref(),
            choice.mic_on,
            choice.camera_on,
            choice.devices.clone(),
            choice.quality,
            choice.blur,
        )))
    }))
    .clone();
    // While the capture at join runs, the person's choice stands; it is corrected if a device
    // turns out to be missing.
    let media = use_state(|| MediaState {
        mic: choice.mic_on && (choice.capture_at_join || sending.borrow().microphone.is_some()),
        camera: choice.camera_on && (choice.capture_at_join || sending.borrow().camera.is_some()),
        screen: false,
    });
    let own_stream = use_state(|| sending.borrow().camera_stream());
    let panel = use_state(|| None::<Panel>);
    let layout = use_state(|| Layout::Tiles);
    let pinned = use_state(|| None::<TileId>);
    let chat_seen = use_state(|| 0usize);
    let audio_only = use_state(|| false);
    let devices = use_state(|| choice.devices.clone());
    let quality = use_state(|| choice.quality);
    let notice = use_state(|| None::<Key>);
    let busy = use_state(|| false);
    let blur_on = use_state(|| choice.blur);

    {
        let session = session.clone();
        let dispatcher = state.dispatcher();
        let room = props.room.clone();
        let name = choice.name.clone();
        let email = choice.email.clone();
        let sending = sending.clone();
        let initial = *media;
        use_effect_with((), move |_| {
            let on_event = Callback::from(move |event| dispatcher.dispatch(event));
            *session.borrow_mut() = Some(Session::start(
                room,
                name,
                email,
                crate::route::link_token_from_location(),
                sending.clone(),
                initial,
                on_event,
            ));
            move || {
                // Leaving the page ends everything: connections and capture.
                if let Some(session) = session.borrow_mut().take() {
                    session.leave();
                }
                sending.borrow_mut().stop_all();
            }
        });
    }
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
        let chat_seen = chat_seen.clone();
        use_effect_with((*panel, state.chat.len()), move |(panel, count)| {
            if *panel == Some(Panel::Chat) {
                chat_seen.set(*count);
            }
        });
    }

    let peer = {
        let session = session.clone();
        move || session.borrow().as_ref().and_then(|s| s.peer())
    };
    {
        // A host switched something of ours off: follow, so our buttons show the truth.
        let (sending, media, notice, peer, own_stream) = (
            sending.clone(),
            media.clone(),
            notice.clone(),
            peer.clone(),
            own_stream.clone(),
        );
        use_effect_with(state.moderated, move |moderated| {
            if let Some((action, _)) = *moderated {
                let peer = peer();
                spawn_local(async move {
                    match action {
                        ModerationAction::Mute => {
                            let _ = sending::set_mic(&sending, peer, false).await;
                            media.set(MediaState {
                                mic: false,
                                ..*media
                            });
                            notice.set(Some(Key::MutedByHost));
                        }
                        ModerationAction::StopCamera => {
                            let _ = sending::set_camera(&sending, peer, false).await;
                            own_stream.set(sending.borrow().camera_stream());
                            media.set(MediaState {
                                camera: false,
                                ..*media
                            });
                            notice.set(Some(Key::CameraStoppedByHost));
                        }
                        ModerationAction::LowerHand => notice.set(Some(Key::HandLoweredByHost)),
                        _ => {}
                    }
                });
            }
        });
    }
    let send_message = {
        let session = session.clone();
        Callback::from(move |message: ClientMessage| {
            if let Some(session) = session.borrow().as_ref() {
                session.send(&message);
            }
        })
    };
    let on_moderate = {
        let send_message = send_message.clone();
        Callback::from(
            move |(participant, action): (ParticipantId, ModerationAction)| {
                send_message.emit(ClientMessage::Moderate {
                    participant,
                    action,
                })
            },
        )
    };
    let on_admit = {
        let on_moderate = on_moderate.clone();
        Callback::from(move |id: ParticipantId| on_moderate.emit((id, ModerationAction::Admit)))
    };
    let on_deny = {
        let on_moderate = on_moderate.clone();
        Callback::from(move |id: ParticipantId| on_moderate.emit((id, ModerationAction::Deny)))
    };
    let on_password = {
        let session = session.clone();
        Callback::from(move |password: String| {
            if let Some(session) = session.borrow().as_ref() {
                session.join_with_password(password);
            }
        })
    };
    let tell_media = {
        let session = session.clone();
        move |state: MediaState| {
            if let Some(session) = session.borrow().as_ref() {
                session.send(&ClientMessage::SetMedia(state));
            }
        }
    };

    let toggle_mic = {
        let (sending, media, notice, peer, tell) = (
            sending.clone(),
            media.clone(),
            notice.clone(),
            peer.clone(),
            tell_media.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (sending, media, notice, tell) =
                (sending.clone(), media.clone(), notice.clone(), tell.clone());
            let on = !media.mic;
            let peer = peer();
            spawn_local(async move {
                match sending::set_mic(&sending, peer, on).await {
                    Ok(()) => {
                        let next = MediaState { mic: on, ..*media };
                        media.set(next);
                        tell(next);
                    }
                    Err(e) => notice.set(Some(e.message())),
                }
            });
        })
    };
    let toggle_camera = {
        let (sending, media, notice, peer, tell, own_stream, busy) = (
            sending.clone(),
            media.clone(),
            notice.clone(),
            peer.clone(),
            tell_media.clone(),
            own_stream.clone(),
            busy.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (sending, media, notice, tell, own_stream, busy) = (
                sending.clone(),
                media.clone(),
                notice.clone(),
                tell.clone(),
                own_stream.clone(),
                busy.clone(),
            );
            let on = !media.camera;
            let peer = peer();
            busy.set(true);
            spawn_local(async move {
                let result = sending::set_camera(&sending, peer, on).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        own_stream.set(sending.borrow().camera_stream());
                        let next = MediaState {
                            camera: on,
                            ..*media
                        };
                        media.set(next);
                        tell(next);
                    }
                    Err(e) => notice.set(Some(e.message())),
                }
            });
        })
    };
    let stop_screen = {
        let (sending, media, peer, tell) = (
            sending.clone(),
            media.clone(),
            peer.clone(),
            tell_media.clone(),
        );
        Callback::from(move |_: ()| {
            let (sending, media, tell) = (sending.clone(), media.clone(), tell.clone());
            let peer = peer();
            spawn_local(async move {
                sending::stop_screen(&sending, peer).await;
                let next = MediaState {
                    screen: false,
                    ..*media
                };
                media.set(next);
                tell(next);
            });
        })
    };
    let toggle_screen = {
        let (sending, media, notice, peer, tell, stop_screen) = (
            sending.clone(),
            media.clone(),
            notice.clone(),
            peer.clone(),
            tell_media.clone(),
            stop_screen.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if media.screen {
                stop_screen.emit(());
                return;
            }
            let (sending, media, notice, tell, stop_screen) = (
                sending.clone(),
                media.clone(),
                notice.clone(),
                tell.clone(),
                stop_screen.clone(),
            );
            let peer = peer();
            spawn_local(async move {
                // Stopping from the browser's own "stop sharing" bar ends it here too.
                let ended = move || stop_screen.emit(());
                match sending::start_screen(&sending, peer, ended).await {
                    Ok(()) => {
                        let next = MediaState {
                            screen: true,
                            ..*media
                        };
                        media.set(next);
                        tell(next);
                    }
                    // Cancelling the browser's dialog is not an error worth a message.
                    Err(crate::media::local::MediaError::Denied) => {}
                    Err(_) => notice.set(Some(Key::ScreenShareFailed)),
                }
            });
        })
    };
    let hand_raised = state.own.as_ref().is_some_and(|p| p.hand.is_some());
    let toggle_hand = {
        let session = session.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(session) = session.borrow().as_ref() {
                session.send(&ClientMessage::SetHand {
                    raised: !hand_raised,
                });
            }
        })
    };
    let open = |which: Panel| {
        let panel = panel.clone();
        Callback::from(move |_: MouseEvent| {
            panel.set(if *panel == Some(which) {
                None
            } else {
                Some(which)
            })
        })
    };
    let close_panel = {
        let panel = panel.clone();
        Callback::from(move |_: MouseEvent| panel.set(None))
    };
    let toggle_layout = {
        let layout = layout.clone();
        Callback::from(move |_: MouseEvent| {
            layout.set(match *layout {
                Layout::Tiles => Layout::Speaker,
                Layout::Speaker => Layout::Tiles,
            })
        })
    };
    let on_send_chat = {
        let session = session.clone();
        Callback::from(move |(text, to): (String, Option<ParticipantId>)| {
            if let Some(session) = session.borrow().as_ref() {
                session.send(&ClientMessage::Chat { text, to });
            }
        })
    };
    let on_download = {
        let chat = state.chat.clone();
        let room = props.room.clone();
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
    };
    let on_devices = {
        let (sending, devices, notice, peer, own_stream) = (
            sending.clone(),
            devices.clone(),
            notice.clone(),
            peer.clone(),
            own_stream.clone(),
        );
        Callback::from(move |next: DeviceChoice| {
            let (sending, devices, notice, own_stream) = (
                sending.clone(),
                devices.clone(),
                notice.clone(),
                own_stream.clone(),
            );
            let peer = peer();
            settings::set_devices(&next);
            devices.set(next.clone());
            spawn_local(async move {
                match sending::switch_device(&sending, peer, next).await {
                    Ok(()) => own_stream.set(sending.borrow().camera_stream()),
                    Err(_) => notice.set(Some(Key::DeviceSwitchFailed)),
                }
            });
        })
    };
    let on_blur = {
        let (sending, blur_on, own_stream, peer) = (
            sending.clone(),
            blur_on.clone(),
            own_stream.clone(),
            peer.clone(),
        );
        Callback::from(move |on: bool| {
            settings::set_background_blur(on);
            // Before the next render: the switch shows "loading" at once.
            sending.borrow_mut().blur_wanted = on;
            blur_on.set(on);
            let (sending, own_stream, peer) = (sending.clone(), own_stream.clone(), peer.clone());
            spawn_local(async move {
                sending::set_blur(&sending, peer, on).await;
                own_stream.set(sending.borrow().camera_stream());
            });
        })
    };
    {
        // Capture now, side by side with signaling: the join does not wait for the camera.
        let (sending, media, own_stream, notice, session, peer) = (
            sending.clone(),
            media.clone(),
            own_stream.clone(),
            notice.clone(),
            session.clone(),
            peer.clone(),
        );
        let (pending, mic_on, camera_on, devices) = (
            choice.capture_at_join,
            choice.mic_on,
            choice.camera_on,
            choice.devices.clone(),
        );
        use_effect_with((), move |_| {
            if pending {
                spawn_local(async move {
                    let captured = local::capture_chosen(mic_on, camera_on, &devices).await;
                    let (mic, camera) = sending::adopt_capture(
                        &sending,
                        captured.as_ref().ok(),
                        mic_on,
                        camera_on,
                        peer,
                    )
                    .await;
                    if let Err(e) = &captured {
                        notice.set(Some(e.message()));
                    }
                    let now = MediaState {
                        mic: mic_on && mic,
                        camera: camera_on && camera,
                        ..*media
                    };
                    media.set(now);
                    own_stream.set(sending.borrow().camera_stream());
                    if let Some(session) = session.borrow().as_ref() {
                        session.update_media(now);
                    }
                });
            }
        });
    }
    {
        // Blur chosen before joining: start it with the room. Until it runs, the camera line
        // stays empty.
        let (sending, own_stream, peer) = (sending.clone(), own_stream.clone(), peer.clone());
        use_effect_with((), move |_| {
            if sending.borrow().blur_wanted {
                spawn_local(async move {
                    sending::set_blur(&sending, peer, true).await;
                    own_stream.set(sending.borrow().camera_stream());
                });
            }
        });
    }
    let on_quality = {
        let (sending, quality, peer) = (sending.clone(), quality.clone(), peer.clone());
        Callback::from(move |next: Quality| {
            settings::set(SettingKey::VideoQuality, next.code());
            quality.set(next);
            sending.borrow_mut().quality = next;
            let sending = sending.clone();
            let peer = peer();
            spawn_local(async move { sending::apply_quality(&sending, peer).await });
        })
    };
    let on_audio_only = {
        let (session, audio_only) = (session.clone(), audio_only.clone());
        Callback::from(move |only: bool| {
            audio_only.set(only);
            if let Some(session) = session.borrow().as_ref() {
                session.send(&ClientMessage::ReceiveVideo { enabled: !only });
            }
        })
    };
    let leave = {
        let on_leave = props.on_leave.clone();
        Callback::from(move |_: MouseEvent| on_leave.emit(None))
    };

    // The tiles: oneself first, then everyone else's camera and screen.
    let me = state.me.unwrap_or(ParticipantId(0));
    let own_participant = Participant {
        id: me,
        name: choice.name.clone(),
        media: *media,
        hand: state.own.as_ref().and_then(|p| p.hand),
        host: state.host,
    };
    let mut tiles = vec![Tile {
        id: TileId(me, TrackSource::Camera),
        stream: (*own_stream).clone(),
        label: format!("{} ({})", choice.name, t(lang, Key::You)),
        own: true,
        participant: own_participant.clone(),
    }];
    for p in &state.participants {
        if p.media.screen {
            if let Some(stream) = state.streams.get(&(p.id, TrackSource::Screen)) {
                tiles.push(Tile {
                    id: TileId(p.id, TrackSource::Screen),
                    stream: Some(stream.clone()),
                    label: p.name.clone(),
                    own: false,
                    participant: p.clone(),
                });
            }
        }
        tiles.push(Tile {
            id: TileId(p.id, TrackSource::Camera),
            stream: state.streams.get(&(p.id, TrackSource::Camera)).cloned(),
            label: p.name.clone(),
            own: false,
            participant: p.clone(),
        });
    }
    let main_tile = match *layout {
        Layout::Tiles => *pinned,
        Layout::Speaker => pinned
            .filter(|id| tiles.iter().any(|tile| tile.id == *id))
            .or_else(|| {
                tiles
                    .iter()
                    .find(|tile| tile.id.1 == TrackSource::Screen)
                    .map(|tile| tile.id)
            })
            .or_else(|| {
                state
                    .active_speaker
                    .filter(|id| *id != me)
                    .map(|id| TileId(id, TrackSource::Camera))
            })
            .or_else(|| tiles.get(1).map(|tile| tile.id)),
    };
    if let Some(main) = main_tile {
        if let Some(index) = tiles.iter().position(|tile| tile.id == main) {
            let tile = tiles.remove(index);
            tiles.insert(0, tile);
        }
    }
    let render_tile = |tile: &Tile| {
        let id = tile.id;
        let on_pin = {
            let pinned = pinned.clone();
            Callback::from(move |_: ()| {
                pinned.set(if *pinned == Some(id) { None } else { Some(id) })
            })
        };
        let screen = id.1 == TrackSource::Screen;
        let key = format!("{}-{}", id.0, if screen { "screen" } else { "camera" });
        html! {
            <VideoTile {key} stream={tile.stream.clone()} label={tile.label.clone()} own={tile.own}
                participant={(tile.participant.id != ParticipantId(0)).then_some(tile.participant.id)}
                source={id.1}
                camera_off={!screen && !tile.participant.media.camera}
                muted={!screen && !tile.participant.media.mic}
                hand={!screen && tile.participant.hand.is_some()}
                speaking={!screen && state.active_speaker == Some(tile.participant.id)}
                pinned={*pinned == Some(id)}
                large={screen || main_tile == Some(id)}
                on_pin={Some(on_pin)}
                sink_id={devices.speaker.clone()} />
        }
    };

    let people = state.participants.len() + 1;
    let media_status = match state.media_state {
        Some(RtcPeerConnectionState::Connected) => Key::MediaEncrypted,
        Some(RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed) => {
            Key::MediaReconnecting
        }
        _ => Key::MediaConnecting,
    };
    let unread = state
        .chat
        .iter()
        .skip(*chat_seen)
        .filter(|m| Some(m.from) != state.me)
        .count();
    let chat_error = state.refused.and_then(|(code, _)| refusal_text(code));
    let mut everyone = vec![own_participant];
    everyone.extend(state.participants.iter().cloned());
    let pressed = |on: bool| on.to_string();

    if let Some(reason) = state.password_needed {
        return html! { <PasswordPrompt {reason} on_submit={on_password} on_leave={leave} /> };
    }
    if let Some(view) = &state.waiting {
        return html! {
            <WaitingRoomView view={view.clone()} room={props.room.as_str().to_string()} on_leave={leave} />
        };
    }
    if state.me.is_none() {
        return html! {
            <main class="page narrow" aria-busy="true">
                <p role="status"><span class="spinner" aria-hidden="true"></span>{ t(lang, Key::Joining) }</p>
            </main>
        };
    }

    html! {
        <main class={classes!("room", (*panel).is_some().then_some("with-panel"))}>
            <header class="room-header">
                <div>
                    <h1 id="room-topic-heading">{ state.meeting.topic.clone().unwrap_or_else(|| props.room.as_str().to_string()) }</h1>
                    if let Some(description) = &state.meeting.description {
                        <p class="description">{ description.clone() }</p>
                    }
                </div>
                <p class="status-line">
                    <span id="people-count" role="status" aria-live="polite">
                        { format!("{people} {}", t(lang, Key::PeopleInRoom)) }
                    </span>
                    <span id="media-status" role="status">{ t(lang, media_status) }</span>
                </p>
            </header>
            if media.screen {
                <div class="sharing-banner" role="status" id="sharing-banner">
                    <span>{ t(lang, Key::YouAreSharing) }</span>
                    <button type="button" onclick={toggle_screen.clone()}>{ t(lang, Key::StopSharing) }</button>
                </div>
            }
            if state.reconnecting {
                <div class="notice reconnecting" role="status" aria-live="polite" id="reconnecting">
                    <span class="spinner" aria-hidden="true"></span>
                    <span>{ t(lang, Key::Reconnecting) }</span>
                </div>
            }
            if state.host {
                <KnockNotice guests={state.knocking.clone()} {on_admit} {on_deny} />
            }
            if let Some(key) = *notice {
                <div class="notice" role="alert">
                    <span>{ t(lang, key) }</span>
                    <button type="button" onclick={{ let notice = notice.clone(); Callback::from(move |_: MouseEvent| notice.set(None)) }}>
                        { t(lang, Key::Close) }
                    </button>
                </div>
            }
            <div class="room-body">
                <section class={classes!("stage", match *layout { Layout::Tiles => "tiles", Layout::Speaker => "speaker" })}>
                    { for tiles.iter().map(render_tile) }
                    if state.participants.is_empty() {
                        <p class="alone">{ t(lang, Key::Alone) }</p>
                    }
                </section>
                if let Some(which) = *panel {
                    <aside class="side">
                        <button type="button" class="close-panel" onclick={close_panel}>{ t(lang, Key::Close) }</button>
                        { match which {
                            Panel::Chat => html! {
                                <ChatPanel messages={state.chat.clone()} me={state.me}
                                    others={state.participants.clone()} on_send={on_send_chat}
                                    {on_download} error={chat_error} />
                            },
                            Panel::People => html! {
                                <PeoplePanel people={everyone}
                                    own_label={format!("{} ({})", choice.name, t(lang, Key::You))}
                                    on_moderate={state.host.then_some(on_moderate)}
                                    contacts={state.contacts.clone()} />
                            },
                            Panel::Speaking => html! {
                                <SpeakingPanel speakers={state.speakers.clone()} active={state.active_speaker} />
                            },
                            Panel::Settings => html! {
                                <>
                                <BlurToggle on={*blur_on} state={blur_state(&sending.borrow())}
                                    on_change={on_blur.clone()} holds_camera=true />
                                <DeviceSettings choice={(*devices).clone()} on_choice={on_devices}
                                    quality={*quality} on_quality={on_quality}
                                    audio_only={Some(*audio_only)} on_audio_only={on_audio_only} />
                                </>
                            },
                            Panel::Host => html! {
                                <HostPanel meeting={state.meeting.clone()} on_send={send_message} />
                            },
                        } }
                    </aside>
                }
            </div>
            <nav class="controls" aria-label={t(lang, Key::Settings)}>
                <button type="button" id="toggle-mic" aria-pressed={pressed(!media.mic)}
                    class={classes!((!media.mic).then_some("off"))} onclick={toggle_mic}>
                    { if media.mic { t(lang, Key::MuteAction) } else { t(lang, Key::UnmuteAction) } }
                </button>
                <button type="button" id="toggle-camera" aria-pressed={pressed(!media.camera)}
                    class={classes!((!media.camera).then_some("off"))} onclick={toggle_camera} disabled={*busy}>
                    { if media.camera { t(lang, Key::CameraOffAction) } else { t(lang, Key::CameraOnAction) } }
                </button>
                <button type="button" id="toggle-screen" aria-pressed={pressed(media.screen)} onclick={toggle_screen}>
                    { if media.screen { t(lang, Key::StopSharing) } else { t(lang, Key::ShareScreen) } }
                </button>
                <button type="button" id="toggle-hand" aria-pressed={pressed(hand_raised)} onclick={toggle_hand}>
                    { if hand_raised { t(lang, Key::LowerHand) } else { t(lang, Key::RaiseHand) } }
                </button>
                <button type="button" id="open-chat" aria-pressed={pressed(*panel == Some(Panel::Chat))} onclick={open(Panel::Chat)}>
                    { t(lang, Key::Chat) }
                    if unread > 0 {
                        <span class="unread" id="chat-unread">
                            { unread }<span class="visually-hidden">{ format!(" {}", t(lang, Key::UnreadMessages)) }</span>
                        </span>
                    }
                </button>
                <button type="button" id="open-people" aria-pressed={pressed(*panel == Some(Panel::People))} onclick={open(Panel::People)}>
                    { format!("{} ({people})", t(lang, Key::People)) }
                </button>
                <button type="button" id="open-speaking" aria-pressed={pressed(*panel == Some(Panel::Speaking))} onclick={open(Panel::Speaking)}>
                    { t(lang, Key::SpeakingTime) }
                </button>
                <button type="button" id="toggle-layout" onclick={toggle_layout}>
                    { match *layout { Layout::Tiles => t(lang, Key::LayoutSpeaker), Layout::Speaker => t(lang, Key::LayoutTiles) } }
                </button>
                <button type="button" id="toggle-fullscreen" onclick={Callback::from(|_: MouseEvent| toggle_fullscreen())}>
                    { t(lang, Key::Fullscreen) }
                </button>
                <button type="button" id="open-settings" aria-pressed={pressed(*panel == Some(Panel::Settings))} onclick={open(Panel::Settings)}>
                    { t(lang, Key::Settings) }
                </button>
                if state.host {
                    <button type="button" id="open-host" aria-pressed={pressed(*panel == Some(Panel::Host))} onclick={open(Panel::Host)}>
                        { t(lang, Key::RoomPanel) }
                    </button>
                }
                <button type="button" class="leave" onclick={leave}>{ t(lang, Key::Leave) }</button>
            </nav>
        </main>
    }
}
