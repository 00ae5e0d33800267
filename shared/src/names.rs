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
            .filter(|c| !c.is_control() && !is_bidi_control(*c))
            .collect();
        let cleaned: String = normalise(&visible).collect();
        let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
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
}
