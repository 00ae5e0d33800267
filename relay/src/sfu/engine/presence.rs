//! Whether a participant is still there: a dropped signaling connection may be resumed within
//! a grace window (media keeps flowing, nobody sees a leave); a lost media path may be
//! restored by an ICE restart. When both are gone, or either stays gone too long, the
//! participant leaves and everything it held is freed.

use std::time::{Duration, Instant};

use sprechstunde_shared::{ParticipantId, RoomName, ServerMessage};

use super::{Departure, Sfu};

/// How long a participant whose signaling connection dropped is kept for `resume`.
pub const RESUME_GRACE: Duration = Duration::from_secs(20);
/// How long a lost media path may take to come back while the signaling connection is up
/// (the client asks for ICE restarts meanwhile), counted from the loss or the last request.
/// A client that is gone entirely loses its signaling connection too (closed by the browser,
/// or by the idle timeout), and then it leaves at once.
pub const ICE_RESTART_GRACE: Duration = Duration::from_secs(30);
/// A participant whose signaling dropped and from whom no datagram came for this long is
/// gone (a killed tab, a lost network). Browsers send RTCP about every second while media
/// flows, and ICE consent checks every few seconds even when nothing does.
pub const DETACHED_SILENCE: Duration = Duration::from_secs(6);

/// Most messages kept for a participant whose connection dropped; one more and the session
/// is given up (the resume fails and the client joins afresh), never cut silently.
pub const PARKED_MAX: usize = 1000;

/// A fresh secret for resuming a session.
pub fn fresh_resume_secret() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness there is no resume (an empty secret is never registered).
    if getrandom::getrandom(&mut bytes).is_err() {
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A participant whose signaling connection dropped, kept for a resume.
pub(crate) struct Detached {
    until: Instant,
    /// What the relay told them meanwhile, in order.
    parked: Vec<ServerMessage>,
    /// More than [`PARKED_MAX`] came: the session is gone.
    overflowed: bool,
}

impl Detached {
    pub(super) fn park(&mut self, message: ServerMessage) {
        if self.parked.len() >= PARKED_MAX {
            self.overflowed = true;
        } else {
            self.parked.push(message);
        }
    }
}

/// A resumed session: whose it is, and what its new connection must get first, in order.
#[derive(Debug)]
pub struct Resumed {
    pub id: ParticipantId,
    pub room: RoomName,
    /// `resumed`, every parked message, and the relay's offer in flight (its answer may
    /// have been lost with the old connection).
    pub messages: Vec<ServerMessage>,
}

impl Sfu {
    /// The signaling connection of `id` dropped without a goodbye. Returns whether the
    /// session is kept for a resume; otherwise the participant has left.
    pub fn detach(&mut self, now: Instant, id: ParticipantId) -> bool {
        // Only a session with media flowing is worth keeping: a client that never got its
        // media up, or lost it too, simply joins again.
        let media_alive = self
            .members
            .peer(id)
            .is_some_and(|peer| peer.media_connected && peer.ice_lost_since.is_none());
        if let (true, Some(member)) = (media_alive, self.members.get_mut(id)) {
            member.detached.get_or_insert(Detached {
                until: now + RESUME_GRACE,
                parked: Vec::new(),
                overflowed: false,
            });
            return true;
        }
        // Waiting guests, and participants whose media is gone as well: nothing to keep.
        let mut work = Vec::new();
        self.leave(now, id, &mut work);
        self.drive(now, work);
        false
    }

    /// A new connection presents a resume secret: the session it names continues, if it is
    /// still kept. The secret works once; `resumed` carries the next. A connection it
    /// replaces (one the relay has not noticed dead yet) is closed by the caller.
    pub fn resume(&mut self, token: &str) -> Option<Resumed> {
        let id = self.members.by_resume_secret(token)?;
        let room = self.rooms.room_name(id)?.clone();
        let member = self.members.get_mut(id)?;
        if member.detached.as_ref().is_some_and(|d| d.overflowed) {
            return None;
        }
        member.resume = fresh_resume_secret();
        let next_secret = member.resume.clone();
        let parked = member.detached.take().map(|d| d.parked).unwrap_or_default();
        let offer_parked = parked
            .iter()
            .any(|m| matches!(m, ServerMessage::Offer { .. }));
        let mut messages = Vec::with_capacity(parked.len() + 2);
        messages.push(ServerMessage::Resumed {
            participant_id: id,
            resume: next_secret,
        });
        messages.extend(parked);
        let in_flight = self.members.peer(id).and_then(|p| p.offer_in_flight());
        if let (false, Some((sdp, streams))) = (offer_parked, in_flight) {
            messages.push(ServerMessage::Offer { sdp, streams });
        }
        Some(Resumed { id, room, messages })
    }

    /// Participants whose grace ran out leave; their `work` is to be driven.
    pub(super) fn check_presence(&mut self, now: Instant, work: &mut Vec<ParticipantId>) {
        let expired: Vec<ParticipantId> = self
            .members
            .detached()
            .filter(|(id, d)| d.until <= now || d.overflowed || self.silent(now, *id))
            .map(|(id, _)| id)
            .collect();
        for id in expired {
            tracing::info!(participant = %id, "not back in time; leaves");
            self.leave(now, id, work);
        }
        let lost: Vec<ParticipantId> = self
            .members
            .peers()
            .filter(|(id, peer)| {
                peer.ice_lost_since
                    .is_some_and(|since| self.media_gone(now, *id, since, peer.restart_requested))
            })
            .map(|(id, _)| id)
            .collect();
        for id in lost {
            tracing::info!(participant = %id, "media path lost for good; leaves");
            let why = if self.is_detached(id) {
                Departure::Left
            } else {
                Departure::MediaFailed
            };
            self.depart(now, id, why, work);
        }
    }

    fn is_detached(&self, id: ParticipantId) -> bool {
        self.members.get(id).is_some_and(|m| m.detached.is_some())
    }

    /// Nothing came from a detached participant for a while: nobody is there any more.
    fn silent(&self, now: Instant, id: ParticipantId) -> bool {
        self.members
            .peer(id)
            .is_none_or(|peer| now >= peer.last_heard + DETACHED_SILENCE)
    }

    fn media_gone(
        &self,
        now: Instant,
        id: ParticipantId,
        lost_since: Instant,
        restart_requested: Option<Instant>,
    ) -> bool {
        if self.is_detached(id) {
            // No signaling and no media: nobody is there.
            return true;
        }
        let latest = restart_requested.map_or(lost_since, |asked| asked.max(lost_since));
        now >= latest + ICE_RESTART_GRACE
    }

    /// The next moment a grace may run out.
    pub(super) fn next_presence_check(&self, now: Instant) -> Option<Instant> {
        let detached = self
            .members
            .detached()
            .map(|(id, d)| {
                let silent_at = self
                    .members
                    .peer(id)
                    .map_or(now, |p| p.last_heard + DETACHED_SILENCE);
                if d.overflowed {
                    now
                } else {
                    silent_at.min(d.until)
                }
            })
            .min();
        // While a media path is lost, look once a second.
        let lost = self
            .members
            .peers()
            .any(|(_, p)| p.ice_lost_since.is_some())
            .then(|| now + Duration::from_secs(1));
        [detached, lost].into_iter().flatten().min()
    }
}
