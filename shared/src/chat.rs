//! Chat text: what a message may contain, and the plain-text transcript a participant can
//! download. Shared so that the client can tell the user before the relay refuses.

use crate::names::is_bidi_control;

/// Longest chat message, in characters.
pub const CHAT_TEXT_MAX: usize = 10_000;

/// A chat message's text (NFC with the `nfc` feature): control characters other than line breaks and tabs removed, bidi
/// overrides removed, surrounding whitespace trimmed; 1 to [`CHAT_TEXT_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatText(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTextError {
    Empty,
    TooLong,
}

impl ChatText {
    pub fn parse(raw: &str) -> Result<Self, ChatTextError> {
        let visible: String = raw
            .chars()
            .filter(|c| (!c.is_control() || matches!(c, '\n' | '\t')) && !is_bidi_control(*c))
            .collect();
        let cleaned: String = crate::names::normalise(&visible).collect();
        let trimmed = cleaned.trim();
        if trimmed.is_empty() {
            return Err(ChatTextError::Empty);
        }
        if trimmed.chars().count() > CHAT_TEXT_MAX {
            return Err(ChatTextError::TooLong);
        }
        Ok(ChatText(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// One line of a downloaded chat transcript: `time  sender: text`, or for a private message
/// `time  sender → receiver (private_label): text`. Line breaks inside a message are
/// indented so every message starts a line of its own.
pub fn transcript_line(
    time: &str,
    sender: &str,
    private_to: Option<(&str, &str)>,
    text: &str,
) -> String {
    let text = text.replace("\r\n", "\n").replace('\n', "\n    ");
    match private_to {
        Some((receiver, private_label)) => {
            format!("{time}  {sender} → {receiver} ({private_label}): {text}")
        }
        None => format!("{time}  {sender}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_oversized_messages_are_refused() {
        assert_eq!(ChatText::parse(""), Err(ChatTextError::Empty));
        assert_eq!(ChatText::parse(" \n\t \u{202E}"), Err(ChatTextError::Empty));
        assert!(ChatText::parse(&"ä".repeat(CHAT_TEXT_MAX)).is_ok());
        assert_eq!(
            ChatText::parse(&"ä".repeat(CHAT_TEXT_MAX + 1)),
            Err(ChatTextError::TooLong)
        );
    }

    #[test]
    fn line_breaks_stay_other_controls_go() {
        let text = ChatText::parse("  Hallo\u{0007}\nwelt\u{202E}!\t ").map(|t| t.0);
        assert_eq!(text, Ok("Hallo\nwelt!".into()));
    }

    #[test]
    fn transcript_lines_name_sender_and_private_receiver() {
        assert_eq!(
            transcript_line("10:00:00", "Ayşe", None, "Guten Tag"),
            "10:00:00  Ayşe: Guten Tag"
        );
        assert_eq!(
            transcript_line("10:00:01", "Ayşe", Some(("Berater", "privat")), "a\nb"),
            "10:00:01  Ayşe → Berater (privat): a\n    b"
        );
    }
}
