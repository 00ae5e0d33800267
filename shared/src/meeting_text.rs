//! What a meeting shows about itself: its topic, its description and the message for those
//! waiting. Set by the operator's configuration or by a host in the meeting, cleaned and
//! limited the same way either way (like chat text; the topic on one line).

use std::fmt;

use crate::chat::{ChatText, ChatTextError};

pub const TOPIC_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;
pub const WAITING_MESSAGE_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingText {
    Topic,
    Description,
    WaitingMessage,
}

/// A text over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong(pub MeetingText);

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} has at most {} characters",
            self.0.label(),
            self.0.max_chars()
        )
    }
}

impl std::error::Error for TooLong {}

impl MeetingText {
    pub fn max_chars(self) -> usize {
        match self {
            MeetingText::Topic => TOPIC_MAX,
            MeetingText::Description => DESCRIPTION_MAX,
            MeetingText::WaitingMessage => WAITING_MESSAGE_MAX,
        }
    }

    /// How developers' messages and configuration errors name it.
    pub fn label(self) -> &'static str {
        match self {
            MeetingText::Topic => "topic",
            MeetingText::Description => "description",
            MeetingText::WaitingMessage => "waiting-room message",
        }
    }

    /// The cleaned text, `None` when nothing is left of it.
    pub fn clean(self, raw: &str) -> Result<Option<String>, TooLong> {
        let text = match ChatText::parse(raw) {
            Ok(text) => text.into_string(),
            Err(ChatTextError::Empty) => return Ok(None),
            Err(ChatTextError::TooLong) => return Err(TooLong(self)),
        };
        let text = match self {
            MeetingText::Topic => text.split_whitespace().collect::<Vec<_>>().join(" "),
            MeetingText::Description | MeetingText::WaitingMessage => text,
        };
        if text.chars().count() > self.max_chars() {
            return Err(TooLong(self));
        }
        Ok(Some(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cleaned_like_chat_and_the_topic_is_one_line() {
        assert_eq!(
            MeetingText::Topic.clean("  Anmeldung\n\u{202e}Grundschule \u{7} "),
            Ok(Some("Anmeldung Grundschule".to_string()))
        );
        assert_eq!(
            MeetingText::Description.clean("Erste Zeile\nzweite"),
            Ok(Some("Erste Zeile\nzweite".to_string()))
        );
        assert_eq!(MeetingText::WaitingMessage.clean(" \u{200e} "), Ok(None));
    }

    #[test]
    fn each_text_has_its_limit() {
        for (what, max) in [
            (MeetingText::Topic, TOPIC_MAX),
            (MeetingText::Description, DESCRIPTION_MAX),
            (MeetingText::WaitingMessage, WAITING_MESSAGE_MAX),
        ] {
            assert!(what.clean(&"ü".repeat(max)).is_ok());
            let error = what.clean(&"ü".repeat(max + 1));
            assert_eq!(error, Err(TooLong(what)));
            assert!(TooLong(what).to_string().contains(&max.to_string()));
        }
        assert_eq!(
            MeetingText::Description.clean(&"x".repeat(20_000)),
            Err(TooLong(MeetingText::Description))
        );
    }
}
