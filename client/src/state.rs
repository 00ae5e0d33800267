//! The room as the view sees it, changed only by [`SessionEvent`]s through the reducer.

use std::collections::HashMap;
use std::rc::Rc;

use sprechstunde_shared::{Participant, ParticipantId};
use web_sys::MediaStream;
use yew::Reducible;

use crate::session::{EndReason, SessionEvent};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RoomState {
    pub me: Option<ParticipantId>,
    /// The others, in join order.
    pub participants: Vec<Participant>,
    pub streams: HashMap<ParticipantId, MediaStream>,
    /// The peer connection's state, as the browser reports it.
    pub media_state: String,
    pub ended: Option<EndReason>,
}

impl Reducible for RoomState {
    type Action = SessionEvent;

    fn reduce(self: Rc<Self>, event: SessionEvent) -> Rc<Self> {
        let mut next = (*self).clone();
        match event {
            SessionEvent::Welcome { me, participants } => {
                next.me = Some(me);
                next.participants = participants;
            }
            SessionEvent::Joined(participant) => {
                if !next.participants.iter().any(|p| p.id == participant.id) {
                    next.participants.push(participant);
                }
            }
            SessionEvent::Left(id) => {
                next.participants.retain(|p| p.id != id);
                next.streams.remove(&id);
            }
            SessionEvent::RemoteStream(id, stream) => {
                next.streams.insert(id, stream);
            }
            SessionEvent::MediaState(state) => next.media_state = state,
            SessionEvent::Ended(reason) => {
                next.ended.get_or_insert(reason);
            }
        }
        Rc::new(next)
    }
}
