//! The thin I/O loop around the sans-IO [`Sfu`]: UDP sockets in and out, commands from the
//! signaling connections in, messages to them out, and the timer.
//!
//! Drop policy: media may drop, signaling must not. A datagram the socket cannot take right
//! now is dropped and counted (`datagrams_send_failed`). A signaling connection whose
//! outbox is full is too slow to follow the room: it is closed and its participant leaves.
//! What a dropped connection misses is kept by the engine for a resume.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use sprechstunde_shared::{ParticipantId, RoomName, ServerMessage};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::engine::{Command, Gate, Output, Resumed, Sfu};
use crate::accesslog::{self, AuditRecord, AuditSink, ConferenceRecord};
use crate::metrics::{self, Metrics};

/// Capacity of one connection's outbox (overflow: the connection is closed).
pub const OUTBOX_CAPACITY: usize = 256;
/// Capacity of the SFU's inbox (overflow: awaited by the sender; signaling never drops).
pub const INBOX_CAPACITY: usize = 1024;

/// What a signaling connection receives from the SFU.
#[derive(Debug)]
pub enum ToClient {
    Message(ServerMessage),
    Close(u16),
}

/// What the SFU loop receives from signaling connections.
#[derive(Debug)]
pub enum Inbox {
    Connect {
        id: ParticipantId,
        /// Tells this connection from a later one of the same participant (after a resume).
        connection: u64,
        outbox: mpsc::Sender<ToClient>,
    },
    /// A new connection continues a dropped session; the reply names it and carries what
    /// the connection must send first (or `None`).
    Resume {
        token: String,
        connection: u64,
        outbox: mpsc::Sender<ToClient>,
        reply: oneshot::Sender<Option<Resumed>>,
    },
    Command(Command),
    /// The connection is gone. `graceful`: the participant said goodbye (or was told to go)
    /// and leaves; otherwise the session is kept for a while for a resume.
    Disconnect {
        id: ParticipantId,
        connection: u64,
        graceful: bool,
    },
    /// What a join to `room` must bring (its password digest), asked before joining.
    Gate {
        room: RoomName,
        reply: oneshot::Sender<Gate>,
    },
    /// Whether `id` is a host now, asked before costly work on a host's behalf.
    IsHost {
        id: ParticipantId,
        reply: oneshot::Sender<bool>,
    },
}

/// A media socket: where it is bound and the address it is advertised as.
pub struct MediaSocket {
    pub socket: UdpSocket,
    pub advertised: SocketAddr,
}

/// Most datagrams taken from a media socket in one round of the loop.
const RECEIVE_BATCH: usize = 64;

struct Outbox {
    connection: u64,
    sender: mpsc::Sender<ToClient>,
}

/// The signaling connections the SFU talks to.
#[derive(Default)]
struct Clients {
    outboxes: HashMap<ParticipantId, Outbox>,
}

pub async fn run(
    sockets: Vec<MediaSocket>,
    mut sfu: Sfu,
    mut inbox: mpsc::Receiver<Inbox>,
    metrics: Arc<Metrics>,
    audit: AuditSink,
) {
    let mut buf = vec![0u8; 2048];
    let mut clients = Clients::default();
    loop {
        let deadline = sfu.next_timeout(Instant::now());
        tokio::select! {
            (index, received) = recv_any(&sockets, &mut buf) => match received {
                Ok((len, source)) => {
                    let media = &sockets[index];
                    sfu.receive_datagram(Instant::now(), source, media.advertised, &buf[..len]);
                    // What else already waits on this socket goes into the same round, up
                    // to a bound so that signaling and timers keep their turn.
                    for _ in 1..RECEIVE_BATCH {
                        let Ok((len, source)) = media.socket.try_recv_from(&mut buf) else {
                            break;
                        };
                        sfu.receive_datagram(Instant::now(), source, media.advertised, &buf[..len]);
                    }
                    sfu.drive_received(Instant::now());
                }
                // ICMP errors surface here on some systems; they concern one remote only.
                Err(e) => debug!("media socket receive error: {e}"),
            },
            message = inbox.recv() => match message {
                None => break,
                Some(Inbox::Connect { id, connection, outbox }) => {
                    clients.outboxes.insert(id, Outbox { connection, sender: outbox });
                }
                Some(Inbox::Command(command)) => sfu.handle_command(Instant::now(), command),
                Some(Inbox::Gate { room, reply }) => {
                    let _ = reply.send(sfu.gate(&room));
                }
                Some(Inbox::IsHost { id, reply }) => {
                    let _ = reply.send(sfu.is_host(id));
                }
                Some(Inbox::Disconnect { id, connection, graceful }) => {
                    // A connection replaced by a resume ends later: nothing to do then.
                    if clients.outboxes.get(&id).is_some_and(|o| o.connection == connection) {
                        clients.outboxes.remove(&id);
                        if graceful {
                            sfu.handle_command(Instant::now(), Command::Leave { id });
                        } else if sfu.detach(Instant::now(), id) {
                            debug!(participant = %id, "connection dropped; kept for a resume");
                        }
                    }
                }
                Some(Inbox::Resume { token, connection, outbox, reply }) => {
                    // What the engine kept goes back with the reply, written by the connection
                    // before anything from its outbox: all of it, in order.
                    let resumed = sfu.resume(&token);
                    if let Some(resumed) = &resumed {
                        // A connection it replaces (not noticed dead yet) is dropped here.
                        clients.outboxes.insert(resumed.id, Outbox { connection, sender: outbox });
                    }
                    let _ = reply.send(resumed);
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => sfu.handle_timeout(Instant::now()),
        }
        flush(&mut sfu, &sockets, &mut clients, &metrics, &audit);
    }
}

fn flush(
    sfu: &mut Sfu,
    sockets: &[MediaSocket],
    clients: &mut Clients,
    metrics: &Metrics,
    audit: &AuditSink,
) {
    let mut too_slow = Vec::new();
    while let Some(output) = sfu.poll_output() {
        match output {
            Output::Transmit(transmit) => {
                let socket = sockets
                    .iter()
                    .find(|s| s.advertised == transmit.source)
                    .or_else(|| sockets.first());
                let sent = socket.map(|s| {
                    s.socket
                        .try_send_to(&transmit.contents, transmit.destination)
                });
                match sent {
                    Some(Ok(_)) => metrics::add(&metrics.datagrams_sent, 1),
                    _ => metrics::add(&metrics.datagrams_send_failed, 1),
                }
            }
            Output::Signal(id, message) => {
                let Some(outbox) = clients.outboxes.get(&id) else {
                    continue;
                };
                match outbox.sender.try_send(ToClient::Message(message)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => too_slow.push(id),
                    // The connection ended a moment ago; its goodbye is on its way.
                    Err(mpsc::error::TrySendError::Closed(ToClient::Message(unsent))) => {
                        clients.outboxes.remove(&id);
                        sfu.connection_closed(Instant::now(), id, unsent);
                    }
                    Err(mpsc::error::TrySendError::Closed(ToClient::Close(_))) => {}
                }
            }
            Output::ConferenceEnded {
                duration,
                peak_participants,
            } => audit.record(AuditRecord::Conference(ConferenceRecord {
                ended_ms: accesslog::now_ms(),
                duration_ms: duration.as_millis() as i64,
                peak_participants,
            })),
            Output::Close(id, code) => {
                if let Some(outbox) = clients.outboxes.remove(&id) {
                    // Closing is best effort: a full outbox closes on drop anyway.
                    let _ = outbox.sender.try_send(ToClient::Close(code));
                }
            }
        }
    }
    for id in too_slow {
        if clients.outboxes.remove(&id).is_some() {
            warn!(participant = %id, "signaling connection too slow; closing it");
            sfu.handle_command(Instant::now(), Command::Leave { id });
        }
    }
    if !sfu.has_no_output() {
        // Leaving produced new messages for others; deliver them too.
        flush(sfu, sockets, clients, metrics, audit);
    }
}

/// Receive from whichever socket has a datagram; returns its index.
async fn recv_any(
    sockets: &[MediaSocket],
    buf: &mut [u8],
) -> (usize, io::Result<(usize, SocketAddr)>) {
    poll_fn(|cx| {
        for (index, media) in sockets.iter().enumerate() {
            let mut read = ReadBuf::new(buf);
            if let Poll::Ready(result) = media.socket.poll_recv_from(cx, &mut read) {
                let len = read.filled().len();
                return Poll::Ready((index, result.map(|source| (len, source))));
            }
        }
        Poll::Pending
    })
    .await
}
