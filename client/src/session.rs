//! A participant's presence in a room: the signaling connection and the peer connection,
//! driven by the relay's messages in the order they arrive. The view only sees
//! [`SessionEvent`]s.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures_channel::mpsc;
use futures_util::StreamExt;
use gloo_timers::callback::{Interval, Timeout};
use sprechstunde_shared::{
    close_code, ChatMessage, ClientMessage, Contact, ErrorCode, IceServer, MediaState,
    MeetingSettings, ModerationAction, Participant, ParticipantId, ReceiveQuality, RoomName,
    ServerMessage, SpeakingTime, TileHeight, TrackSource, WaitingGuest, PROTOCOL_VERSION,
};
use web_sys::MediaStream;
use yew::Callback;

use crate::media::sending::{self, SharedSending};

use crate::i18n::{t, Key, Lang};
use crate::media::peer::{Peer, PeerEvent};
use crate::signaling::{Closed, Signaling, SignalingEvent};
use web_sys::RtcPeerConnectionState;

/// Keeps the signaling connection alive through proxies; the relay closes idle ones (15 s).
const PING_INTERVAL_MS: u32 = 5_000;
/// Nothing from the relay for this long (it answers every ping): the connection is dead
/// even if the browser has not noticed.
const SILENCE_LIMIT_MS: f64 = 12_000.0;
/// Waits before reconnect attempts; the last repeats. Each gets up to 50 % more, at random,
/// so clients do not come back all at once.
const RECONNECT_BACKOFF_MS: [f64; 5] = [500.0, 1_000.0, 2_000.0, 4_000.0, 8_000.0];
/// After "relay restarting", clients come back spread over this window.
const RESTART_SPREAD_MS: f64 = 5_000.0;
/// A new connection that is not open after this long is given up and tried again.
const CONNECT_TIMEOUT_MS: f64 = 5_000.0;
/// Asks for another ICE restart at most this often while the media path is down.
const ICE_RESTART_EVERY_MS: f64 = 4_000.0;
/// How often the media path is read again while connected.
const MEDIA_PATH_EVERY_MS: u32 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    ConnectionLost,
    MediaFailed,
    /// No media path could be made from this network.
    MediaUnreachable,
    NewVersion,
    Refused,
    Full,
    /// A host removed this participant.
    Removed,
    /// A host did not let this guest in.
    Denied,
    /// A host ended the meeting for everyone.
    MeetingEnded,
    RoomLocked,
    /// The host link or invitation is forged, expired or for another room.
    InvalidLink,
    /// The relay only opens rooms its operator configured.
    UnknownRoom,
    /// The link belongs to an appointment starting then (ms since 1970); too early.
    AppointmentLater(u64),
}

impl EndReason {
    pub fn message(self) -> Key {
        match self {
            EndReason::ConnectionLost => Key::ConnectionLost,
            EndReason::MediaFailed => Key::MediaFailed,
            EndReason::MediaUnreachable => Key::MediaUnreachable,
            EndReason::NewVersion => Key::NewVersion,
            EndReason::Refused => Key::RoomRefused,
            EndReason::Full => Key::RoomFull,
            EndReason::Removed => Key::EndRemoved,
            EndReason::Denied => Key::EndDenied,
            EndReason::MeetingEnded => Key::EndMeetingEnded,
            EndReason::RoomLocked => Key::EndRoomLocked,
            EndReason::InvalidLink => Key::EndInvalidLink,
            EndReason::UnknownRoom => Key::EndUnknownRoom,
            EndReason::AppointmentLater(_) => Key::AppointmentLater,
        }
    }

    /// What the family reads: the message, with the appointment's time where there is one.
    pub fn text(self, lang: Lang) -> String {
        match self {
            EndReason::AppointmentLater(starts_at_ms) => {
                crate::appointment::too_early(lang, starts_at_ms)
            }
            other => t(lang, other.message()).to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    Welcome {
        me: ParticipantId,
        host: bool,
        participants: Vec<Participant>,
        state: MeetingSettings,
        chat: Vec<ChatMessage>,
    },
    /// In the waiting room (again): nothing of the room until a host admits us.
    Waiting(WaitingView),
    /// The meeting has a password: ask for it (the code says whether one was wrong).
    PasswordNeeded(ErrorCode),
    /// To hosts: who is knocking (when we become host).
    WaitingRoom(Vec<WaitingGuest>),
    /// To hosts: one more knocks.
    Knocked(WaitingGuest),
    /// To hosts: one no longer waits.
    StoppedWaiting(ParticipantId),
    /// To hosts: the e-mail addresses participants gave.
    Contacts(Vec<Contact>),
    RoomUpdated(MeetingSettings),
    /// A host switched our microphone or camera off, or lowered our hand.
    Moderated(ModerationAction),
    Joined(Participant),
    Left(ParticipantId),
    /// Someone's (or one's own) microphone, camera, screen or hand changed.
    Updated(Participant),
    Chat(ChatMessage),
    SpeakingStats {
        speakers: Vec<SpeakingTime>,
        active: Option<ParticipantId>,
    },
    /// The relay refused something this participant sent (a chat message, ...).
    Refused(ErrorCode),
    RemoteStream(ParticipantId, TrackSource, MediaStream),
    /// The peer connection's state (`connecting`, `connected`, `disconnected`, ...).
    MediaState(RtcPeerConnectionState),
    /// The media path in use, once connected.
    MediaTransport(crate::media::peer::MediaTransport),
    /// The relay paused (or resumed) this participant's camera to us: our link is too weak.
    VideoPaused(ParticipantId, bool),
    /// To hosts: no media path could be made for this participant (named); they left.
    MediaUnreachable(ParticipantId, String),
    /// The signaling connection dropped; reconnecting (media may still flow).
    Reconnecting,
    /// Back: the session continued where it was.
    Reconnected,
    Ended(EndReason),
}

/// What a waiting guest sees.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingView {
    pub host_present: bool,
    pub topic: Option<String>,
    pub description: Option<String>,
    pub message: Option<String>,
}

type Queue = mpsc::UnboundedSender<(u64, SignalingEvent)>;

#[derive(Default)]
struct Links {
    signaling: Option<Signaling>,
    /// Counts signaling connections; events of an older one are ignored.
    generation: u64,
    queue: Option<Queue>,
    peer: Option<Rc<Peer>>,
    ping: Option<Interval>,
    reconnect: Option<Timeout>,
    /// The join message's parts, for a retry with a password.
    joining: Option<Rc<Joining>>,
    /// From `welcome`: continues this session after a drop.
    resume: Option<String>,
    /// Reconnect attempts since the connection was last good.
    attempts: usize,
    /// When the relay was last heard from (ms since the epoch).
    last_heard: f64,
    /// Set while a new connection is being opened: since when.
    connecting_since: Option<f64>,
    last_ice_restart: f64,
    /// Counts media path watchers; an older one stops.
    path_watch: u64,
    leaving: bool,
}

/// Open a new signaling connection whose events go to the session's queue.
fn connect(links: &Rc<RefCell<Links>>) -> bool {
    let mut state = links.borrow_mut();
    let Some(queue) = state.queue.clone() else {
        return false;
    };
    state.generation += 1;
    let generation = state.generation;
    if let Some(old) = state.signaling.take() {
        old.close();
    }
    state.signaling = Signaling::connect(move |event| {
        let _ = queue.unbounded_send((generation, event));
    });
    state.last_heard = js_sys::Date::now();
    state.connecting_since = Some(state.last_heard);
    state.signaling.is_some()
}

/// Drop the current connection as dead and try again after a while.
fn reconnect_later(links: &Rc<RefCell<Links>>, after_restart: bool) {
    let mut state = links.borrow_mut();
    if let Some(old) = state.signaling.take() {
        old.close();
    }
    let wait = if after_restart {
        js_sys::Math::random() * RESTART_SPREAD_MS
    } else {
        let base = RECONNECT_BACKOFF_MS[state.attempts.min(RECONNECT_BACKOFF_MS.len() - 1)];
        base * (1.0 + 0.5 * js_sys::Math::random())
    };
    state.attempts += 1;
    let again = links.clone();
    state.reconnect = Some(Timeout::new(wait as u32, move || {
        if !connect(&again) {
            reconnect_later(&again, false);
        }
    }));
}

/// Every ping interval: ping, notice a dead connection, keep asking for an ICE restart while
/// the media path is down.
fn tick(links: &Rc<RefCell<Links>>) {
    let now = js_sys::Date::now();
    let (silent, peer) = {
        let state = links.borrow();
        if state.leaving {
            return;
        }
        let stuck = state
            .connecting_since
            .is_some_and(|since| now - since > CONNECT_TIMEOUT_MS);
        let silent =
            state.signaling.is_some() && (stuck || now - state.last_heard > SILENCE_LIMIT_MS);
        (silent, state.peer.clone())
    };
    if silent {
        // Closing without handlers: report the drop ourselves.
        let (queue, generation) = {
            let state = links.borrow();
            (state.queue.clone(), state.generation)
        };
        if let Some(queue) = queue {
            let _ = queue.unbounded_send((generation, SignalingEvent::Closed(Closed::Silent)));
        }
        return;
    }
    send(links, &ClientMessage::Ping);
    if peer.is_some_and(|p| media_broken(p.state())) {
        request_ice_restart(links);
    }
}

/// The media path is down (a network change, a blocked path).
fn media_broken(state: RtcPeerConnectionState) -> bool {
    matches!(
        state,
        RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed
    )
}

fn request_ice_restart(links: &Rc<RefCell<Links>>) {
    let now = js_sys::Date::now();
    if now - links.borrow().last_ice_restart < ICE_RESTART_EVERY_MS {
        return;
    }
    links.borrow_mut().last_ice_restart = now;
    send(links, &ClientMessage::IceRestart);
}

pub struct Session {
    links: Rc<RefCell<Links>>,
}

impl Session {
    pub fn start(
        room: RoomName,
        name: String,
        email: Option<String>,
        token: Option<String>,
        sending: SharedSending,
        media: MediaState,
        on_event: Callback<SessionEvent>,
    ) -> Session {
        let links = Rc::new(RefCell::new(Links::default()));
        let (queue, incoming) = mpsc::unbounded();
        links.borrow_mut().queue = Some(queue);
        if !connect(&links) {
            on_event.emit(SessionEvent::Ended(EndReason::ConnectionLost));
        }
        let ticking = links.clone();
        links.borrow_mut().ping = Some(Interval::new(PING_INTERVAL_MS, move || tick(&ticking)));
        wasm_bindgen_futures::spawn_local(run(
            incoming,
            links.clone(),
            Joining {
                room,
                name,
                email,
                token,
                sending,
                media: std::cell::Cell::new(media),
                receive: std::cell::Cell::new(ReceiveQuality::Auto),
                tile_heights: std::cell::RefCell::new(Vec::new()),
            },
            on_event,
        ));
        Session { links }
    }

    pub fn send(&self, message: &ClientMessage) {
        send(&self.links, message);
    }

    /// What this participant sends, as the relay should know it: told at once when in the
    /// room, else with the join (also a later rejoin).
    pub fn update_media(&self, media: MediaState) {
        let welcomed = {
            let links = self.links.borrow();
            if let Some(joining) = links.joining.as_ref() {
                joining.media.set(media);
            }
            links.peer.is_some()
        };
        if welcomed {
            send(&self.links, &ClientMessage::SetMedia(media));
        }
    }

    /// What to receive of others' video: told now, and again after each welcome (the relay
    /// starts every new media connection at "automatic").
    pub fn set_receive(&self, quality: ReceiveQuality) {
        let welcomed = {
            let links = self.links.borrow();
            if let Some(joining) = links.joining.as_ref() {
                joining.receive.set(quality);
            }
            links.peer.is_some()
        };
        if welcomed {
            send(&self.links, &ClientMessage::ReceiveQuality { quality });
        }
    }

    /// How tall others' pictures are shown now: told when it changed (the relay then sends
    /// no layer much taller), and again after each welcome.
    pub fn set_tile_heights(&self, tiles: Vec<TileHeight>) {
        let welcomed = {
            let links = self.links.borrow();
            let Some(joining) = links.joining.as_ref() else {
                return;
            };
            if *joining.tile_heights.borrow() == tiles {
                return;
            }
            joining.tile_heights.replace(tiles.clone());
            links.peer.is_some()
        };
        if welcomed {
            send(&self.links, &ClientMessage::TileHeights { tiles });
        }
    }

    /// Ask to join again, with the meeting's password.
    pub fn join_with_password(&self, password: String) {
        if let Some(joining) = self.links.borrow().joining.as_ref() {
            send(&self.links, &joining.message(Some(password)));
        }
    }

    /// The peer connection, once the relay welcomed us.
    pub fn peer(&self) -> Option<Rc<Peer>> {
        self.links.borrow().peer.clone()
    }

    /// Leave: tell the relay, close both connections.
    pub fn leave(&self) {
        let mut links = self.links.borrow_mut();
        links.leaving = true;
        links.ping = None;
        links.reconnect = None;
        links.queue = None;
        if let Some(signaling) = links.signaling.take() {
            signaling.send(&ClientMessage::Leave);
            signaling.close();
        }
        if let Some(peer) = links.peer.take() {
            peer.close();
        }
    }
}

struct Joining {
    room: RoomName,
    name: String,
    email: Option<String>,
    token: Option<String>,
    sending: SharedSending,
    /// Changes when the capture at join finds a device missing.
    media: std::cell::Cell<MediaState>,
    /// What the participant chose to receive of others' video.
    receive: std::cell::Cell<ReceiveQuality>,
    /// How tall others' pictures are shown, as last told.
    tile_heights: std::cell::RefCell<Vec<TileHeight>>,
}

impl Joining {
    fn message(&self, password: Option<String>) -> ClientMessage {
        ClientMessage::Join {
            version: PROTOCOL_VERSION,
            room: self.room.as_str().to_string(),
            name: self.name.clone(),
            email: self.email.clone(),
            media: self.media.get(),
            token: self.token.clone(),
            password,
        }
    }
}

fn send(links: &RefCell<Links>, message: &ClientMessage) {
    if let Some(signaling) = &links.borrow().signaling {
        signaling.send(message);
    }
}

/// Close codes after which the session is over; after any other it reconnects by itself.
fn final_reason(closed: Closed) -> Option<EndReason> {
    let Closed::WithCode(code) = closed else {
        return None;
    };
    match code {
        close_code::MEDIA_FAILED => Some(EndReason::MediaFailed),
        close_code::MEDIA_UNREACHABLE => Some(EndReason::MediaUnreachable),
        close_code::UNSUPPORTED_VERSION => Some(EndReason::NewVersion),
        close_code::PROTOCOL_ABUSE => Some(EndReason::Refused),
        close_code::FULL => Some(EndReason::Full),
        close_code::REMOVED => Some(EndReason::Removed),
        close_code::DENIED => Some(EndReason::Denied),
        close_code::MEETING_ENDED => Some(EndReason::MeetingEnded),
        close_code::NOT_ALLOWED => Some(EndReason::RoomLocked),
        // The session goes on elsewhere; a resume from here would only fail.
        close_code::TAKEN_OVER => Some(EndReason::ConnectionLost),
        // 1000: the relay closed after our own `leave`.
        1000 => Some(EndReason::ConnectionLost),
        _ => None,
    }
}

async fn run(
    mut incoming: mpsc::UnboundedReceiver<(u64, SignalingEvent)>,
    links: Rc<RefCell<Links>>,
    joining: Joining,
    on_event: Callback<SessionEvent>,
) {
    let joining = Rc::new(joining);
    links.borrow_mut().joining = Some(joining.clone());
    while let Some((generation, event)) = incoming.next().await {
        if generation != links.borrow().generation || links.borrow().leaving {
            continue;
        }
        let message = match event {
            SignalingEvent::Open => {
                links.borrow_mut().connecting_since = None;
                let resume = links.borrow().resume.clone();
                match resume {
                    Some(token) => send(
                        &links,
                        &ClientMessage::Resume {
                            version: PROTOCOL_VERSION,
                            token,
                        },
                    ),
                    None => send(&links, &joining.message(None)),
                }
                continue;
            }
            SignalingEvent::Garbled => continue,
            SignalingEvent::Closed(closed) => {
                if let Some(reason) = final_reason(closed) {
                    on_event.emit(SessionEvent::Ended(reason));
                    break;
                }
                on_event.emit(SessionEvent::Reconnecting);
                let restarting = closed == Closed::WithCode(close_code::SHUTTING_DOWN);
                reconnect_later(&links, restarting);
                continue;
            }
            SignalingEvent::Message(message) => message,
        };
        links.borrow_mut().last_heard = js_sys::Date::now();
        let result = handle(message, &links, &joining, &on_event).await;
        if let Err(reason) = result {
            on_event.emit(SessionEvent::Ended(reason));
            break;
        }
    }
}

/// The counselor came in by a host link from the desk: its topic, description and password
/// become the meeting's, unless a host already gave it others.
fn set_up_meeting(links: &RefCell<Links>, state: &MeetingSettings) {
    let Some(setup) = crate::route::take_meeting_setup() else {
        return;
    };
    let has_info = state.topic.is_some() || state.description.is_some();
    if !has_info && (setup.topic.is_some() || setup.description.is_some()) {
        send(
            links,
            &ClientMessage::SetRoomInfo {
                topic: setup.topic,
                description: setup.description,
            },
        );
    }
    if !state.has_password && setup.password.is_some() {
        send(
            links,
            &ClientMessage::SetPassword {
                password: setup.password,
            },
        );
    }
}

/// Which path media takes (UDP, TCP to the web port, a TURN server), for the status line,
/// read while the connection is up: right after "connected" the browser may not have
/// chosen its candidate pair yet, and the path can change later (an ICE restart).
async fn watch_media_path(links: Weak<RefCell<Links>>, events: Callback<SessionEvent>) {
    let Some(watch) = links.upgrade().map(|l| {
        let mut state = l.borrow_mut();
        state.path_watch += 1;
        state.path_watch
    }) else {
        return;
    };
    let mut told = None;
    loop {
        let Some(peer) = links.upgrade().and_then(|l| {
            let state = l.borrow();
            (state.path_watch == watch)
                .then(|| state.peer.clone())
                .flatten()
        }) else {
            return;
        };
        if peer.state() != RtcPeerConnectionState::Connected {
            return;
        }
        let transport = peer.transport().await;
        if transport.is_some() && transport != told {
            told = transport;
            if let Some(transport) = transport {
                events.emit(SessionEvent::MediaTransport(transport));
            }
        }
        drop(peer);
        gloo_timers::future::TimeoutFuture::new(MEDIA_PATH_EVERY_MS).await;
    }
}

/// In the room (also after being admitted): a fresh media connection, and its offer.
async fn welcomed(
    welcome: SessionEvent,
    resume: String,
    ice_servers: &[IceServer],
    links: &Rc<RefCell<Links>>,
    joining: &Joining,
    on_event: &Callback<SessionEvent>,
) -> Result<(), EndReason> {
    {
        let mut state = links.borrow_mut();
        state.attempts = 0;
        state.resume = (!resume.is_empty()).then_some(resume);
    }
    // Admitted again after the waiting room: a fresh media connection.
    if let Some(old) = links.borrow_mut().peer.take() {
        old.close();
    }
    let candidate_links = links.clone();
    let restart_links = Rc::downgrade(links);
    let events = on_event.clone();
    let (microphone, camera) = {
        let sending = joining.sending.borrow();
        (
            sending.microphone_to_send().cloned(),
            sending.camera_to_send().cloned(),
        )
    };
    let peer = Peer::new(
        microphone.as_ref(),
        camera.as_ref(),
        ice_servers,
        move |event| match event {
            PeerEvent::Candidate(candidate) => {
                send(&candidate_links, &ClientMessage::Candidate { candidate })
            }
            PeerEvent::RemoteStream(id, source, stream) => {
                events.emit(SessionEvent::RemoteStream(id, source, stream))
            }
            PeerEvent::State(state) => {
                // The media path broke (a network change, a blocked path): ask the
                // relay for an ICE restart; it gives up on us only after a while.
                if media_broken(state) {
                    if let Some(links) = restart_links.upgrade() {
                        request_ice_restart(&links);
                    }
                }
                if state == RtcPeerConnectionState::Connected {
                    wasm_bindgen_futures::spawn_local(watch_media_path(
                        restart_links.clone(),
                        events.clone(),
                    ));
                }
                events.emit(SessionEvent::MediaState(state));
            }
        },
    )
    .map_err(|_| EndReason::MediaFailed)?;
    let peer = Rc::new(peer);
    links.borrow_mut().peer = Some(peer.clone());
    let sdp = peer
        .create_offer()
        .await
        .map_err(|_| EndReason::MediaFailed)?;
    send(links, &ClientMessage::Offer { sdp });
    // The room is drawn only now: the offer goes out first, without waiting for the render.
    on_event.emit(welcome);
    Ok(())
}

async fn handle(
    message: ServerMessage,
    links: &Rc<RefCell<Links>>,
    joining: &Joining,
    on_event: &Callback<SessionEvent>,
) -> Result<(), EndReason> {
    let peer = links.borrow().peer.clone();
    match message {
        ServerMessage::Resumed { resume, .. } => {
            let mut links = links.borrow_mut();
            links.attempts = 0;
            links.resume = (!resume.is_empty()).then_some(resume);
            drop(links);
            on_event.emit(SessionEvent::Reconnected);
        }
        ServerMessage::Welcome {
            participant_id,
            host,
            participants,
            state,
            chat,
            resume,
            ice_servers,
            ..
        } => {
            if host {
                set_up_meeting(links, &state);
            }
            let welcome = SessionEvent::Welcome {
                me: participant_id,
                host,
                participants,
                state,
                chat,
            };
            welcomed(welcome, resume, &ice_servers, links, joining, on_event).await?;
            let quality = joining.receive.get();
            if quality != ReceiveQuality::default() {
                send(links, &ClientMessage::ReceiveQuality { quality });
            }
            // A new media connection knows no tile heights yet.
            let tiles = joining.tile_heights.borrow().clone();
            if !tiles.is_empty() {
                send(links, &ClientMessage::TileHeights { tiles });
            }
        }
        ServerMessage::Answer { sdp } => {
            if let Some(peer) = peer {
                peer.accept_answer(&sdp)
                    .await
                    .map_err(|_| EndReason::MediaFailed)?;
                // The sender's encodings exist now: cap them, without holding up the messages
                // that follow (a pending `setParameters` must not stall signaling).
                let sending = joining.sending.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    sending::apply_quality(&sending, Some(peer)).await
                });
            }
        }
        ServerMessage::Offer { sdp, streams } => {
            if let Some(peer) = peer {
                let sdp = peer
                    .answer_offer(&sdp, &streams)
                    .await
                    .map_err(|_| EndReason::MediaFailed)?;
                send(links, &ClientMessage::Answer { sdp });
            }
        }
        ServerMessage::ParticipantJoined { participant } => {
            on_event.emit(SessionEvent::Joined(participant))
        }
        ServerMessage::ParticipantLeft { participant_id } => {
            on_event.emit(SessionEvent::Left(participant_id))
        }
        ServerMessage::ParticipantUpdated { participant } => {
            on_event.emit(SessionEvent::Updated(participant))
        }
        ServerMessage::VideoPaused {
            participant_id,
            paused,
        } => on_event.emit(SessionEvent::VideoPaused(participant_id, paused)),
        ServerMessage::Chat(message) => on_event.emit(SessionEvent::Chat(message)),
        ServerMessage::SpeakingStats { speakers, active } => {
            on_event.emit(SessionEvent::SpeakingStats { speakers, active })
        }
        ServerMessage::Waiting {
            host_present,
            topic,
            description,
            message,
            ..
        } => {
            // Sent back to the waiting room: the relay dropped our media connection.
            if let Some(old) = links.borrow_mut().peer.take() {
                old.close();
            }
            on_event.emit(SessionEvent::Waiting(WaitingView {
                host_present,
                topic,
                description,
                message,
            }));
        }
        ServerMessage::WaitingRoom { guests } => on_event.emit(SessionEvent::WaitingRoom(guests)),
        ServerMessage::Knocked { guest } => on_event.emit(SessionEvent::Knocked(guest)),
        ServerMessage::StoppedWaiting { participant_id } => {
            on_event.emit(SessionEvent::StoppedWaiting(participant_id))
        }
        ServerMessage::Contacts { contacts } => on_event.emit(SessionEvent::Contacts(contacts)),
        ServerMessage::RoomUpdated { state } => on_event.emit(SessionEvent::RoomUpdated(state)),
        ServerMessage::Moderated { action } => on_event.emit(SessionEvent::Moderated(action)),
        ServerMessage::Error { code, .. } => match code {
            ErrorCode::PasswordRequired
            | ErrorCode::WrongPassword
            | ErrorCode::TooManyAttempts
            | ErrorCode::Busy => on_event.emit(SessionEvent::PasswordNeeded(code)),
            ErrorCode::ResumeFailed => {
                // Too long away, or the relay restarted: join afresh (same devices, new
                // media connection, the waiting room and password apply again).
                links.borrow_mut().resume = None;
                send(links, &joining.message(None));
            }
            ErrorCode::Removed => return Err(EndReason::Removed),
            ErrorCode::Denied => return Err(EndReason::Denied),
            ErrorCode::MeetingEnded => return Err(EndReason::MeetingEnded),
            ErrorCode::RoomLocked => return Err(EndReason::RoomLocked),
            ErrorCode::InvalidToken => return Err(EndReason::InvalidLink),
            ErrorCode::UnknownRoom => return Err(EndReason::UnknownRoom),
            ErrorCode::UnsupportedVersion => return Err(EndReason::NewVersion),
            ErrorCode::InvalidRoomName | ErrorCode::InvalidName | ErrorCode::InvalidEmail => {
                return Err(EndReason::Refused)
            }
            ErrorCode::MediaFailed => return Err(EndReason::MediaFailed),
            ErrorCode::MediaUnreachable => return Err(EndReason::MediaUnreachable),
            ErrorCode::RoomFull | ErrorCode::ServerFull => return Err(EndReason::Full),
            // Refusals of single messages (a chat message too long, a candidate the relay
            // cannot use) are not fatal.
            code => on_event.emit(SessionEvent::Refused(code)),
        },
        ServerMessage::AppointmentLater { starts_at_ms } => {
            return Err(EndReason::AppointmentLater(starts_at_ms))
        }
        ServerMessage::MediaUnreachable {
            participant_id,
            name,
        } => on_event.emit(SessionEvent::MediaUnreachable(participant_id, name)),
        // Only the connection check gets one, on a connection of its own.
        ServerMessage::ProbeAnswer { .. } | ServerMessage::Pong => {}
    }
    Ok(())
}
