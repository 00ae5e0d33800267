//! Link tokens: a host link or a guest invitation for one room, signed with HMAC-SHA256 and
//! valid until a fixed time. The format names its version (`v1`), and `v1` means HMAC-SHA256;
//! nothing in a token can choose another algorithm.
//!
//! `v1.<payload>.<mac>`, both base64url without padding; the payload is
//! `<role>:<room>:<expiry unix seconds>:<id hex>`, and for a link bound to an appointment
//! `:<start unix seconds>` after it: such a link opens [`EARLY_ENTRY_SECS`] before the start.
//! An invitation to a meeting with a password ends in `:p` (the start field may be empty then):
//! it lets one in without knocking only once a host has set the password and it was given.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sprechstunde_shared::RoomName;

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "v1";
/// Longer than any token this relay issues; longer input is refused before decoding.
pub const TOKEN_MAX_LEN: usize = 300;
/// How long before an appointment its links let one in.
pub const EARLY_ENTRY_SECS: u64 = 15 * 60;
/// Shortest secret accepted from the configuration.
pub const SECRET_MIN_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkRole {
    Host,
    /// A guest invited by link: let in without knocking.
    Invited,
    /// An interpreter invited by link: let in without knocking, marked as interpreter.
    Interpreter,
}

impl LinkRole {
    fn as_str(self) -> &'static str {
        match self {
            LinkRole::Host => "host",
            LinkRole::Invited => "invite",
            LinkRole::Interpreter => "interpret",
        }
    }

    fn parse(s: &str) -> Option<LinkRole> {
        match s {
            "host" => Some(LinkRole::Host),
            "invite" => Some(LinkRole::Invited),
            "interpret" => Some(LinkRole::Interpreter),
            _ => None,
        }
    }

    /// The link fragment's key (`#host=...`, `#invite=...`).
    pub fn fragment_key(self) -> &'static str {
        self.as_str()
    }
}

/// Identifies one issued token, so a removed participant's token can be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub [u8; 16]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub role: LinkRole,
    pub id: TokenId,
    /// Unix seconds.
    pub expires: u64,
    /// The appointment's start (unix seconds), for a link bound to one.
    pub starts: Option<u64>,
    /// Made for a meeting with a password (see the module's text).
    pub needs_password: bool,
}

/// What binds a link beyond its room, role and expiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkTerms {
    /// The appointment's start (unix seconds).
    pub starts: Option<u64>,
    pub needs_password: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this format, or a signature that does not match.
    Invalid,
    Expired,
    OtherRoom,
    /// The appointment starts at `starts` (unix seconds); too early to come in.
    NotYet {
        starts: u64,
    },
}

#[derive(Clone)]
pub struct TokenSecret(Vec<u8>);

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(..)")
    }
}

impl TokenSecret {
    pub fn new(bytes: Vec<u8>) -> Option<TokenSecret> {
        (bytes.len() >= SECRET_MIN_BYTES).then_some(TokenSecret(bytes))
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        match HmacSha256::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts every key length"),
        }
    }

    pub fn issue(&self, room: &RoomName, role: LinkRole, expires: u64, id: TokenId) -> String {
        self.issue_for(room, role, expires, id, LinkTerms::default())
    }

    /// A token bound by `terms` too.
    pub fn issue_for(
        &self,
        room: &RoomName,
        role: LinkRole,
        expires: u64,
        id: TokenId,
        terms: LinkTerms,
    ) -> String {
        let id_hex: String = id.0.iter().map(|b| format!("{b:02x}")).collect();
        let mut payload = format!("{}:{}:{expires}:{id_hex}", role.as_str(), room.as_str());
        let starts = terms.starts.map(|s| s.to_string()).unwrap_or_default();
        if terms.needs_password {
            payload.push_str(&format!(":{starts}:p"));
        } else if terms.starts.is_some() {
            payload.push_str(&format!(":{starts}"));
        }
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = mac.finalize().into_bytes();
        format!(
            "{VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Checks the signature first (in constant time), then room and expiry.
    pub fn verify(&self, token: &str, room: &RoomName, now: u64) -> Result<Grant, TokenError> {
        if token.len() > TOKEN_MAX_LEN {
            return Err(TokenError::Invalid);
        }
        let mut parts = token.split('.');
        let (Some(VERSION), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        // Signed by us: the payload has our format.
        let payload = std::str::from_utf8(&payload).map_err(|_| TokenError::Invalid)?;
        let mut fields = payload.split(':');
        let (Some(role), Some(token_room), Some(expires), Some(id_hex), starts, flag, None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(TokenError::Invalid);
        };
        let starts = match starts {
            None | Some("") => None,
            Some(starts) => Some(starts.parse::<u64>().map_err(|_| TokenError::Invalid)?),
        };
        let needs_password = match flag {
            None => false,
            Some("p") => true,
            Some(_) => return Err(TokenError::Invalid),
        };
        let role = LinkRole::parse(role).ok_or(TokenError::Invalid)?;
        let expires: u64 = expires.parse().map_err(|_| TokenError::Invalid)?;
        let id = parse_id(id_hex).ok_or(TokenError::Invalid)?;
        if token_room != room.as_str() {
            return Err(TokenError::OtherRoom);
        }
        if now >= expires {
            return Err(TokenError::Expired);
        }
        if let Some(starts) = starts {
            if now.saturating_add(EARLY_ENTRY_SECS) < starts {
                return Err(TokenError::NotYet { starts });
            }
        }
        Ok(Grant {
            role,
            id,
            expires,
            starts,
            needs_password,
        })
    }
}

fn parse_id(hex: &str) -> Option<TokenId> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(TokenId(id))
}

/// A fresh random token id.
pub fn new_token_id() -> anyhow::Result<TokenId> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(TokenId(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TokenSecret {
        TokenSecret::new(vec![7; 32]).expect("long enough")
    }

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("room")
    }

    const ID: TokenId = TokenId([0xab; 16]);

    #[test]
    fn an_issued_token_verifies_for_its_room_until_it_expires() {
        let token = secret().issue(&room("beratung"), LinkRole::Host, 1000, ID);
        assert_eq!(
            secret().verify(&token, &room("beratung"), 999),
            Ok(Grant {
                role: LinkRole::Host,
                id: ID,
                expires: 1000,
                starts: None,
                needs_password: false,
            })
        );
        assert_eq!(
            secret().verify(&token, &room("beratung"), 1000),
            Err(TokenError::Expired)
        );
        assert_eq!(
            secret().verify(&token, &room("andere"), 10),
            Err(TokenError::OtherRoom)
        );
    }

    #[test]
    fn an_appointment_link_opens_shortly_before_the_start() {
        let starts = 100_000;
        let token = secret().issue_for(
            &room("beratung"),
            LinkRole::Invited,
            starts + 3600,
            ID,
            LinkTerms {
                starts: Some(starts),
                needs_password: false,
            },
        );
        let at = |now| secret().verify(&token, &room("beratung"), now);
        assert_eq!(
            at(starts - EARLY_ENTRY_SECS - 1),
            Err(TokenError::NotYet { starts })
        );
        assert_eq!(
            at(starts - EARLY_ENTRY_SECS).map(|g| g.starts),
            Ok(Some(starts))
        );
        assert_eq!(at(starts + 3599).map(|g| g.role), Ok(LinkRole::Invited));
        assert_eq!(at(starts + 3600), Err(TokenError::Expired));
        // The start is signed: moving it earlier breaks the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let payload =
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("utf-8");
        let earlier = payload.replace(&format!(":{starts}"), ":1");
        let forged = format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(earlier), parts[2]);
        assert_eq!(
            secret().verify(&forged, &room("beratung"), 10),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_invitation_names_the_meetings_password_and_the_mark_is_signed() {
        let issue = |starts| {
            secret().issue_for(
                &room("beratung"),
                LinkRole::Invited,
                5000,
                ID,
                LinkTerms {
                    starts,
                    needs_password: true,
                },
            )
        };
        for starts in [None, Some(1000)] {
            let token = issue(starts);
            let grant = secret().verify(&token, &room("beratung"), 1000);
            assert_eq!(
                grant.map(|g| (g.needs_password, g.starts)),
                Ok((true, starts))
            );
            // Dropping the mark breaks the signature.
            let parts: Vec<&str> = token.split('.').collect();
            let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).expect("base64"))
                .expect("utf-8");
            let unmarked = payload.trim_end_matches(":p").to_string();
            assert_ne!(unmarked, payload);
            let forged = format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(unmarked), parts[2]);
            assert_eq!(
                secret().verify(&forged, &room("beratung"), 1000),
                Err(TokenError::Invalid)
            );
        }
        let plain = secret().issue(&room("beratung"), LinkRole::Invited, 5000, ID);
        assert_eq!(
            secret()
                .verify(&plain, &room("beratung"), 1000)
                .map(|g| g.needs_password),
            Ok(false)
        );
    }

    #[test]
    fn forged_and_altered_tokens_are_refused() {
        let token = secret().issue(&room("beratung"), LinkRole::Invited, 1000, ID);
        let other_secret = TokenSecret::new(vec![8; 32]).expect("long enough");
        assert_eq!(
            other_secret.verify(&token, &room("beratung"), 1),
            Err(TokenError::Invalid)
        );
        // Upgrade the role and the expiry, keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(format!("host:beratung:99999999999:{}", "ab".repeat(16)));
        let forged = format!("v1.{forged_payload}.{}", parts[2]);
        assert_eq!(
            secret().verify(&forged, &room("beratung"), 1),
            Err(TokenError::Invalid)
        );
        for bad in [
            "",
            "v1",
            "v1..",
            "v2.a.b",
            "v1.!!.??",
            &format!("{token}.x"),
            &"v1.".repeat(200),
        ] {
            assert_eq!(
                secret().verify(bad, &room("beratung"), 1),
                Err(TokenError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenSecret::new(vec![1; SECRET_MIN_BYTES - 1]).is_none());
    }
}
