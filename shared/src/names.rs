//! Validation of room names and display names, shared so that the client can tell the user
//! before the relay refuses.

use std::fmt;

pub const ROOM_NAME_MAX: usize = 64;
/// The longest e-mail address that can be delivered (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
pub const DISPLAY_NAME_MAX: usize = 64;

/// A room name: 1-64 ASCII letters, digits, `-` and `_`; case-insensitive, so stored in
/// lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

/// A display name with control and bidi-override characters removed and whitespace
/// collapsed; 1-64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

/// An e-mail address as a person types it: one `@` between a local part and a domain with a
/// dot, no spaces or control characters, at most 254 characters. Whether it exists is not
/// checked (nothing is ever sent to it by the relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if raw.chars().count() > EMAIL_MAX {
            return Err(NameError::TooLong);
        }
        let valid_chars = raw
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !is_bidi_control(c));
        let shape = raw.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
        if !valid_chars || !shape {
            return Err(NameError::InvalidCharacter);
        }
        Ok(EmailAddress(raw.to_string()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    InvalidCharacter,
}

impl RoomName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if raw.chars().count() > ROOM_NAME_MAX {
            return Err(NameError::TooLong);
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(NameError::InvalidCharacter);
        }
        Ok(RoomName(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that would let a name reorder or hide surrounding text.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing and are never part of a name: they would make a blank name,
/// or two names that look alike but differ (zero-width space, word joiner, byte-order mark,
/// soft hyphen, fillers, the tag block).
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Zero-width joiner and non-joiner: Persian writing and emoji need them between two
/// characters; anywhere else they only hide.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Joiners kept only where they join two visible characters.
fn joiners_only_between_characters(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let visible = |c: Option<&char>| c.is_some_and(|c| !c.is_whitespace() && !is_joiner(*c));
    chars
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            !is_joiner(**c)
                || (visible(i.checked_sub(1).and_then(|p| chars.get(p)))
                    && visible(chars.get(i + 1)))
        })
        .map(|(_, c)| *c)
        .collect()
}

/// NFC (with the `nfc` feature, as in the relay), so that "é" typed two ways is one name.
#[cfg(feature = "nfc")]
pub(crate) fn normalise(raw: &str) -> impl Iterator<Item = char> + '_ {
    unicode_normalization::UnicodeNormalization::nfc(raw)
}

#[cfg(not(feature = "nfc"))]
pub(crate) fn normalise(raw: &str) -> impl Iterator<Item = char> + '_ {
    raw.chars()
}

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        // Hidden characters out first: one between a letter and its accent would keep NFC
        // from composing them, and the name would change when cleaned again.
        let visible: String = raw
            .chars()
            .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_invisible(*c))
            .collect();
        let cleaned: String = normalise(&visible).collect();
        let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        let collapsed = joiners_only_between_characters(&collapsed);
        // A joiner dropped next to a space may leave two spaces or an edge one.
        let collapsed = collapsed.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(NameError::Empty);
        }
        if collapsed.chars().count() > DISPLAY_NAME_MAX {
            return Err(NameError::TooLong);
        }
        Ok(DisplayName(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_are_case_insensitive_and_limited() {
        assert_eq!(
            RoomName::parse("Beratung_7-A").map(|r| r.0),
            Ok("beratung_7-a".into())
        );
        assert_eq!(RoomName::parse(" x ").map(|r| r.0), Ok("x".into()));
        assert_eq!(RoomName::parse(""), Err(NameError::Empty));
        assert!(RoomName::parse(&"a".repeat(64)).is_ok());
        assert_eq!(RoomName::parse(&"a".repeat(65)), Err(NameError::TooLong));
        for bad in ["a b", "../etc", "räume", "a/b", "a?b", "a.b"] {
            assert_eq!(
                RoomName::parse(bad),
                Err(NameError::InvalidCharacter),
                "{bad}"
            );
        }
    }

    #[test]
    fn email_addresses_have_one_at_and_a_domain() {
        assert_eq!(
            EmailAddress::parse(" familie.oez@example.de ").map(EmailAddress::into_string),
            Ok("familie.oez@example.de".into())
        );
        assert!(EmailAddress::parse("ö@beispiel.de").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.de",
            "a@@b.de",
            "a b@c.de",
            "a@b\u{7}.de",
            "a@.de",
            "a@de.",
            "a\u{202E}@b.de",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            EmailAddress::parse(&format!("{}@b.de", "a".repeat(250))),
            Err(NameError::TooLong)
        );
    }

    #[test]
    #[cfg(feature = "nfc")]
    fn display_names_are_normalised_to_nfc() {
        let decomposed = "Rene\u{0301}";
        let composed = "Ren\u{00e9}";
        assert_eq!(DisplayName::parse(decomposed), DisplayName::parse(composed));
        assert_eq!(
            DisplayName::parse(decomposed).map(|n| n.0.chars().count()),
            Ok(4)
        );
        // A hidden character between letter and accent does not keep them apart.
        let split = "Rene\u{0000}\u{0301}";
        assert_eq!(DisplayName::parse(split), DisplayName::parse(composed));
        assert_eq!(
            crate::ChatText::parse(split).map(|t| t.into_string()),
            Ok(composed.to_string())
        );
    }

    #[test]
    fn display_names_lose_controls_and_bidi_overrides() {
        let name = DisplayName::parse("  Ay\u{202E}şe\n\t Yılmaz\u{0007} ").map(|n| n.0);
        assert_eq!(name, Ok("Ayşe Yılmaz".into()));
        assert_eq!(DisplayName::parse("محمد").map(|n| n.0), Ok("محمد".into()));
        assert_eq!(DisplayName::parse(" \u{202E} "), Err(NameError::Empty));
        assert!(DisplayName::parse(&"ü".repeat(64)).is_ok());
        assert_eq!(DisplayName::parse(&"ü".repeat(65)), Err(NameError::TooLong));
    }

    #[test]
    fn names_cannot_be_blank_or_look_alike_through_invisible_characters() {
        for blank in [
            "\u{200B}",
            "\u{2060}\u{FEFF}",
            "\u{E0041}\u{E0042}",
            "\u{3164}",
            " \u{200C} ",
        ] {
            assert_eq!(
                DisplayName::parse(blank),
                Err(NameError::Empty),
                "{blank:?}"
            );
        }
        let plain = DisplayName::parse("Anna Berg").map(|n| n.0);
        for look_alike in [
            "An\u{200B}na Berg",
            "Anna\u{2060} Berg",
            "\u{FEFF}Anna Berg",
            "Anna Berg\u{E0020}",
            "An\u{00AD}na Berg",
            "Anna \u{200D}Berg",
        ] {
            assert_eq!(
                DisplayName::parse(look_alike).map(|n| n.0),
                plain,
                "{look_alike:?}"
            );
        }
        // Persian needs the non-joiner inside a word; emoji sequences need the joiner.
        let persian = "\u{0645}\u{06CC}\u{200C}\u{0631}\u{0648}\u{062F}";
        assert_eq!(
            DisplayName::parse(persian).map(|n| n.0),
            Ok(persian.to_string())
        );
        let family = "\u{1F469}\u{200D}\u{1F467}";
        assert_eq!(
            DisplayName::parse(family).map(|n| n.0),
            Ok(family.to_string())
        );
    }
}
