//! Speaking time from the audio level header extension (RFC 6464), as a pure clock per
//! participant: voice above a threshold opens an interval, silence longer than the
//! hangover closes it, and muting closes it at once. Muted time never counts.

use std::time::{Duration, Instant};

/// Audio at or above this level (dBov, 0 is loudest, -127 silence) counts as voice.
pub const VOICE_THRESHOLD_DBOV: i8 = -50;
/// Short pauses between words keep the interval open.
pub const HANGOVER: Duration = Duration::from_millis(400);

#[derive(Debug, Clone, Default)]
pub struct SpeakingClock {
    counted: Duration,
    /// Start and last voice of the open interval.
    open: Option<(Instant, Instant)>,
    /// The last voice heard, kept after its interval closed.
    last_voice: Option<Instant>,
    muted: bool,
}

impl SpeakingClock {
    pub fn new(muted: bool) -> Self {
        SpeakingClock {
            muted,
            ..Default::default()
        }
    }

    /// An audio packet with this level (`None`: the packet had no level).
    pub fn audio(&mut self, now: Instant, level_dbov: Option<i8>) {
        self.close_if_silent(now);
        let Some(level) = level_dbov else { return };
        if self.muted || level < VOICE_THRESHOLD_DBOV {
            return;
        }
        self.last_voice = Some(now);
        self.open = Some(match self.open {
            Some((start, _)) => (start, now),
            None => (now, now),
        });
    }

    pub fn set_muted(&mut self, now: Instant, muted: bool) {
        if muted {
            // Count only up to the last voice heard: the hangover after it is not speech.
            if let Some((start, last)) = self.open.take() {
                self.counted += last.saturating_duration_since(start);
            }
            let _ = now;
        }
        self.muted = muted;
    }

    /// Speaking time up to `now`.
    pub fn total(&self, now: Instant) -> Duration {
        match self.open {
            Some((start, last)) => {
                self.counted + now.min(last + HANGOVER).saturating_duration_since(start)
            }
            None => self.counted,
        }
    }

    /// When voice was last heard (muted or not since).
    pub fn last_voice(&self) -> Option<Instant> {
        self.last_voice
    }

    /// Speaking now: since when.
    pub fn speaking_since(&self, now: Instant) -> Option<Instant> {
        self.open
            .filter(|(_, last)| now.saturating_duration_since(*last) <= HANGOVER)
            .map(|(start, _)| start)
    }

    fn close_if_silent(&mut self, now: Instant) {
        if let Some((start, last)) = self.open {
            if now.saturating_duration_since(last) > HANGOVER {
                self.counted += (last + HANGOVER).saturating_duration_since(start);
                self.open = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Packets every 20 ms at `level` from `from` for `length`.
    fn talk(clock: &mut SpeakingClock, t0: Instant, from: u64, length: u64, level: i8) {
        let mut t = from;
        while t < from + length {
            clock.audio(t0 + ms(t), Some(level));
            t += 20;
        }
    }

    #[test]
    fn voice_counts_with_hangover_silence_does_not() {
        let t0 = Instant::now();
        let mut clock = SpeakingClock::new(false);
        talk(&mut clock, t0, 0, 1000, -20);
        talk(&mut clock, t0, 1000, 3000, -127);
        // 980 ms from first to last voice packet plus the hangover.
        assert_eq!(clock.total(t0 + ms(4000)), ms(980) + HANGOVER);
        assert_eq!(clock.speaking_since(t0 + ms(4000)), None);
    }

    #[test]
    fn short_pauses_do_not_split_an_interval() {
        let t0 = Instant::now();
        let mut clock = SpeakingClock::new(false);
        talk(&mut clock, t0, 0, 500, -30);
        talk(&mut clock, t0, 500, 200, -90);
        talk(&mut clock, t0, 700, 500, -30);
        assert_eq!(clock.speaking_since(t0 + ms(1180)), Some(t0));
        assert_eq!(clock.total(t0 + ms(1180)), ms(1180));
    }

    #[test]
    fn muted_time_never_counts_even_if_packets_say_voice() {
        let t0 = Instant::now();
        let mut clock = SpeakingClock::new(false);
        talk(&mut clock, t0, 0, 1000, -20);
        clock.set_muted(t0 + ms(1000), true);
        let at_mute = clock.total(t0 + ms(1000));
        assert_eq!(at_mute, ms(980));
        // A client that keeps sending loud packets while saying it is muted.
        talk(&mut clock, t0, 1000, 5000, -10);
        assert_eq!(clock.total(t0 + ms(6000)), at_mute);
        clock.set_muted(t0 + ms(6000), false);
        talk(&mut clock, t0, 6000, 1000, -20);
        assert_eq!(clock.total(t0 + ms(6980)), at_mute + ms(980));
    }

    #[test]
    fn packets_without_a_level_count_nothing() {
        let t0 = Instant::now();
        let mut clock = SpeakingClock::new(false);
        for t in 0..100 {
            clock.audio(t0 + ms(t * 20), None);
        }
        assert_eq!(clock.total(t0 + ms(3000)), Duration::ZERO);
    }
}
