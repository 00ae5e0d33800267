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

/// Most bytes of chat all rooms of a relay keep together; beyond it the room holding the most
/// gives up its oldest messages (an attacker filling many rooms trims their own first).
pub const RELAY_CHAT_BYTES: usize = 32 * 1024 * 1024;

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

/// Those who left whose speaking time is still kept, at most: the most recent ones. Those
/// present are always kept; so the list cannot grow with people coming and going.
pub const DEPARTED_SPEAKERS_MAX: usize = 8;

/// Everyone's speaking time in milliseconds and the active speaker, as last reported.
type StatsSummary = (Vec<(ParticipantId, u64)>, Option<ParticipantId>);

struct Speaker {
    name: String,
    clock: SpeakingClock,
    /// When they came and left, in the meeting's own order of arrivals and departures:
    /// someone sees another's speaking time only if they were in the room together.
    arrived: u64,
    left: Option<u64>,
    /// The last chat message before they came: a guest reads only what was written since
    /// (the family before them may have written to the same counselor).
    chat_seen_from: u64,
}

impl Speaker {
    fn present(&self) -> bool {
        self.left.is_none()
    }
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
    /// Counts arrivals and departures (see [`Speaker::arrived`]).
    moments: u64,
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

    /// `id` comes in (again, after being sent to the waiting room: what they could see
    /// stays visible).
    pub fn join(&mut self, id: ParticipantId, name: String, muted: bool) {
        self.moments += 1;
        let (arrived, chat_seen_from) = self
            .speakers
            .get(&id)
            .map_or((self.moments, self.next_chat_id), |s| {
                (s.arrived, s.chat_seen_from)
            });
        self.speakers.insert(
            id,
            Speaker {
                name,
                clock: SpeakingClock::new(muted),
                arrived,
                left: None,
                chat_seen_from,
            },
        );
    }

    /// The participant left: their time stays in the statistics (for those who were there
    /// with them, and only for the most recent departures), their clock stops.
    pub fn leave(&mut self, now: Instant, id: ParticipantId) {
        self.moments += 1;
        if let Some(speaker) = self.speakers.get_mut(&id) {
            speaker.clock.set_muted(now, true);
            speaker.left = Some(self.moments);
        }
        let mut departed: Vec<(u64, ParticipantId)> = self
            .speakers
            .iter()
            .filter_map(|(id, s)| s.left.map(|left| (left, *id)))
            .collect();
        if departed.len() > DEPARTED_SPEAKERS_MAX {
            departed.sort_unstable();
            for (_, id) in &departed[..departed.len() - DEPARTED_SPEAKERS_MAX] {
                self.speakers.remove(id);
            }
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

    /// Bytes of chat this meeting keeps.
    pub fn chat_bytes(&self) -> usize {
        self.chat_bytes
    }

    /// Drops the oldest message; returns the bytes freed (0: none left).
    pub fn drop_oldest_chat(&mut self) -> usize {
        let Some(oldest) = self.chat.pop_front() else {
            return 0;
        };
        let freed = history_bytes(&oldest);
        self.chat_bytes -= freed;
        freed
    }

    /// The chat `viewer` may read: everything public since they came (everything for a
    /// host), and private messages from or to them.
    pub fn chat_for(&self, viewer: ParticipantId, host: bool) -> Vec<ChatMessage> {
        let seen_from = match (host, self.speakers.get(&viewer)) {
            (false, Some(speaker)) => speaker.chat_seen_from,
            _ => 0,
        };
        self.chat
            .iter()
            .filter(|m| m.id > seen_from)
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

    /// Whether anyone's speaking time or the active speaker changed since the last call
    /// that said so.
    pub fn stats_changed(&mut self, now: Instant) -> bool {
        let summary = (
            self.speakers
                .iter()
                .map(|(id, s)| (*id, whole_ms(s.clock.total(now))))
                .collect::<Vec<_>>(),
            self.active_speaker(now),
        );
        if self.last_stats.as_ref() == Some(&summary) {
            return false;
        }
        self.last_stats = Some(summary);
        true
    }

    /// Speaking times as `viewer` may see them: those present, and those who left after
    /// `viewer` came (a host sees every one kept). With the active speaker.
    pub fn stats_for(
        &self,
        now: Instant,
        viewer: ParticipantId,
        host: bool,
    ) -> (Vec<SpeakingTime>, Option<ParticipantId>) {
        let viewer_arrived = self.speakers.get(&viewer).map_or(u64::MAX, |s| s.arrived);
        let speakers = self
            .speakers
            .iter()
            .filter(|(_, s)| host || s.left.is_none_or(|left| left > viewer_arrived))
            .map(|(id, s)| SpeakingTime {
                id: *id,
                name: s.name.clone(),
                ms: whole_ms(s.clock.total(now)),
                present: s.present(),
            })
            .collect();
        (speakers, self.active_speaker(now))
    }

    /// When `id`'s voice was last heard in this meeting.
    pub fn last_voice(&self, id: ParticipantId) -> Option<Instant> {
        self.speakers.get(&id).and_then(|s| s.clock.last_voice())
    }

    fn active_speaker(&self, now: Instant) -> Option<ParticipantId> {
        self.speakers
            .iter()
            .filter_map(|(id, s)| s.clock.speaking_since(now).map(|since| (since, *id)))
            .min()
            .map(|(_, id)| id)
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
                .chat_for(ParticipantId(viewer), false)
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
        let chat = meeting.chat_for(ParticipantId(1), false);
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
        assert!(meeting.stats_changed(t0));
        assert!(!meeting.stats_changed(t0), "nothing changed");
        for t in 0..50 {
            let now = t0 + Duration::from_millis(t * 20);
            meeting.audio(now, ParticipantId(1), Some(-20));
            meeting.audio(now, ParticipantId(2), Some(-20));
        }
        let now = t0 + Duration::from_millis(1000);
        assert!(meeting.stats_changed(now));
        let (speakers, active) = meeting.stats_for(now, ParticipantId(2), true);
        assert_eq!(active, Some(ParticipantId(1)));
        assert_eq!(speakers[0].ms, 1000);
        assert_eq!(speakers[1].ms, 0, "muted from the start");
        meeting.leave(now, ParticipantId(1));
        let later = now + Duration::from_secs(5);
        assert!(meeting.stats_changed(later));
        let (speakers, active) = meeting.stats_for(later, ParticipantId(2), false);
        assert_eq!(active, None);
        assert!(!speakers[0].present);
        assert_eq!(speakers[0].ms, 980);
    }

    #[test]
    fn coming_and_going_cannot_grow_the_speaking_list() {
        let t0 = Instant::now();
        let mut meeting = Meeting::default();
        meeting.join(ParticipantId(1), "Berater".into(), false);
        for visitor in 2..10_000 {
            meeting.join(ParticipantId(visitor), format!("Besuch {visitor}"), false);
            meeting.leave(t0, ParticipantId(visitor));
        }
        let (speakers, _) = meeting.stats_for(t0, ParticipantId(1), true);
        assert_eq!(speakers.len(), 1 + DEPARTED_SPEAKERS_MAX);
        assert_eq!(speakers.last().map(|s| s.id), Some(ParticipantId(9_999)));
    }

    #[test]
    fn a_new_family_sees_neither_the_last_familys_chat_nor_their_names() {
        let t0 = Instant::now();
        let mut meeting = Meeting::default();
        let (counselor, first, second) = (ParticipantId(1), ParticipantId(2), ParticipantId(3));
        meeting.join(counselor, "Berater".into(), false);
        meeting.join(first, "Familie Erste".into(), false);
        meeting.post(message(2, None, "unsere Adresse ist ..."));
        meeting.leave(t0, first);
        meeting.join(second, "Familie Zweite".into(), false);
        meeting.post(message(1, None, "Willkommen"));
        let texts: Vec<String> = meeting
            .chat_for(second, false)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["Willkommen"]);
        let names: Vec<String> = meeting
            .stats_for(t0, second, false)
            .0
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["Berater", "Familie Zweite"]);
        assert_eq!(
            meeting.chat_for(counselor, true).len(),
            2,
            "the host keeps the whole day"
        );
        assert_eq!(meeting.stats_for(t0, counselor, true).0.len(), 3);
        // Sent to the waiting room and back: what they saw stays.
        meeting.leave(t0, second);
        meeting.join(second, "Familie Zweite".into(), false);
        assert_eq!(meeting.chat_for(second, false).len(), 1);
    }
}
