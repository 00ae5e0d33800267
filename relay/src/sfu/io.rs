//! The thin I/O loop around the sans-IO [`Sfu`]: UDP sockets in and out, commands from the
//! signaling connections in, messages to them out, and the timer.
//!
//! Drop policy: media may drop, signaling must not. A datagram the socket cannot take right
//! now is dropped and counted (`datagrams_send_failed`). A signaling connection whose
//! outbox is full is too slow to follow the room: it is closed and its participant leaves.

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

use super::core::{Command, Gate, Output, Sfu};
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
    /// A new connection continues a dropped session; the reply names it (or `None`).
    Resume {
        token: String,
        connection: u64,
        outbox: mpsc::Sender<ToClient>,
        reply: oneshot::Sender<Option<(ParticipantId, RoomName)>>,
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

/// Most messages kept for a participant whose connection dropped, until it resumes; beyond
/// it the session is given up (the client rejoins).
const PARKED_MAX: usize = 1000;

struct Outbox {
    connection: u64,
    sender: mpsc::Sender<ToClient>,
}

/// The signaling connections the SFU talks to, and what waits for those that dropped.
#[derive(Default)]
struct Clients {
    outboxes: HashMap<ParticipantId, Outbox>,
    /// Messages for detached participants, delivered in order on resume.
    parked: HashMap<ParticipantId, Vec<ServerMessage>>,
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
                            clients.parked.insert(id, Vec::new());
                        }
                    }
                }
                Some(Inbox::Resume { token, connection, outbox, reply }) => {
                    let resumed = sfu.resume(&token);
                    if let Some((id, _)) = &resumed {
                        let _ = outbox.try_send(ToClient::Message(ServerMessage::Resumed {
                            participant_id: *id,
                        }));
                        for message in clients.parked.remove(id).unwrap_or_default() {
                            let _ = outbox.try_send(ToClient::Message(message));
                        }
                        // A connection it replaces (not noticed dead yet) is dropped here.
                        clients.outboxes.insert(*id, Outbox { connection, sender: outbox });
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
                if let Some(outbox) = clients.outboxes.get(&id) {
                    if outbox.sender.try_send(ToClient::Message(message)).is_err() {
                        too_slow.push(id);
                    }
                } else if let Some(parked) = clients.parked.get_mut(&id) {
                    parked.push(message);
                    if parked.len() > PARKED_MAX {
                        too_slow.push(id);
                    }
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
                clients.parked.remove(&id);
                if let Some(outbox) = clients.outboxes.remove(&id) {
                    // Closing is best effort: a full outbox closes on drop anyway.
                    let _ = outbox.sender.try_send(ToClient::Close(code));
                }
            }
        }
    }
    for id in too_slow {
        let parked = clients.parked.remove(&id).is_some();
        if clients.outboxes.remove(&id).is_some() || parked {
            warn!(participant = %id, "signaling connection too slow; closing it");
            sfu.handle_command(Instant::now(), Command::Leave { id });
        }
    }
    if !clients.parked.is_empty() {
        // Sessions that ran out of grace: nothing to keep for them.
        clients.parked.retain(|id, _| sfu.is_present(*id));
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
