//! Meeting passwords: an argon2id hash kept in memory for the running meeting, checked off the
//! media loop, with a cap on concurrent hash operations and limits on wrong attempts per
//! address and per room.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sprechstunde_shared::RoomName;
use tokio::sync::Semaphore;

/// Longest password accepted (characters); longer ones are refused, not truncated.
pub const PASSWORD_MAX_CHARS: usize = 128;
/// Hash operations running at once; more wait (this machine class has two cores).
const CONCURRENT_HASHES: usize = 2;
/// How long a check may wait for a free slot before the client is told to try again.
const HASH_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Wrong attempts one address may make at once, then one more per this interval.
pub const IP_ATTEMPT_BURST: f64 = 5.0;
const IP_ATTEMPT_REFILL: Duration = Duration::from_secs(60);
/// Wrong attempts against one room (from all addresses), then one more per interval.
pub const ROOM_ATTEMPT_BURST: f64 = 30.0;
const ROOM_ATTEMPT_REFILL: Duration = Duration::from_secs(10);
/// Entries are forgotten when full again; this bounds the tables' memory.
const MAX_TRACKED: usize = 10_000;

/// A meeting's password as the relay keeps it: the argon2 PHC string, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordDigest(Arc<str>);

impl std::fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordDigest(..)")
    }
}

impl PasswordDigest {
    /// Hashes `password` (argon2id, a fresh salt); blocks for tens of milliseconds.
    pub fn of(password: &str) -> Result<PasswordDigest, CheckError> {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).map_err(|_| CheckError::Busy)?;
        let salt = SaltString::encode_b64(&salt).map_err(|_| CheckError::Busy)?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| PasswordDigest(Arc::from(hash.to_string())))
            .map_err(|_| CheckError::Busy)
    }

    /// A digest read back from the database.
    pub fn stored(phc: String) -> PasswordDigest {
        PasswordDigest(Arc::from(phc))
    }

    /// The PHC string, for storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckError {
    Wrong,
    TooManyAttempts,
    Busy,
}

/// Shared by all signaling connections.
#[derive(Clone)]
pub struct PasswordGuard {
    slots: Arc<Semaphore>,
    attempts: Arc<Mutex<Attempts>>,
}

#[derive(Default)]
struct Attempts {
    by_ip: HashMap<IpAddr, Bucket>,
    /// Per room (its name), or per staff account (`staff:` and the login).
    by_subject: HashMap<String, Bucket>,
}

/// Failures allowed: starts full, one taken per wrong attempt, refilled over time.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, burst: f64, every: Duration) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed / every.as_secs_f64()).min(burst);
        self.last = now;
    }
}

impl Default for PasswordGuard {
    fn default() -> Self {
        PasswordGuard {
            slots: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            attempts: Arc::default(),
        }
    }
}

impl PasswordGuard {
    pub async fn hash(&self, password: String) -> Result<PasswordDigest, CheckError> {
        let _slot = self.slot().await?;
        tokio::task::spawn_blocking(move || PasswordDigest::of(&password))
            .await
            .map_err(|_| CheckError::Busy)?
    }

    /// Check `password` against `digest` for a join from `ip` to `room`. An attempt is
    /// reserved before hashing (concurrent guesses cannot all be hashed) and given back when
    /// the password was right; refused without hashing while the address or the room has
    /// none left.
    pub async fn check(
        &self,
        ip: IpAddr,
        room: &RoomName,
        digest: &PasswordDigest,
        password: String,
    ) -> Result<(), CheckError> {
        self.check_for(ip, room.as_str(), digest, password).await
    }

    /// A staff member's sign-in: the same limits, per address and per account.
    pub async fn check_staff(
        &self,
        ip: IpAddr,
        login: &str,
        digest: &PasswordDigest,
        password: String,
    ) -> Result<(), CheckError> {
        self.check_for(ip, &format!("staff:{login}"), digest, password)
            .await
    }

    async fn check_for(
        &self,
        ip: IpAddr,
        room: &str,
        digest: &PasswordDigest,
        password: String,
    ) -> Result<(), CheckError> {
        let ip = crate::limits::address_key(ip);
        if !self.reserve(Instant::now(), ip, room) {
            return Err(CheckError::TooManyAttempts);
        }
        let matches = self.verify(digest, password).await;
        if matches == Ok(true) || matches == Err(CheckError::Busy) {
            // Not a wrong guess: the attempt is not spent.
            self.give_back(Instant::now(), ip, room);
        }
        match matches? {
            true => Ok(()),
            false => Err(CheckError::Wrong),
        }
    }

    async fn verify(&self, digest: &PasswordDigest, password: String) -> Result<bool, CheckError> {
        let _slot = self.slot().await?;
        let digest = digest.0.clone();
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&digest).is_ok_and(|hash| {
                // The comparison inside is constant-time.
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .map_err(|_| CheckError::Busy)
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, CheckError> {
        match tokio::time::timeout(HASH_QUEUE_WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(CheckError::Busy),
        }
    }

    /// Takes one attempt from the address and one from the room, if both have one left.
    fn reserve(&self, now: Instant, ip: IpAddr, room: &str) -> bool {
        let Ok(mut attempts) = self.attempts.lock() else {
            return false;
        };
        let attempts = &mut *attempts;
        if attempts.by_ip.len() >= MAX_TRACKED {
            attempts.by_ip.clear();
        }
        if attempts.by_subject.len() >= MAX_TRACKED {
            attempts.by_subject.clear();
        }
        let fresh = |burst| Bucket {
            tokens: burst,
            last: now,
        };
        let ip_bucket = attempts
            .by_ip
            .entry(ip)
            .or_insert_with(|| fresh(IP_ATTEMPT_BURST));
        ip_bucket.refill(now, IP_ATTEMPT_BURST, IP_ATTEMPT_REFILL);
        let room_bucket = attempts
            .by_subject
            .entry(room.to_string())
            .or_insert_with(|| fresh(ROOM_ATTEMPT_BURST));
        room_bucket.refill(now, ROOM_ATTEMPT_BURST, ROOM_ATTEMPT_REFILL);
        if ip_bucket.tokens < 1.0 || room_bucket.tokens < 1.0 {
            return false;
        }
        ip_bucket.tokens -= 1.0;
        room_bucket.tokens -= 1.0;
        true
    }

    fn give_back(&self, now: Instant, ip: IpAddr, room: &str) {
        let Ok(mut attempts) = self.attempts.lock() else {
            return;
        };
        if let Some(bucket) = attempts.by_ip.get_mut(&ip) {
            bucket.refill(now, IP_ATTEMPT_BURST, IP_ATTEMPT_REFILL);
            bucket.tokens = (bucket.tokens + 1.0).min(IP_ATTEMPT_BURST);
        }
        if let Some(bucket) = attempts.by_subject.get_mut(room) {
            bucket.refill(now, ROOM_ATTEMPT_BURST, ROOM_ATTEMPT_REFILL);
            bucket.tokens = (bucket.tokens + 1.0).min(ROOM_ATTEMPT_BURST);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> RoomName {
        RoomName::parse("beratung").expect("room")
    }

    #[tokio::test]
    async fn the_right_password_passes_and_a_wrong_one_does_not() {
        let guard = PasswordGuard::default();
        let digest = guard.hash("Sonnenblume 7".into()).await.expect("hash");
        assert!(!digest.0.contains("Sonnenblume"));
        assert!(digest.0.starts_with("$argon2id$"));
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert_eq!(
            guard
                .check(ip, &room(), &digest, "Sonnenblume 7".into())
                .await,
            Ok(())
        );
        assert_eq!(
            guard
                .check(ip, &room(), &digest, "sonnenblume 7".into())
                .await,
            Err(CheckError::Wrong)
        );
    }

    #[test]
    fn an_address_is_limited_after_its_burst_while_others_still_may_try() {
        let guard = PasswordGuard::default();
        let now = Instant::now();
        let guesser: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..IP_ATTEMPT_BURST as usize {
            assert!(guard.reserve(now, guesser, room().as_str()));
        }
        assert!(!guard.reserve(now, guesser, room().as_str()));
        assert!(guard.reserve(now, other, room().as_str()));
        assert!(
            guard.reserve(now + IP_ATTEMPT_REFILL, guesser, room().as_str()),
            "one more attempt after the refill interval"
        );
    }

    #[test]
    fn a_room_is_limited_after_many_addresses_failed() {
        let guard = PasswordGuard::default();
        let now = Instant::now();
        for i in 0..ROOM_ATTEMPT_BURST as u8 {
            assert!(guard.reserve(now, IpAddr::from([192, 0, 2, i]), room().as_str()));
        }
        let fresh: IpAddr = "198.51.100.1".parse().expect("ip");
        assert!(!guard.reserve(now, fresh, room().as_str()));
        assert!(guard.reserve(now, fresh, "andere"));
    }

    /// 50 guesses at once from one address: only the address's burst is hashed, the room
    /// keeps most of its attempts, and the right password from elsewhere passes at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_guesses_are_reserved_before_hashing() {
        let guard = PasswordGuard::default();
        let digest = guard.hash("Sonnenblume 7".into()).await.expect("hash");
        let attacker: IpAddr = "192.0.2.66".parse().expect("ip");
        let guesses = (0..50).map(|i| {
            let guard = guard.clone();
            let digest = digest.clone();
            tokio::spawn(async move {
                guard
                    .check(attacker, &room(), &digest, format!("falsch {i}"))
                    .await
            })
        });
        let mut wrong = 0;
        let mut refused = 0;
        for guess in futures_util::future::join_all(guesses).await {
            match guess.expect("task") {
                Err(CheckError::Wrong) => wrong += 1,
                Err(CheckError::TooManyAttempts) => refused += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(wrong, IP_ATTEMPT_BURST as usize, "only the burst is hashed");
        assert_eq!(refused, 50 - IP_ATTEMPT_BURST as usize);
        let family: IpAddr = "198.51.100.7".parse().expect("ip");
        assert_eq!(
            guard
                .check(family, &room(), &digest, "Sonnenblume 7".into())
                .await,
            Ok(())
        );
        // The same /64 is the same address.
        let attacker_v6: IpAddr = "2001:db8::1".parse().expect("ip");
        for _ in 0..IP_ATTEMPT_BURST as usize {
            let _ = guard.check(attacker_v6, &room(), &digest, "x".into()).await;
        }
        let neighbour: IpAddr = "2001:db8::2".parse().expect("ip");
        assert_eq!(
            guard.check(neighbour, &room(), &digest, "x".into()).await,
            Err(CheckError::TooManyAttempts)
        );
    }
}
