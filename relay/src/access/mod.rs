//! Who may enter a room and as what: host-link and invitation tokens, meeting passwords,
//! and the operator's policy (open or configured rooms, guests waiting for a host).

pub mod password;
pub mod token;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};

pub use password::{CheckError, PasswordDigest, PasswordGuard};
pub use token::{Grant, LinkRole, TokenError, TokenId, TokenSecret};

/// File in the data directory holding the generated token secret when none is configured.
pub const SECRET_FILE: &str = "token-secret";

/// The operator's rules for rooms and guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Any valid room name opens a room (`true`), or only rooms added with `room add`.
    pub open_rooms: bool,
    /// Guests wait in the waiting room until a host is there.
    pub guests_wait_for_host: bool,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            open_rooms: true,
            guests_wait_for_host: false,
        }
    }
}

/// Everything signaling needs to let someone in, shared by all connections.
#[derive(Clone)]
pub struct Doorkeeper {
    pub secret: TokenSecret,
    pub policy: AccessPolicy,
    pub passwords: PasswordGuard,
    /// The configured rooms (only read when rooms are not open).
    pub store: Arc<Mutex<crate::store::Store>>,
}

impl Doorkeeper {
    /// Whether `room` may be opened: any room when rooms are open, else only added ones.
    pub async fn room_allowed(&self, room: &sprechstunde_shared::RoomName) -> anyhow::Result<bool> {
        if self.policy.open_rooms {
            return Ok(true);
        }
        let store = self.store.clone();
        let room = room.clone();
        tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .map_err(|_| anyhow::anyhow!("room store unavailable"))?;
            store.room_exists(&room)
        })
        .await?
    }
}

/// How someone joins, after their token (if any) was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Guest,
    Link(Grant),
}

impl Entry {
    pub fn is_host(self) -> bool {
        matches!(self, Entry::Link(g) if g.role == LinkRole::Host)
    }

    /// Invited by link (an interpreter's link is an invitation too): no knocking.
    pub fn is_invited(self) -> bool {
        matches!(self, Entry::Link(g) if matches!(g.role, LinkRole::Invited | LinkRole::Interpreter))
    }

    /// An invitation made for a meeting with a password.
    pub fn needs_password(self) -> bool {
        matches!(self, Entry::Link(g) if g.needs_password)
    }

    pub fn is_interpreter(self) -> bool {
        matches!(self, Entry::Link(g) if g.role == LinkRole::Interpreter)
    }

    pub fn token_id(self) -> Option<TokenId> {
        match self {
            Entry::Guest => None,
            Entry::Link(grant) => Some(grant.id),
        }
    }
}

/// A room link carrying `token`. The token is in the fragment: browsers never send it, so it
/// appears in no request and no log. `lang` suggests the page's language (`?lang=`).
pub fn link_url(
    base: &str,
    room: &sprechstunde_shared::RoomName,
    role: LinkRole,
    token: &str,
    lang: Option<&str>,
) -> String {
    let query = lang.map(|l| format!("?lang={l}")).unwrap_or_default();
    format!(
        "{}/r/{room}{query}#{}={token}",
        base.trim_end_matches('/'),
        role.fragment_key()
    )
}

/// The configured secret, or the one generated in the data directory on first use
/// (readable by the relay's user only).
pub fn load_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<TokenSecret> {
    if let Some(secret) = configured {
        return TokenSecret::new(secret.as_bytes().to_vec()).with_context(|| {
            format!(
                "token_secret must have at least {} characters",
                token::SECRET_MIN_BYTES
            )
        });
    }
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => TokenSecret::new(bytes).with_context(|| {
            format!(
                "{} is too short; delete it to make a new one",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create {}", data_dir.display()))?;
            let mut bytes = vec![0u8; 32];
            getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            write_private(&path, &bytes)?;
            TokenSecret::new(bytes).context("generated secret")
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} appeared while creating it; start again", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_kept_and_private() {
        let dir = std::env::temp_dir().join(format!("sprechstunde-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let room = sprechstunde_shared::RoomName::parse("r").expect("room");
        let first = load_secret(None, &dir).expect("generated");
        let token = first.issue(&room, LinkRole::Host, u64::MAX, TokenId([1; 16]));
        let again = load_secret(None, &dir).expect("read back");
        assert!(again.verify(&token, &room, 0).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(SECRET_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the secret");
        }
        assert!(load_secret(Some("short"), &dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
