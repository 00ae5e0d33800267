//! The waiting room: guests who knocked and are not admitted yet. They have no media
//! connection and receive nothing of the room; they are kept here, in knocking order.

use std::collections::HashMap;

use sprechstunde_shared::{MediaState, ParticipantId, RoomName};

/// A guest in the waiting room: what the room will need of them. How they came in, their
/// e-mail address and resume secret are in their member record in the engine.
#[derive(Debug, Clone)]
pub struct Waiter {
    pub id: ParticipantId,
    pub name: String,
    pub media: MediaState,
}

#[derive(Debug, Default)]
pub struct Lobby {
    rooms: HashMap<RoomName, Vec<Waiter>>,
    room_of: HashMap<ParticipantId, RoomName>,
}

impl Lobby {
    pub fn knock(&mut self, room: &RoomName, waiter: Waiter) {
        self.room_of.insert(waiter.id, room.clone());
        self.rooms.entry(room.clone()).or_default().push(waiter);
    }

    /// Takes a guest out of the waiting room (admitted, denied or gone).
    pub fn take(&mut self, id: ParticipantId) -> Option<(RoomName, Waiter)> {
        let room = self.room_of.remove(&id)?;
        let waiters = self.rooms.get_mut(&room)?;
        let index = waiters.iter().position(|w| w.id == id)?;
        let waiter = waiters.remove(index);
        if waiters.is_empty() {
            self.rooms.remove(&room);
        }
        Some((room, waiter))
    }

    pub fn room_of(&self, id: ParticipantId) -> Option<&RoomName> {
        self.room_of.get(&id)
    }

    /// Everyone waiting, for any room.
    pub fn all_ids(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.room_of.keys().copied()
    }

    pub fn contains(&self, id: ParticipantId) -> bool {
        self.room_of.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.room_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.room_of.is_empty()
    }

    /// Those waiting for `room`, in knocking order.
    pub fn ids(&self, room: &RoomName) -> Vec<ParticipantId> {
        self.rooms
            .get(room)
            .map(|w| w.iter().map(|w| w.id).collect())
            .unwrap_or_default()
    }

    /// Those waiting for `room`, in knocking order.
    pub fn waiters(&self, room: &RoomName) -> impl Iterator<Item = &Waiter> {
        self.rooms.get(room).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(id: u64, name: &str) -> Waiter {
        Waiter {
            id: ParticipantId(id),
            name: name.into(),
            media: MediaState::default(),
        }
    }

    #[test]
    fn guests_wait_per_room_in_knocking_order_and_leave_without_trace() {
        let mut lobby = Lobby::default();
        let a = RoomName::parse("a").expect("room");
        let b = RoomName::parse("b").expect("room");
        lobby.knock(&a, waiter(5, "Erste"));
        lobby.knock(&a, waiter(2, "Zweite"));
        lobby.knock(&b, waiter(3, "Andere"));
        assert_eq!(lobby.ids(&a), [ParticipantId(5), ParticipantId(2)]);
        assert_eq!(
            lobby.waiters(&b).next().map(|w| w.name.as_str()),
            Some("Andere")
        );
        let (room, taken) = lobby.take(ParticipantId(5)).expect("waiting");
        assert_eq!((room, taken.name.as_str()), (a.clone(), "Erste"));
        assert!(lobby.take(ParticipantId(5)).is_none());
        lobby.take(ParticipantId(2));
        assert!(lobby.ids(&a).is_empty());
        assert_eq!(lobby.len(), 1);
        assert!(
            !lobby.rooms.contains_key(&a),
            "an empty waiting room is dropped"
        );
    }
}
