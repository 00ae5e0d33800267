//! The room as the view sees it, changed only by [`SessionEvent`]s through the reducer.

use std::collections::HashMap;
use std::rc::Rc;

use sprechstunde_shared::{
    ChatMessage, ErrorCode, MeetingSettings, ModerationAction, Participant, ParticipantId,
    SpeakingTime, TrackSource, WaitingGuest,
};
use web_sys::{MediaStream, RtcPeerConnectionState};
use yew::Reducible;

use crate::announcements::{Announcements, Event as Announcement};
use crate::session::{EndReason, SessionEvent, WaitingView};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RoomView {
    pub me: Option<ParticipantId>,
    /// One's own state as the relay confirmed it (hand, media).
    pub own: Option<Participant>,
    /// The others, in join order.
    pub participants: Vec<Participant>,
    pub streams: HashMap<(ParticipantId, TrackSource), MediaStream>,
    /// Topic, description, waiting room, lock, password set (never the password).
    pub meeting: MeetingSettings,
    /// Whether we run the meeting.
    pub host: bool,
    /// Set while we wait to be let in.
    pub waiting: Option<WaitingView>,
    /// Set while the relay wants the meeting's password (why: required, wrong, ...).
    pub password_needed: Option<ErrorCode>,
    /// To hosts: who is knocking, in order.
    pub knocking: Vec<WaitingGuest>,
    /// To hosts: e-mail addresses participants gave, by participant.
    pub contacts: HashMap<ParticipantId, String>,
    /// The last thing a host did to us, with a counter so the same twice acts twice.
    pub moderated: Option<(ModerationAction, u32)>,
    pub chat: Vec<ChatMessage>,
    pub speakers: Vec<SpeakingTime>,
    pub active_speaker: Option<ParticipantId>,
    /// The last refusal from the relay, with a counter so the same one twice shows again.
    pub refused: Option<(ErrorCode, u32)>,
    /// The peer connection's state, as the browser reports it (none before it exists).
    pub media_state: Option<RtcPeerConnectionState>,
    /// Cameras the relay paused to us because our link cannot carry them.
    pub video_paused: Vec<ParticipantId>,
    /// How media travels (UDP, or TCP to the web port), once known.
    pub media_transport: Option<crate::media::peer::MediaTransport>,
    /// To hosts: those for whom no media path could be made, until dismissed.
    pub unreachable: Vec<(ParticipantId, String)>,
    /// The signaling connection dropped and is being restored.
    pub reconnecting: bool,
    pub ended: Option<EndReason>,
    /// For screen readers: who came, went, raised a hand, knocked or wrote.
    pub announcements: Announcements,
}

impl Reducible for RoomView {
    type Action = SessionEvent;

    fn reduce(self: Rc<Self>, event: SessionEvent) -> Rc<Self> {
        let mut next = (*self).clone();
        match event {
            SessionEvent::Welcome {
                me,
                host,
                participants,
                state,
                chat,
            } => {
                // Joined afresh on this page (the session could not be resumed): the relay
                // sends only what was written since (it cannot tell us from the next
                // family), and what this page already showed us stays.
                let again = next.me.is_some();
                next.me = Some(me);
                next.host = host;
                next.participants = participants;
                next.meeting = state;
                if again {
                    let new: Vec<ChatMessage> = chat
                        .into_iter()
                        .filter(|m| !next.chat.contains(m))
                        .collect();
                    next.chat.extend(new);
                } else {
                    next.chat = chat;
                }
                next.waiting = None;
                next.password_needed = None;
                next.reconnecting = false;
                next.streams.clear();
            }
            SessionEvent::Waiting(view) => {
                // Nothing of the room stays on screen while waiting.
                next.waiting = Some(view);
                next.password_needed = None;
                next.reconnecting = false;
                next.participants.clear();
                next.streams.clear();
                next.chat.clear();
                next.knocking.clear();
                next.contacts.clear();
                next.host = false;
            }
            SessionEvent::PasswordNeeded(code) => next.password_needed = Some(code),
            SessionEvent::WaitingRoom(guests) => next.knocking = guests,
            SessionEvent::Knocked(guest) => {
                if !next.knocking.iter().any(|g| g.id == guest.id) {
                    next.announcements
                        .push(Announcement::Knocked(guest.name.clone()));
                }
                next.knocking.retain(|g| g.id != guest.id);
                next.knocking.push(guest);
            }
            SessionEvent::StoppedWaiting(id) => next.knocking.retain(|g| g.id != id),
            SessionEvent::Contacts(contacts) => {
                next.contacts = contacts.into_iter().map(|c| (c.id, c.email)).collect();
            }
            SessionEvent::RoomUpdated(state) => next.meeting = state,
            SessionEvent::Moderated(action) => {
                let count = next.moderated.map_or(0, |(_, n)| n) + 1;
                next.moderated = Some((action, count));
            }
            SessionEvent::Joined(participant) => {
                if !next.participants.iter().any(|p| p.id == participant.id) {
                    next.announcements
                        .push(Announcement::Joined(participant.name.clone()));
                    next.participants.push(participant);
                }
            }
            SessionEvent::Left(id) => {
                if let Some(gone) = next.participants.iter().find(|p| p.id == id) {
                    next.announcements
                        .push(Announcement::Left(gone.name.clone()));
                }
                next.participants.retain(|p| p.id != id);
                next.streams.retain(|(owner, _), _| *owner != id);
                next.video_paused.retain(|p| *p != id);
                if next.active_speaker == Some(id) {
                    next.active_speaker = None;
                }
            }
            SessionEvent::Updated(participant) => {
                if Some(participant.id) == next.me {
                    next.host = participant.host;
                    if !participant.host {
                        next.knocking.clear();
                        next.contacts.clear();
                    }
                    next.own = Some(participant);
                } else if let Some(known) = next
                    .participants
                    .iter_mut()
                    .find(|p| p.id == participant.id)
                {
                    if known.hand.is_none() && participant.hand.is_some() {
                        next.announcements
                            .push(Announcement::HandRaised(participant.name.clone()));
                    }
                    *known = participant;
                }
            }
            SessionEvent::Chat(message) => {
                if Some(message.from) != next.me {
                    next.announcements.push(Announcement::Message {
                        from: message.from_name.clone(),
                        text: message.text.clone(),
                    });
                }
                next.chat.push(message);
            }
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
            SessionEvent::MediaState(state) => next.media_state = Some(state),
            SessionEvent::MediaTransport(transport) => next.media_transport = Some(transport),
            SessionEvent::VideoPaused(id, paused) => {
                next.video_paused.retain(|p| *p != id);
                if paused {
                    next.video_paused.push(id);
                }
            }
            SessionEvent::MediaUnreachable(id, name) => {
                next.unreachable.retain(|(known, _)| *known != id);
                next.unreachable.push((id, name));
            }
            SessionEvent::Reconnecting => next.reconnecting = true,
            SessionEvent::Reconnected => next.reconnecting = false,
            SessionEvent::Ended(reason) => {
                next.ended.get_or_insert(reason);
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome(me: u64, chat: Vec<ChatMessage>) -> SessionEvent {
        SessionEvent::Welcome {
            me: ParticipantId(me),
            host: false,
            participants: Vec::new(),
            state: MeetingSettings::default(),
            chat,
        }
    }

    fn message(id: u64, text: &str) -> ChatMessage {
        ChatMessage {
            id,
            time_ms: id,
            from: ParticipantId(9),
            from_name: "Beraterin".into(),
            to: None,
            to_name: None,
            text: text.into(),
        }
    }

    #[test]
    fn joining_afresh_on_the_same_page_keeps_the_chat_already_shown() {
        let view = Rc::new(RoomView::default());
        let view = view.reduce(welcome(1, vec![message(1, "Guten Tag")]));
        let view = view.reduce(SessionEvent::Chat(message(2, "Wie geht es?")));
        // The session is lost and joined afresh: the relay sends only what is new.
        let view = view.reduce(welcome(7, vec![message(3, "Da sind Sie wieder")]));
        let texts: Vec<&str> = view.chat.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Guten Tag", "Wie geht es?", "Da sind Sie wieder"]);
    }
}
