//! Whether a participant is still there: a dropped signaling connection may be resumed within
//! a grace window (media keeps flowing, nobody sees a leave); a lost media path may be
//! restored by an ICE restart. When both are gone, or either stays gone too long, the
//! participant leaves and everything it held is freed.

use std::time::{Duration, Instant};

use sprechstunde_shared::{ParticipantId, RoomName};

use super::Sfu;

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

impl Sfu {
    /// The signaling connection of `id` dropped without a goodbye. Returns whether the
    /// session is kept for a resume; otherwise the participant has left.
    pub fn detach(&mut self, now: Instant, id: ParticipantId) -> bool {
        // Only a session with media flowing is worth keeping: a client that never got its
        // media up, or lost it too, simply joins again.
        let media_alive = self
            .peers
            .get(&id)
            .is_some_and(|peer| peer.media_connected && peer.ice_lost_since.is_none());
        if media_alive {
            self.detached.insert(id, now + RESUME_GRACE);
            return true;
        }
        // Waiting guests, and participants whose media is gone as well: nothing to keep.
        let mut work = Vec::new();
        self.leave(now, id, &mut work);
        self.drive(now, work);
        false
    }

    /// A new connection presents a resume secret: the session it names continues, if it is
    /// still kept.
    pub fn resume(&mut self, token: &str) -> Option<(ParticipantId, RoomName)> {
        let id = *self.resume_tokens.get(token)?;
        let room = self.rooms.room_name(id)?.clone();
        self.detached.remove(&id);
        Some((id, room))
    }

    /// Whether `id` is in a room or waiting for one.
    pub fn is_present(&self, id: ParticipantId) -> bool {
        self.entries.contains_key(&id)
    }

    /// Forget the resume state of a participant who leaves.
    pub(super) fn forget_session(&mut self, id: ParticipantId) {
        if let Some(token) = self.resume_of.remove(&id) {
            self.resume_tokens.remove(&token);
        }
        self.detached.remove(&id);
    }

    /// Participants whose grace ran out leave; their `work` is to be driven.
    pub(super) fn check_presence(&mut self, now: Instant, work: &mut Vec<ParticipantId>) {
        let expired: Vec<ParticipantId> = self
            .detached
            .iter()
            .filter(|(id, until)| **until <= now || self.silent(now, **id))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            tracing::info!(participant = %id, "not back in time; leaves");
            self.leave(now, id, work);
        }
        let lost: Vec<ParticipantId> = self
            .peers
            .iter()
            .filter(|(id, peer)| {
                peer.ice_lost_since
                    .is_some_and(|since| self.media_gone(now, **id, since, peer.restart_requested))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            tracing::info!(participant = %id, "media path lost for good; leaves");
            if self.detached.contains_key(&id) {
                self.leave(now, id, work);
            } else {
                self.remove(now, id, true, work);
                self.entries.remove(&id);
                self.emails.remove(&id);
            }
        }
    }

    /// Nothing came from a detached participant for a while: nobody is there any more.
    fn silent(&self, now: Instant, id: ParticipantId) -> bool {
        self.peers
            .get(&id)
            .is_none_or(|peer| now >= peer.last_heard + DETACHED_SILENCE)
    }

    fn media_gone(
        &self,
        now: Instant,
        id: ParticipantId,
        lost_since: Instant,
        restart_requested: Option<Instant>,
    ) -> bool {
        if self.detached.contains_key(&id) {
            // No signaling and no media: nobody is there.
            return true;
        }
        let latest = restart_requested.map_or(lost_since, |asked| asked.max(lost_since));
        now >= latest + ICE_RESTART_GRACE
    }

    /// The next moment a grace may run out.
    pub(super) fn next_presence_check(&self, now: Instant) -> Option<Instant> {
        let detached = self
            .detached
            .iter()
            .map(|(id, until)| {
                let silent_at = self
                    .peers
                    .get(id)
                    .map_or(now, |p| p.last_heard + DETACHED_SILENCE);
                silent_at.min(*until)
            })
            .min();
        // While a media path is lost, look once a second.
        let lost = self
            .peers
            .values()
            .any(|p| p.ice_lost_since.is_some())
            .then(|| now + Duration::from_secs(1));
        [detached, lost].into_iter().flatten().min()
    }
}
