//! Everything the relay holds about one participant, waiting or in a room, is one record:
//! how they came in, the e-mail address they gave, their resume secret, their media
//! connection and, while their signaling connection is down, what they are missing. It is
//! created when they join and removed in one place ([`super::Sfu::depart`]), so nothing of
//! a participant can outlive them in the relay's memory.

use std::collections::HashMap;
use std::net::IpAddr;

use sprechstunde_shared::ParticipantId;

use super::presence::Detached;
use crate::access::Entry;
use crate::sfu::peer::Peer;

pub(crate) struct Member {
    /// As a guest, or with the checked token of a host link or invitation.
    pub entry: Entry,
    /// Shown to hosts only; kept in memory while the participant is here.
    pub email: Option<String>,
    /// The secret to resume this session with after a dropped connection (empty: none).
    pub resume: String,
    /// The address limits count them under (`limits::address_key`).
    pub address: IpAddr,
    /// The media connection, while in a room.
    pub peer: Option<Peer>,
    /// The signaling connection dropped: kept for a resume for a while.
    pub detached: Option<Detached>,
}

impl Member {
    pub fn new(entry: Entry, email: Option<String>, resume: String, address: IpAddr) -> Member {
        Member {
            entry,
            email,
            resume,
            address,
            peer: None,
            detached: None,
        }
    }
}

#[derive(Default)]
pub(crate) struct Members(HashMap<ParticipantId, Member>);

impl Members {
    pub fn get(&self, id: ParticipantId) -> Option<&Member> {
        self.0.get(&id)
    }

    pub fn get_mut(&mut self, id: ParticipantId) -> Option<&mut Member> {
        self.0.get_mut(&id)
    }

    pub fn insert(&mut self, id: ParticipantId, member: Member) {
        self.0.insert(id, member);
    }

    pub fn remove(&mut self, id: ParticipantId) -> Option<Member> {
        self.0.remove(&id)
    }

    pub fn contains(&self, id: ParticipantId) -> bool {
        self.0.contains_key(&id)
    }

    /// Everyone, in a room or waiting.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn ids(&self) -> Vec<ParticipantId> {
        self.0.keys().copied().collect()
    }

    pub fn peer(&self, id: ParticipantId) -> Option<&Peer> {
        self.0.get(&id)?.peer.as_ref()
    }

    pub fn peer_mut(&mut self, id: ParticipantId) -> Option<&mut Peer> {
        self.0.get_mut(&id)?.peer.as_mut()
    }

    pub fn peers(&self) -> impl Iterator<Item = (ParticipantId, &Peer)> {
        self.0
            .iter()
            .filter_map(|(id, m)| m.peer.as_ref().map(|p| (*id, p)))
    }

    pub fn peers_mut(&mut self) -> impl Iterator<Item = (ParticipantId, &mut Peer)> {
        self.0
            .iter_mut()
            .filter_map(|(id, m)| m.peer.as_mut().map(|p| (*id, p)))
    }

    /// Participants with a media connection (in a room).
    pub fn in_rooms(&self) -> usize {
        self.0.values().filter(|m| m.peer.is_some()).count()
    }

    pub fn detached(&self) -> impl Iterator<Item = (ParticipantId, &Detached)> {
        self.0
            .iter()
            .filter_map(|(id, m)| m.detached.as_ref().map(|d| (*id, d)))
    }

    /// Whose session this resume secret names.
    pub fn by_resume_secret(&self, secret: &str) -> Option<ParticipantId> {
        if secret.is_empty() {
            return None;
        }
        use subtle::ConstantTimeEq;
        self.0
            .iter()
            .find(|(_, m)| bool::from(m.resume.as_bytes().ct_eq(secret.as_bytes())))
            .map(|(id, _)| *id)
    }
}

impl super::Sfu {
    /// Every id in any per-participant table is of someone in a room or waiting, and only
    /// those in a room have a media connection. Checked by the property test and the fuzz
    /// target after every step.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn tables_hold_only_those_present(&self) -> Result<(), String> {
        for (id, member) in &self.members.0 {
            let in_room = self.rooms.room_name(*id).is_some();
            let waiting = self.lobby.contains(*id);
            if in_room == waiting {
                return Err(format!(
                    "{id} is kept but in a room: {in_room}, waiting: {waiting}"
                ));
            }
            if member.peer.is_some() != in_room {
                return Err(format!(
                    "{id} has a media connection: {}",
                    member.peer.is_some()
                ));
            }
            if member.detached.is_some() && !in_room {
                return Err(format!("{id} is kept for a resume outside a room"));
            }
        }
        for id in self.rooms.all_members().chain(self.lobby.all_ids()) {
            if !self.members.contains(id) {
                return Err(format!("{id} is in a room or waiting without a record"));
            }
        }
        if let Some(owner) = self
            .by_source
            .values()
            .find(|id| self.members.peer(**id).is_none())
        {
            return Err(format!("a media address still points to {owner}"));
        }
        Ok(())
    }
}
