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
        outbox: mpsc::Sender<ToClient>,
    },
    Command(Command),
    /// The connection is gone; the participant leaves.
    Disconnect {
        id: ParticipantId,
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

pub async fn run(
    sockets: Vec<MediaSocket>,
    mut sfu: Sfu,
    mut inbox: mpsc::Receiver<Inbox>,
    metrics: Arc<Metrics>,
    audit: AuditSink,
) {
    let mut buf = vec![0u8; 2048];
    let mut outboxes: HashMap<ParticipantId, mpsc::Sender<ToClient>> = HashMap::new();
    loop {
        let deadline = sfu.next_timeout(Instant::now());
        tokio::select! {
            (index, received) = recv_any(&sockets, &mut buf) => match received {
                Ok((len, source)) => {
                    let destination = sockets[index].advertised;
                    sfu.handle_datagram(Instant::now(), source, destination, &buf[..len]);
                }
                // ICMP errors surface here on some systems; they concern one remote only.
                Err(e) => debug!("media socket receive error: {e}"),
            },
            message = inbox.recv() => match message {
                None => break,
                Some(Inbox::Connect { id, outbox }) => {
                    outboxes.insert(id, outbox);
                }
                Some(Inbox::Command(command)) => sfu.handle_command(Instant::now(), command),
                Some(Inbox::Gate { room, reply }) => {
                    let _ = reply.send(sfu.gate(&room));
                }
                Some(Inbox::IsHost { id, reply }) => {
                    let _ = reply.send(sfu.is_host(id));
                }
                Some(Inbox::Disconnect { id }) => {
                    outboxes.remove(&id);
                    sfu.handle_command(Instant::now(), Command::Leave { id });
                }
            },
            _ = tokio::time::sleep_until(deadline.into()) => sfu.handle_timeout(Instant::now()),
        }
        flush(&mut sfu, &sockets, &mut outboxes, &metrics, &audit);
    }
}

fn flush(
    sfu: &mut Sfu,
    sockets: &[MediaSocket],
    outboxes: &mut HashMap<ParticipantId, mpsc::Sender<ToClient>>,
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
                if let Some(outbox) = outboxes.get(&id) {
                    if outbox.try_send(ToClient::Message(message)).is_err() {
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
                if let Some(outbox) = outboxes.remove(&id) {
                    // Closing is best effort: a full outbox closes on drop anyway.
                    let _ = outbox.try_send(ToClient::Close(code));
                }
            }
        }
    }
    for id in too_slow {
        if outboxes.remove(&id).is_some() {
            warn!(participant = %id, "signaling connection too slow; closing it");
            sfu.handle_command(Instant::now(), Command::Leave { id });
        }
    }
    if !sfu.has_no_output() {
        // Leaving produced new messages for others; deliver them too.
        flush(sfu, sockets, outboxes, metrics, audit);
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
