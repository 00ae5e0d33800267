//! One WebSocket signaling connection: parse and validate every client message, enforce the
//! order (join first), and pass what is valid to the SFU. Bad input gets an error naming the
//! problem; repeated bad input closes the connection with a close code.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{
    close_code, ChatText, ChatTextError, ClientMessage, DisplayName, EmailAddress, ErrorCode,
    MediaState, MeetingText, ParticipantId, RoomName, ServerMessage, CHAT_TEXT_MAX,
    MAX_MESSAGE_BYTES, MAX_SDP_MESSAGE_BYTES, PROTOCOL_VERSION,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

use crate::access::password::PASSWORD_MAX_CHARS;
use crate::access::{CheckError, Doorkeeper, Entry, PasswordDigest, TokenError};
use crate::sfu::meeting::MeetingInfo;

use crate::accesslog::{self, AuditRecord, AuditSink, EventKind, EventRecord};
use crate::limits::RateLimiter;
use crate::metrics::{self, Metrics};
use crate::sfu::io::{Inbox, ToClient, OUTBOX_CAPACITY};
use crate::sfu::Command;

/// Errors allowed before the connection is closed for abuse.
const MAX_STRIKES: u32 = 5;
/// A connection that sends nothing (not even a ping, sent every 5 s) for this long is
/// closed; its session is then kept for a resume.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest resume secret accepted (the relay's are 32 hex digits).
const RESUME_TOKEN_MAX: usize = 64;

static NEXT_PARTICIPANT: AtomicU64 = AtomicU64::new(1);
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// A fresh secret for resuming a session.
fn resume_secret() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness there is no resume (an empty secret is never registered).
    if getrandom::getrandom(&mut bytes).is_err() {
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

enum Verdict {
    /// Keep going; maybe with a reply to this client.
    Continue(Option<ServerMessage>),
    /// Keep going after sending these, in order.
    Deliver(Vec<ServerMessage>),
    /// Refused; counts as a strike.
    Refuse(ErrorCode, String),
    /// Reply, then close with this code.
    CloseWith(Option<ServerMessage>, u16),
}

struct Session {
    id: ParticipantId,
    connection: u64,
    /// The room joined, for the leave event.
    room: Option<RoomName>,
    ip: IpAddr,
    inbox: mpsc::Sender<Inbox>,
    audit: AuditSink,
    /// Chat has its own, tighter limit than signaling as a whole.
    chat_rate: RateLimiter,
    /// Setting a password costs a hash: rarely.
    password_rate: RateLimiter,
    doorkeeper: Doorkeeper,
}

impl Session {
    fn event(&self, kind: EventKind, detail: &'static str) {
        self.record(kind, self.room.as_ref(), detail);
    }

    /// An event about a room not (yet) joined, such as a failed sign-in.
    fn event_in(&self, room: &RoomName, kind: EventKind, detail: &'static str) {
        self.record(kind, Some(room), detail);
    }

    fn record(&self, kind: EventKind, room: Option<&RoomName>, detail: &'static str) {
        self.audit.record(AuditRecord::Event(EventRecord {
            time_ms: accesslog::now_ms(),
            kind,
            room: room.map(|r| r.to_string()),
            ip: self.ip.to_string(),
            detail,
        }));
    }
}

impl Session {
    async fn handle(&mut self, text: &str, outbox: &mpsc::Sender<ToClient>) -> Verdict {
        let message = match ClientMessage::from_json(text) {
            Ok(message) => message,
            Err(_) if text.len() > MAX_MESSAGE_BYTES => return too_large(),
            Err(e) => {
                return Verdict::Refuse(ErrorCode::Malformed, format!("malformed message: {e}"))
            }
        };
        let is_sdp = matches!(
            message,
            ClientMessage::Offer { .. } | ClientMessage::Answer { .. }
        );
        if text.len() > MAX_MESSAGE_BYTES && !is_sdp {
            return too_large();
        }
        let command = match message {
            ClientMessage::Ping => return Verdict::Continue(Some(ServerMessage::Pong)),
            ClientMessage::Join { .. } if self.room.is_some() => {
                return Verdict::Refuse(ErrorCode::OutOfOrder, "already joined".into())
            }
            ClientMessage::Resume { .. } if self.room.is_some() => {
                return Verdict::Refuse(ErrorCode::OutOfOrder, "already joined".into())
            }
            ClientMessage::Join { version, .. } | ClientMessage::Resume { version, .. }
                if version != PROTOCOL_VERSION =>
            {
                let error = ServerMessage::error(
                    ErrorCode::UnsupportedVersion,
                    format!("protocol version {version} is not supported; this relay speaks {PROTOCOL_VERSION}"),
                );
                return Verdict::CloseWith(Some(error), close_code::UNSUPPORTED_VERSION);
            }
            ClientMessage::Join {
                room,
                name,
                email,
                media,
                token,
                password,
                ..
            } => match self
                .join(room, name, email, media, token, password, outbox)
                .await
            {
                Ok(command) => command,
                Err(verdict) => return verdict,
            },
            ClientMessage::Resume { token, .. } => return self.resume(token, outbox).await,
            _ if self.room.is_none() => {
                return Verdict::Refuse(ErrorCode::OutOfOrder, "join first".into())
            }
            ClientMessage::IceRestart => Command::IceRestart { id: self.id },
            ClientMessage::Offer { sdp } => Command::Offer { id: self.id, sdp },
            ClientMessage::Answer { sdp } => Command::Answer { id: self.id, sdp },
            ClientMessage::Candidate { candidate } => Command::Candidate {
                id: self.id,
                candidate,
            },
            ClientMessage::SetMedia(media) => Command::SetMedia { id: self.id, media },
            ClientMessage::Chat { text, to } => {
                let text = match ChatText::parse(&text) {
                    Ok(text) => text,
                    Err(ChatTextError::Empty) => {
                        return Verdict::Refuse(
                            ErrorCode::EmptyMessage,
                            "the message is empty".into(),
                        )
                    }
                    Err(ChatTextError::TooLong) => {
                        return Verdict::Refuse(
                            ErrorCode::MessageTooLong,
                            format!("messages have at most {CHAT_TEXT_MAX} characters"),
                        )
                    }
                };
                if !self.chat_rate.allow(std::time::Instant::now()) {
                    return Verdict::Refuse(
                        ErrorCode::RateLimited,
                        "too many chat messages; wait a moment".into(),
                    );
                }
                Command::Chat {
                    id: self.id,
                    text,
                    to,
                    time_ms: u64::try_from(accesslog::now_ms()).unwrap_or_default(),
                }
            }
            ClientMessage::SetHand { raised } => Command::SetHand {
                id: self.id,
                raised,
            },
            ClientMessage::ReceiveVideo { enabled } => Command::ReceiveVideo {
                id: self.id,
                enabled,
            },
            ClientMessage::SetRoomInfo { topic, description } => {
                match MeetingInfo::cleaned(topic.as_deref(), description.as_deref()) {
                    Ok(info) => Command::SetRoomInfo { id: self.id, info },
                    Err(e) => return Verdict::Refuse(ErrorCode::MessageTooLong, e.to_string()),
                }
            }
            ClientMessage::SetRoomPolicy {
                waiting_room,
                locked,
            } => Command::SetRoomPolicy {
                id: self.id,
                waiting_room,
                locked,
            },
            ClientMessage::SetPassword { password } => {
                let digest = match password {
                    None => None,
                    Some(password) => match self.hash_password(password).await {
                        Ok(digest) => Some(digest),
                        Err(verdict) => return verdict,
                    },
                };
                Command::SetPassword {
                    id: self.id,
                    digest,
                }
            }
            ClientMessage::SetWaitingMessage { text } => {
                let text = match text
                    .as_deref()
                    .map(|t| MeetingText::WaitingMessage.clean(t))
                {
                    None => None,
                    Some(Ok(text)) => text,
                    Some(Err(e)) => {
                        return Verdict::Refuse(ErrorCode::MessageTooLong, e.to_string())
                    }
                };
                Command::SetWaitingMessage { id: self.id, text }
            }
            ClientMessage::Moderate {
                participant,
                action,
            } => Command::Moderate {
                id: self.id,
                target: participant,
                action,
            },
            ClientMessage::EndMeeting => Command::EndMeeting { id: self.id },
            ClientMessage::Leave => return Verdict::CloseWith(None, 1000),
        };
        if self.inbox.send(Inbox::Command(command)).await.is_err() {
            return Verdict::CloseWith(None, close_code::SHUTTING_DOWN);
        }
        Verdict::Continue(None)
    }
}

impl Session {
    /// Continue a dropped session on this connection, if the relay still keeps it.
    async fn resume(&mut self, token: String, outbox: &mpsc::Sender<ToClient>) -> Verdict {
        let resumed = if token.is_empty() || token.len() > RESUME_TOKEN_MAX {
            None
        } else {
            let (reply, answer) = oneshot::channel();
            let asked = self
                .inbox
                .send(Inbox::Resume {
                    token,
                    connection: self.connection,
                    outbox: outbox.clone(),
                    reply,
                })
                .await;
            if asked.is_err() {
                return Verdict::CloseWith(None, close_code::SHUTTING_DOWN);
            }
            answer.await.ok().flatten()
        };
        match resumed {
            Some(resumed) => {
                let id = resumed.id;
                self.id = id;
                self.room = Some(resumed.room);
                self.event(EventKind::Join, "resumed");
                info!(participant = %id, messages = resumed.messages.len(), "resumed");
                Verdict::Deliver(resumed.messages)
            }
            // Not a mistake of the client's: it joins afresh.
            None => Verdict::Continue(Some(ServerMessage::error(
                ErrorCode::ResumeFailed,
                "the session is gone; join again",
            ))),
        }
    }

    /// Checks a join before it reaches the room: names, the link token, whether the room
    /// exists, the password. What passes goes to the SFU, which decides between the room
    /// and the waiting room.
    #[allow(clippy::too_many_arguments)]
    async fn join(
        &mut self,
        room: String,
        name: String,
        email: Option<String>,
        media: MediaState,
        token: Option<String>,
        password: Option<String>,
        outbox: &mpsc::Sender<ToClient>,
    ) -> Result<Command, Verdict> {
        let Ok(room) = RoomName::parse(&room) else {
            return Err(Verdict::Refuse(
                ErrorCode::InvalidRoomName,
                "room names have 1-64 letters, digits, '-' or '_'".into(),
            ));
        };
        let Ok(name) = DisplayName::parse(&name) else {
            return Err(Verdict::Refuse(
                ErrorCode::InvalidName,
                "names have 1-64 characters".into(),
            ));
        };
        let email = match email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(given) => match EmailAddress::parse(given) {
                Ok(email) => Some(email.into_string()),
                Err(_) => {
                    return Err(Verdict::Refuse(
                        ErrorCode::InvalidEmail,
                        "that is not an e-mail address; leave it out if there is none".into(),
                    ))
                }
            },
        };
        let entry = match token {
            None => Entry::Guest,
            Some(token) => {
                let now = u64::try_from(accesslog::now_ms() / 1000).unwrap_or_default();
                match self.doorkeeper.secret.verify(&token, &room, now) {
                    Ok(grant) => Entry::Link(grant),
                    Err(error) => {
                        self.event_in(
                            &room,
                            EventKind::SignInFailed,
                            "invalid or expired link token",
                        );
                        let message = match error {
                            TokenError::Expired => "this link has expired; ask for a new one",
                            TokenError::OtherRoom => "this link is for another room",
                            TokenError::Invalid => "this link is not valid",
                        };
                        return Err(Verdict::Refuse(ErrorCode::InvalidToken, message.into()));
                    }
                }
            }
        };
        match self.doorkeeper.room_allowed(&room).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(Verdict::Refuse(
                    ErrorCode::UnknownRoom,
                    "there is no room of this name".into(),
                ))
            }
            Err(e) => {
                tracing::error!("room lookup failed: {e:#}");
                return Err(Verdict::Refuse(
                    ErrorCode::Internal,
                    "please try again".into(),
                ));
            }
        }
        let password_checked = if entry.is_host() {
            None
        } else {
            self.check_password(&room, password).await?
        };
        if self
            .inbox
            .send(Inbox::Connect {
                id: self.id,
                connection: self.connection,
                outbox: outbox.clone(),
            })
            .await
            .is_err()
        {
            return Err(Verdict::CloseWith(None, close_code::SHUTTING_DOWN));
        }
        self.room = Some(room.clone());
        self.event(EventKind::Join, "joined");
        info!(participant = %self.id, room = %room, host = entry.is_host(), "join");
        Ok(Command::Join {
            id: self.id,
            room,
            name,
            email,
            media,
            entry,
            password_checked,
            resume: resume_secret(),
        })
    }

    /// The meeting's password, if it has one, checked off the media loop. Returns the digest
    /// it was checked against.
    async fn check_password(
        &mut self,
        room: &RoomName,
        password: Option<String>,
    ) -> Result<Option<PasswordDigest>, Verdict> {
        let (reply, gate) = oneshot::channel();
        let asked = self
            .inbox
            .send(Inbox::Gate {
                room: room.clone(),
                reply,
            })
            .await;
        let Ok(Ok(gate)) = (match asked {
            Ok(()) => Ok(gate.await),
            Err(_) => Err(()),
        }) else {
            return Err(Verdict::CloseWith(None, close_code::SHUTTING_DOWN));
        };
        let Some(digest) = gate.password else {
            return Ok(None);
        };
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            return Err(Verdict::Refuse(
                ErrorCode::PasswordRequired,
                "this meeting has a password".into(),
            ));
        };
        if password.chars().count() > PASSWORD_MAX_CHARS {
            return Err(Verdict::Refuse(
                ErrorCode::WrongPassword,
                "wrong password".into(),
            ));
        }
        match self
            .doorkeeper
            .passwords
            .check(self.ip, room, &digest, password)
            .await
        {
            Ok(()) => Ok(Some(digest)),
            Err(CheckError::Wrong) => {
                self.event_in(room, EventKind::SignInFailed, "wrong password");
                Err(Verdict::Refuse(
                    ErrorCode::WrongPassword,
                    "wrong password".into(),
                ))
            }
            Err(CheckError::TooManyAttempts) => {
                self.event_in(room, EventKind::SignInFailed, "too many password attempts");
                Err(Verdict::Refuse(
                    ErrorCode::TooManyAttempts,
                    "too many wrong passwords; wait a few minutes".into(),
                ))
            }
            Err(CheckError::Busy) => Err(Verdict::Refuse(
                ErrorCode::Busy,
                "the relay is busy; try again in a moment".into(),
            )),
        }
    }

    async fn hash_password(&mut self, password: String) -> Result<PasswordDigest, Verdict> {
        let length = password.chars().count();
        if length == 0 || length > PASSWORD_MAX_CHARS {
            return Err(Verdict::Refuse(
                ErrorCode::Malformed,
                format!("passwords have 1-{PASSWORD_MAX_CHARS} characters"),
            ));
        }
        // Hashing is costly: only for a host, and only now and then.
        let (reply, answer) = oneshot::channel();
        if self
            .inbox
            .send(Inbox::IsHost { id: self.id, reply })
            .await
            .is_err()
        {
            return Err(Verdict::CloseWith(None, close_code::SHUTTING_DOWN));
        }
        if answer.await != Ok(true) {
            return Err(Verdict::Refuse(
                ErrorCode::NotHost,
                "only a host may do this".into(),
            ));
        }
        if !self.password_rate.allow(std::time::Instant::now()) {
            return Err(Verdict::Refuse(
                ErrorCode::RateLimited,
                "the password was just changed; wait a moment".into(),
            ));
        }
        self.doorkeeper
            .passwords
            .hash(password)
            .await
            .map_err(|_| Verdict::Refuse(ErrorCode::Busy, "the relay is busy; try again".into()))
    }
}

/// A message over its limit: said, then the connection closes (1009).
fn too_large() -> Verdict {
    Verdict::CloseWith(
        Some(ServerMessage::error(
            ErrorCode::TooLarge,
            format!(
                "messages have at most {MAX_MESSAGE_BYTES} bytes, offer and answer {MAX_SDP_MESSAGE_BYTES}"
            ),
        )),
        close_code::MESSAGE_TOO_BIG,
    )
}

/// Whether a read failed because the message was over the WebSocket's size limit
/// (tungstenite's capacity error, seen through axum's opaque error).
fn over_size_limit(error: &axum::Error) -> bool {
    let text = error.to_string();
    text.contains("Space limit exceeded") || text.contains("too long")
}

/// A send that cannot complete in this time (the peer stopped reading, or its network is
/// gone) ends the connection instead of holding it forever.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

async fn send_text<S>(sink: &mut S, message: &ServerMessage) -> bool
where
    S: SinkExt<Message> + Unpin,
{
    let send = sink.send(Message::Text(Utf8Bytes::from(message.to_json())));
    matches!(tokio::time::timeout(SEND_TIMEOUT, send).await, Ok(Ok(())))
}

async fn close<S>(sink: &mut S, code: u16, reason: &'static str)
where
    S: SinkExt<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
}

/// Read and discard what the client still sends, for a moment, after a close.
async fn drain<S>(stream: &mut S)
where
    S: StreamExt + Unpin,
{
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while stream.next().await.is_some() {}
    })
    .await;
}

pub async fn serve_connection(
    socket: WebSocket,
    ip: IpAddr,
    inbox: mpsc::Sender<Inbox>,
    metrics: std::sync::Arc<Metrics>,
    audit: AuditSink,
    doorkeeper: Doorkeeper,
) {
    let id = ParticipantId(NEXT_PARTICIPANT.fetch_add(1, Ordering::Relaxed));
    let connection = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let (outbox_tx, mut outbox_rx) = mpsc::channel::<ToClient>(OUTBOX_CAPACITY);
    let (mut sink, mut stream) = socket.split();
    let mut session = Session {
        id,
        connection,
        room: None,
        ip,
        inbox,
        audit,
        chat_rate: RateLimiter::chat(std::time::Instant::now()),
        password_rate: RateLimiter::password(std::time::Instant::now()),
        doorkeeper,
    };
    let mut strikes = 0;
    let mut rate = RateLimiter::new(std::time::Instant::now());
    // Whether the connection ended on purpose (goodbye, close frame, the relay's decision);
    // otherwise it dropped, and the session is kept for a resume.
    let mut graceful = false;
    // Only what the client sends counts: the relay's own messages say nothing about whether
    // anyone is still there.
    let mut last_received = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(last_received + IDLE_TIMEOUT) => {
                close(&mut sink, 1001, "idle").await;
                break;
            }
            incoming = stream.next() => {
                last_received = tokio::time::Instant::now();
                let message = match incoming {
                    None => break,
                    Some(Err(e)) if over_size_limit(&e) => {
                        graceful = true;
                        if let Verdict::CloseWith(Some(reply), code) = too_large() {
                            send_text(&mut sink, &reply).await;
                            close(&mut sink, code, "").await;
                            // The rest of the message is still arriving: take it in before
                            // the socket closes, or the reset loses the close frame.
                            drain(&mut stream).await;
                        }
                        break;
                    }
                    Some(Err(_)) => break,
                    Some(Ok(message)) => message,
                };
                let verdict = match message {
                    Message::Text(_) | Message::Binary(_) if !rate.allow(std::time::Instant::now()) => {
                        Verdict::Refuse(ErrorCode::RateLimited, "too many messages; slow down".into())
                    }
                    Message::Text(text) => session.handle(text.as_str(), &outbox_tx).await,
                    Message::Binary(_) => Verdict::Refuse(ErrorCode::Malformed, "binary messages are not part of the protocol".into()),
                    Message::Ping(_) | Message::Pong(_) => Verdict::Continue(None),
                    Message::Close(_) => {
                        graceful = true;
                        break;
                    }
                };
                match verdict {
                    Verdict::Continue(None) => {}
                    Verdict::Continue(Some(reply)) => {
                        if !send_text(&mut sink, &reply).await {
                            break;
                        }
                    }
                    Verdict::Deliver(messages) => {
                        let mut sent = true;
                        for message in &messages {
                            sent = send_text(&mut sink, message).await;
                            if !sent {
                                break;
                            }
                        }
                        if !sent {
                            break;
                        }
                    }
                    Verdict::Refuse(code, text) => {
                        metrics::add(&metrics.signaling_errors, 1);
                        strikes += 1;
                        debug!(participant = %id, ?code, strikes, "refused message");
                        if !send_text(&mut sink, &ServerMessage::error(code, text)).await {
                            break;
                        }
                        if strikes >= MAX_STRIKES {
                            graceful = true;
                            session.event(EventKind::Error, "closed after repeated invalid messages");
                            close(&mut sink, close_code::PROTOCOL_ABUSE, "too many invalid messages").await;
                            break;
                        }
                    }
                    Verdict::CloseWith(reply, code) => {
                        graceful = true;
                        if let Some(reply) = reply {
                            send_text(&mut sink, &reply).await;
                        }
                        close(&mut sink, code, "").await;
                        break;
                    }
                }
            }
            outgoing = outbox_rx.recv() => match outgoing {
                Some(ToClient::Message(message)) => {
                    if !send_text(&mut sink, &message).await {
                        break;
                    }
                }
                Some(ToClient::Close(code)) => {
                    graceful = true;
                    if code == close_code::MEDIA_FAILED {
                        session.event(EventKind::Error, "media connection failed");
                    }
                    close(&mut sink, code, "").await;
                    break;
                }
                None => break,
            },
        }
    }
    if session.room.is_some() {
        let id = session.id;
        if graceful {
            session.event(EventKind::Leave, "left");
            info!(participant = %id, "leave");
        } else {
            session.event(EventKind::Leave, "connection dropped");
            info!(participant = %id, "connection dropped");
        }
        let _ = session
            .inbox
            .send(Inbox::Disconnect {
                id,
                connection,
                graceful,
            })
            .await;
    }
}
