//! One WebSocket signaling connection: parse and validate every client message, enforce the
//! order (join first), and pass what is valid to the SFU. Bad input gets an error naming the
//! problem; repeated bad input closes the connection with a close code.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{
    close_code, ChatText, ChatTextError, ClientMessage, DisplayName, ErrorCode, ParticipantId,
    RoomName, ServerMessage, CHAT_TEXT_MAX, PROTOCOL_VERSION,
};
use tokio::sync::mpsc;
use tracing::{debug, info};

use crate::accesslog::{self, AuditRecord, AuditSink, EventKind, EventRecord};
use crate::limits::RateLimiter;
use crate::metrics::{self, Metrics};
use crate::sfu::io::{Inbox, ToClient, OUTBOX_CAPACITY};
use crate::sfu::Command;

/// Errors allowed before the connection is closed for abuse.
const MAX_STRIKES: u32 = 5;
/// A connection that sends nothing (not even a ping) for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(45);

static NEXT_PARTICIPANT: AtomicU64 = AtomicU64::new(1);

enum Verdict {
    /// Keep going; maybe with a reply to this client.
    Continue(Option<ServerMessage>),
    /// Refused; counts as a strike.
    Refuse(ErrorCode, String),
    /// Reply, then close with this code.
    CloseWith(Option<ServerMessage>, u16),
}

struct Session {
    id: ParticipantId,
    /// The room joined, for the leave event.
    room: Option<RoomName>,
    ip: IpAddr,
    inbox: mpsc::Sender<Inbox>,
    audit: AuditSink,
    /// Chat has its own, tighter limit than signaling as a whole.
    chat_rate: RateLimiter,
}

impl Session {
    fn event(&self, kind: EventKind, detail: &'static str) {
        self.audit.record(AuditRecord::Event(EventRecord {
            time_ms: accesslog::now_ms(),
            kind,
            room: self.room.as_ref().map(|r| r.to_string()),
            ip: self.ip.to_string(),
            detail,
        }));
    }
}

impl Session {
    async fn handle(&mut self, text: &str, outbox: &mpsc::Sender<ToClient>) -> Verdict {
        let message = match ClientMessage::from_json(text) {
            Ok(message) => message,
            Err(e) => {
                return Verdict::Refuse(ErrorCode::Malformed, format!("malformed message: {e}"))
            }
        };
        let command = match message {
            ClientMessage::Ping => return Verdict::Continue(Some(ServerMessage::Pong)),
            ClientMessage::Join { .. } if self.room.is_some() => {
                return Verdict::Refuse(ErrorCode::OutOfOrder, "already joined".into())
            }
            ClientMessage::Join { version, .. } if version != PROTOCOL_VERSION => {
                let error = ServerMessage::error(
                    ErrorCode::UnsupportedVersion,
                    format!("protocol version {version} is not supported; this relay speaks {PROTOCOL_VERSION}"),
                );
                return Verdict::CloseWith(Some(error), close_code::UNSUPPORTED_VERSION);
            }
            ClientMessage::Join {
                room, name, media, ..
            } => {
                let Ok(room) = RoomName::parse(&room) else {
                    return Verdict::Refuse(
                        ErrorCode::InvalidRoomName,
                        "room names have 1-64 letters, digits, '-' or '_'".into(),
                    );
                };
                let Ok(name) = DisplayName::parse(&name) else {
                    return Verdict::Refuse(
                        ErrorCode::InvalidName,
                        "names have 1-64 characters".into(),
                    );
                };
                if self
                    .inbox
                    .send(Inbox::Connect {
                        id: self.id,
                        outbox: outbox.clone(),
                    })
                    .await
                    .is_err()
                {
                    return Verdict::CloseWith(None, close_code::SHUTTING_DOWN);
                }
                self.room = Some(room.clone());
                self.event(EventKind::Join, "joined");
                info!(participant = %self.id, room = %room, "join");
                Command::Join {
                    id: self.id,
                    room,
                    name,
                    media,
                }
            }
            _ if self.room.is_none() => {
                return Verdict::Refuse(ErrorCode::OutOfOrder, "join first".into())
            }
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
            ClientMessage::Leave => return Verdict::CloseWith(None, 1000),
        };
        if self.inbox.send(Inbox::Command(command)).await.is_err() {
            return Verdict::CloseWith(None, close_code::SHUTTING_DOWN);
        }
        Verdict::Continue(None)
    }
}

async fn send_text<S>(sink: &mut S, message: &ServerMessage) -> bool
where
    S: SinkExt<Message> + Unpin,
{
    sink.send(Message::Text(Utf8Bytes::from(message.to_json())))
        .await
        .is_ok()
}

async fn close<S>(sink: &mut S, code: u16, reason: &'static str)
where
    S: SinkExt<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

pub async fn serve_connection(
    socket: WebSocket,
    ip: IpAddr,
    inbox: mpsc::Sender<Inbox>,
    metrics: std::sync::Arc<Metrics>,
    audit: AuditSink,
) {
    let id = ParticipantId(NEXT_PARTICIPANT.fetch_add(1, Ordering::Relaxed));
    let (outbox_tx, mut outbox_rx) = mpsc::channel::<ToClient>(OUTBOX_CAPACITY);
    let (mut sink, mut stream) = socket.split();
    let mut session = Session {
        id,
        room: None,
        ip,
        inbox,
        audit,
        chat_rate: RateLimiter::chat(std::time::Instant::now()),
    };
    let mut strikes = 0;
    let mut rate = RateLimiter::new(std::time::Instant::now());
    loop {
        tokio::select! {
            incoming = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => {
                let message = match incoming {
                    Err(_) => {
                        close(&mut sink, 1001, "idle").await;
                        break;
                    }
                    Ok(None) | Ok(Some(Err(_))) => break,
                    Ok(Some(Ok(message))) => message,
                };
                let verdict = match message {
                    Message::Text(_) | Message::Binary(_) if !rate.allow(std::time::Instant::now()) => {
                        Verdict::Refuse(ErrorCode::RateLimited, "too many messages; slow down".into())
                    }
                    Message::Text(text) => session.handle(text.as_str(), &outbox_tx).await,
                    Message::Binary(_) => Verdict::Refuse(ErrorCode::Malformed, "binary messages are not part of the protocol".into()),
                    Message::Ping(_) | Message::Pong(_) => Verdict::Continue(None),
                    Message::Close(_) => break,
                };
                match verdict {
                    Verdict::Continue(None) => {}
                    Verdict::Continue(Some(reply)) => {
                        if !send_text(&mut sink, &reply).await {
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
                            session.event(EventKind::Error, "closed after repeated invalid messages");
                            close(&mut sink, close_code::PROTOCOL_ABUSE, "too many invalid messages").await;
                            break;
                        }
                    }
                    Verdict::CloseWith(reply, code) => {
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
        session.event(EventKind::Leave, "left");
        info!(participant = %id, "leave");
        let _ = session.inbox.send(Inbox::Disconnect { id }).await;
    }
}
