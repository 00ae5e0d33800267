//! Desk sessions: a random 256-bit secret in an `HttpOnly`, `SameSite=Strict` cookie. The
//! relay keeps only its SHA-256, in memory (a restart signs everyone out), with the staff
//! member's credential version, so a password reset or a removal ends it at the next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "sprechstunde_desk";
/// A session unused this long has ended.
pub const IDLE: Duration = Duration::from_secs(60 * 60);
/// Sessions at most; beyond, idle ones are dropped first, then sign-ins wait.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOf {
    pub login: String,
    pub credential_version: i64,
}

struct Entry {
    of: SessionOf,
    last_used: Instant,
}

#[derive(Clone, Default)]
pub struct Sessions(Arc<Mutex<HashMap<[u8; 32], Entry>>>);

fn key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Sessions {
    /// A new session's secret, for the cookie; `None` when the table is full.
    pub fn start(&self, of: SessionOf, now: Instant) -> Option<String> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).ok()?;
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        let mut sessions = self.0.lock().ok()?;
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, e| now.saturating_duration_since(e.last_used) < IDLE);
            if sessions.len() >= MAX_SESSIONS {
                return None;
            }
        }
        sessions.insert(key(&secret), Entry { of, last_used: now });
        Some(secret)
    }

    /// Whose session this is, if it has not ended; `touch` counts the request as activity.
    pub fn find(&self, secret: &str, now: Instant, touch: bool) -> Option<SessionOf> {
        let mut sessions = self.0.lock().ok()?;
        let key = key(secret);
        let entry = sessions.get_mut(&key)?;
        if now.saturating_duration_since(entry.last_used) >= IDLE {
            sessions.remove(&key);
            return None;
        }
        if touch {
            entry.last_used = now;
        }
        Some(entry.of.clone())
    }

    pub fn end(&self, secret: &str) {
        if let Ok(mut sessions) = self.0.lock() {
            sessions.remove(&key(secret));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> SessionOf {
        SessionOf {
            login: "anna".into(),
            credential_version: 0,
        }
    }

    #[test]
    fn a_session_ends_when_idle_or_signed_out() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let secret = sessions.start(anna(), start).expect("session");
        assert_eq!(secret.len(), 43, "256 bits in base64url");
        assert_eq!(sessions.find(&secret, start, true), Some(anna()));
        // Activity keeps it; a look without activity does not.
        let later = start + IDLE - Duration::from_secs(1);
        assert!(sessions.find(&secret, later, true).is_some());
        assert!(sessions
            .find(&secret, later + IDLE - Duration::from_secs(1), false)
            .is_some());
        assert!(sessions.find(&secret, later + IDLE, false).is_none());
        let secret = sessions.start(anna(), start).expect("session");
        sessions.end(&secret);
        assert!(sessions.find(&secret, start, true).is_none());
        assert!(sessions.find("guessed", start, true).is_none());
    }
}
