//! An external TURN server the operator already runs (coturn), for networks where neither
//! UDP nor ICE-TCP on the web port reaches the relay. The relay shares a secret with it
//! (coturn's `use-auth-secret`, the "TURN REST API") and mints each admitted participant a
//! credential that expires: `username` is `expiry:participant`, the password the base64
//! HMAC-SHA1 of the username under the secret. Nothing is stored; coturn checks the MAC.
//! Which peers the TURN server may relay to is its own configuration: only the relay's media
//! addresses (see the README), so that it is never an open relay.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sprechstunde_shared::{IceServer, ParticipantId};

/// How long a minted credential lets its holder allocate and refresh. coturn checks it on
/// every refresh, so it must outlast a counseling session.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3 * 3600);

#[derive(Clone)]
pub struct TurnServers {
    urls: Vec<String>,
    secret: String,
    ttl: Duration,
}

impl std::fmt::Debug for TurnServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnServers")
            .field("urls", &self.urls)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TurnServers {
    /// `urls`: `turn:` / `turns:` URLs; `secret`: coturn's `static-auth-secret`.
    pub fn new(urls: Vec<String>, secret: String, ttl: Duration) -> anyhow::Result<TurnServers> {
        if urls.is_empty() {
            anyhow::bail!("turn-url: give at least one turn: or turns: URL");
        }
        if let Some(url) = urls
            .iter()
            .find(|u| !(u.starts_with("turn:") || u.starts_with("turns:")))
        {
            anyhow::bail!("turn-url {url:?}: a TURN URL starts with turn: or turns:");
        }
        if secret.len() < 16 {
            anyhow::bail!("turn-secret: at least 16 characters (coturn's static-auth-secret)");
        }
        Ok(TurnServers { urls, secret, ttl })
    }

    /// A credential for participant `id`, valid from `now_unix` (seconds) for the TTL.
    pub fn mint(&self, now_unix: u64, id: ParticipantId) -> IceServer {
        let expiry = now_unix + self.ttl.as_secs();
        let username = format!("{expiry}:{}", id.0);
        IceServer {
            urls: self.urls.clone(),
            credential: credential(&self.secret, &username),
            username,
        }
    }
}

fn credential(secret: &str, username: &str) -> String {
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Seconds since the Unix epoch, for credential expiry.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_coturns_rest_api_format() {
        // base64(HMAC-SHA1(secret, "expiry:user")), checked against a value computed with
        // `printf '1700003600:7' | openssl dgst -sha1 -hmac 'geheimnis-fuer-turn' -binary | base64`.
        let servers = TurnServers::new(
            vec!["turn:turn.example.org:3478?transport=tcp".into()],
            "geheimnis-fuer-turn".into(),
            Duration::from_secs(3600),
        )
        .expect("valid");
        let server = servers.mint(1_700_000_000, ParticipantId(7));
        assert_eq!(server.username, "1700003600:7");
        assert_eq!(server.credential, OPENSSL_REFERENCE);
        assert_eq!(server.urls, ["turn:turn.example.org:3478?transport=tcp"]);
    }

    const OPENSSL_REFERENCE: &str = "6H8aOFgX3Swa+NL0VcU4cgzmYfU=";

    #[test]
    fn bad_settings_are_refused() {
        let ttl = DEFAULT_TTL;
        assert!(TurnServers::new(vec![], "x".repeat(16), ttl).is_err());
        assert!(TurnServers::new(vec!["stun:a".into()], "x".repeat(16), ttl).is_err());
        assert!(TurnServers::new(vec!["turn:a".into()], "short".into(), ttl).is_err());
    }
}
