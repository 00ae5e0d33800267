//! What participants do in a call besides media: their microphone, camera and screen
//! state, raised hands, chat, and the speaking times everyone sees.

use std::time::Instant;

use sprechstunde_shared::{
    ChatMessage, ChatText, ErrorCode, MediaState, ParticipantId, ServerMessage,
};
use str0m::media::KeyframeRequestKind;

use super::{meeting_of, Sfu, STATS_INTERVAL};
use crate::metrics;
use crate::sfu::meeting::{Meeting, RELAY_CHAT_BYTES};
use crate::sfu::rooms::TrackKind;

impl Sfu {
    pub(super) fn set_media(
        &mut self,
        now: Instant,
        id: ParticipantId,
        media: MediaState,
        work: &mut Vec<ParticipantId>,
    ) {
        let Some((participant, members)) = self.rooms.update_participant(id, |p| p.media = media)
        else {
            return self.not_in_call(id);
        };
        if let Some(meeting) = meeting_of(&self.rooms, &mut self.meetings, id) {
            meeting.set_muted(now, id, !media.mic);
        }
        let was = self.members.peer(id).map(|p| p.sending);
        if let Some(peer) = self.members.peer_mut(id) {
            peer.sending = media;
        }
        // Packets were dropped while it was off: start the others on a keyframe.
        let switched_on = [
            (
                TrackKind::Video,
                was.is_some_and(|was| !was.camera) && media.camera,
            ),
            (
                TrackKind::Screen,
                was.is_some_and(|was| !was.screen) && media.screen,
            ),
        ];
        for (kind, _) in switched_on.into_iter().filter(|(_, on)| *on) {
            if let Some(key) = self.rooms.track_of(id, kind) {
                self.request_keyframe(now, key, KeyframeRequestKind::Pli);
                work.push(id);
            }
        }
        self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
    }

    pub(super) fn set_hand(&mut self, id: ParticipantId, raised: bool) {
        let Some(meeting) = meeting_of(&self.rooms, &mut self.meetings, id) else {
            return self.not_in_call(id);
        };
        let already = self.rooms.participant(id).and_then(|p| p.hand);
        let hand = match (raised, already) {
            (false, _) => None,
            // Raising again keeps the place in line.
            (true, Some(place)) => Some(place),
            (true, None) => Some(meeting.next_hand()),
        };
        if let Some((participant, members)) = self.rooms.update_participant(id, |p| p.hand = hand) {
            self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
        }
    }

    pub(super) fn chat(
        &mut self,
        id: ParticipantId,
        text: ChatText,
        to: Option<ParticipantId>,
        time_ms: u64,
    ) {
        let Some(sender) = self.rooms.participant(id).map(|p| p.name.clone()) else {
            return self.not_in_call(id);
        };
        let members = self.rooms.members_with(id);
        let receiver = match to {
            None => None,
            Some(to) if to != id && members.contains(&to) => {
                Some((to, self.rooms.participant(to).map(|p| p.name.clone())))
            }
            Some(_) => {
                return self.refuse(
                    id,
                    ErrorCode::UnknownParticipant,
                    "private messages go to someone else in the room",
                )
            }
        };
        let Some(meeting) = meeting_of(&self.rooms, &mut self.meetings, id) else {
            return;
        };
        let message = meeting.post(ChatMessage {
            id: 0,
            time_ms,
            from: id,
            from_name: sender,
            to: receiver.as_ref().map(|(to, _)| *to),
            to_name: receiver.and_then(|(_, name)| name),
            text: text.into_string(),
        });
        metrics::add(&self.metrics.chat_messages, 1);
        self.keep_chat_within_the_relays_share();
        let recipients = match message.to {
            Some(to) => vec![id, to],
            None => members,
        };
        self.tell_all(&recipients, ServerMessage::Chat(message));
    }

    /// All rooms' chat together stays within [`RELAY_CHAT_BYTES`]: the room holding the most
    /// gives up its oldest messages first.
    fn keep_chat_within_the_relays_share(&mut self) {
        let mut total: usize = self.meetings.values().map(Meeting::chat_bytes).sum();
        while total > RELAY_CHAT_BYTES {
            let Some(largest) = self.meetings.values_mut().max_by_key(|m| m.chat_bytes()) else {
                return;
            };
            match largest.drop_oldest_chat() {
                0 => return,
                freed => total -= freed,
            }
        }
    }

    /// Speaking times to everyone in rooms where they changed; each sees those who were in
    /// the room with them.
    pub(super) fn send_speaking_stats(&mut self, now: Instant) {
        self.next_stats = (!self.meetings.is_empty()).then_some(now + STATS_INTERVAL);
        let mut updates = Vec::new();
        for (room, meeting) in &mut self.meetings {
            if !meeting.stats_changed(now) {
                continue;
            }
            for viewer in self.rooms.members_of(room) {
                let host = self.rooms.participant(viewer).is_some_and(|p| p.host);
                let (speakers, active) = meeting.stats_for(now, viewer, host);
                updates.push((viewer, ServerMessage::SpeakingStats { speakers, active }));
            }
        }
        for (viewer, message) in updates {
            self.signal(viewer, message);
        }
    }

    pub(super) fn tell_all(&mut self, recipients: &[ParticipantId], message: ServerMessage) {
        for recipient in recipients {
            self.signal(*recipient, message.clone());
        }
    }
}
