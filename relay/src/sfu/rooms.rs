//! Room membership and forwarding tables, as a plain state machine without I/O.
//!
//! Generic over the media-line id (`M`) so it is tested without any WebRTC stack. The SFU
//! core keeps one `Rooms<str0m::media::Mid>`.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use sprechstunde_shared::{ConnectionQuality, MediaState, Participant, ParticipantId, RoomName};

/// A media line a participant publishes, identified by its origin and its mid there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackKey<M> {
    pub origin: ParticipantId,
    pub mid: M,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    Audio,
    /// The camera: a participant's first video line.
    Video,
    /// The screen share: a participant's second video line.
    Screen,
}

impl TrackKind {
    pub fn is_video(self) -> bool {
        matches!(self, TrackKind::Video | TrackKind::Screen)
    }
}

#[derive(Debug)]
struct Room<M> {
    /// Ordered by join order (ids grow), so the participant list is stable.
    members: BTreeMap<ParticipantId, Participant>,
    tracks: BTreeMap<TrackKey<M>, TrackKind>,
    /// The hot path: for every published track, who receives it on which of their mids.
    forwards: HashMap<TrackKey<M>, Vec<(ParticipantId, M)>>,
}

impl<M> Default for Room<M> {
    fn default() -> Self {
        Room {
            members: BTreeMap::new(),
            tracks: BTreeMap::new(),
            forwards: HashMap::new(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum JoinError {
    AlreadyJoined,
    RoomFull,
}

/// What a join means for the others.
#[derive(Debug, PartialEq, Eq)]
pub struct Joined<M> {
    /// Everybody already in the room, in join order (without the newcomer).
    pub others: Vec<Participant>,
    /// Tracks the newcomer must be offered.
    pub tracks_to_receive: Vec<(TrackKey<M>, TrackKind)>,
}

/// What a leave means for those who stay.
#[derive(Debug, PartialEq, Eq)]
pub struct Left<M> {
    pub room: RoomName,
    pub remaining: Vec<ParticipantId>,
    /// Tracks of the leaver; receivers stop their outgoing copies.
    pub tracks_removed: Vec<TrackKey<M>>,
    /// True when the room is now empty and was dropped.
    pub room_closed: bool,
}

#[derive(Debug)]
pub struct Rooms<M> {
    rooms: HashMap<RoomName, Room<M>>,
    membership: HashMap<ParticipantId, RoomName>,
    /// Most members one room may have.
    capacity: usize,
}

impl<M> Default for Rooms<M> {
    fn default() -> Self {
        Rooms::with_capacity(usize::MAX)
    }
}

impl<M> Rooms<M> {
    pub fn with_capacity(capacity: usize) -> Self {
        Rooms {
            rooms: HashMap::new(),
            membership: HashMap::new(),
            capacity,
        }
    }
}

impl<M: Copy + Eq + Hash + Ord> Rooms<M> {
    pub fn join(
        &mut self,
        room_name: &RoomName,
        id: ParticipantId,
        display_name: String,
        beyond_capacity: bool,
    ) -> Result<Joined<M>, JoinError> {
        if self.membership.contains_key(&id) {
            return Err(JoinError::AlreadyJoined);
        }
        if !beyond_capacity
            && self
                .rooms
                .get(room_name)
                .is_some_and(|room| room.members.len() >= self.capacity)
        {
            return Err(JoinError::RoomFull);
        }
        let room = self.rooms.entry(room_name.clone()).or_default();
        let others = room.members.values().cloned().collect();
        let tracks_to_receive = room.tracks.iter().map(|(k, v)| (*k, *v)).collect();
        room.members.insert(
            id,
            Participant {
                id,
                name: display_name,
                media: MediaState::default(),
                hand: None,
                host: false,
                interpreter: false,
                connection: ConnectionQuality::Good,
            },
        );
        self.membership.insert(id, room_name.clone());
        Ok(Joined {
            others,
            tracks_to_receive,
        })
    }

    pub fn leave(&mut self, id: ParticipantId) -> Option<Left<M>> {
        let room_name = self.membership.remove(&id)?;
        let room = self.rooms.get_mut(&room_name)?;
        room.members.remove(&id);
        let tracks_removed: Vec<TrackKey<M>> = room
            .tracks
            .keys()
            .filter(|k| k.origin == id)
            .copied()
            .collect();
        for key in &tracks_removed {
            room.tracks.remove(key);
            room.forwards.remove(key);
        }
        for receivers in room.forwards.values_mut() {
            receivers.retain(|(receiver, _)| *receiver != id);
        }
        let remaining: Vec<ParticipantId> = room.members.keys().copied().collect();
        let room_closed = remaining.is_empty();
        if room_closed {
            self.rooms.remove(&room_name);
        }
        Some(Left {
            room: room_name,
            remaining,
            tracks_removed,
            room_closed,
        })
    }

    /// A participant started sending a track. Returns who must be offered it.
    pub fn publish(&mut self, key: TrackKey<M>, kind: TrackKind) -> Vec<ParticipantId> {
        let Some(room) = self.room_of_mut(key.origin) else {
            return Vec::new();
        };
        if room.tracks.insert(key, kind).is_some() {
            return Vec::new();
        }
        room.members
            .keys()
            .filter(|id| **id != key.origin)
            .copied()
            .collect()
    }

    /// `receiver` now gets `key` on its own media line `out_mid`. Refused (false) when the
    /// two are not in the same room or the track is gone.
    pub fn add_forward(&mut self, key: TrackKey<M>, receiver: ParticipantId, out_mid: M) -> bool {
        if self.membership.get(&key.origin) != self.membership.get(&receiver)
            || receiver == key.origin
        {
            return false;
        }
        let Some(room) = self.room_of_mut(key.origin) else {
            return false;
        };
        if !room.tracks.contains_key(&key) {
            return false;
        }
        let receivers = room.forwards.entry(key).or_default();
        if !receivers.contains(&(receiver, out_mid)) {
            receivers.push((receiver, out_mid));
        }
        true
    }

    /// Where media arriving on `key` goes.
    pub fn forwards(&self, key: &TrackKey<M>) -> &[(ParticipantId, M)] {
        self.membership
            .get(&key.origin)
            .and_then(|name| self.rooms.get(name))
            .and_then(|room| room.forwards.get(key))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// What a new media line of `origin` is: its first audio line, its camera (first video
    /// line) or its screen (second video line). Further lines are not forwarded (`None`), so
    /// a client cannot make everyone receive dozens of tracks.
    pub fn classify(&self, origin: ParticipantId, video: bool) -> Option<TrackKind> {
        let room = self.room_of(origin)?;
        let published: Vec<TrackKind> = room
            .tracks
            .iter()
            .filter(|(key, _)| key.origin == origin)
            .map(|(_, kind)| *kind)
            .collect();
        let candidates: &[TrackKind] = if video {
            &[TrackKind::Video, TrackKind::Screen]
        } else {
            &[TrackKind::Audio]
        };
        candidates
            .iter()
            .find(|kind| !published.contains(kind))
            .copied()
    }

    /// The published track of `origin` of this kind.
    pub fn track_of(&self, origin: ParticipantId, kind: TrackKind) -> Option<TrackKey<M>> {
        self.room_of(origin)?
            .tracks
            .iter()
            .find(|(key, k)| key.origin == origin && **k == kind)
            .map(|(key, _)| *key)
    }

    /// Hosts present in the room.
    pub fn hosts_of(&self, room: &RoomName) -> Vec<ParticipantId> {
        self.rooms
            .get(room)
            .map(|r| {
                r.members
                    .values()
                    .filter(|p| p.host)
                    .map(|p| p.id)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.room_of(id)?.members.get(&id)
    }

    /// Change a participant's public state. Returns the new state and everyone in the room
    /// (the participant included), who must be told.
    pub fn update_participant(
        &mut self,
        id: ParticipantId,
        change: impl FnOnce(&mut Participant),
    ) -> Option<(Participant, Vec<ParticipantId>)> {
        let room = self.room_of_mut(id)?;
        let participant = room.members.get_mut(&id)?;
        change(participant);
        let updated = participant.clone();
        Some((updated, room.members.keys().copied().collect()))
    }

    /// Everyone in `id`'s room, `id` included.
    pub fn members_with(&self, id: ParticipantId) -> Vec<ParticipantId> {
        self.room_of(id)
            .map(|r| r.members.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Everyone in the room of this name.
    pub fn members_of(&self, room: &RoomName) -> Vec<ParticipantId> {
        self.rooms
            .get(room)
            .map(|r| r.members.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Everyone in any room.
    pub fn all_members(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.membership.keys().copied()
    }

    pub fn room_name(&self, id: ParticipantId) -> Option<&RoomName> {
        self.membership.get(&id)
    }

    pub fn track_kind(&self, key: &TrackKey<M>) -> Option<TrackKind> {
        self.room_of(key.origin)?.tracks.get(key).copied()
    }

    #[cfg(test)]
    pub fn others_in_room(&self, id: ParticipantId) -> Vec<ParticipantId> {
        self.room_of(id)
            .map(|r| r.members.keys().filter(|m| **m != id).copied().collect())
            .unwrap_or_default()
    }

    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    fn room_of(&self, id: ParticipantId) -> Option<&Room<M>> {
        self.rooms.get(self.membership.get(&id)?)
    }

    fn room_of_mut(&mut self, id: ParticipantId) -> Option<&mut Room<M>> {
        self.rooms.get_mut(self.membership.get(&id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("valid room name")
    }

    const A: ParticipantId = ParticipantId(1);
    const B: ParticipantId = ParticipantId(2);
    const C: ParticipantId = ParticipantId(3);
    const X: ParticipantId = ParticipantId(9);

    fn key(origin: ParticipantId, mid: u8) -> TrackKey<u8> {
        TrackKey { origin, mid }
    }

    fn listed(id: ParticipantId, name: &str) -> Participant {
        Participant {
            id,
            name: name.into(),
            media: MediaState::default(),
            hand: None,
            host: false,
            interpreter: false,
            connection: ConnectionQuality::Good,
        }
    }

    #[test]
    fn join_lists_earlier_members_and_their_tracks() {
        let mut rooms = Rooms::<u8>::default();
        let first = rooms
            .join(&room("r"), A, "Anna".into(), false)
            .expect("join");
        assert!(first.others.is_empty());
        assert_eq!(
            rooms.publish(key(A, 0), TrackKind::Audio),
            Vec::<ParticipantId>::new()
        );
        rooms.publish(key(A, 1), TrackKind::Video);

        let second = rooms
            .join(&room("R"), B, "Ben".into(), false)
            .expect("join");
        assert_eq!(second.others, vec![listed(A, "Anna")]);
        assert_eq!(
            second.tracks_to_receive,
            vec![(key(A, 0), TrackKind::Audio), (key(A, 1), TrackKind::Video)]
        );
        assert_eq!(
            rooms.join(&room("r"), B, "Ben".into(), false),
            Err(JoinError::AlreadyJoined)
        );
    }

    #[test]
    fn publishing_reaches_everyone_else_in_the_room_only() {
        let mut rooms = Rooms::<u8>::default();
        rooms.join(&room("r"), A, "A".into(), false).expect("join");
        rooms.join(&room("r"), B, "B".into(), false).expect("join");
        rooms.join(&room("r"), C, "C".into(), false).expect("join");
        rooms
            .join(&room("other"), X, "X".into(), false)
            .expect("join");
        assert_eq!(rooms.publish(key(A, 0), TrackKind::Video), vec![B, C]);
        // Publishing the same track twice offers it once.
        assert!(rooms.publish(key(A, 0), TrackKind::Video).is_empty());
        assert_eq!(
            rooms.publish(key(X, 0), TrackKind::Video),
            Vec::<ParticipantId>::new()
        );
    }

    #[test]
    fn forwarding_table_follows_negotiation_and_leave() {
        let mut rooms = Rooms::<u8>::default();
        rooms.join(&room("r"), A, "A".into(), false).expect("join");
        rooms.join(&room("r"), B, "B".into(), false).expect("join");
        rooms.join(&room("r"), C, "C".into(), false).expect("join");
        rooms.publish(key(A, 0), TrackKind::Video);
        assert!(
            rooms.forwards(&key(A, 0)).is_empty(),
            "nothing flows before negotiation"
        );

        assert!(rooms.add_forward(key(A, 0), B, 5));
        assert!(rooms.add_forward(key(A, 0), C, 7));
        assert!(rooms.add_forward(key(A, 0), C, 7), "idempotent");
        assert_eq!(rooms.forwards(&key(A, 0)), &[(B, 5), (C, 7)]);
        assert!(
            !rooms.add_forward(key(A, 0), A, 1),
            "never back to the sender"
        );

        let left = rooms.leave(B).expect("was a member");
        assert_eq!(left.remaining, vec![A, C]);
        assert!(!left.room_closed);
        assert_eq!(rooms.forwards(&key(A, 0)), &[(C, 7)]);

        let left = rooms.leave(A).expect("was a member");
        assert_eq!(left.tracks_removed, vec![key(A, 0)]);
        assert!(rooms.forwards(&key(A, 0)).is_empty());
        assert_eq!(rooms.track_kind(&key(A, 0)), None);
        assert_eq!(rooms.leave(A), None, "leaving twice is harmless");
    }

    #[test]
    fn rooms_are_isolated() {
        let mut rooms = Rooms::<u8>::default();
        rooms
            .join(&room("eins"), A, "A".into(), false)
            .expect("join");
        rooms
            .join(&room("eins"), B, "B".into(), false)
            .expect("join");
        rooms
            .join(&room("zwei"), X, "X".into(), false)
            .expect("join");
        rooms.publish(key(A, 0), TrackKind::Video);
        assert!(
            !rooms.add_forward(key(A, 0), X, 3),
            "cross-room forward refused"
        );
        assert!(rooms.forwards(&key(A, 0)).is_empty());
        assert_eq!(rooms.others_in_room(X), Vec::<ParticipantId>::new());
        assert_eq!(rooms.others_in_room(A), vec![B]);
        let joined = rooms
            .join(&room("zwei"), C, "C".into(), false)
            .expect("join");
        assert_eq!(joined.others, vec![listed(X, "X")]);
        assert!(
            joined.tracks_to_receive.is_empty(),
            "no track of room eins offered"
        );
    }

    #[test]
    fn a_full_room_refuses_and_reopens_when_someone_leaves() {
        let mut rooms = Rooms::<u8>::with_capacity(2);
        rooms.join(&room("r"), A, "A".into(), false).expect("join");
        rooms.join(&room("r"), B, "B".into(), false).expect("join");
        assert_eq!(
            rooms.join(&room("r"), C, "C".into(), false),
            Err(JoinError::RoomFull)
        );
        rooms
            .join(&room("other"), C, "C".into(), false)
            .expect("another room has space");
        rooms.leave(A);
        rooms
            .join(&room("r"), X, "X".into(), false)
            .expect("space again");
    }

    #[test]
    fn one_camera_one_screen_one_microphone_per_participant() {
        let mut rooms = Rooms::<u8>::default();
        rooms.join(&room("r"), A, "A".into(), false).expect("join");
        assert_eq!(rooms.classify(A, false), Some(TrackKind::Audio));
        rooms.publish(key(A, 0), TrackKind::Audio);
        assert_eq!(rooms.classify(A, false), None, "a second microphone");
        assert_eq!(rooms.classify(A, true), Some(TrackKind::Video));
        rooms.publish(key(A, 1), TrackKind::Video);
        assert_eq!(rooms.classify(A, true), Some(TrackKind::Screen));
        rooms.publish(key(A, 2), TrackKind::Screen);
        assert_eq!(rooms.classify(A, true), None, "a third video line");
        assert_eq!(rooms.classify(X, true), None, "not in a room");
    }

    #[test]
    fn updates_reach_the_whole_room_and_only_it() {
        let mut rooms = Rooms::<u8>::default();
        rooms.join(&room("r"), A, "A".into(), false).expect("join");
        rooms.join(&room("r"), B, "B".into(), false).expect("join");
        rooms.join(&room("s"), X, "X".into(), false).expect("join");
        let (updated, tell) = rooms
            .update_participant(A, |p| p.media.mic = false)
            .expect("member");
        assert!(!updated.media.mic);
        assert_eq!(tell, vec![A, B]);
        assert_eq!(rooms.participant(A).map(|p| p.media.mic), Some(false));
        assert!(rooms.update_participant(C, |p| p.hand = Some(1)).is_none());
    }

    #[test]
    fn empty_rooms_are_dropped() {
        let mut rooms = Rooms::<u8>::default();
        rooms.join(&room("r"), A, "A".into(), false).expect("join");
        assert_eq!(rooms.room_count(), 1);
        let left = rooms.leave(A).expect("member");
        assert!(left.room_closed);
        assert_eq!(rooms.room_count(), 0);
        assert!(rooms.others_in_room(A).is_empty());
    }
}
