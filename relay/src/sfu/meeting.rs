//! What a room's conversation holds besides media: the chat, the order of raised hands and
//! everyone's speaking time. In memory only; it is dropped with the room and never written
//! anywhere.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use sprechstunde_shared::{ChatMessage, MeetingSettings, ParticipantId, SpeakingTime};

use super::speaking::SpeakingClock;
use crate::access::PasswordDigest;

/// Oldest messages are dropped beyond this, so a room's chat has bounded memory
/// (at most about 10 MB with the longest messages).
pub const CHAT_HISTORY_MAX: usize = 1000;
/// Most bytes of chat a room keeps (texts and names): the oldest messages go first. It keeps
/// every `welcome`, which carries the history, far below a connection's 1 MiB write limit,
/// however long the messages (10,000 characters of four-byte emoji are 40 KB each).
pub const CHAT_HISTORY_BYTES: usize = 256 * 1024;

/// What a chat message costs the history.
fn history_bytes(message: &ChatMessage) -> usize {
    message.text.len() + message.from_name.len() + message.to_name.as_ref().map_or(0, String::len)
}

/// A room's topic and description, shown in its header and to those who join.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingInfo {
    pub topic: Option<String>,
    pub description: Option<String>,
}

impl MeetingInfo {
    /// Topic and description as the configuration or a host gives them, cleaned and limited
    /// (one rule for both, in `sprechstunde_shared::meeting_text`).
    pub fn cleaned(
        topic: Option<&str>,
        description: Option<&str>,
    ) -> Result<MeetingInfo, sprechstunde_shared::TooLong> {
        use sprechstunde_shared::MeetingText;
        let clean = |what: MeetingText, text: Option<&str>| match text {
            Some(text) => what.clean(text),
            None => Ok(None),
        };
        Ok(MeetingInfo {
            topic: clean(MeetingText::Topic, topic)?,
            description: clean(MeetingText::Description, description)?,
        })
    }
}

/// Everyone's speaking time in milliseconds and the active speaker, as last reported.
type StatsSummary = (Vec<(ParticipantId, u64)>, Option<ParticipantId>);

struct Speaker {
    name: String,
    clock: SpeakingClock,
    present: bool,
}

/// What a host decides for the running meeting; forgotten when it ends.
pub struct HostSettings {
    pub info: MeetingInfo,
    pub waiting_room: bool,
    pub locked: bool,
    /// The password's argon2 hash; the password itself is never kept.
    pub password: Option<PasswordDigest>,
    pub waiting_message: Option<String>,
}

#[derive(Default)]
pub struct Meeting {
    pub settings: HostSettings,
    chat: VecDeque<ChatMessage>,
    /// [`history_bytes`] of everything in `chat`.
    chat_bytes: usize,
    next_chat_id: u64,
    next_hand: u64,
    speakers: BTreeMap<ParticipantId, Speaker>,
    /// What the last statistics sent said, to send only changes.
    last_stats: Option<StatsSummary>,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            info: MeetingInfo::default(),
            // On by default: it only takes effect while a host is present.
            waiting_room: true,
            locked: false,
            password: None,
            waiting_message: None,
        }
    }
}

impl HostSettings {
    pub fn state(&self) -> MeetingSettings {
        MeetingSettings {
            topic: self.info.topic.clone(),
            description: self.info.description.clone(),
            waiting_room: self.waiting_room,
            locked: self.locked,
            has_password: self.password.is_some(),
            waiting_message: self.waiting_message.clone(),
        }
    }
}

impl Meeting {
    /// A new meeting, with the topic the operator configured for the room.
    pub fn new(info: MeetingInfo) -> Meeting {
        Meeting {
            settings: HostSettings {
                info,
                ..HostSettings::default()
            },
            ..Meeting::default()
        }
    }

    pub fn join(&mut self, id: ParticipantId, name: String, muted: bool) {
        self.speakers.insert(
            id,
            Speaker {
                name,
                clock: SpeakingClock::new(muted),
                present: true,
            },
        );
    }

    /// The participant left: their time stays in the statistics, their clock stops.
    pub fn leave(&mut self, now: Instant, id: ParticipantId) {
        if let Some(speaker) = self.speakers.get_mut(&id) {
            speaker.clock.set_muted(now, true);
            speaker.present = false;
        }
    }

    pub fn post(&mut self, mut message: ChatMessage) -> ChatMessage {
        self.next_chat_id += 1;
        message.id = self.next_chat_id;
        self.chat_bytes += history_bytes(&message);
        self.chat.push_back(message.clone());
        while self.chat.len() > CHAT_HISTORY_MAX || self.chat_bytes > CHAT_HISTORY_BYTES {
            let Some(oldest) = self.chat.pop_front() else {
                break;
            };
            self.chat_bytes -= history_bytes(&oldest);
        }
        message
    }

    /// The chat `viewer` may read: everything public, and private messages from or to them.
    pub fn chat_for(&self, viewer: ParticipantId) -> Vec<ChatMessage> {
        self.chat
            .iter()
            .filter(|m| m.to.is_none() || m.to == Some(viewer) || m.from == viewer)
            .cloned()
            .collect()
    }

    /// The place in line of a hand raised now.
    pub fn next_hand(&mut self) -> u64 {
        self.next_hand += 1;
        self.next_hand
    }

    pub fn audio(&mut self, now: Instant, id: ParticipantId, level_dbov: Option<i8>) {
        if let Some(speaker) = self.speakers.get_mut(&id) {
            speaker.clock.audio(now, level_dbov);
        }
    }

    pub fn set_muted(&mut self, now: Instant, id: ParticipantId, muted: bool) {
        if let Some(speaker) = self.speakers.get_mut(&id) {
            speaker.clock.set_muted(now, muted);
        }
    }

    /// Everyone's speaking time and the active speaker, if anything changed since the last
    /// call that returned something.
    pub fn stats_if_changed(
        &mut self,
        now: Instant,
    ) -> Option<(Vec<SpeakingTime>, Option<ParticipantId>)> {
        let speakers: Vec<SpeakingTime> = self
            .speakers
            .iter()
            .map(|(id, s)| SpeakingTime {
                id: *id,
                name: s.name.clone(),
                ms: whole_ms(s.clock.total(now)),
                present: s.present,
            })
            .collect();
        let active = self
            .speakers
            .iter()
            .filter_map(|(id, s)| s.clock.speaking_since(now).map(|since| (since, *id)))
            .min()
            .map(|(_, id)| id);
        let summary = (
            speakers.iter().map(|s| (s.id, s.ms)).collect::<Vec<_>>(),
            active,
        );
        if self.last_stats.as_ref() == Some(&summary) {
            return None;
        }
        self.last_stats = Some(summary);
        Some((speakers, active))
    }
}

fn whole_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(from: u64, to: Option<u64>, text: &str) -> ChatMessage {
        ChatMessage {
            id: 0,
            time_ms: 0,
            from: ParticipantId(from),
            from_name: format!("p{from}"),
            to: to.map(ParticipantId),
            to_name: None,
            text: text.into(),
        }
    }

    #[test]
    fn private_messages_are_only_for_sender_and_receiver() {
        let mut meeting = Meeting::default();
        meeting.post(message(1, None, "an alle"));
        meeting.post(message(1, Some(2), "nur für 2"));
        let texts = |viewer| {
            meeting
                .chat_for(ParticipantId(viewer))
                .into_iter()
                .map(|m| m.text)
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(1), ["an alle", "nur für 2"]);
        assert_eq!(texts(2), ["an alle", "nur für 2"]);
        assert_eq!(texts(3), ["an alle"]);
    }

    #[test]
    fn chat_history_is_bounded_and_numbered() {
        let mut meeting = Meeting::default();
        for i in 0..CHAT_HISTORY_MAX + 5 {
            meeting.post(message(1, None, &i.to_string()));
        }
        let chat = meeting.chat_for(ParticipantId(1));
        assert_eq!(chat.len(), CHAT_HISTORY_MAX);
        assert_eq!(chat[0].text, "5");
        assert_eq!(chat.last().map(|m| m.id), Some(CHAT_HISTORY_MAX as u64 + 5));
    }

    #[test]
    fn stats_are_reported_on_change_and_keep_those_who_left() {
        let t0 = Instant::now();
        let mut meeting = Meeting::default();
        meeting.join(ParticipantId(1), "Ayşe".into(), false);
        meeting.join(ParticipantId(2), "Berater".into(), true);
        assert!(meeting.stats_if_changed(t0).is_some());
        assert!(meeting.stats_if_changed(t0).is_none(), "nothing changed");
        for t in 0..50 {
            let now = t0 + Duration::from_millis(t * 20);
            meeting.audio(now, ParticipantId(1), Some(-20));
            meeting.audio(now, ParticipantId(2), Some(-20));
        }
        let now = t0 + Duration::from_millis(1000);
        let (speakers, active) = meeting.stats_if_changed(now).expect("changed");
        assert_eq!(active, Some(ParticipantId(1)));
        assert_eq!(speakers[0].ms, 1000);
        assert_eq!(speakers[1].ms, 0, "muted from the start");
        meeting.leave(now, ParticipantId(1));
        let (speakers, active) = meeting
            .stats_if_changed(now + Duration::from_secs(5))
            .expect("changed");
        assert_eq!(active, None);
        assert!(!speakers[0].present);
        assert_eq!(speakers[0].ms, 980);
    }
}
