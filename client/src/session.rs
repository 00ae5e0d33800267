//! A participant's presence in a room: the signaling connection and the peer connection,
//! driven by the relay's messages in the order they arrive. The view only sees
//! [`SessionEvent`]s.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::StreamExt;
use gloo_timers::callback::Interval;
use sprechstunde_shared::{
    close_code, ChatMessage, ClientMessage, ErrorCode, MediaState, ModerationAction, Participant,
    ParticipantId, RoomName, RoomState, ServerMessage, SpeakingTime, TrackSource, WaitingGuest,
    PROTOCOL_VERSION,
};
use web_sys::MediaStream;
use yew::Callback;

use crate::media::sending::{self, SharedSending};

use crate::i18n::Key;
use crate::media::peer::{Peer, PeerEvent};
use crate::signaling::{Signaling, SignalingEvent};

/// Keeps the signaling connection alive through proxies; the relay closes idle ones.
const PING_INTERVAL_MS: u32 = 15_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    ConnectionLost,
    MediaFailed,
    ServerRestarting,
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
}

impl EndReason {
    pub fn message(self) -> Key {
        match self {
            EndReason::ConnectionLost => Key::ConnectionLost,
            EndReason::MediaFailed => Key::MediaFailed,
            EndReason::ServerRestarting => Key::ServerRestarting,
            EndReason::NewVersion => Key::NewVersion,
            EndReason::Refused => Key::RoomRefused,
            EndReason::Full => Key::RoomFull,
            EndReason::Removed => Key::EndRemoved,
            EndReason::Denied => Key::EndDenied,
            EndReason::MeetingEnded => Key::EndMeetingEnded,
            EndReason::RoomLocked => Key::EndRoomLocked,
            EndReason::InvalidLink => Key::EndInvalidLink,
            EndReason::UnknownRoom => Key::EndUnknownRoom,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    Welcome {
        me: ParticipantId,
        host: bool,
        participants: Vec<Participant>,
        state: RoomState,
        chat: Vec<ChatMessage>,
    },
    /// In the waiting room (again): nothing of the room until a host admits us.
    Waiting(WaitingView),
    /// The meeting has a password: ask for it (the code says whether one was wrong).
    PasswordNeeded(ErrorCode),
    /// To hosts: who is knocking.
    WaitingRoom(Vec<WaitingGuest>),
    RoomUpdated(RoomState),
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
    MediaState(String),
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

#[derive(Default)]
struct Links {
    signaling: Option<Signaling>,
    peer: Option<Rc<Peer>>,
    ping: Option<Interval>,
    /// The join message's parts, for a retry with a password.
    joining: Option<Rc<Joining>>,
}

pub struct Session {
    links: Rc<RefCell<Links>>,
}

impl Session {
    pub fn start(
        room: RoomName,
        name: String,
        token: Option<String>,
        sending: SharedSending,
        media: MediaState,
        on_event: Callback<SessionEvent>,
    ) -> Session {
        let links = Rc::new(RefCell::new(Links::default()));
        let (queue, incoming) = mpsc::unbounded();
        match Signaling::connect(move |event| {
            let _ = queue.unbounded_send(event);
        }) {
            Some(signaling) => links.borrow_mut().signaling = Some(signaling),
            None => on_event.emit(SessionEvent::Ended(EndReason::ConnectionLost)),
        }
        wasm_bindgen_futures::spawn_local(run(
            incoming,
            links.clone(),
            Joining {
                room,
                name,
                token,
                sending,
                media,
            },
            on_event,
        ));
        Session { links }
    }

    pub fn send(&self, message: &ClientMessage) {
        send(&self.links, message);
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
        links.ping = None;
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
    token: Option<String>,
    sending: SharedSending,
    media: MediaState,
}

impl Joining {
    fn message(&self, password: Option<String>) -> ClientMessage {
        ClientMessage::Join {
            version: PROTOCOL_VERSION,
            room: self.room.as_str().to_string(),
            name: self.name.clone(),
            media: self.media,
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

fn end_reason_for_close(code: u16) -> EndReason {
    match code {
        close_code::SHUTTING_DOWN => EndReason::ServerRestarting,
        close_code::MEDIA_FAILED => EndReason::MediaFailed,
        close_code::UNSUPPORTED_VERSION => EndReason::NewVersion,
        close_code::PROTOCOL_ABUSE => EndReason::Refused,
        close_code::FULL => EndReason::Full,
        close_code::REMOVED => EndReason::Removed,
        close_code::DENIED => EndReason::Denied,
        close_code::MEETING_ENDED => EndReason::MeetingEnded,
        close_code::NOT_ALLOWED => EndReason::RoomLocked,
        _ => EndReason::ConnectionLost,
    }
}

async fn run(
    mut incoming: mpsc::UnboundedReceiver<SignalingEvent>,
    links: Rc<RefCell<Links>>,
    joining: Joining,
    on_event: Callback<SessionEvent>,
) {
    let joining = Rc::new(joining);
    links.borrow_mut().joining = Some(joining.clone());
    while let Some(event) = incoming.next().await {
        let message = match event {
            SignalingEvent::Open => {
                send(&links, &joining.message(None));
                let ping_links = links.clone();
                links.borrow_mut().ping = Some(Interval::new(PING_INTERVAL_MS, move || {
                    send(&ping_links, &ClientMessage::Ping)
                }));
                continue;
            }
            SignalingEvent::Garbled => continue,
            SignalingEvent::Closed(code) => {
                on_event.emit(SessionEvent::Ended(end_reason_for_close(code)));
                break;
            }
            SignalingEvent::Message(message) => message,
        };
        let result = handle(message, &links, &joining, &on_event).await;
        if let Err(reason) = result {
            on_event.emit(SessionEvent::Ended(reason));
            break;
        }
    }
}

async fn handle(
    message: ServerMessage,
    links: &Rc<RefCell<Links>>,
    joining: &Joining,
    on_event: &Callback<SessionEvent>,
) -> Result<(), EndReason> {
    let peer = links.borrow().peer.clone();
    match message {
        ServerMessage::Welcome {
            participant_id,
            host,
            participants,
            state,
            chat,
            ..
        } => {
            // Admitted again after the waiting room: a fresh media connection.
            if let Some(old) = links.borrow_mut().peer.take() {
                old.close();
            }
            on_event.emit(SessionEvent::Welcome {
                me: participant_id,
                host,
                participants,
                state,
                chat,
            });
            let candidate_links = links.clone();
            let events = on_event.clone();
            let (microphone, camera) = {
                let sending = joining.sending.borrow();
                (
                    sending.microphone_to_send().cloned(),
                    sending.camera.clone(),
                )
            };
            let peer = Peer::new(
                microphone.as_ref(),
                camera.as_ref(),
                move |event| match event {
                    PeerEvent::Candidate(candidate) => {
                        send(&candidate_links, &ClientMessage::Candidate { candidate })
                    }
                    PeerEvent::RemoteStream(id, source, stream) => {
                        events.emit(SessionEvent::RemoteStream(id, source, stream))
                    }
                    PeerEvent::State(state) => {
                        if state == "failed" {
                            events.emit(SessionEvent::Ended(EndReason::MediaFailed));
                        } else {
                            events.emit(SessionEvent::MediaState(state));
                        }
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
        ServerMessage::Offer { sdp } => {
            if let Some(peer) = peer {
                let sdp = peer
                    .answer_offer(&sdp)
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
        ServerMessage::RoomUpdated { state } => on_event.emit(SessionEvent::RoomUpdated(state)),
        ServerMessage::Moderated { action } => on_event.emit(SessionEvent::Moderated(action)),
        ServerMessage::Error { code, .. } => match code {
            ErrorCode::PasswordRequired
            | ErrorCode::WrongPassword
            | ErrorCode::TooManyAttempts
            | ErrorCode::Busy => on_event.emit(SessionEvent::PasswordNeeded(code)),
            ErrorCode::Removed => return Err(EndReason::Removed),
            ErrorCode::Denied => return Err(EndReason::Denied),
            ErrorCode::MeetingEnded => return Err(EndReason::MeetingEnded),
            ErrorCode::RoomLocked => return Err(EndReason::RoomLocked),
            ErrorCode::InvalidToken => return Err(EndReason::InvalidLink),
            ErrorCode::UnknownRoom => return Err(EndReason::UnknownRoom),
            ErrorCode::UnsupportedVersion => return Err(EndReason::NewVersion),
            ErrorCode::InvalidRoomName | ErrorCode::InvalidName => return Err(EndReason::Refused),
            ErrorCode::MediaFailed => return Err(EndReason::MediaFailed),
            ErrorCode::RoomFull | ErrorCode::ServerFull => return Err(EndReason::Full),
            // Refusals of single messages (a chat message too long, a candidate the relay
            // cannot use) are not fatal.
            code => on_event.emit(SessionEvent::Refused(code)),
        },
        ServerMessage::Pong => {}
    }
    Ok(())
}
