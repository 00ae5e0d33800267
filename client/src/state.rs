//! The room as the view sees it, changed only by [`SessionEvent`]s through the reducer.

use std::collections::HashMap;
use std::rc::Rc;

use sprechstunde_shared::{
    ChatMessage, ErrorCode, Participant, ParticipantId, SpeakingTime, TrackSource,
};
use web_sys::MediaStream;
use yew::Reducible;

use crate::session::{EndReason, SessionEvent};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RoomState {
    pub me: Option<ParticipantId>,
    /// One's own state as the relay confirmed it (hand, media).
    pub own: Option<Participant>,
    /// The others, in join order.
    pub participants: Vec<Participant>,
    pub streams: HashMap<(ParticipantId, TrackSource), MediaStream>,
    pub topic: Option<String>,
    pub description: Option<String>,
    pub chat: Vec<ChatMessage>,
    pub speakers: Vec<SpeakingTime>,
    pub active_speaker: Option<ParticipantId>,
    /// The last refusal from the relay, with a counter so the same one twice shows again.
    pub refused: Option<(ErrorCode, u32)>,
    /// The peer connection's state, as the browser reports it.
    pub media_state: String,
    pub ended: Option<EndReason>,
}

impl Reducible for RoomState {
    type Action = SessionEvent;

    fn reduce(self: Rc<Self>, event: SessionEvent) -> Rc<Self> {
        let mut next = (*self).clone();
        match event {
            SessionEvent::Welcome {
                me,
                participants,
                topic,
                description,
                chat,
            } => {
                next.me = Some(me);
                next.participants = participants;
                next.topic = topic;
                next.description = description;
                next.chat = chat;
            }
            SessionEvent::Joined(participant) => {
                if !next.participants.iter().any(|p| p.id == participant.id) {
                    next.participants.push(participant);
                }
            }
            SessionEvent::Left(id) => {
                next.participants.retain(|p| p.id != id);
                next.streams.retain(|(owner, _), _| *owner != id);
                if next.active_speaker == Some(id) {
                    next.active_speaker = None;
                }
            }
            SessionEvent::Updated(participant) => {
                if Some(participant.id) == next.me {
                    next.own = Some(participant);
                } else if let Some(known) = next
                    .participants
                    .iter_mut()
                    .find(|p| p.id == participant.id)
                {
                    *known = participant;
                }
            }
            SessionEvent::Chat(message) => next.chat.push(message),
            SessionEvent::SpeakingStats { speakers, active } => {
                next.speakers = speakers;
                next.active_speaker = active;
            }
            SessionEvent::Refused(code) => {
                let count = next.refused.map_or(0, |(_, n)| n) + 1;
                next.refused = Some((code, count));
            }
            SessionEvent::RemoteStream(id, source, stream) => {
                next.streams.insert((id, source), stream);
            }
            SessionEvent::MediaState(state) => next.media_state = state,
            SessionEvent::Ended(reason) => {
                next.ended.get_or_insert(reason);
            }
        }
        Rc::new(next)
    }
}
