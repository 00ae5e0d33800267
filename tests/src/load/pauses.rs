//! Which senders' pictures the relay says it pauses for a synthetic participant's link
//! (`video_paused`), by the sender's index (read from its name, "Last {index}").

use std::collections::{HashMap, HashSet};

use sprechstunde_shared::{Participant, ParticipantId, ServerMessage};

#[derive(Debug, Default)]
pub struct Pauses {
    indices: HashMap<ParticipantId, u32>,
    paused: HashSet<u32>,
    /// Paused at any moment since the last [`Pauses::take`].
    in_window: HashSet<u32>,
}

fn index_of(participant: &Participant) -> Option<u32> {
    participant.name.strip_prefix("Last ")?.parse().ok()
}

impl Pauses {
    pub fn read(&mut self, message: &ServerMessage) {
        match message {
            ServerMessage::Welcome { participants, .. } => {
                for participant in participants {
                    self.learn(participant);
                }
            }
            ServerMessage::ParticipantJoined { participant } => self.learn(participant),
            ServerMessage::VideoPaused {
                participant_id,
                paused,
            } => {
                let Some(index) = self.indices.get(participant_id).copied() else {
                    return;
                };
                if *paused {
                    self.paused.insert(index);
                    self.in_window.insert(index);
                } else {
                    self.paused.remove(&index);
                }
            }
            _ => {}
        }
    }

    fn learn(&mut self, participant: &Participant) {
        if let Some(index) = index_of(participant) {
            self.indices.insert(participant.id, index);
        }
    }

    /// The senders paused at any moment since the last call; the window starts afresh with
    /// those paused now.
    pub fn take(&mut self) -> HashSet<u32> {
        std::mem::replace(&mut self.in_window, self.paused.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprechstunde_shared::MediaState;

    fn joined(id: u64, name: &str) -> ServerMessage {
        ServerMessage::ParticipantJoined {
            participant: Participant {
                id: ParticipantId(id),
                name: name.into(),
                media: MediaState::default(),
                hand: None,
                host: false,
                interpreter: false,
                connection: Default::default(),
            },
        }
    }

    fn paused(id: u64, paused: bool) -> ServerMessage {
        ServerMessage::VideoPaused {
            participant_id: ParticipantId(id),
            paused,
        }
    }

    #[test]
    fn a_pause_counts_in_the_window_it_happened_and_while_it_lasts() {
        let mut pauses = Pauses::default();
        pauses.read(&joined(7, "Last 3"));
        pauses.read(&joined(8, "Last 4"));
        pauses.read(&paused(7, true));
        pauses.read(&paused(8, true));
        pauses.read(&paused(8, false));
        assert_eq!(pauses.take(), HashSet::from([3, 4]));
        assert_eq!(pauses.take(), HashSet::from([3]), "3 is still paused");
        pauses.read(&paused(7, false));
        assert_eq!(
            pauses.take(),
            HashSet::from([3]),
            "3 was paused in this window"
        );
        assert!(pauses.take().is_empty());
    }
}
