//! Keeps one address from flooding the access log: at most [`ENTRIES_PER_MINUTE`] request
//! entries per address and minute; what is left out is counted (`access_log_left_out_total`)
//! and noted once, as an event, when that address's next minute begins.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Request entries one address may add per minute (loading the app is about ten).
pub const ENTRIES_PER_MINUTE: u32 = 600;
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most; when full, the table starts afresh.
const MAX_TRACKED: usize = 10_000;
/// Longest path logged, in bytes; longer ones are cut (at a character boundary) and marked.
pub const PATH_MAX: usize = 256;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Record,
    /// Record, and note that this many entries of the last minute were left out.
    RecordAfterLeavingOut(u32),
    LeaveOut,
}

struct Window {
    started: Instant,
    recorded: u32,
    left_out: u32,
}

#[derive(Default)]
pub struct FloodGuard(Mutex<HashMap<IpAddr, Window>>);

impl FloodGuard {
    pub fn check(&self, now: Instant, address: IpAddr) -> Verdict {
        let Ok(mut windows) = self.0.lock() else {
            return Verdict::Record;
        };
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&address) {
            windows.retain(|_, w| now.saturating_duration_since(w.started) < WINDOW);
            if windows.len() >= MAX_TRACKED {
                windows.clear();
            }
        }
        let window = windows.entry(address).or_insert(Window {
            started: now,
            recorded: 0,
            left_out: 0,
        });
        let mut left_out_before = 0;
        if now.saturating_duration_since(window.started) >= WINDOW {
            left_out_before = window.left_out;
            *window = Window {
                started: now,
                recorded: 0,
                left_out: 0,
            };
        }
        if window.recorded >= ENTRIES_PER_MINUTE {
            window.left_out += 1;
            return Verdict::LeaveOut;
        }
        window.recorded += 1;
        match left_out_before {
            0 => Verdict::Record,
            n => Verdict::RecordAfterLeavingOut(n),
        }
    }
}

/// The path as logged: at most [`PATH_MAX`] bytes, cut ones ending in "…".
pub fn loggable_path(path: &str) -> String {
    if path.len() <= PATH_MAX {
        return path.to_string();
    }
    let mut end = PATH_MAX - '…'.len_utf8();
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &path[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_adds_a_bounded_number_per_minute_and_the_rest_is_counted() {
        let guard = FloodGuard::default();
        let t0 = Instant::now();
        let flooder: IpAddr = "203.0.113.9".parse().expect("ip");
        let other: IpAddr = "198.51.100.1".parse().expect("ip");
        let recorded = (0..10_000)
            .filter(|_| guard.check(t0, flooder) != Verdict::LeaveOut)
            .count();
        assert_eq!(recorded, ENTRIES_PER_MINUTE as usize);
        assert_eq!(
            guard.check(t0, other),
            Verdict::Record,
            "others are not affected"
        );
        assert_eq!(
            guard.check(t0 + WINDOW, flooder),
            Verdict::RecordAfterLeavingOut(10_000 - ENTRIES_PER_MINUTE),
            "the next minute says how many were left out"
        );
        assert_eq!(guard.check(t0 + WINDOW, flooder), Verdict::Record);
    }

    #[test]
    fn long_paths_are_cut_at_a_character_boundary() {
        let long = format!("/{}", "ü".repeat(40_000));
        let cut = loggable_path(&long);
        assert!(cut.len() <= PATH_MAX, "{} bytes", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(loggable_path("/r/beratung"), "/r/beratung");
    }
}
