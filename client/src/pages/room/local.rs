//! What this participant sends and how their room looks to them: one reducer for all of it
//! (every change is a [`LocalAction`]), and one hook that starts capture and blur with the
//! room, follows what a host switched off, keeps the relay told, and makes the callbacks
//! the controls use.

use std::cell::RefCell;
use std::rc::Rc;

use sprechstunde_shared::{
    MediaState, ModerationAction, ParticipantId, ReceiveQuality, TrackSource,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;
use yew::prelude::*;

use super::JoinChoice;
use crate::i18n::Key;
use crate::media::local::{self, DeviceChoice, MediaError};
use crate::media::peer::Peer;
use crate::media::quality::Quality;
use crate::media::sending::{self, Sending, SharedSending};
use crate::session::Session;
use crate::settings::{self, SettingKey};

/// The room's session, once started (shared by the page's callbacks).
pub type SessionRef = Rc<RefCell<Option<Session>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Chat,
    People,
    Speaking,
    Settings,
    /// Hosts only: the meeting's settings.
    Host,
}

impl Panel {
    /// The id of the control-bar button that opens this panel.
    pub fn button_id(self) -> &'static str {
        match self {
            Panel::Chat => "open-chat",
            Panel::People => "open-people",
            Panel::Speaking => "open-speaking",
            Panel::Settings => "open-settings",
            Panel::Host => "open-host",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Tiles,
    Speaker,
}

/// One video on the stage: someone's camera (with their microphone) or screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId(pub ParticipantId, pub TrackSource);

#[derive(Clone, PartialEq)]
pub struct LocalState {
    /// What this participant sends, as the others are told.
    pub media: MediaState,
    /// The own camera preview.
    pub own_stream: Option<MediaStream>,
    pub panel: Option<Panel>,
    pub layout: Layout,
    pub pinned: Option<TileId>,
    /// Chat messages counted as read.
    pub chat_seen: usize,
    /// No video received, audio only.
    pub receive: ReceiveQuality,
    pub devices: DeviceChoice,
    pub quality: Quality,
    /// A message for the person (an error, or what a host did).
    pub notice: Option<Key>,
    /// The camera is being switched.
    pub busy: bool,
    pub blur_on: bool,
    /// The cameras there are (their ids), for switching between them.
    pub cameras: Vec<String>,
    /// Counts changes of the device list (plugged in, unplugged), to list them again.
    pub device_epoch: u32,
}

pub enum LocalAction {
    Mic(bool),
    Camera(bool),
    Screen(bool),
    /// The capture at join found these devices (microphone, camera).
    Captured {
        mic: bool,
        camera: bool,
    },
    OwnStream(Option<MediaStream>),
    Notice(Option<Key>),
    Busy(bool),
    TogglePanel(Panel),
    ClosePanel,
    ToggleLayout,
    TogglePin(TileId),
    ChatSeen(usize),
    Receive(ReceiveQuality),
    Devices(DeviceChoice),
    Quality(Quality),
    Blur(bool),
    /// The devices changed; these are the cameras now.
    Cameras(Vec<String>),
}

impl Reducible for LocalState {
    type Action = LocalAction;

    fn reduce(self: Rc<Self>, action: LocalAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            LocalAction::Mic(on) => next.media.mic = on,
            LocalAction::Camera(on) => next.media.camera = on,
            LocalAction::Screen(on) => next.media.screen = on,
            LocalAction::Captured { mic, camera } => {
                next.media.mic &= mic;
                next.media.camera &= camera;
            }
            LocalAction::OwnStream(stream) => next.own_stream = stream,
            LocalAction::Notice(notice) => next.notice = notice,
            LocalAction::Busy(busy) => next.busy = busy,
            LocalAction::TogglePanel(panel) => {
                next.panel = (next.panel != Some(panel)).then_some(panel);
            }
            LocalAction::ClosePanel => next.panel = None,
            LocalAction::ToggleLayout => {
                next.layout = match next.layout {
                    Layout::Tiles => Layout::Speaker,
                    Layout::Speaker => Layout::Tiles,
                }
            }
            LocalAction::TogglePin(tile) => {
                next.pinned = (next.pinned != Some(tile)).then_some(tile);
            }
            LocalAction::ChatSeen(count) => next.chat_seen = count,
            LocalAction::Receive(quality) => next.receive = quality,
            LocalAction::Devices(devices) => next.devices = devices,
            LocalAction::Quality(quality) => next.quality = quality,
            LocalAction::Blur(on) => next.blur_on = on,
            LocalAction::Cameras(cameras) => {
                next.cameras = cameras;
                next.device_epoch = next.device_epoch.wrapping_add(1);
            }
        }
        Rc::new(next)
    }
}

/// The callbacks of the controls and settings that change what is sent.
#[derive(Clone)]
pub struct MediaControls {
    pub toggle_mic: Callback<MouseEvent>,
    pub toggle_camera: Callback<MouseEvent>,
    pub toggle_screen: Callback<MouseEvent>,
    pub devices: Callback<DeviceChoice>,
    pub blur: Callback<bool>,
    pub quality: Callback<Quality>,
    pub receive: Callback<ReceiveQuality>,
    /// The next camera, where there is more than one.
    pub switch_camera: Option<Callback<()>>,
}

pub struct LocalMedia {
    pub state: UseReducerHandle<LocalState>,
    pub sending: SharedSending,
    pub controls: MediaControls,
}

type Dispatcher = UseReducerDispatcher<LocalState>;

/// The peer connection, once the relay welcomed us.
fn peer_of(session: &SessionRef) -> impl Fn() -> Option<Rc<Peer>> + Clone + 'static {
    let session = session.clone();
    move || session.borrow().as_ref().and_then(|s| s.peer())
}

fn own_stream(dispatch: &Dispatcher, sending: &SharedSending) {
    dispatch.dispatch(LocalAction::OwnStream(sending.borrow().camera_stream()));
}

/// What is sent, starting from what pre-join captured.
#[hook]
pub fn use_sending(choice: &JoinChoice) -> SharedSending {
    (*use_state(|| {
        Rc::new(RefCell::new(Sending::from_prejoin(
            choice.stream.as_ref(),
            choice.mic_on,
            choice.camera_on,
            choice.devices.clone(),
            choice.quality,
            choice.blur,
        )))
    }))
    .clone()
}

#[hook]
pub fn use_local_media(
    choice: &JoinChoice,
    sending: &SharedSending,
    session: &SessionRef,
    moderated: Option<(ModerationAction, u32)>,
) -> LocalMedia {
    let sending = sending.clone();
    let state = use_reducer(|| LocalState {
        // While the capture at join runs, the person's choice stands; it is corrected if a
        // device turns out to be missing.
        media: MediaState {
            mic: choice.mic_on && (choice.capture_at_join || sending.borrow().microphone.is_some()),
            camera: choice.camera_on
                && (choice.capture_at_join || sending.borrow().camera.is_some()),
            screen: false,
        },
        own_stream: sending.borrow().camera_stream(),
        panel: None,
        layout: Layout::Tiles,
        pinned: None,
        chat_seen: 0,
        receive: ReceiveQuality::Auto,
        devices: choice.devices.clone(),
        quality: choice.quality,
        notice: None,
        busy: false,
        blur_on: choice.blur,
        cameras: Vec::new(),
        device_epoch: 0,
    });
    let dispatch = state.dispatcher();
    use_tell_the_relay(session, state.media);
    use_start_with_the_room(choice, session, &sending, &dispatch);
    use_follow_the_host(session, &sending, &dispatch, moderated);
    use_notice_lost_devices(session, &sending, &dispatch);
    use_watch_devices(&dispatch, state.own_stream.is_some());
    super::tile_heights::use_report_tile_heights(session);
    let controls = media_controls(session, &sending, &dispatch, &state);
    LocalMedia {
        state,
        sending,
        controls,
    }
}

/// The relay (and a later rejoin) always knows what this participant sends.
#[hook]
fn use_tell_the_relay(session: &SessionRef, media: MediaState) {
    let session = session.clone();
    use_effect_with(media, move |media| {
        if let Some(session) = session.borrow().as_ref() {
            session.update_media(*media);
        }
    });
}

/// Capture now, side by side with signaling (the join does not wait for the camera), and
/// blur chosen before joining: until it runs, the camera line stays empty.
#[hook]
fn use_start_with_the_room(
    choice: &JoinChoice,
    session: &SessionRef,
    sending: &SharedSending,
    dispatch: &Dispatcher,
) {
    let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer_of(session));
    let (pending, mic_on, camera_on, devices) = (
        choice.capture_at_join,
        choice.mic_on,
        choice.camera_on,
        choice.devices.clone(),
    );
    use_effect_with((), move |_| {
        if pending {
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
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
                    dispatch.dispatch(LocalAction::Notice(Some(e.message())));
                }
                dispatch.dispatch(LocalAction::Captured { mic, camera });
                own_stream(&dispatch, &sending);
            });
        }
        if sending.borrow().blur_wanted {
            spawn_local(async move {
                sending::set_blur(&sending, peer, true).await;
                own_stream(&dispatch, &sending);
            });
        }
    });
}

/// How often a lost camera or microphone is looked for.
const DEVICE_CHECK_MS: u32 = 1_000;

/// A camera or microphone that went away mid-call (unplugged, taken by another program):
/// say so, switch it off, and let the call go on with what is left.
#[hook]
fn use_notice_lost_devices(session: &SessionRef, sending: &SharedSending, dispatch: &Dispatcher) {
    let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer_of(session));
    use_effect_with((), move |_| {
        let check = gloo_timers::callback::Interval::new(DEVICE_CHECK_MS, move || {
            let ended = |track: &Option<web_sys::MediaStreamTrack>| {
                track
                    .as_ref()
                    .is_some_and(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended)
            };
            let (camera_lost, mic_lost) = {
                let sending = sending.borrow();
                (ended(&sending.camera), ended(&sending.microphone))
            };
            if camera_lost {
                let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
                spawn_local(async move {
                    let _ = sending::set_camera(&sending, peer, false).await;
                    own_stream(&dispatch, &sending);
                    dispatch.dispatch(LocalAction::Camera(false));
                    dispatch.dispatch(LocalAction::Notice(Some(Key::CameraLost)));
                });
            }
            if mic_lost {
                // Forgotten, so that switching it on again captures afresh.
                sending.borrow_mut().microphone = None;
                let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
                spawn_local(async move {
                    let _ = sending::set_mic(&sending, peer, false).await;
                    dispatch.dispatch(LocalAction::Mic(false));
                    dispatch.dispatch(LocalAction::Notice(Some(Key::MicrophoneLost)));
                });
            }
        });
        move || drop(check)
    });
}

/// The cameras there are, listed again when a device comes or goes (`devicechange`) and
/// once capture runs (before it, browsers may hide how many there are).
#[hook]
fn use_watch_devices(dispatch: &Dispatcher, capturing: bool) {
    let dispatch = dispatch.clone();
    use_effect_with(capturing, move |_| {
        let list = move || {
            let dispatch = dispatch.clone();
            spawn_local(async move {
                let cameras = local::devices()
                    .await
                    .into_iter()
                    .filter(|d| d.kind == local::DeviceKind::Camera)
                    .map(|d| d.id)
                    .collect();
                dispatch.dispatch(LocalAction::Cameras(cameras));
            });
        };
        list();
        let media = web_sys::window().and_then(|w| w.navigator().media_devices().ok());
        let on_change = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(list);
        if let Some(media) = &media {
            media.set_ondevicechange(Some(wasm_bindgen::JsCast::unchecked_ref(
                on_change.as_ref(),
            )));
        }
        move || {
            if let Some(media) = media {
                media.set_ondevicechange(None);
            }
            drop(on_change);
        }
    });
}

/// A host switched something of ours off: follow, so our buttons show the truth.
#[hook]
fn use_follow_the_host(
    session: &SessionRef,
    sending: &SharedSending,
    dispatch: &Dispatcher,
    moderated: Option<(ModerationAction, u32)>,
) {
    let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer_of(session));
    use_effect_with(moderated, move |moderated| {
        if let Some((action, _)) = *moderated {
            let peer = peer();
            spawn_local(async move {
                match action {
                    ModerationAction::Mute => {
                        let _ = sending::set_mic(&sending, peer, false).await;
                        dispatch.dispatch(LocalAction::Mic(false));
                        dispatch.dispatch(LocalAction::Notice(Some(Key::MutedByHost)));
                    }
                    ModerationAction::StopCamera => {
                        let _ = sending::set_camera(&sending, peer, false).await;
                        own_stream(&dispatch, &sending);
                        dispatch.dispatch(LocalAction::Camera(false));
                        dispatch.dispatch(LocalAction::Notice(Some(Key::CameraStoppedByHost)));
                    }
                    ModerationAction::StopScreen => {
                        sending::stop_screen(&sending, peer).await;
                        dispatch.dispatch(LocalAction::Screen(false));
                        dispatch.dispatch(LocalAction::Notice(Some(Key::ScreenStoppedByHost)));
                    }
                    ModerationAction::LowerHand => {
                        dispatch.dispatch(LocalAction::Notice(Some(Key::HandLoweredByHost)))
                    }
                    _ => {}
                }
            });
        }
    });
}

fn media_controls(
    session: &SessionRef,
    sending: &SharedSending,
    dispatch: &Dispatcher,
    state: &LocalState,
) -> MediaControls {
    let media = state.media;
    let peer = peer_of(session);
    let toggle_mic = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| {
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
            let on = !media.mic;
            spawn_local(async move {
                match sending::set_mic(&sending, peer, on).await {
                    Ok(()) => dispatch.dispatch(LocalAction::Mic(on)),
                    Err(e) => dispatch.dispatch(LocalAction::Notice(Some(e.message()))),
                }
            });
        })
    };
    let toggle_camera = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| {
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
            let on = !media.camera;
            dispatch.dispatch(LocalAction::Busy(true));
            spawn_local(async move {
                let result = sending::set_camera(&sending, peer, on).await;
                dispatch.dispatch(LocalAction::Busy(false));
                match result {
                    Ok(()) => {
                        own_stream(&dispatch, &sending);
                        dispatch.dispatch(LocalAction::Camera(on));
                    }
                    Err(e) => dispatch.dispatch(LocalAction::Notice(Some(e.message()))),
                }
            });
        })
    };
    let stop_screen = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
        Callback::from(move |_: ()| {
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
            spawn_local(async move {
                sending::stop_screen(&sending, peer).await;
                dispatch.dispatch(LocalAction::Screen(false));
            });
        })
    };
    let toggle_screen = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
        Callback::from(move |_: MouseEvent| {
            if media.screen {
                stop_screen.emit(());
                return;
            }
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
            let stop_screen = stop_screen.clone();
            spawn_local(async move {
                // Stopping from the browser's own "stop sharing" bar ends it here too.
                let ended = move || stop_screen.emit(());
                match sending::start_screen(&sending, peer, ended).await {
                    Ok(()) => dispatch.dispatch(LocalAction::Screen(true)),
                    // Cancelling the browser's dialog is not an error worth a message.
                    Err(MediaError::Denied) => {}
                    Err(_) => dispatch.dispatch(LocalAction::Notice(Some(Key::ScreenShareFailed))),
                }
            });
        })
    };
    let devices: Callback<DeviceChoice> = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
        Callback::from(move |next: DeviceChoice| {
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer());
            settings::set_devices(&next);
            dispatch.dispatch(LocalAction::Devices(next.clone()));
            spawn_local(async move {
                match sending::switch_device(&sending, peer, next).await {
                    Ok(()) => own_stream(&dispatch, &sending),
                    Err(_) => dispatch.dispatch(LocalAction::Notice(Some(Key::DeviceSwitchFailed))),
                }
            });
        })
    };
    let blur = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
        Callback::from(move |on: bool| {
            settings::set_background_blur(on);
            // Before the next render: the switch shows "loading" at once.
            sending.borrow_mut().blur_wanted = on;
            dispatch.dispatch(LocalAction::Blur(on));
            let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer.clone());
            spawn_local(async move {
                sending::set_blur(&sending, peer, on).await;
                own_stream(&dispatch, &sending);
            });
        })
    };
    let quality = {
        let (sending, dispatch, peer) = (sending.clone(), dispatch.clone(), peer);
        Callback::from(move |next: Quality| {
            settings::set(SettingKey::VideoQuality, next.code());
            dispatch.dispatch(LocalAction::Quality(next));
            sending.borrow_mut().quality = next;
            let (sending, peer) = (sending.clone(), peer());
            spawn_local(async move { sending::apply_quality(&sending, peer).await });
        })
    };
    let receive = {
        let (session, dispatch) = (session.clone(), dispatch.clone());
        Callback::from(move |quality: ReceiveQuality| {
            dispatch.dispatch(LocalAction::Receive(quality));
            if let Some(session) = session.borrow().as_ref() {
                session.set_receive(quality);
            }
        })
    };
    let switch_camera = (media.camera && state.cameras.len() > 1).then(|| {
        let (sending, cameras, devices) = (sending.clone(), state.cameras.clone(), devices.clone());
        Callback::from(move |_: ()| {
            let choice = sending.borrow().choice.clone();
            let current = sending.borrow().camera.as_ref().and_then(local::device_of);
            let current = current.or_else(|| choice.camera.clone());
            if let Some(camera) = local::next_camera(&cameras, current.as_deref()) {
                devices.emit(DeviceChoice {
                    camera: Some(camera),
                    ..choice
                });
            }
        })
    });
    MediaControls {
        switch_camera,
        toggle_mic,
        toggle_camera,
        toggle_screen,
        devices,
        blur,
        quality,
        receive,
    }
}
