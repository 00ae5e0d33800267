//! What a leg counts: RTP packets out and in, and per sender and track the frames that
//! arrived, which of them were missing, and how long each took.

use std::collections::HashMap;

use super::stamp::{unix_nanos, Stamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    Audio,
    Video,
}

/// The frames of one track seen in the current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    first: u32,
    last: u32,
    received: u64,
}

#[derive(Debug, Default)]
pub struct LegStats {
    rtp_sent: u64,
    rtp_received: u64,
    send_failures: u64,
    tracks: HashMap<(u32, TrackKind), Window>,
    audio_delays_us: Vec<u32>,
    video_delays_us: Vec<u32>,
}

/// RTP, not RTCP, STUN or DTLS (RFC 7983 and RFC 5761).
fn is_rtp(datagram: &[u8]) -> bool {
    matches!(datagram, [first, second, ..] if first >> 6 == 2 && !(192..=223).contains(second))
}

impl LegStats {
    pub fn datagram_sent(&mut self, datagram: &[u8], sent: bool) {
        if !sent {
            self.send_failures += 1;
        } else if is_rtp(datagram) {
            self.rtp_sent += 1;
        }
    }

    pub fn datagram_received(&mut self, datagram: &[u8]) {
        if is_rtp(datagram) {
            self.rtp_received += 1;
        }
    }

    pub fn frame_received(&mut self, kind: TrackKind, stamp: Stamp) {
        let delay = unix_nanos().saturating_sub(stamp.sent_unix_nanos) / 1000;
        let delay = delay.min(u64::from(u32::MAX)) as u32;
        match kind {
            TrackKind::Audio => self.audio_delays_us.push(delay),
            TrackKind::Video => self.video_delays_us.push(delay),
        }
        self.tracks
            .entry((stamp.sender, kind))
            .and_modify(|w| {
                w.first = w.first.min(stamp.index);
                w.last = w.last.max(stamp.index);
                w.received += 1;
            })
            .or_insert(Window {
                first: stamp.index,
                last: stamp.index,
                received: 1,
            });
    }

    /// Senders heard on both tracks.
    pub fn senders_heard(&self) -> usize {
        self.tracks
            .keys()
            .filter(|(sender, kind)| {
                *kind == TrackKind::Audio && self.tracks.contains_key(&(*sender, TrackKind::Video))
            })
            .count()
    }

    /// The senders of whom a track of `kind` was received.
    pub fn senders_of(&self, kind: TrackKind) -> Vec<u32> {
        self.tracks
            .keys()
            .filter(|(_, k)| *k == kind)
            .map(|(sender, _)| *sender)
            .collect()
    }

    /// Everything counted since the last call; counting starts afresh.
    pub fn take(&mut self) -> Snapshot {
        let mut snapshot = Snapshot {
            rtp_sent: self.rtp_sent,
            rtp_received: self.rtp_received,
            send_failures: self.send_failures,
            audio_delays_us: std::mem::take(&mut self.audio_delays_us),
            video_delays_us: std::mem::take(&mut self.video_delays_us),
            ..Snapshot::default()
        };
        for ((sender, kind), window) in self.tracks.drain() {
            let expected = u64::from(window.last - window.first) + 1;
            let (exp, got) = match kind {
                TrackKind::Audio => (&mut snapshot.audio_expected, &mut snapshot.audio_received),
                TrackKind::Video => (&mut snapshot.video_expected, &mut snapshot.video_received),
            };
            *exp += expected;
            *got += window.received.min(expected);
            if kind == TrackKind::Video {
                *snapshot.video_by_sender.entry(sender).or_default() += window.received;
            }
        }
        self.rtp_sent = 0;
        self.rtp_received = 0;
        self.send_failures = 0;
        snapshot
    }
}

/// Counts of one window, summed over legs with [`Snapshot::add`].
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub rtp_sent: u64,
    pub rtp_received: u64,
    pub send_failures: u64,
    pub audio_expected: u64,
    pub audio_received: u64,
    pub video_expected: u64,
    pub video_received: u64,
    /// From the sender's stamp to the receiver's complete frame.
    pub audio_delays_us: Vec<u32>,
    pub video_delays_us: Vec<u32>,
    /// Video frames that came from each sender (by index).
    pub video_by_sender: HashMap<u32, u64>,
}

impl Snapshot {
    pub fn add(&mut self, other: Snapshot) {
        self.rtp_sent += other.rtp_sent;
        self.rtp_received += other.rtp_received;
        self.send_failures += other.send_failures;
        self.audio_expected += other.audio_expected;
        self.audio_received += other.audio_received;
        self.video_expected += other.video_expected;
        self.video_received += other.video_received;
        self.audio_delays_us.extend(other.audio_delays_us);
        self.video_delays_us.extend(other.video_delays_us);
        for (sender, frames) in other.video_by_sender {
            *self.video_by_sender.entry(sender).or_default() += frames;
        }
    }

    /// The share of audio and video frames that never arrived (audio frames are packets).
    pub fn loss(&self) -> f64 {
        let expected = self.audio_expected + self.video_expected;
        if expected == 0 {
            return 0.0;
        }
        1.0 - (self.audio_received + self.video_received) as f64 / expected as f64
    }

    pub fn audio_loss(&self) -> f64 {
        if self.audio_expected == 0 {
            return 0.0;
        }
        1.0 - self.audio_received as f64 / self.audio_expected as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(sender: u32, index: u32) -> Stamp {
        Stamp {
            sender,
            index,
            sent_unix_nanos: unix_nanos(),
        }
    }

    #[test]
    fn missing_frames_count_as_lost() {
        let mut stats = LegStats::default();
        for index in [10, 11, 13, 14] {
            stats.frame_received(TrackKind::Audio, stamp(1, index));
        }
        stats.frame_received(TrackKind::Video, stamp(1, 0));
        assert_eq!(stats.senders_heard(), 1);
        let snapshot = stats.take();
        assert_eq!((snapshot.audio_expected, snapshot.audio_received), (5, 4));
        assert!((snapshot.audio_loss() - 0.2).abs() < 1e-9);
        assert_eq!(
            (
                snapshot.audio_delays_us.len(),
                snapshot.video_delays_us.len()
            ),
            (4, 1)
        );
        assert_eq!(stats.take().audio_expected, 0, "a new window starts empty");
    }

    #[test]
    fn only_rtp_is_counted_as_media() {
        let mut stats = LegStats::default();
        stats.datagram_received(&[0x80, 111, 0, 1]); // RTP, Opus
        stats.datagram_received(&[0x80, 0xe0, 0, 1]); // RTP with the marker bit
        stats.datagram_received(&[0x81, 200, 0, 6]); // RTCP sender report
        stats.datagram_received(&[0x00, 0x01, 0, 0]); // STUN
        stats.datagram_received(&[22, 0xfe, 0xfd]); // DTLS
        assert_eq!(stats.take().rtp_received, 2);
    }
}
