//! The SFU as a sans-IO state machine: every input (a signaling command, a datagram, the
//! passing of time) goes in through a `handle_*` method with the current time; everything
//! to do comes out of [`Sfu::poll_output`]. The tokio loop in `io.rs` only moves bytes.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sprechstunde_shared::{
    close_code, ChatText, DisplayName, ErrorCode, MediaState, ModerationAction, ParticipantId,
    RoomName, ServerMessage, PROTOCOL_VERSION,
};
use str0m::media::{KeyframeRequestKind, Mid};
use str0m::net::Transmit;
use str0m::{Candidate, Input};

use tracing::debug;

use super::lobby::{Lobby, Waiter};
use super::meeting::{Meeting, MeetingInfo};
use super::peer::{Peer, PeerError};
use super::rooms::{JoinError, Rooms};
use crate::access::{AccessPolicy, Entry, PasswordDigest, TokenId};
use crate::metrics::{self, Metrics};
use member::{Member, Members};

mod admission;
mod call;
#[cfg(any(test, feature = "fuzzing"))]
pub mod hostile_media;
#[cfg(any(test, feature = "fuzzing"))]
pub mod invariants;
mod keyframes;
mod media;
mod member;
mod places;
mod presence;
mod probe;
#[cfg(test)]
mod scenarios;
pub use admission::{Gate, RoomStatus};
pub use presence::{fresh_resume_secret, Resumed, PARKED_MAX};
pub use probe::ProbeRefusal;

/// Keyframes asked for on one receiver's behalf when it switches video on again, at most
/// this often.
const RECEIVE_VIDEO_KEYFRAME_GAP: Duration = Duration::from_secs(2);
/// Most participants on one relay (all rooms together).
pub const MAX_PARTICIPANTS: usize = 500;
/// Longest sleep of the I/O loop when no participant needs a timer.
const IDLE_WAKEUP: Duration = Duration::from_secs(1);
/// How often speaking-time statistics go out (only when they changed).
const STATS_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub enum Command {
    Join {
        id: ParticipantId,
        room: RoomName,
        name: DisplayName,
        /// Shown to hosts only; kept in memory while in the room.
        email: Option<String>,
        media: MediaState,
        /// Guest, or the checked token of a host link or invitation.
        entry: Entry,
        /// The password digest the join's password was checked against, if any.
        password_checked: Option<PasswordDigest>,
        /// The secret to resume this session with after a dropped connection.
        resume: String,
        /// Where the join came from, as limits count it (`limits::address_key`).
        address: std::net::IpAddr,
    },
    IceRestart {
        id: ParticipantId,
    },
    SetRoomInfo {
        id: ParticipantId,
        info: MeetingInfo,
    },
    SetRoomPolicy {
        id: ParticipantId,
        waiting_room: bool,
        locked: bool,
    },
    SetPassword {
        id: ParticipantId,
        digest: Option<PasswordDigest>,
    },
    SetWaitingMessage {
        id: ParticipantId,
        text: Option<String>,
    },
    Moderate {
        id: ParticipantId,
        target: ParticipantId,
        action: ModerationAction,
    },
    EndMeeting {
        id: ParticipantId,
    },
    SetMedia {
        id: ParticipantId,
        media: MediaState,
    },
    Chat {
        id: ParticipantId,
        text: ChatText,
        to: Option<ParticipantId>,
        /// Wall-clock time of arrival, milliseconds since the Unix epoch.
        time_ms: u64,
    },
    SetHand {
        id: ParticipantId,
        raised: bool,
    },
    ReceiveQuality {
        id: ParticipantId,
        quality: sprechstunde_shared::ReceiveQuality,
    },
    /// How tall the participant shows others' pictures.
    TileHeights {
        id: ParticipantId,
        tiles: Vec<sprechstunde_shared::TileHeight>,
    },
    Offer {
        id: ParticipantId,
        sdp: String,
    },
    Answer {
        id: ParticipantId,
        sdp: String,
    },
    Candidate {
        id: ParticipantId,
        candidate: String,
    },
    Leave {
        id: ParticipantId,
    },
    /// The relay shuts down: tell everyone, then forget them.
    Shutdown,
}

#[derive(Debug)]
pub enum Output {
    Transmit(Transmit),
    Signal(ParticipantId, ServerMessage),
    /// Close this participant's signaling connection with a close code.
    Close(ParticipantId, u16),
    /// The last participant left a room: anonymous figures for statistics.
    ConferenceEnded {
        duration: Duration,
        peak_participants: u32,
    },
}

/// Why someone leaves; every exit goes through [`Sfu::depart`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Departure {
    /// They left, were removed, or did not come back in time.
    Left,
    /// Their media connection died: they are told, and their connection is closed.
    MediaFailed,
    /// Their media connection never came up (a network that blocks it): they and the hosts
    /// are told, once, and their connection is closed.
    Unreachable,
}

/// When a room's conference began and the most people it had at once.
struct Conference {
    started: Instant,
    peak_participants: u32,
}

pub struct Sfu {
    rooms: Rooms<Mid>,
    /// Everyone in a room or waiting, one record each.
    members: Members,
    /// Cache of which participant a remote address belongs to, checked with `accepts`.
    by_source: HashMap<SocketAddr, ParticipantId>,
    local_candidates: Vec<Candidate>,
    keyframe_requests: keyframes::KeyframeRequests,
    /// The layers senders send of their simulcast cameras.
    sent_layers: crate::sfu::simulcast::SentLayers,
    conferences: HashMap<RoomName, Conference>,
    meetings: HashMap<RoomName, Meeting>,
    infos: HashMap<RoomName, MeetingInfo>,
    policy: AccessPolicy,
    lobby: Lobby,
    /// Tokens of removed participants: the same link does not let them back in.
    banned_tokens: std::collections::HashSet<TokenId>,
    /// Addresses of removed participants, kept out of that meeting for a while.
    address_bans: places::AddressBans,
    next_stats: Option<Instant>,
    outputs: VecDeque<Output>,
    metrics: Arc<Metrics>,
    /// Participants with datagrams taken in but not yet polled (see [`Sfu::receive_datagram`]).
    received_by: Vec<ParticipantId>,
    /// Pre-join connection checks, by the connection that asked.
    probes: probe::Probes,
    /// An external TURN server admitted participants get credentials for.
    turn: Option<crate::turn::TurnServers>,
}

/// The in-call state of the room `id` is in.
fn meeting_of<'a>(
    rooms: &Rooms<Mid>,
    meetings: &'a mut HashMap<RoomName, Meeting>,
    id: ParticipantId,
) -> Option<&'a mut Meeting> {
    meetings.get_mut(rooms.room_name(id)?)
}

impl Sfu {
    pub fn new(
        local_candidates: Vec<Candidate>,
        room_capacity: usize,
        infos: HashMap<RoomName, MeetingInfo>,
        policy: AccessPolicy,
        metrics: Arc<Metrics>,
    ) -> Sfu {
        Sfu {
            rooms: Rooms::with_capacity(room_capacity),
            members: Members::default(),
            by_source: HashMap::new(),
            received_by: Vec::new(),
            probes: probe::Probes::default(),
            turn: None,
            local_candidates,
            keyframe_requests: keyframes::KeyframeRequests::default(),
            sent_layers: crate::sfu::simulcast::SentLayers::default(),
            conferences: HashMap::new(),
            meetings: HashMap::new(),
            infos,
            policy,
            lobby: Lobby::default(),
            banned_tokens: std::collections::HashSet::new(),
            address_bans: places::AddressBans::default(),
            next_stats: None,
            outputs: VecDeque::new(),
            metrics,
        }
    }

    /// Admitted participants get credentials for this TURN server (none: they get none).
    pub fn set_turn(&mut self, turn: Option<crate::turn::TurnServers>) {
        self.turn = turn;
    }

    /// An engine with one loopback media address and default rules, for the property test,
    /// the fuzz target and the scenarios.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn for_tests() -> Sfu {
        let candidate = Candidate::host("127.0.0.1:9".parse().expect("address"), "udp")
            .expect("a host candidate");
        Sfu::new(
            vec![candidate],
            20,
            HashMap::new(),
            AccessPolicy::default(),
            Arc::new(Metrics::default()),
        )
    }

    /// The media path of `id` counts as up (what ICE and DTLS would have done).
    #[cfg(test)]
    pub fn mark_media_up_for_tests(&mut self, id: ParticipantId, now: Instant) {
        if let Some(peer) = self.members.peer_mut(id) {
            peer.media_connected = true;
            peer.last_heard = now;
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn has_no_output(&self) -> bool {
        self.outputs.is_empty()
    }

    /// When `handle_timeout` must be called next.
    pub fn next_timeout(&self, now: Instant) -> Instant {
        self.members
            .peers()
            .map(|(_, p)| p.next_timeout)
            .chain(self.next_stats)
            .chain(self.next_presence_check(now))
            .chain(self.next_media_setup_check())
            .chain(self.next_probe_timeout())
            .chain(self.keyframe_requests.next_due())
            .min()
            .unwrap_or(now + IDLE_WAKEUP)
            .min(now + IDLE_WAKEUP)
    }

    pub fn handle_command(&mut self, now: Instant, command: Command) {
        let mut work = Vec::new();
        match command {
            Command::Join {
                id,
                room,
                name,
                email,
                media,
                entry,
                password_checked,
                resume,
                address,
            } => self.join(
                now,
                &room,
                Waiter {
                    id,
                    name: name.into_string(),
                    media,
                },
                Member::new(entry, email, resume, crate::limits::address_key(address)),
                password_checked,
            ),
            Command::IceRestart { id } => {
                let Some(peer) = self.members.peer_mut(id) else {
                    return self.not_in_call(id);
                };
                debug!(participant = %id, "ICE restart requested");
                peer.request_ice_restart(now);
                work.push(id);
            }
            Command::SetRoomInfo { id, info } => self.set_room_info(id, info),
            Command::SetRoomPolicy {
                id,
                waiting_room,
                locked,
            } => self.set_room_policy(now, id, waiting_room, locked),
            Command::SetPassword { id, digest } => self.set_password(id, digest),
            Command::SetWaitingMessage { id, text } => self.set_waiting_message(id, text),
            Command::Moderate { id, target, action } => {
                self.moderate(now, id, target, action, &mut work)
            }
            Command::EndMeeting { id } => self.end_meeting(now, id, &mut work),
            Command::SetMedia { id, media } => self.set_media(now, id, media, &mut work),
            Command::Chat {
                id,
                text,
                to,
                time_ms,
            } => self.chat(id, text, to, time_ms),
            Command::SetHand { id, raised } => self.set_hand(id, raised),
            Command::ReceiveQuality { id, quality } => {
                let Some(peer) = self.members.peer_mut(id) else {
                    return self.not_in_call(id);
                };
                let audio_only = sprechstunde_shared::ReceiveQuality::AudioOnly;
                let resumed = quality != audio_only && peer.receive == audio_only;
                peer.receive = quality;
                // Toggling fast must not make every sender send keyframes again and again:
                // within the gap, the receiving browser asks for what it cannot decode.
                let may_ask = peer.video_resumed_at.is_none_or(|at| {
                    now.saturating_duration_since(at) >= RECEIVE_VIDEO_KEYFRAME_GAP
                });
                if resumed && may_ask {
                    peer.video_resumed_at = Some(now);
                    // Video starts again: a keyframe at once instead of a frozen picture.
                    for key in peer.open_video_tracks() {
                        self.request_keyframe(now, key, KeyframeRequestKind::Pli);
                        work.push(key.origin);
                    }
                }
                self.allocate_for(now, id, &mut work);
            }
            Command::TileHeights { id, tiles } => {
                let Some(peer) = self.members.peer_mut(id) else {
                    return self.not_in_call(id);
                };
                debug!(participant = %id, ?tiles, "tile heights");
                peer.tile_heights = tiles
                    .iter()
                    .map(|tile| ((tile.participant_id, tile.screen), tile.height))
                    .collect();
                self.allocate_for(now, id, &mut work);
            }
            Command::Offer { id, sdp } => {
                let Some(peer) = self.members.peer_mut(id) else {
                    return self.not_in_call(id);
                };
                match peer.accept_offer(&sdp) {
                    Ok(answer) => self.signal(id, ServerMessage::Answer { sdp: answer }),
                    Err(e) => self.refuse_peer_error(id, e),
                }
                work.push(id);
            }
            Command::Answer { id, sdp } => {
                let Some(peer) = self.members.peer_mut(id) else {
                    return self.not_in_call(id);
                };
                match peer.accept_answer(&sdp) {
                    Ok(opened) => {
                        for track in opened {
                            debug!(participant = %id, origin = %track.key.origin, kind = ?track.kind, "receives a track");
                            self.rooms.add_forward(track.key, id, track.out_mid);
                            if track.kind.is_video() {
                                // Whoever starts receiving a video gets a keyframe at once.
                                self.request_keyframe(now, track.key, KeyframeRequestKind::Pli);
                                work.push(track.key.origin);
                            }
                        }
                    }
                    Err(e) => self.refuse_peer_error(id, e),
                }
                work.push(id);
            }
            Command::Candidate { id, candidate } => {
                let Some(peer) = self.members.peer_mut(id) else {
                    return self.not_in_call(id);
                };
                if let Err(e) = peer.add_remote_candidate(&candidate) {
                    self.refuse_peer_error(id, e);
                }
                work.push(id);
            }
            Command::Leave { id } => self.leave(now, id, &mut work),
            Command::Shutdown => {
                let ids = self.members.ids();
                for id in ids {
                    self.outputs
                        .push_back(Output::Close(id, close_code::SHUTTING_DOWN));
                    self.leave(now, id, &mut work);
                }
            }
        }
        self.drive(now, work);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.next_stats.is_some_and(|at| at <= now) {
            self.send_speaking_stats(now);
        }
        let mut gone = Vec::new();
        self.check_presence(now, &mut gone);
        self.check_media_setup(now, &mut gone);
        self.drive(now, gone);
        self.probe_timeouts(now);
        let mut due = Vec::new();
        for layer in self.keyframe_requests.due(now) {
            self.request_layer_keyframe(now, layer, KeyframeRequestKind::Pli);
            due.push(layer.track.origin);
        }
        for (id, peer) in self.members.peers_mut() {
            if peer.next_timeout <= now {
                let rtc = &mut peer.rtc;
                match super::peer::isolated(|| rtc.handle_input(Input::Timeout(now))) {
                    Some(Ok(())) => {}
                    Some(Err(_)) => peer.rtc.disconnect(),
                    None => peer.failed = true,
                }
                due.push(id);
            }
        }
        self.drive(now, due);
    }

    /// Into the room: media connection, participant list, chat. `Welcome` tells them.
    /// A refusal (full) closes the connection, and the participant is gone.
    fn enter(&mut self, now: Instant, room: &RoomName, waiter: Waiter, mut member: Member) {
        let Waiter { id, name, media } = waiter;
        let host = member.entry.is_host();
        let interpreter = member.entry.is_interpreter();
        let limit = MAX_PARTICIPANTS + if host { places::HOST_RESERVE } else { 0 };
        if self.members.in_rooms() >= limit {
            return self.refuse_full(id, ErrorCode::ServerFull, "the relay is full");
        }
        // Hosts always get into their own room, however full it is.
        let joined = match self.rooms.join(room, id, name.clone(), host) {
            Ok(joined) => joined,
            Err(JoinError::AlreadyJoined) => {
                return self.refuse(id, ErrorCode::OutOfOrder, "already joined")
            }
            Err(JoinError::RoomFull) => {
                return self.refuse_full(id, ErrorCode::RoomFull, "the room is full");
            }
        };
        let conference = self.conferences.entry(room.clone()).or_insert(Conference {
            started: now,
            peak_participants: 0,
        });
        conference.peak_participants = conference
            .peak_participants
            .max(joined.others.len() as u32 + 1);
        let mut peer = Peer::new(now, &self.local_candidates);
        for (key, kind) in joined.tracks_to_receive {
            peer.offer_track(key, kind);
        }
        let media = MediaState {
            // Nothing is shared before the media connection exists.
            screen: false,
            ..media
        };
        peer.sending = media;
        member.peer = Some(peer);
        let has_email = member.email.is_some();
        let resume = member.resume.clone();
        self.members.insert(id, member);
        let Some((participant, _)) = self.rooms.update_participant(id, |p| {
            p.media = media;
            p.host = host;
            p.interpreter = interpreter;
        }) else {
            return;
        };
        let info = self.infos.get(room).cloned().unwrap_or_default();
        let meeting = self
            .meetings
            .entry(room.clone())
            .or_insert_with(|| Meeting::new(info));
        meeting.join(id, name, !media.mic);
        let chat = meeting.chat_for(id, host);
        let state = meeting.settings.state();
        self.next_stats.get_or_insert(now + STATS_INTERVAL);
        for other in &joined.others {
            self.signal(
                other.id,
                ServerMessage::ParticipantJoined {
                    participant: participant.clone(),
                },
            );
        }
        self.signal(
            id,
            ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                participant_id: id,
                room: room.to_string(),
                host,
                participants: joined.others,
                state,
                chat,
                resume,
                // Minted at admission: only those let in may use the TURN server.
                ice_servers: self
                    .turn
                    .iter()
                    .map(|turn| turn.mint(crate::turn::now_unix(), id))
                    .collect(),
            },
        );
        if host {
            self.host_arrived(room, id);
        } else if has_email {
            self.tell_hosts_contacts(room);
        }
        self.update_gauges();
    }

    /// Out of the room: media connection, tracks and place in the room are dropped (the
    /// member record stays; [`Sfu::depart`] removes it). `why` says what they are told.
    fn remove(
        &mut self,
        now: Instant,
        id: ParticipantId,
        why: Departure,
        work: &mut Vec<ParticipantId>,
    ) {
        let Some(member) = self.members.get_mut(id) else {
            return;
        };
        member.detached = None;
        let Some(mut peer) = member.peer.take() else {
            return;
        };
        peer.rtc.disconnect();
        self.by_source.retain(|_, owner| *owner != id);
        if let Some(left) = self.rooms.leave(id) {
            if let Some(meeting) = self.meetings.get_mut(&left.room) {
                meeting.leave(now, id);
            }
            for other in left.remaining {
                self.signal(other, ServerMessage::ParticipantLeft { participant_id: id });
                if let Some(peer) = self.members.peer_mut(other) {
                    peer.stop_tracks_from(id);
                    work.push(other);
                }
            }
            for key in left.tracks_removed {
                self.keyframe_requests.forget(&key);
                self.sent_layers.forget(&key);
                for (_, peer) in self.members.peers_mut() {
                    peer.layers.forget(&key);
                }
            }
            if left.room_closed {
                // Chat, hands and speaking times end with the room.
                self.meetings.remove(&left.room);
                if self.meetings.is_empty() {
                    self.next_stats = None;
                }
                if let Some(conference) = self.conferences.remove(&left.room) {
                    self.outputs.push_back(Output::ConferenceEnded {
                        duration: now.saturating_duration_since(conference.started),
                        peak_participants: conference.peak_participants,
                    });
                }
            }
        }
        match why {
            Departure::Left => {}
            Departure::MediaFailed => self.refuse_and_close(
                id,
                ErrorCode::MediaFailed,
                "media connection lost",
                close_code::MEDIA_FAILED,
            ),
            Departure::Unreachable => self.refuse_and_close(
                id,
                ErrorCode::MediaUnreachable,
                "no media connection could be made from your network",
                close_code::MEDIA_UNREACHABLE,
            ),
        }
        self.update_gauges();
    }

    /// A message for one participant: out now, or kept for their resume.
    fn signal(&mut self, id: ParticipantId, message: ServerMessage) {
        match self.members.get_mut(id).and_then(|m| m.detached.as_mut()) {
            Some(detached) => detached.park(message),
            None => self.outputs.push_back(Output::Signal(id, message)),
        }
    }

    /// A message could not be delivered because the connection just closed: keep it, and
    /// the session, for a resume (if the session is worth keeping).
    pub fn connection_closed(&mut self, now: Instant, id: ParticipantId, unsent: ServerMessage) {
        if self.detach(now, id) {
            self.signal(id, unsent);
        }
    }

    fn refuse(&mut self, id: ParticipantId, code: ErrorCode, message: &str) {
        metrics::add(&self.metrics.signaling_errors, 1);
        self.signal(id, ServerMessage::error(code, message));
    }

    /// Refuse something only participants in the call may do.
    fn not_in_call(&mut self, id: ParticipantId) {
        if self.lobby.contains(id) {
            self.refuse(
                id,
                ErrorCode::NotAdmitted,
                "you are in the waiting room until a host lets you in",
            );
        } else {
            self.refuse(id, ErrorCode::OutOfOrder, "join first");
        }
    }

    /// Tell why, then close the connection with `close` (a decision, not a client error).
    fn refuse_and_close(&mut self, id: ParticipantId, code: ErrorCode, message: &str, close: u16) {
        self.signal(id, ServerMessage::error(code, message));
        self.outputs.push_back(Output::Close(id, close));
    }

    /// Refuse a join for lack of space and close the connection: waiting will not help it.
    fn refuse_full(&mut self, id: ParticipantId, code: ErrorCode, message: &str) {
        self.refuse(id, code, message);
        self.outputs.push_back(Output::Close(id, close_code::FULL));
    }

    fn refuse_peer_error(&mut self, id: ParticipantId, error: PeerError) {
        let (code, message) = match error {
            PeerError::InvalidSdp(e) => (ErrorCode::InvalidSdp, format!("invalid SDP: {e}")),
            PeerError::InvalidCandidate => {
                (ErrorCode::InvalidSdp, "invalid ICE candidate".to_string())
            }
            PeerError::UnexpectedAnswer => {
                (ErrorCode::OutOfOrder, "answer without an offer".to_string())
            }
            PeerError::Rejected(e) => (ErrorCode::InvalidSdp, format!("SDP not accepted: {e}")),
            PeerError::NotAllowed(why) => (ErrorCode::InvalidSdp, why.to_string()),
        };
        self.refuse(id, code, &message);
    }

    fn update_gauges(&self) {
        metrics::set(&self.metrics.participants, self.members.in_rooms() as u64);
        metrics::set(&self.metrics.waiting, self.lobby.len() as u64);
        metrics::set(&self.metrics.rooms, self.rooms.room_count() as u64);
    }
}
