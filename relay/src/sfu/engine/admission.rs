//! Who gets in and what hosts may do: the waiting room, the meeting's settings and moderation.
//! Every rule is checked here, on the relay, whatever a client's interface shows.

use std::time::Instant;

use sprechstunde_shared::{
    close_code, ErrorCode, ModerationAction, ParticipantId, RoomName, ServerMessage,
};

use super::member::Member;
use super::{meeting_of, Departure, Sfu};
use crate::access::PasswordDigest;
use crate::sfu::lobby::Waiter;
use crate::sfu::meeting::MeetingInfo;

/// Removed participants' tokens remembered at most; beyond it the oldest knowledge is dropped
/// (tokens expire anyway).
const MAX_BANNED_TOKENS: usize = 10_000;

/// What the relay may tell about a room to someone who is not in it.
#[derive(Debug)]
pub struct Gate {
    pub password: Option<PasswordDigest>,
}

/// What the staff desk shows of a room: who waits (names, for the room's staff only) and
/// whether a host is there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoomStatus {
    pub room: String,
    pub waiting: Vec<String>,
    pub hosts: usize,
}

impl Sfu {
    /// The desk's view of `rooms`, in the order asked.
    pub fn room_status(&self, rooms: &[RoomName]) -> Vec<RoomStatus> {
        rooms
            .iter()
            .map(|room| RoomStatus {
                room: room.to_string(),
                waiting: self.lobby.waiters(room).map(|w| w.name.clone()).collect(),
                hosts: self.rooms.hosts_of(room).len(),
            })
            .collect()
    }

    /// The password a join to `room` must bring, for the signaling layer to check off the
    /// media loop.
    pub fn gate(&self, room: &RoomName) -> Gate {
        Gate {
            password: self
                .meetings
                .get(room)
                .and_then(|m| m.settings.password.clone()),
        }
    }

    pub fn is_host(&self, id: ParticipantId) -> bool {
        self.rooms.participant(id).is_some_and(|p| p.host)
    }

    pub(super) fn join(
        &mut self,
        now: Instant,
        room: &RoomName,
        waiter: Waiter,
        member: Member,
        password_checked: Option<PasswordDigest>,
    ) {
        let id = waiter.id;
        if self.members.contains(id) {
            return self.refuse(id, ErrorCode::OutOfOrder, "already joined");
        }
        if let Some(token) = member.entry.token_id() {
            if self.banned_tokens.contains(&token) {
                return self.refuse_and_close(
                    id,
                    ErrorCode::Removed,
                    "a host removed you from this meeting",
                    close_code::REMOVED,
                );
            }
        }
        if !member.entry.is_host() {
            if let Some(settings) = self.meetings.get(room).map(|m| &m.settings) {
                if settings.locked {
                    return self.refuse_and_close(
                        id,
                        ErrorCode::RoomLocked,
                        "the host locked the room",
                        close_code::NOT_ALLOWED,
                    );
                }
                if settings.password.is_some() && settings.password != password_checked {
                    // The password changed between the check and now.
                    return self.refuse_and_close(
                        id,
                        ErrorCode::PasswordRequired,
                        "the meeting has a password",
                        close_code::NOT_ALLOWED,
                    );
                }
            }
            let waits = self.must_wait(room, &member);
            if !self.guest_may_come(now, id, room, &member, waits) {
                return;
            }
            if waits {
                if self.members.len() >= super::MAX_PARTICIPANTS {
                    return self.refuse_full(id, ErrorCode::ServerFull, "the relay is full");
                }
                self.members.insert(id, member);
                self.lobby.knock(room, waiter);
                self.send_waiting(id, room);
                self.tell_hosts_knocked(room, id);
                self.update_gauges();
                return;
            }
        }
        self.enter(now, room, waiter, member);
    }

    /// A waiting guest comes in.
    fn admit(&mut self, now: Instant, room: &RoomName, id: ParticipantId) {
        let Some((_, waiter)) = self.lobby.take(id) else {
            return;
        };
        self.tell_hosts_stopped_waiting(room, id);
        if let Some(member) = self.members.remove(id) {
            self.enter(now, room, waiter, member);
        }
    }

    /// The list of those waiting, as hosts see it.
    fn waiting_guests(&self, room: &RoomName) -> Vec<sprechstunde_shared::WaitingGuest> {
        self.lobby
            .waiters(room)
            .map(|w| sprechstunde_shared::WaitingGuest {
                id: w.id,
                name: w.name.clone(),
                email: self.members.get(w.id).and_then(|m| m.email.clone()),
            })
            .collect()
    }

    fn must_wait(&self, room: &RoomName, member: &Member) -> bool {
        if member.entry.is_invited() {
            // Made for a meeting with a password: no knocking only once a host set it (and the
            // join brought it, checked in `join`); before that, a leaked link must knock.
            return member.entry.needs_password()
                && self
                    .meetings
                    .get(room)
                    .is_none_or(|m| m.settings.password.is_none());
        }
        if self.rooms.hosts_of(room).is_empty() {
            self.policy.guests_wait_for_host
        } else {
            self.meetings
                .get(room)
                .is_none_or(|m| m.settings.waiting_room)
        }
    }

    /// A host came in (or was made host): they see who waits and the e-mail addresses given,
    /// the waiting see a host is here.
    pub(super) fn host_arrived(&mut self, room: &RoomName, host: ParticipantId) {
        let guests = self.waiting_guests(room);
        if !guests.is_empty() {
            self.signal(host, ServerMessage::WaitingRoom { guests });
        }
        let contacts = self.contacts_of(room);
        if !contacts.is_empty() {
            self.signal(host, ServerMessage::Contacts { contacts });
        }
        self.tell_the_waiting(room);
    }

    /// Someone left for good: out of the waiting room or out of the room.
    pub(super) fn leave(&mut self, now: Instant, id: ParticipantId, work: &mut Vec<ParticipantId>) {
        self.depart(now, id, Departure::Left, work);
    }

    /// Every way out of a room or the waiting room ends here: everything the participant
    /// held is freed (e-mail address and link included) and the others and the hosts are
    /// told, the same way whatever the reason.
    pub(super) fn depart(
        &mut self,
        now: Instant,
        id: ParticipantId,
        why: Departure,
        work: &mut Vec<ParticipantId>,
    ) {
        if let Some((room, _)) = self.lobby.take(id) {
            self.members.remove(id);
            self.tell_hosts_stopped_waiting(&room, id);
            self.update_gauges();
            return;
        }
        let room = self.rooms.room_name(id).cloned();
        let was_host = self.rooms.participant(id).is_some_and(|p| p.host);
        let name = self.rooms.participant(id).map(|p| p.name.clone());
        self.remove(now, id, why, work);
        if let (Some(room), Some(name), Departure::Unreachable) = (&room, name, why) {
            // Told once, so the counselor knows why the family is gone and can call them.
            let hosts = self.rooms.hosts_of(room);
            self.tell_all(
                &hosts,
                ServerMessage::MediaUnreachable {
                    participant_id: id,
                    name,
                },
            );
        }
        let had_email = self
            .members
            .remove(id)
            .is_some_and(|member| member.email.is_some());
        if let (Some(room), true) = (&room, had_email) {
            self.tell_hosts_contacts(room);
        }
        if let Some(room) = room {
            if was_host && self.rooms.hosts_of(&room).is_empty() {
                self.tell_the_waiting(&room);
            }
        }
    }

    /// What a waiting guest sees: the topic, the host's message, whether a host is here.
    fn send_waiting(&mut self, id: ParticipantId, room: &RoomName) {
        let (info, message) = match self.meetings.get(room) {
            Some(meeting) => (
                meeting.settings.info.clone(),
                meeting.settings.waiting_message.clone(),
            ),
            None => (self.infos.get(room).cloned().unwrap_or_default(), None),
        };
        let host_present = !self.rooms.hosts_of(room).is_empty();
        self.signal(
            id,
            ServerMessage::Waiting {
                participant_id: id,
                room: room.to_string(),
                host_present,
                topic: info.topic,
                description: info.description,
                message,
            },
        );
    }

    fn contacts_of(&self, room: &RoomName) -> Vec<sprechstunde_shared::Contact> {
        self.rooms
            .members_of(room)
            .into_iter()
            .filter_map(|id| {
                let email = self.members.get(id)?.email.clone()?;
                Some(sprechstunde_shared::Contact { id, email })
            })
            .collect()
    }

    /// Hosts, and only hosts, see the e-mail addresses of those in the room.
    pub(super) fn tell_hosts_contacts(&mut self, room: &RoomName) {
        let contacts = self.contacts_of(room);
        let hosts = self.rooms.hosts_of(room);
        self.tell_all(&hosts, ServerMessage::Contacts { contacts });
    }

    /// Hosts hear of each knock and each end of waiting, not the whole list again: a
    /// coming and going guest costs a host two small messages.
    fn tell_hosts_knocked(&mut self, room: &RoomName, id: ParticipantId) {
        let Some(guest) = self.waiting_guests(room).into_iter().find(|g| g.id == id) else {
            return;
        };
        let hosts = self.rooms.hosts_of(room);
        self.tell_all(&hosts, ServerMessage::Knocked { guest });
    }

    fn tell_hosts_stopped_waiting(&mut self, room: &RoomName, id: ParticipantId) {
        let hosts = self.rooms.hosts_of(room);
        self.tell_all(&hosts, ServerMessage::StoppedWaiting { participant_id: id });
    }

    /// The room `id` hosts, or a refusal sent to them.
    fn hosted_room(&mut self, id: ParticipantId) -> Option<RoomName> {
        let Some(participant) = self.rooms.participant(id) else {
            self.not_in_call(id);
            return None;
        };
        if !participant.host {
            self.refuse(id, ErrorCode::NotHost, "only a host may do this");
            return None;
        }
        self.rooms.room_name(id).cloned()
    }

    fn tell_room_state(&mut self, room: &RoomName) {
        let Some(state) = self.meetings.get(room).map(|m| m.settings.state()) else {
            return;
        };
        let members = self.rooms.members_of(room);
        self.tell_all(&members, ServerMessage::RoomUpdated { state });
    }

    /// A host changes the meeting's settings: the change, then everyone in the room is told.
    /// Returns the room, or `None` (refused) when `id` is no host.
    fn change_settings(
        &mut self,
        id: ParticipantId,
        change: impl FnOnce(&mut super::super::meeting::HostSettings),
    ) -> Option<RoomName> {
        let room = self.hosted_room(id)?;
        if let Some(meeting) = meeting_of(&self.rooms, &mut self.meetings, id) {
            change(&mut meeting.settings);
        }
        self.tell_room_state(&room);
        Some(room)
    }

    /// Those waiting see the new topic or message.
    fn tell_the_waiting(&mut self, room: &RoomName) {
        for waiting in self.lobby.ids(room) {
            self.send_waiting(waiting, room);
        }
    }

    pub(super) fn set_room_info(&mut self, id: ParticipantId, info: MeetingInfo) {
        if let Some(room) = self.change_settings(id, |settings| settings.info = info) {
            self.tell_the_waiting(&room);
        }
    }

    pub(super) fn set_room_policy(
        &mut self,
        now: Instant,
        id: ParticipantId,
        waiting_room: bool,
        locked: bool,
    ) {
        let Some(room) = self.change_settings(id, |settings| {
            settings.waiting_room = waiting_room;
            settings.locked = locked;
        }) else {
            return;
        };
        if !waiting_room {
            // No waiting room any more: whoever waits comes in, in knocking order.
            for waiting in self.lobby.ids(&room) {
                self.admit(now, &room, waiting);
            }
        }
    }

    pub(super) fn set_password(&mut self, id: ParticipantId, digest: Option<PasswordDigest>) {
        self.change_settings(id, |settings| settings.password = digest);
    }

    pub(super) fn set_waiting_message(&mut self, id: ParticipantId, text: Option<String>) {
        if let Some(room) = self.change_settings(id, |settings| settings.waiting_message = text) {
            self.tell_the_waiting(&room);
        }
    }

    pub(super) fn moderate(
        &mut self,
        now: Instant,
        id: ParticipantId,
        target: ParticipantId,
        action: ModerationAction,
        work: &mut Vec<ParticipantId>,
    ) {
        let Some(room) = self.hosted_room(id) else {
            return;
        };
        if target == id {
            return self.refuse(id, ErrorCode::UnknownParticipant, "not on yourself");
        }
        let waiting = self.lobby.room_of(target) == Some(&room);
        let present = self.rooms.room_name(target) == Some(&room);
        match (action, waiting, present) {
            (ModerationAction::Admit, true, _) => self.admit(now, &room, target),
            (ModerationAction::Deny, true, _) => {
                self.lobby.take(target);
                self.members.remove(target);
                self.refuse_and_close(
                    target,
                    ErrorCode::Denied,
                    "the host did not let you in",
                    close_code::DENIED,
                );
                self.tell_hosts_stopped_waiting(&room, target);
            }
            (ModerationAction::Remove, true, _) | (ModerationAction::Remove, _, true) => {
                if let Some(member) = self.members.get(target).filter(|m| !m.entry.is_host()) {
                    // A plain guest would knock again at once from the same place.
                    let address = member.address;
                    self.address_bans.ban(now, &room, address);
                }
                if let Some(token) = self.members.get(target).and_then(|m| m.entry.token_id()) {
                    if self.banned_tokens.len() >= MAX_BANNED_TOKENS {
                        self.banned_tokens.clear();
                    }
                    self.banned_tokens.insert(token);
                }
                self.refuse_and_close(
                    target,
                    ErrorCode::Removed,
                    "a host removed you from this meeting",
                    close_code::REMOVED,
                );
                self.leave(now, target, work);
            }
            (ModerationAction::SendToWaitingRoom, _, true) => {
                let Some(participant) = self.rooms.participant(target).cloned() else {
                    return;
                };
                // The member record stays: the same link still (a later removal bans its
                // token; only a host's admission lets them in again, an invitation skips
                // knocking only) and the same e-mail address. The resume secret is new: the
                // one given before does not lead back into the room.
                self.remove(now, target, Departure::Left, work);
                if let Some(member) = self.members.get_mut(target) {
                    member.resume = super::fresh_resume_secret();
                }
                self.lobby.knock(
                    &room,
                    Waiter {
                        id: target,
                        name: participant.name,
                        media: participant.media,
                    },
                );
                self.send_waiting(target, &room);
                self.tell_hosts_knocked(&room, target);
                self.update_gauges();
            }
            (ModerationAction::Mute, _, true) => {
                self.switch_off(now, target, |m| m.mic = false, action);
            }
            (ModerationAction::StopCamera, _, true) => {
                self.switch_off(now, target, |m| m.camera = false, action);
            }
            (ModerationAction::StopScreen, _, true) => {
                self.switch_off(now, target, |m| m.screen = false, action);
            }
            (ModerationAction::LowerHand, _, true) => {
                if let Some((participant, members)) =
                    self.rooms.update_participant(target, |p| p.hand = None)
                {
                    self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
                    self.signal(target, ServerMessage::Moderated { action });
                }
            }
            (ModerationAction::MarkInterpreter | ModerationAction::UnmarkInterpreter, _, true) => {
                let interpreter = action == ModerationAction::MarkInterpreter;
                if let Some((participant, members)) = self
                    .rooms
                    .update_participant(target, |p| p.interpreter = interpreter)
                {
                    self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
                }
            }
            (ModerationAction::MakeHost, _, true) => {
                for (who, host) in [(target, true), (id, false)] {
                    if let Some((participant, members)) =
                        self.rooms.update_participant(who, |p| p.host = host)
                    {
                        self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
                    }
                }
                self.host_arrived(&room, target);
            }
            _ => self.refuse(
                id,
                ErrorCode::UnknownParticipant,
                "nobody of that id is in the room or waiting for it",
            ),
        }
    }

    /// A host switches someone's microphone or camera off. Nobody can switch it on for
    /// someone else; they do it themselves.
    fn switch_off(
        &mut self,
        now: Instant,
        target: ParticipantId,
        change: impl Fn(&mut sprechstunde_shared::MediaState),
        action: ModerationAction,
    ) {
        let Some((participant, members)) = self
            .rooms
            .update_participant(target, |p| change(&mut p.media))
        else {
            return;
        };
        if let Some(peer) = self.members.peer_mut(target) {
            change(&mut peer.sending);
        }
        if let Some(meeting) = meeting_of(&self.rooms, &mut self.meetings, target) {
            meeting.set_muted(now, target, !participant.media.mic);
        }
        self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
        self.signal(target, ServerMessage::Moderated { action });
    }

    pub(super) fn end_meeting(
        &mut self,
        now: Instant,
        id: ParticipantId,
        work: &mut Vec<ParticipantId>,
    ) {
        let Some(room) = self.hosted_room(id) else {
            return;
        };
        let everyone: Vec<ParticipantId> = self
            .lobby
            .ids(&room)
            .into_iter()
            .chain(self.rooms.members_of(&room))
            .collect();
        for participant in everyone {
            self.refuse_and_close(
                participant,
                ErrorCode::MeetingEnded,
                "the host ended the meeting",
                close_code::MEETING_ENDED,
            );
            self.leave(now, participant, work);
        }
    }
}
