//! One WebSocket signaling connection: parse and validate every client message, enforce the
//! order (join first), and pass what is valid to the SFU. Bad input gets an error naming the
//! problem; repeated bad input closes the connection with a close code. The socket itself
//! (reading, writing, limits, closing) is in `connection`.

mod connection;
pub use connection::{serve_connection, IDLE_TIMEOUT};

use std::net::IpAddr;

use sprechstunde_shared::{
    close_code, ChatText, ChatTextError, ClientMessage, DisplayName, EmailAddress, ErrorCode,
    MediaState, MeetingText, ParticipantId, RoomName, ServerMessage, CHAT_TEXT_MAX,
    MAX_MESSAGE_BYTES, MAX_SDP_MESSAGE_BYTES, PROTOCOL_VERSION,
};
use tokio::sync::{mpsc, oneshot};
use tracing::info;

use crate::access::password::PASSWORD_MAX_CHARS;
use crate::access::{CheckError, Doorkeeper, Entry, PasswordDigest, TokenError};
use crate::sfu::meeting::MeetingInfo;

use crate::accesslog::{self, AuditRecord, AuditSink, EventKind, EventRecord};
use crate::limits::RateLimiter;
use crate::sfu::engine::ProbeRefusal;
use crate::sfu::io::{Inbox, ToClient};
use crate::sfu::Command;

/// Longest resume secret accepted (the relay's are 32 hex digits).
const RESUME_TOKEN_MAX: usize = 64;

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
    /// This connection ran a connection check (its media connection ends with it).
    probed: bool,
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
            ClientMessage::Probe { .. } if self.room.is_some() => {
                return Verdict::Refuse(
                    ErrorCode::OutOfOrder,
                    "a check comes before joining".into(),
                )
            }
            ClientMessage::Probe { sdp } => return self.probe(sdp).await,
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
            ClientMessage::ReceiveQuality { quality } => Command::ReceiveQuality {
                id: self.id,
                quality,
            },
            ClientMessage::TileHeights { tiles } => {
                if tiles.len() > sprechstunde_shared::MAX_TILE_HEIGHTS {
                    return Verdict::Refuse(
                        ErrorCode::MessageTooLong,
                        "too many tile heights".into(),
                    );
                }
                Command::TileHeights { id: self.id, tiles }
            }
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
                    Err(TokenError::NotYet { starts }) => {
                        return Err(Verdict::Continue(Some(ServerMessage::AppointmentLater {
                            starts_at_ms: starts.saturating_mul(1000),
                        })));
                    }
                    Err(error) => {
                        self.event_in(
                            &room,
                            EventKind::SignInFailed,
                            "invalid or expired link token",
                        );
                        let message = match error {
                            TokenError::Expired => "this link has expired; ask for a new one",
                            TokenError::OtherRoom => "this link is for another room",
                            TokenError::Invalid | TokenError::NotYet { .. } => {
                                "this link is not valid"
                            }
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
        // No room name here: stderr is not under the access log's retention.
        info!(participant = %self.id, host = entry.is_host(), "join");
        Ok(Command::Join {
            id: self.id,
            room,
            name,
            email,
            media,
            entry,
            password_checked,
            resume: crate::sfu::fresh_resume_secret(),
            address: self.ip,
        })
    }

    /// The pre-join connection check: the relay's answer to the check's offer.
    async fn probe(&mut self, sdp: String) -> Verdict {
        let (reply, answer) = oneshot::channel();
        let asked = self
            .inbox
            .send(Inbox::Probe {
                id: self.id,
                sdp,
                address: self.ip,
                reply,
            })
            .await;
        let Ok(Ok(answer)) = (match asked {
            Ok(()) => Ok(answer.await),
            Err(_) => Err(()),
        }) else {
            return Verdict::CloseWith(None, close_code::SHUTTING_DOWN);
        };
        match answer {
            Ok((sdp, turn)) => {
                self.probed = true;
                Verdict::Continue(Some(ServerMessage::ProbeAnswer { sdp, turn }))
            }
            Err(ProbeRefusal::Busy) => Verdict::Continue(Some(ServerMessage::error(
                ErrorCode::Busy,
                "too many connection checks; try again in a moment",
            ))),
            Err(ProbeRefusal::Repeated) => {
                Verdict::Refuse(ErrorCode::OutOfOrder, "one check per connection".into())
            }
            Err(ProbeRefusal::Offer(e)) => Verdict::Refuse(
                ErrorCode::InvalidSdp,
                format!("check offer not accepted: {e:?}"),
            ),
        }
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
