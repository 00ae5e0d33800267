//! The thin I/O loop around the sans-IO [`Sfu`]: UDP sockets in and out, commands from the
//! signaling connections in, messages to them out, and the timer.
//!
//! Drop policy: media may drop, signaling must not. A datagram the socket cannot take right
//! now is dropped and counted (`datagrams_send_failed`). A signaling connection whose
//! outbox is full waits in an overflow queue, in order; one that falls [`OVERFLOW_MAX`]
//! messages behind is closed, and what it missed goes to the engine, which keeps the
//! session for a resume (it does not leave). What a dropped connection misses is kept by the
//! engine for a resume.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use sprechstunde_shared::{ParticipantId, RoomName, ServerMessage};
use str0m::net::Protocol;
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::engine::{Command, Gate, Output, Resumed, RoomStatus, Sfu};
use crate::accesslog::{self, AuditRecord, AuditSink, ConferenceRecord};
use crate::health::Liveness;
use crate::metrics::{self, Metrics};

/// Capacity of one connection's outbox (overflow: the connection is closed).
pub const OUTBOX_CAPACITY: usize = 256;
/// Messages one connection may fall behind beyond its outbox before it is closed (and its
/// session kept for a resume with these messages).
pub const OVERFLOW_MAX: usize = super::engine::PARKED_MAX;
/// Capacity of the SFU's inbox (overflow: awaited by the sender; signaling never drops).
pub const INBOX_CAPACITY: usize = 1024;

/// What a signaling connection receives from the SFU.
// Nearly everything is a message; boxing each would cost an allocation to save one on the
// rare close.
#[allow(clippy::large_enum_variant)]
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
    /// A connection check before joining: the answer to its offer, or why not.
    Probe {
        id: ParticipantId,
        sdp: String,
        address: std::net::IpAddr,
        reply: oneshot::Sender<Result<(String, bool), crate::sfu::engine::ProbeRefusal>>,
    },
    /// The connection that ran a check closed.
    ProbeEnded {
        id: ParticipantId,
    },
    /// Whether `id` is a host now, asked before costly work on a host's behalf.
    IsHost {
        id: ParticipantId,
        reply: oneshot::Sender<bool>,
    },
    /// For the staff desk: who waits in these rooms, and whether a host is there.
    RoomStatus {
        rooms: Vec<RoomName>,
        reply: oneshot::Sender<Vec<RoomStatus>>,
    },
    /// An ICE-TCP connection from `remote` opened; what the loop sends there goes to `frames`.
    TcpOpened {
        remote: SocketAddr,
        frames: mpsc::Sender<Vec<u8>>,
    },
    /// A frame from an ICE-TCP connection, arrived at the candidate `local`.
    TcpFrame {
        remote: SocketAddr,
        local: SocketAddr,
        bytes: Vec<u8>,
    },
    TcpClosed {
        remote: SocketAddr,
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
    /// What did not fit into the outbox yet, oldest first.
    overflow: VecDeque<ServerMessage>,
}

impl Outbox {
    fn new(connection: u64, sender: mpsc::Sender<ToClient>) -> Outbox {
        Outbox {
            connection,
            sender,
            overflow: VecDeque::new(),
        }
    }
}

/// What became of a message for a connection.
#[derive(Debug, PartialEq)]
enum Delivery {
    /// In the outbox, or queued behind it.
    Queued,
    /// No connection for this participant (gone, or detached: the engine parks instead).
    NoConnection,
    /// The connection has closed: the message was not sent.
    Closed(ServerMessage),
    /// The connection fell too far behind: it is dropped here, and these were not sent.
    TooFarBehind(Vec<ServerMessage>),
}

/// The signaling connections the SFU talks to, and the ICE-TCP connections by remote address.
#[derive(Default)]
struct Clients {
    outboxes: HashMap<ParticipantId, Outbox>,
    tcp: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
}

impl Clients {
    fn deliver(&mut self, id: ParticipantId, message: ServerMessage) -> Delivery {
        let Some(outbox) = self.outboxes.get_mut(&id) else {
            return Delivery::NoConnection;
        };
        if outbox.overflow.is_empty() {
            match outbox.sender.try_send(ToClient::Message(message)) {
                Ok(()) => return Delivery::Queued,
                Err(mpsc::error::TrySendError::Full(ToClient::Message(message))) => {
                    outbox.overflow.push_back(message);
                }
                Err(mpsc::error::TrySendError::Closed(ToClient::Message(unsent))) => {
                    self.outboxes.remove(&id);
                    return Delivery::Closed(unsent);
                }
                Err(_) => return Delivery::Queued,
            }
        } else {
            outbox.overflow.push_back(message);
        }
        if outbox.overflow.len() > OVERFLOW_MAX {
            // Dropping the sender ends the connection once it has written what is in its
            // outbox: everything before these, in order.
            let behind = self.outboxes.remove(&id).map(|o| o.overflow);
            return Delivery::TooFarBehind(behind.map(Vec::from).unwrap_or_default());
        }
        Delivery::Queued
    }

    /// A resumed session's new connection. One it replaces (not noticed dead yet) is told
    /// and closed; what it had not taken yet follows on the new one.
    fn take_over(&mut self, id: ParticipantId, mut new: Outbox) {
        if let Some(old) = self.outboxes.remove(&id) {
            let _ = old
                .sender
                .try_send(ToClient::Close(sprechstunde_shared::close_code::TAKEN_OVER));
            new.overflow = old.overflow;
        }
        self.outboxes.insert(id, new);
    }

    /// Moves what waits in overflow queues into outboxes that have room again.
    fn catch_up(&mut self) {
        for outbox in self.outboxes.values_mut() {
            while let Some(message) = outbox.overflow.pop_front() {
                match outbox.sender.try_send(ToClient::Message(message)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(ToClient::Message(message))) => {
                        outbox.overflow.push_front(message);
                        break;
                    }
                    // Closed: the connection's end reaches the loop as `Disconnect`.
                    Err(_) => break,
                }
            }
        }
    }
}

/// Marks the loop stopped when it ends, however it ends (a panic included).
struct StopMark(Liveness);

impl Drop for StopMark {
    fn drop(&mut self) {
        self.0.stopped();
    }
}

pub async fn run(
    sockets: Vec<MediaSocket>,
    mut sfu: Sfu,
    mut inbox: mpsc::Receiver<Inbox>,
    metrics: Arc<Metrics>,
    audit: AuditSink,
    liveness: Liveness,
) {
    let mut buf = vec![0u8; 2048];
    let mut clients = Clients::default();
    let _stop_mark = StopMark(liveness.clone());
    loop {
        liveness.turned(Instant::now());
        // A timer already due is served before waiting: on a busy socket tokio's timer
        // wheel turns only now and then, and the pacers' timeouts would wait for it.
        let now = Instant::now();
        let mut deadline = sfu.next_timeout(now);
        if deadline <= now {
            sfu.handle_timeout(now);
            flush(&mut sfu, &sockets, &mut clients, &metrics, &audit);
            deadline = sfu.next_timeout(Instant::now());
        }
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
                    clients.outboxes.insert(id, Outbox::new(connection, outbox));
                }
                Some(Inbox::Command(command)) => sfu.handle_command(Instant::now(), command),
                Some(Inbox::Gate { room, reply }) => {
                    let _ = reply.send(sfu.gate(&room));
                }
                Some(Inbox::Probe { id, sdp, address, reply }) => {
                    let _ = reply.send(sfu.start_probe(Instant::now(), id, &sdp, address));
                }
                Some(Inbox::ProbeEnded { id }) => sfu.end_probe(id),
                Some(Inbox::IsHost { id, reply }) => {
                    let _ = reply.send(sfu.is_host(id));
                }
                Some(Inbox::RoomStatus { rooms, reply }) => {
                    let _ = reply.send(sfu.room_status(&rooms));
                }
                Some(Inbox::TcpOpened { remote, frames }) => {
                    clients.tcp.insert(remote, frames);
                }
                Some(Inbox::TcpFrame { remote, local, bytes }) => {
                    sfu.receive(Instant::now(), Protocol::Tcp, remote, local, &bytes);
                    sfu.drive_received(Instant::now());
                }
                Some(Inbox::TcpClosed { remote }) => {
                    clients.tcp.remove(&remote);
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
                        clients.take_over(resumed.id, Outbox::new(connection, outbox));
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
    clients.catch_up();
    while let Some(output) = sfu.poll_output() {
        match output {
            Output::Transmit(transmit) if transmit.proto == Protocol::Tcp => {
                let sent = clients
                    .tcp
                    .get(&transmit.destination)
                    .map(|frames| frames.try_send(transmit.contents.to_vec()));
                match sent {
                    Some(Ok(())) => metrics::add(&metrics.datagrams_sent, 1),
                    _ => metrics::add(&metrics.datagrams_send_failed, 1),
                }
            }
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
            Output::Signal(id, message) => match clients.deliver(id, message) {
                Delivery::Queued | Delivery::NoConnection => {}
                // The connection ended a moment ago; its goodbye is on its way.
                Delivery::Closed(unsent) => sfu.connection_closed(Instant::now(), id, unsent),
                Delivery::TooFarBehind(unsent) => fell_behind(sfu, id, unsent),
            },
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
    if !sfu.has_no_output() {
        // Leaving produced new messages for others; deliver them too.
        flush(sfu, sockets, clients, metrics, audit);
    }
}

/// A connection too far behind was let go: its participant does not leave, the session is
/// kept for a resume with what it missed (as for any dropped connection).
fn fell_behind(sfu: &mut Sfu, id: ParticipantId, unsent: Vec<ServerMessage>) {
    warn!(participant = %id, behind = unsent.len(), "signaling connection too slow; closed, session kept");
    for message in unsent {
        sfu.connection_closed(Instant::now(), id, message);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> ServerMessage {
        ServerMessage::error(sprechstunde_shared::ErrorCode::Internal, n.to_string())
    }

    fn number(message: ToClient) -> usize {
        match message {
            ToClient::Message(ServerMessage::Error { message, .. }) => {
                message.parse().expect("a number")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_slow_connection_gets_everything_in_order_when_it_catches_up() {
        let id = ParticipantId(1);
        let (sender, mut receiver) = mpsc::channel(4);
        let mut clients = Clients::default();
        clients.outboxes.insert(id, Outbox::new(1, sender));
        for n in 0..50 {
            assert_eq!(clients.deliver(id, numbered(n)), Delivery::Queued);
        }
        let mut got = Vec::new();
        while got.len() < 50 {
            while let Ok(message) = receiver.try_recv() {
                got.push(number(message));
            }
            clients.catch_up();
        }
        assert_eq!(got, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_connection_too_far_behind_hands_back_what_it_did_not_get() {
        let id = ParticipantId(1);
        let (sender, mut receiver) = mpsc::channel(4);
        let mut clients = Clients::default();
        clients.outboxes.insert(id, Outbox::new(1, sender));
        let total = 4 + OVERFLOW_MAX + 1;
        let mut handed_back = Vec::new();
        for n in 0..total {
            match clients.deliver(id, numbered(n)) {
                Delivery::Queued => {}
                Delivery::TooFarBehind(unsent) => handed_back = unsent,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(clients.outboxes.is_empty(), "the connection is let go");
        let mut got: Vec<usize> = Vec::new();
        while let Ok(message) = receiver.try_recv() {
            got.push(number(message));
        }
        got.extend(
            handed_back
                .into_iter()
                .map(|m| number(ToClient::Message(m))),
        );
        assert_eq!(
            got,
            (0..total).collect::<Vec<_>>(),
            "nothing lost, nothing twice"
        );
    }

    /// Whoever falls behind (a host on a slow link) is detached, not removed: a resume brings
    /// back what it missed.
    #[test]
    fn a_participant_too_far_behind_is_kept_for_a_resume() {
        let mut sfu = Sfu::for_tests();
        let now = Instant::now();
        let host = ParticipantId(7);
        sfu.handle_command(
            now,
            Command::Join {
                id: host,
                room: RoomName::parse("beratung").expect("room"),
                name: sprechstunde_shared::DisplayName::parse("Beraterin").expect("name"),
                email: None,
                media: sprechstunde_shared::MediaState::default(),
                entry: crate::access::Entry::Guest,
                password_checked: None,
                resume: "geheim".into(),
                address: std::net::IpAddr::from([192, 0, 2, 7]),
            },
        );
        sfu.mark_media_up_for_tests(host, now);
        while sfu.poll_output().is_some() {}
        fell_behind(&mut sfu, host, (0..OVERFLOW_MAX).map(numbered).collect());
        let resumed = sfu.resume("geheim").expect("the session is kept");
        assert_eq!(resumed.id, host);
        assert_eq!(
            resumed.messages.len(),
            1 + OVERFLOW_MAX,
            "resumed, then every message"
        );
    }
}
