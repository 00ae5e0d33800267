//! The waiting room: guests who knocked and are not admitted yet. They have no media
//! connection and receive nothing of the room; they are kept here, in knocking order.

use std::collections::HashMap;

use sprechstunde_shared::{MediaState, ParticipantId, RoomName, WaitingGuest};

use crate::access::Entry;

#[derive(Debug, Clone)]
pub struct Waiter {
    pub id: ParticipantId,
    pub name: String,
    pub email: Option<String>,
    pub media: MediaState,
    pub entry: Entry,
    /// The secret this participant resumes its session with, once in the room.
    pub resume: String,
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

    /// The list hosts see.
    pub fn guests(&self, room: &RoomName) -> Vec<WaitingGuest> {
        self.rooms
            .get(room)
            .map(|w| {
                w.iter()
                    .map(|w| WaitingGuest {
                        id: w.id,
                        name: w.name.clone(),
                        email: w.email.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(id: u64, name: &str) -> Waiter {
        Waiter {
            id: ParticipantId(id),
            name: name.into(),
            email: None,
            media: MediaState::default(),
            entry: Entry::Guest,
            resume: String::new(),
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
        assert_eq!(lobby.guests(&b)[0].name, "Andere");
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
