//! What must hold for any input a client can send, whatever its bytes: checked by proptest
//! here and by `cargo fuzz` (`fuzz/fuzz_targets/protocol_decode.rs`) on the same functions.

use crate::names::{is_bidi_control, is_invisible};
use crate::{ChatText, ClientMessage, DisplayName, EmailAddress, RoomName, CHAT_TEXT_MAX};

/// Decoding never panics, and whatever decodes encodes back to the same message.
pub fn decode_round_trips(bytes: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    let Ok(message) = ClientMessage::from_json(text) else {
        return Ok(());
    };
    let again = ClientMessage::from_json(&message.to_json())
        .map_err(|e| format!("{message:?} does not decode after encoding: {e}"))?;
    if again != message {
        return Err(format!("{message:?} came back as {again:?}"));
    }
    Ok(())
}

fn hidden(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Every text a person can enter is cleaned once and for all: within its limit, without
/// control or direction-changing characters, and cleaning it again changes nothing.
pub fn text_inputs_are_clean(raw: &str) -> Result<(), String> {
    if let Ok(name) = DisplayName::parse(raw) {
        let text = name.as_str();
        if text.chars().any(|c| hidden(c) || is_invisible(c))
            || text.chars().count() > crate::names::DISPLAY_NAME_MAX
        {
            return Err(format!("display name {text:?} from {raw:?}"));
        }
        if DisplayName::parse(text).as_ref().map(DisplayName::as_str) != Ok(text) {
            return Err(format!("display name {text:?} changes when cleaned again"));
        }
    }
    if let Ok(chat) = ChatText::parse(raw) {
        let text = chat.as_str();
        let bad = text.chars().any(|c| hidden(c) && !matches!(c, '\n' | '\t'));
        if bad || text.chars().count() > CHAT_TEXT_MAX || text.trim() != text {
            return Err(format!("chat text {text:?} from {raw:?}"));
        }
        if ChatText::parse(text).as_ref().map(ChatText::as_str) != Ok(text) {
            return Err(format!("chat text {text:?} changes when cleaned again"));
        }
    }
    if let Ok(room) = RoomName::parse(raw) {
        let text = room.as_str();
        let valid = text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid || text.is_empty() || text.len() > crate::names::ROOM_NAME_MAX {
            return Err(format!("room name {text:?} from {raw:?}"));
        }
    }
    if let Ok(email) = EmailAddress::parse(raw) {
        let text = email.into_string();
        if text.chars().any(|c| hidden(c) || c.is_whitespace()) {
            return Err(format!("e-mail {text:?} from {raw:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the characters that make cleaning hard: letters and their combining
    /// accents, controls, direction overrides, odd spaces.
    fn tricky_text() -> impl Strategy<Value = String> {
        let pieces = vec![
            'e',
            'E',
            'a',
            '-',
            '_',
            '@',
            '.',
            ' ',
            '\t',
            '\n',
            '\r',
            '\u{0}',
            '\u{7f}',
            '\u{0301}',
            '\u{0308}',
            '\u{00e9}',
            '\u{00a0}',
            '\u{2003}',
            '\u{200b}',
            '\u{200e}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{061c}',
            '\u{1f600}',
        ];
        proptest::collection::vec(prop::sample::select(pieces), 0..80)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn any_bytes_decode_safely(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert_eq!(decode_round_trips(&bytes), Ok(()));
        }

        #[test]
        fn messages_shaped_like_the_protocol_round_trip(
            kind in prop::sample::select(vec!["join", "chat", "set_hand", "moderate", "offer", "set_room_info", "ping"]),
            text in "\\PC{0,40}",
            flag in any::<bool>(),
            number in any::<u32>(),
        ) {
            let fields = serde_json::json!({
                "version": number, "room": text, "name": text, "text": text,
                "raised": flag, "participant": number, "action": "mute",
                "sdp": text, "topic": text, "to": null
            });
            let mut message = serde_json::Map::new();
            message.insert(kind.to_string(), fields);
            let json = serde_json::Value::Object(message);
            prop_assert_eq!(decode_round_trips(json.to_string().as_bytes()), Ok(()));
        }

        #[test]
        fn every_text_input_is_clean(raw in prop_oneof![any::<String>(), tricky_text()]) {
            prop_assert_eq!(text_inputs_are_clean(&raw), Ok(()));
        }
    }
}
