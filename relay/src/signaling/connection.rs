//! The WebSocket of one signaling connection: messages in and out, the idle timeout, the
//! size limits and rate limit, strikes for bad input, and a clean close.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{close_code, ErrorCode, ParticipantId, ServerMessage};
use tokio::sync::mpsc;
use tracing::{debug, info};

use super::{too_large, Session, Verdict};
use crate::access::Doorkeeper;
use crate::accesslog::{AuditSink, EventKind};
use crate::limits::RateLimiter;
use crate::metrics::{self, Metrics};
use crate::sfu::io::{Inbox, ToClient, OUTBOX_CAPACITY};

/// Errors allowed before the connection is closed for abuse.
const MAX_STRIKES: u32 = 5;
/// A connection that sends nothing (not even a ping, sent every 5 s) for this long is
/// closed; its session is then kept for a resume.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

static NEXT_PARTICIPANT: AtomicU64 = AtomicU64::new(1);
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

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
        probed: false,
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
                    } else if code == close_code::MEDIA_UNREACHABLE {
                        session.event(EventKind::Error, "no media connection possible");
                    }
                    close(&mut sink, code, "").await;
                    break;
                }
                None => break,
            },
        }
    }
    if session.probed {
        let _ = session
            .inbox
            .send(Inbox::ProbeEnded { id: session.id })
            .await;
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
