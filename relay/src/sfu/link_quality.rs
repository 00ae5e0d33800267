//! How each participant's media connection is, from what str0m measures every second: loss
//! of what they send (ingress), loss of what they receive (egress, from their reports) and
//! the round trip. Worse is told at once, better only once it held for a few seconds, so the
//! indicator others see does not flicker.

use std::time::Duration;

use sprechstunde_shared::ConnectionQuality;
use str0m::stats::PeerStats;

/// How often str0m reports.
pub const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// Loss from which picture and sound stutter (libwebrtc's own "bad" starts near 10 %).
const WEAK_LOSS: f32 = 0.03;
const BAD_LOSS: f32 = 0.10;
const WEAK_RTT: Duration = Duration::from_millis(350);
const BAD_RTT: Duration = Duration::from_millis(800);
/// Reports in a row that must say "better" before it is told.
const BETTER_AFTER: u8 = 3;

#[derive(Debug, Default)]
pub struct LinkQuality {
    told: ConnectionQuality,
    /// Reports in a row better than `told`.
    better_for: u8,
}

/// What one report says.
pub fn classify(stats: &PeerStats) -> ConnectionQuality {
    let loss = [stats.ingress_loss_fraction, stats.egress_loss_fraction]
        .into_iter()
        .flatten()
        .fold(0.0_f32, f32::max);
    let rtt = stats.rtt.unwrap_or_default();
    if loss >= BAD_LOSS || rtt >= BAD_RTT {
        ConnectionQuality::Bad
    } else if loss >= WEAK_LOSS || rtt >= WEAK_RTT {
        ConnectionQuality::Weak
    } else {
        ConnectionQuality::Good
    }
}

impl LinkQuality {
    /// Takes one report; the new quality to tell everyone, if it changed.
    pub fn report(&mut self, now: ConnectionQuality) -> Option<ConnectionQuality> {
        if now > self.told {
            self.better_for = 0;
            self.told = now;
            return Some(now);
        }
        if now == self.told {
            self.better_for = 0;
            return None;
        }
        self.better_for += 1;
        if self.better_for < BETTER_AFTER {
            return None;
        }
        self.better_for = 0;
        self.told = now;
        Some(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionQuality::{Bad, Good, Weak};

    #[test]
    fn worse_is_told_at_once_better_after_three_reports_in_a_row() {
        let mut link = LinkQuality::default();
        assert_eq!(link.report(Good), None);
        assert_eq!(link.report(Bad), Some(Bad));
        assert_eq!(link.report(Weak), None);
        assert_eq!(
            link.report(Bad),
            None,
            "one bad report starts the count again"
        );
        assert_eq!(link.report(Weak), None);
        assert_eq!(link.report(Good), None);
        assert_eq!(
            link.report(Good),
            Some(Good),
            "three better reports in a row"
        );
        assert_eq!(link.report(Weak), Some(Weak));
    }

    #[test]
    fn loss_either_way_and_the_round_trip_decide() {
        let stats = |ingress: f32, egress: f32, rtt_ms: u64| PeerStats {
            peer_bytes_rx: 0,
            peer_bytes_tx: 0,
            bytes_rx: 0,
            bytes_tx: 0,
            timestamp: std::time::Instant::now(),
            bwe_tx: None,
            egress_loss_fraction: Some(egress),
            ingress_loss_fraction: Some(ingress),
            rtt: Some(Duration::from_millis(rtt_ms)),
            selected_candidate_pair: None,
        };
        assert_eq!(classify(&stats(0.0, 0.01, 40)), Good);
        assert_eq!(classify(&stats(0.05, 0.0, 40)), Weak);
        assert_eq!(classify(&stats(0.0, 0.2, 40)), Bad);
        assert_eq!(classify(&stats(0.0, 0.0, 400)), Weak);
        assert_eq!(classify(&stats(0.0, 0.0, 900)), Bad);
    }
}
