//! Simulcast: a camera arrives in up to three layers (rids `l`, `m`, `h`, see
//! [`SIMULCAST_RIDS`]) and each receiver gets one of them. What the sender sends of each layer
//! is measured here ([`SentLayers`]); which layer a receiver gets, and the switch from one to
//! another on a keyframe, is its [`LayerChoice`] for that track.
//!
//! The layers are separate RTP streams with timestamps of their own; str0m renumbers the
//! packets of what it forwards, and [`LayerChoice`] is the one place that keeps the
//! timestamps of a receiver's stream continuous across switches.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sprechstunde_shared::{ReceiveQuality, SIMULCAST_RIDS};
use str0m::media::{MediaTime, Mid, Rid};

use super::rooms::TrackKey;

/// A layer not seen for this long is taken as stopped (the sender's browser drops layers its
/// own link cannot carry).
const LAYER_STOPPED_AFTER: Duration = Duration::from_millis(1_000);
/// The window a layer's bitrate is measured over.
const RATE_WINDOW: Duration = Duration::from_millis(1_000);

/// Rank of a rid among [`SIMULCAST_RIDS`]; unknown rids rank above them.
fn rank(rid: &Rid) -> usize {
    SIMULCAST_RIDS
        .iter()
        .position(|known| **rid == **known)
        .unwrap_or(SIMULCAST_RIDS.len())
}

struct LayerSeen {
    rid: Rid,
    last_seen: Instant,
    window_start: Instant,
    window_bytes: u64,
    /// Bits per second over the last full window.
    bitrate: u64,
}

/// A layer that is being sent now, with its bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLayer {
    pub rid: Rid,
    pub bitrate: u64,
}

#[derive(Default)]
struct TrackLayers {
    /// The layers its SDP names.
    declared: Vec<Rid>,
    seen: Vec<LayerSeen>,
}

/// The layers each sender sends of each of its simulcast tracks.
#[derive(Default)]
pub struct SentLayers {
    tracks: HashMap<TrackKey<Mid>, TrackLayers>,
}

impl SentLayers {
    /// `key` is sent in the layers `rids` (from its SDP).
    pub fn declare(&mut self, key: TrackKey<Mid>, rids: impl IntoIterator<Item = Rid>) {
        let mut declared: Vec<Rid> = rids.into_iter().collect();
        if declared.is_empty() {
            return;
        }
        declared.sort_by_key(rank);
        declared.dedup();
        self.tracks.entry(key).or_default().declared = declared;
    }

    /// The layers `key`'s SDP names, smallest first.
    pub fn declared(&self, key: &TrackKey<Mid>) -> Vec<Rid> {
        self.tracks
            .get(key)
            .map(|t| t.declared.clone())
            .unwrap_or_default()
    }

    /// A frame of `rid` of `key` came, `bytes` long.
    pub fn frame(&mut self, key: TrackKey<Mid>, rid: Rid, bytes: usize, now: Instant) {
        let layers = &mut self.tracks.entry(key).or_default().seen;
        let index = match layers.iter().position(|l| l.rid == rid) {
            Some(index) => index,
            None => {
                layers.push(LayerSeen {
                    rid,
                    last_seen: now,
                    window_start: now,
                    window_bytes: 0,
                    bitrate: 0,
                });
                layers.sort_by_key(|l| rank(&l.rid));
                layers.iter().position(|l| l.rid == rid).unwrap_or(0)
            }
        };
        let Some(layer) = layers.get_mut(index) else {
            return;
        };
        layer.last_seen = now;
        layer.window_bytes += bytes as u64;
        let elapsed = now.saturating_duration_since(layer.window_start);
        if elapsed >= RATE_WINDOW {
            layer.bitrate = layer.window_bytes * 8 * 1_000 / elapsed.as_millis().max(1) as u64;
            layer.window_start = now;
            layer.window_bytes = 0;
        }
    }

    /// Whether `key` is sent in layers.
    pub fn is_simulcast(&self, key: &TrackKey<Mid>) -> bool {
        self.tracks.contains_key(key)
    }

    /// The layers of `key` being sent now, smallest first.
    pub fn live(&self, key: &TrackKey<Mid>, now: Instant) -> Vec<LiveLayer> {
        self.tracks
            .get(key)
            .into_iter()
            .flat_map(|t| &t.seen)
            .filter(|l| now.saturating_duration_since(l.last_seen) < LAYER_STOPPED_AFTER)
            .map(|l| LiveLayer {
                rid: l.rid,
                bitrate: l.bitrate,
            })
            .collect()
    }

    pub fn forget(&mut self, key: &TrackKey<Mid>) {
        self.tracks.remove(key);
    }
}

/// The layer a receiver should get: the smallest for "low"; for "auto" the largest whose
/// bitrate fits into `budget` (bits per second) where one is known, else the largest.
/// `None`: no video (audio only, or nothing fits).
pub fn choose(quality: ReceiveQuality, live: &[LiveLayer], budget: Option<u64>) -> Option<Rid> {
    match quality {
        ReceiveQuality::AudioOnly => None,
        ReceiveQuality::Low => live.first().map(|l| l.rid),
        ReceiveQuality::Auto => match budget {
            None => live.last().map(|l| l.rid),
            Some(budget) => live
                .iter()
                .rev()
                .find(|l| l.bitrate <= budget)
                .map(|l| l.rid),
        },
    }
}

/// Keeps a receiver's RTP timestamps continuous when its layer changes: the first frame of
/// the new layer follows the last one sent after the time that really passed between them.
#[derive(Default)]
struct TimeRewrite {
    /// Added to a layer's timestamp (in its clock's ticks).
    offset: i64,
    /// The last timestamp sent, and when its frame arrived.
    last: Option<(u64, Instant)>,
}

impl TimeRewrite {
    fn switch(&mut self, first: MediaTime, arrived: Instant) {
        if let Some((last, at)) = self.last {
            let passed = arrived.saturating_duration_since(at).as_secs_f64();
            let ticks = ((passed * f64::from(first.denom())) as i64).max(1);
            self.offset = last as i64 + ticks - first.numer() as i64;
        }
    }

    fn map(&mut self, time: MediaTime, arrived: Instant) -> MediaTime {
        let out = (time.numer() as i64).saturating_add(self.offset).max(0) as u64;
        self.last = Some((out, arrived));
        MediaTime::new(out, time.frequency())
    }
}

/// One receiver's layer of one simulcast track.
#[derive(Default)]
pub struct LayerChoice {
    current: Option<Rid>,
    time: TimeRewrite,
    /// The arrival time last forwarded with: str0m sends in the order of these, and a large
    /// keyframe of the new layer may have begun arriving before the old layer's last frame.
    last_arrived: Option<Instant>,
}

/// A frame to forward: its rewritten timestamp, and the arrival time to queue it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    pub time: MediaTime,
    pub arrived: Instant,
}

impl LayerChoice {
    /// A frame of layer `rid` came while `target` is the layer this receiver should get.
    /// Returns how to forward it, or `None` if it is not for this receiver.
    /// A switch happens only on a keyframe of the target, so the receiver's decoder never
    /// gets a frame that refers to a picture of another layer.
    pub fn forward(
        &mut self,
        rid: Rid,
        keyframe: bool,
        time: MediaTime,
        arrived: Instant,
        target: Option<Rid>,
    ) -> Option<Forward> {
        if target.is_none() {
            self.current = None;
            return None;
        }
        if keyframe && target == Some(rid) && self.current != Some(rid) {
            self.current = Some(rid);
            self.time.switch(time, arrived);
        }
        if self.current != Some(rid) {
            return None;
        }
        let arrived = self.last_arrived.map_or(arrived, |last| last.max(arrived));
        self.last_arrived = Some(arrived);
        Some(Forward {
            time: self.time.map(time, arrived),
            arrived,
        })
    }

    /// The layer being forwarded now.
    pub fn current(&self) -> Option<Rid> {
        self.current
    }
}

/// A receiver's choices, per track it gets.
#[derive(Default)]
pub struct LayerChoices {
    tracks: HashMap<TrackKey<Mid>, LayerChoice>,
}

impl LayerChoices {
    pub fn of(&mut self, key: TrackKey<Mid>) -> &mut LayerChoice {
        self.tracks.entry(key).or_default()
    }

    pub fn current(&self, key: &TrackKey<Mid>) -> Option<Rid> {
        self.tracks.get(key).and_then(LayerChoice::current)
    }

    pub fn forget(&mut self, key: &TrackKey<Mid>) {
        self.tracks.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprechstunde_shared::ParticipantId;
    use str0m::media::Frequency;

    fn key() -> TrackKey<Mid> {
        TrackKey {
            origin: ParticipantId(1),
            mid: Mid::from("1"),
        }
    }

    fn layer(rid: &str, bitrate: u64) -> LiveLayer {
        LiveLayer {
            rid: Rid::from(rid),
            bitrate,
        }
    }

    fn at(ticks: u64) -> MediaTime {
        MediaTime::new(ticks, Frequency::NINETY_KHZ)
    }

    #[test]
    fn layers_are_measured_ordered_and_stop_when_not_seen() {
        let start = Instant::now();
        let mut sent = SentLayers::default();
        // 30 frames a second for 1.5 s: h of 2,000 bytes, l of 300.
        for frame in 0..45u64 {
            let now = start + Duration::from_millis(frame * 1_000 / 30);
            sent.frame(key(), Rid::from("h"), 2_000, now);
            sent.frame(key(), Rid::from("l"), 300, now);
        }
        let now = start + Duration::from_millis(1_500);
        let live = sent.live(&key(), now);
        let rids: Vec<_> = live.iter().map(|l| l.rid.to_string()).collect();
        assert_eq!(rids, ["l", "h"]);
        let h = live[1].bitrate;
        // 31 frames fall into the first full second.
        assert!((470_000..=500_000).contains(&h), "h measured at {h}");
        assert!(sent.is_simulcast(&key()));
        // h stops; l goes on.
        sent.frame(key(), Rid::from("l"), 300, now + LAYER_STOPPED_AFTER);
        let live = sent.live(&key(), now + LAYER_STOPPED_AFTER);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].rid, Rid::from("l"));
    }

    #[test]
    fn the_choice_follows_the_setting_and_the_budget() {
        let live = [
            layer("l", 150_000),
            layer("m", 450_000),
            layer("h", 1_400_000),
        ];
        let pick = |quality, budget| choose(quality, &live, budget).map(|r| r.to_string());
        assert_eq!(pick(ReceiveQuality::Auto, None).as_deref(), Some("h"));
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(500_000)).as_deref(),
            Some("m")
        );
        assert_eq!(pick(ReceiveQuality::Auto, Some(100_000)), None);
        assert_eq!(pick(ReceiveQuality::Low, None).as_deref(), Some("l"));
        assert_eq!(pick(ReceiveQuality::AudioOnly, None), None);
        assert_eq!(choose(ReceiveQuality::Auto, &[], None), None);
    }

    #[test]
    fn a_switch_waits_for_the_keyframe_and_keeps_time_continuous() {
        let start = Instant::now();
        let mut choice = LayerChoice::default();
        let (l, h) = (Rid::from("l"), Rid::from("h"));
        // Nothing before the target's keyframe.
        assert_eq!(choice.forward(l, false, at(1_000), start, Some(l)), None);
        let time = |f: Option<Forward>| f.map(|f| f.time);
        assert_eq!(
            time(choice.forward(l, true, at(4_000), start, Some(l))),
            Some(at(4_000))
        );
        assert_eq!(choice.current(), Some(l));
        // Target h: l goes on until h's keyframe; h's delta frames are not forwarded.
        let later = start + Duration::from_millis(100);
        assert_eq!(
            time(choice.forward(l, false, at(13_000), later, Some(h))),
            Some(at(13_000))
        );
        assert_eq!(choice.forward(h, false, at(900_000), later, Some(h)), None);
        // h's keyframe 33 ms later: its timestamp follows l's last one by 33 ms (2,970 ticks).
        let switch = later + Duration::from_millis(33);
        assert_eq!(
            time(choice.forward(h, true, at(903_000), switch, Some(h))),
            Some(at(15_970))
        );
        assert_eq!(choice.forward(l, false, at(16_000), switch, Some(h)), None);
        // A frame whose first packet came earlier is still queued after the last one.
        let forwarded = choice.forward(h, false, at(906_000), later, Some(h));
        assert_eq!(
            forwarded,
            Some(Forward {
                time: at(18_970),
                arrived: switch
            })
        );
        // No target: nothing, and the next layer starts again on a keyframe.
        assert_eq!(choice.forward(h, false, at(909_000), switch, None), None);
        assert_eq!(choice.forward(h, false, at(912_000), switch, Some(h)), None);
    }
}
