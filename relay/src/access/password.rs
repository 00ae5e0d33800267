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
    by_room: HashMap<RoomName, Bucket>,
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
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).map_err(|_| CheckError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::encode_b64(&salt).map_err(|_| CheckError::Busy)?;
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| PasswordDigest(Arc::from(hash.to_string())))
                .map_err(|_| CheckError::Busy)
        })
        .await
        .map_err(|_| CheckError::Busy)?
    }

    /// Check `password` against `digest` for a join from `ip` to `room`. Refused without
    /// hashing while the address or the room has used up its attempts.
    pub async fn check(
        &self,
        ip: IpAddr,
        room: &RoomName,
        digest: &PasswordDigest,
        password: String,
    ) -> Result<(), CheckError> {
        if !self.may_try(Instant::now(), ip, room) {
            return Err(CheckError::TooManyAttempts);
        }
        let _slot = self.slot().await?;
        let digest = digest.0.clone();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&digest).is_ok_and(|hash| {
                // The comparison inside is constant-time.
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .map_err(|_| CheckError::Busy)?;
        if matches {
            Ok(())
        } else {
            self.failed(Instant::now(), ip, room);
            Err(CheckError::Wrong)
        }
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, CheckError> {
        match tokio::time::timeout(HASH_QUEUE_WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(CheckError::Busy),
        }
    }

    fn may_try(&self, now: Instant, ip: IpAddr, room: &RoomName) -> bool {
        let Ok(mut attempts) = self.attempts.lock() else {
            return false;
        };
        let ip_left = attempts.by_ip.get_mut(&ip).map_or(IP_ATTEMPT_BURST, |b| {
            b.refill(now, IP_ATTEMPT_BURST, IP_ATTEMPT_REFILL);
            b.tokens
        });
        let room_left = attempts
            .by_room
            .get_mut(room)
            .map_or(ROOM_ATTEMPT_BURST, |b| {
                b.refill(now, ROOM_ATTEMPT_BURST, ROOM_ATTEMPT_REFILL);
                b.tokens
            });
        ip_left >= 1.0 && room_left >= 1.0
    }

    fn failed(&self, now: Instant, ip: IpAddr, room: &RoomName) {
        let Ok(mut attempts) = self.attempts.lock() else {
            return;
        };
        let attempts = &mut *attempts;
        if attempts.by_ip.len() >= MAX_TRACKED {
            attempts.by_ip.clear();
        }
        if attempts.by_room.len() >= MAX_TRACKED {
            attempts.by_room.clear();
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
        ip_bucket.tokens -= 1.0;
        let room_bucket = attempts
            .by_room
            .entry(room.clone())
            .or_insert_with(|| fresh(ROOM_ATTEMPT_BURST));
        room_bucket.refill(now, ROOM_ATTEMPT_BURST, ROOM_ATTEMPT_REFILL);
        room_bucket.tokens -= 1.0;
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
            assert!(guard.may_try(now, guesser, &room()));
            guard.failed(now, guesser, &room());
        }
        assert!(!guard.may_try(now, guesser, &room()));
        assert!(guard.may_try(now, other, &room()));
        assert!(
            guard.may_try(now + IP_ATTEMPT_REFILL, guesser, &room()),
            "one more attempt after the refill interval"
        );
    }

    #[test]
    fn a_room_is_limited_after_many_addresses_failed() {
        let guard = PasswordGuard::default();
        let now = Instant::now();
        for i in 0..ROOM_ATTEMPT_BURST as u8 {
            guard.failed(now, IpAddr::from([192, 0, 2, i]), &room());
        }
        let fresh: IpAddr = "198.51.100.1".parse().expect("ip");
        assert!(!guard.may_try(now, fresh, &room()));
        assert!(guard.may_try(now, fresh, &RoomName::parse("andere").expect("room")));
    }
}
