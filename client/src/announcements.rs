//! What a screen reader is told as it happens in the room — joins, leaves, raised hands,
//! knocks, chat messages — through one polite live region, whether or not a panel is open.

use crate::i18n::{tf, Key, Lang};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Joined(String),
    Left(String),
    HandRaised(String),
    Knocked(String),
    Message { from: String, text: String },
}

/// Announcements kept: enough that a burst is read out whole, few enough to stay small.
const KEPT: usize = 5;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Announcements {
    /// (sequence number, event), oldest first; the number keys the element so that each
    /// announcement is a new node the screen reader reads once.
    recent: Vec<(u64, Event)>,
    next: u64,
}

impl Announcements {
    pub fn push(&mut self, event: Event) {
        self.recent.push((self.next, event));
        self.next += 1;
        if self.recent.len() > KEPT {
            self.recent.remove(0);
        }
    }

    pub fn recent(&self) -> &[(u64, Event)] {
        &self.recent
    }
}

impl Event {
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Event::Joined(name) => tf(lang, Key::Joined, &[("name", name)]),
            Event::Left(name) => tf(lang, Key::LeftRoom, &[("name", name)]),
            Event::HandRaised(name) => tf(lang, Key::HandRaisedBy, &[("name", name)]),
            Event::Knocked(name) => tf(lang, Key::KnockAnnounce, &[("name", name)]),
            Event::Message { from, text } => {
                tf(lang, Key::MessageFrom, &[("name", from), ("text", text)])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_are_kept_and_each_has_its_own_number() {
        let mut announcements = Announcements::default();
        for i in 0..7 {
            announcements.push(Event::Joined(format!("P{i}")));
        }
        let recent = announcements.recent();
        assert_eq!(recent.len(), KEPT);
        assert_eq!(recent[0], (2, Event::Joined("P2".into())));
        assert_eq!(recent[4].0, 6);
    }

    #[test]
    fn announcements_name_the_person() {
        assert_eq!(
            Event::Joined("Ben".into()).text(Lang::De),
            "Ben ist beigetreten"
        );
        assert_eq!(
            Event::Message {
                from: "Anna".into(),
                text: "Hallo".into()
            }
            .text(Lang::De),
            "Nachricht von Anna: Hallo"
        );
    }
}
