//! Who may take a place, so that nobody can keep the counselor or the family out: hosts always
//! get into their own room; one address holds only a few guest places in a room and in its
//! waiting room; the waiting room has a size; a place without media is given up after a
//! short while; and an address a host removed stays out of that meeting for a while.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sprechstunde_shared::{close_code, ErrorCode, ParticipantId, RoomName};

use super::member::Member;
use super::{Departure, Sfu};

/// Guest places (in the room and waiting together) one address may hold in one room: a
/// family with two devices, an interpreter in the same office, a kiosk tablet.
pub const GUESTS_PER_ADDRESS_IN_ROOM: usize = 4;
/// Guests one room's waiting room holds.
pub const WAITING_PER_ROOM: usize = 10;
/// Guests waiting from one address in one room.
pub const WAITING_PER_ADDRESS: usize = 2;
/// A participant whose media connection is not up this long after entering the room gives
/// up the place (a browser takes one to three seconds; idle sockets would hold it forever).
pub const MEDIA_SETUP_GRACE: Duration = Duration::from_secs(30);
/// How long an address a host removed is kept out of that meeting.
pub const REMOVAL_BAN: Duration = Duration::from_secs(10 * 60);
/// Removed addresses remembered at most (the oldest ban goes first).
const MAX_BANNED_ADDRESSES: usize = 10_000;
/// Hosts may come in beyond the relay's participant limit by this many.
pub const HOST_RESERVE: usize = 50;

/// Addresses removed from a meeting, until when.
#[derive(Default)]
pub(crate) struct AddressBans(HashMap<(RoomName, IpAddr), Instant>);

impl AddressBans {
    pub fn ban(&mut self, now: Instant, room: &RoomName, address: IpAddr) {
        self.0.retain(|_, until| *until > now);
        if self.0.len() >= MAX_BANNED_ADDRESSES {
            if let Some(oldest) = self
                .0
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| k.clone())
            {
                self.0.remove(&oldest);
            }
        }
        self.0.insert((room.clone(), address), now + REMOVAL_BAN);
    }

    pub fn is_banned(&self, now: Instant, room: &RoomName, address: IpAddr) -> bool {
        self.0
            .get(&(room.clone(), address))
            .is_some_and(|until| *until > now)
    }
}

impl Sfu {
    /// Guests from `address` in `room`, in it or waiting for it.
    fn guests_from(&self, room: &RoomName, address: IpAddr) -> (usize, usize) {
        let is_guest_from = |id: &ParticipantId| {
            self.members
                .get(*id)
                .is_some_and(|m| !m.entry.is_host() && m.address == address)
        };
        let inside = self
            .rooms
            .members_of(room)
            .iter()
            .filter(|id| is_guest_from(id))
            .count();
        let waiting = self
            .lobby
            .ids(room)
            .iter()
            .filter(|id| is_guest_from(id))
            .count();
        (inside, waiting)
    }

    /// Whether a guest from `address` may take a place in `room` (`waiting`: in its waiting
    /// room). Refuses and closes otherwise.
    pub(super) fn guest_may_come(
        &mut self,
        now: Instant,
        id: ParticipantId,
        room: &RoomName,
        member: &Member,
        waiting: bool,
    ) -> bool {
        let address = member.address;
        // A host's invitation names its guest: someone else removed from the same network
        // (an office behind one address) does not keep them out.
        if !member.entry.is_invited() && self.address_bans.is_banned(now, room, address) {
            self.refuse_and_close(
                id,
                ErrorCode::Removed,
                "a host removed you from this meeting",
                close_code::REMOVED,
            );
            return false;
        }
        let (inside, waiting_now) = self.guests_from(room, address);
        if inside + waiting_now >= GUESTS_PER_ADDRESS_IN_ROOM {
            self.refuse_full(
                id,
                ErrorCode::RoomFull,
                "too many guests from your network in this room",
            );
            return false;
        }
        if waiting
            && (waiting_now >= WAITING_PER_ADDRESS
                || self.lobby.ids(room).len() >= WAITING_PER_ROOM)
        {
            self.refuse_full(id, ErrorCode::RoomFull, "the waiting room is full");
            return false;
        }
        true
    }

    /// Participants whose media did not come up in time give up their place.
    pub(super) fn check_media_setup(&mut self, now: Instant, work: &mut Vec<ParticipantId>) {
        let stalled: Vec<ParticipantId> = self
            .members
            .peers()
            .filter(|(_, peer)| !peer.media_connected && now >= peer.entered + MEDIA_SETUP_GRACE)
            .map(|(id, _)| id)
            .collect();
        for id in stalled {
            tracing::info!(participant = %id, "no media connection in time; leaves");
            self.depart(now, id, Departure::Unreachable, work);
        }
    }

    /// When the next participant's media setup time runs out.
    pub(super) fn next_media_setup_check(&self) -> Option<Instant> {
        self.members
            .peers()
            .filter(|(_, peer)| !peer.media_connected)
            .map(|(_, peer)| peer.entered + MEDIA_SETUP_GRACE)
            .min()
    }
}
