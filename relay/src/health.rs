//! Whether the relay can do its job: `/healthz` says ok only while the media loop turns. The
//! loop wakes at least once a second and marks each turn here; a loop that stopped (a panic
//! it could not survive) or hangs makes `/healthz` answer 503, so an operator's monitor or
//! systemd's watchdog restarts the relay instead of believing it healthy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A loop silent for longer than this is not alive.
pub const STALE_AFTER: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Liveness {
    started: Instant,
    /// Milliseconds since `started` of the loop's last turn; `u64::MAX`: it stopped.
    last_turn_ms: Arc<AtomicU64>,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            started: Instant::now(),
            last_turn_ms: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Liveness {
    /// The loop made a turn.
    pub fn turned(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.started).as_millis() as u64;
        self.last_turn_ms.store(ms, Ordering::Relaxed);
    }

    /// The loop ended and will not turn again.
    pub fn stopped(&self) {
        self.last_turn_ms.store(u64::MAX, Ordering::Relaxed);
    }

    pub fn alive(&self, now: Instant) -> bool {
        let last = self.last_turn_ms.load(Ordering::Relaxed);
        if last == u64::MAX {
            return false;
        }
        let now_ms = now.saturating_duration_since(self.started).as_millis() as u64;
        now_ms.saturating_sub(last) <= STALE_AFTER.as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alive_while_it_turns_not_when_it_hangs_or_stopped() {
        let liveness = Liveness::default();
        let t0 = Instant::now();
        liveness.turned(t0);
        assert!(liveness.alive(t0 + Duration::from_secs(1)));
        assert!(
            !liveness.alive(t0 + STALE_AFTER + Duration::from_secs(1)),
            "hangs"
        );
        liveness.turned(t0 + Duration::from_secs(10));
        assert!(liveness.alive(t0 + Duration::from_secs(11)));
        liveness.stopped();
        assert!(!liveness.alive(t0 + Duration::from_secs(11)), "stopped");
    }
}
