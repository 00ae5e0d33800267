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
/// own link or processor cannot carry); long enough for a camera slowed to a few frames a
/// second (background blur on a weak machine) not to seem to stop between frames.
const LAYER_STOPPED_AFTER: Duration = Duration::from_millis(2_000);
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

/// A layer above the current one is taken only when the budget exceeds its bitrate by this
/// factor, so that a receiver does not go up and straight down again.
const UP_HEADROOM: f64 = 1.15;
/// The smallest layer, once shown, is paused only when the budget falls below this share of
/// its bitrate: an estimate dips for a moment when a link narrows, and a paused picture is
/// worse than a slow one.
const PAUSE_BELOW: f64 = 0.6;

/// The layer a receiver should get: the smallest for "low"; for "auto" the largest whose
/// bitrate fits into `budget` (bits per second) where one is known, else the largest.
/// `None`: no video (audio only, or nothing fits). `current`: the layer it gets now.
pub fn choose(
    quality: ReceiveQuality,
    live: &[LiveLayer],
    budget: Option<u64>,
    current: Option<Rid>,
) -> Option<Rid> {
    match quality {
        ReceiveQuality::AudioOnly => None,
        ReceiveQuality::Low => live.first().map(|l| l.rid),
        ReceiveQuality::Auto => match budget {
            None => live.last().map(|l| l.rid),
            Some(budget) => {
                let current_rank = current.map(|c| rank(&c));
                let smallest = live.first().map(|l| l.rid);
                live.iter()
                    .rev()
                    .find(|l| {
                        let above = current_rank.is_none_or(|c| rank(&l.rid) > c);
                        let share = if above {
                            UP_HEADROOM
                        } else if Some(l.rid) == smallest {
                            PAUSE_BELOW
                        } else {
                            1.0
                        };
                        l.bitrate as f64 * share <= budget as f64
                    })
                    .map(|l| l.rid)
            }
        },
    }
}

/// What a receiver's bandwidth estimate leaves for each camera it gets: audio first (it is
/// small and must not suffer), the rest shared equally.
pub fn budget_per_camera(estimate: u64, audio_tracks: usize, cameras: usize) -> u64 {
    const AUDIO_RESERVE: u64 = 60_000;
    // The estimate is what the link carried; leave room for resends and padding.
    let usable = estimate * 85 / 100;
    usable.saturating_sub(AUDIO_RESERVE * audio_tracks as u64) / cameras.max(1) as u64
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
    /// No layer fits the receiver's link: video to it is paused (and it was told so).
    pub paused: bool,
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

    /// How many simulcast cameras the receiver gets.
    pub fn count(&self) -> usize {
        self.tracks.len()
    }

    /// The simulcast cameras the receiver gets, with the layer of each.
    pub fn each(&self) -> impl Iterator<Item = (&TrackKey<Mid>, Option<Rid>)> {
        self.tracks
            .iter()
            .map(|(key, choice)| (key, choice.current))
    }
}

/// What str0m's estimate for one receiver should aim at: (`minimum`, `desired`) in bits per
/// second. `minimum` is what each camera's current layer needs (the smallest while paused);
/// `desired` the largest layer of each, which str0m probes toward. Padding up to the next
/// layer instead kept a 400 kbit/s link so full that the picture froze 6 s in 10. Who chose
/// "low" is probed for the smallest layers only, who chose "audio only" not at all (probes
/// are padding, that is data).
pub fn probe_targets(
    quality: ReceiveQuality,
    cameras: &[(Vec<LiveLayer>, Option<Rid>)],
) -> (u64, u64) {
    let mut minimum = 0;
    let mut desired = 0;
    for (live, current) in cameras {
        let largest = match quality {
            ReceiveQuality::Auto => live.last(),
            ReceiveQuality::Low => live.first(),
            ReceiveQuality::AudioOnly => None,
        };
        let Some(largest) = largest else {
            continue;
        };
        desired += largest.bitrate;
        let now = current
            .and_then(|c| live.iter().find(|l| l.rid == c))
            .or(live.first());
        minimum += now.map_or(0, |l| l.bitrate);
    }
    (minimum, desired.max(minimum))
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
        let pick = |quality, budget, current: Option<&str>| {
            choose(quality, &live, budget, current.map(Rid::from)).map(|r| r.to_string())
        };
        assert_eq!(pick(ReceiveQuality::Auto, None, None).as_deref(), Some("h"));
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(600_000), None).as_deref(),
            Some("m")
        );
        assert_eq!(pick(ReceiveQuality::Auto, Some(100_000), None), None);
        assert_eq!(pick(ReceiveQuality::Low, None, None).as_deref(), Some("l"));
        assert_eq!(pick(ReceiveQuality::AudioOnly, None, None), None);
        assert_eq!(choose(ReceiveQuality::Auto, &[], None, None), None);
        // Up only with headroom; staying needs none.
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(480_000), Some("l")).as_deref(),
            Some("l")
        );
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(480_000), Some("m")).as_deref(),
            Some("m")
        );
        // The smallest shown stays through a dip; far below it, video pauses; it comes back
        // only with headroom.
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(100_000), Some("l")).as_deref(),
            Some("l")
        );
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(80_000), Some("l")),
            None,
            "not even the smallest fits: paused"
        );
        assert_eq!(pick(ReceiveQuality::Auto, Some(150_000), None), None);
        assert_eq!(
            pick(ReceiveQuality::Auto, Some(175_000), None).as_deref(),
            Some("l")
        );
    }

    #[test]
    fn the_estimate_aims_at_the_largest_layers_and_keeps_the_current_ones() {
        let live = vec![
            layer("l", 150_000),
            layer("m", 450_000),
            layer("h", 1_400_000),
        ];
        let cameras = [
            (live.clone(), Some(Rid::from("m"))),
            (live.clone(), None),
            (Vec::new(), None),
        ];
        assert_eq!(
            probe_targets(ReceiveQuality::Auto, &cameras),
            (600_000, 2_800_000)
        );
        assert_eq!(probe_targets(ReceiveQuality::Auto, &[]), (0, 0));
        let low = [(live.clone(), Some(Rid::from("l")))];
        assert_eq!(probe_targets(ReceiveQuality::Low, &low), (150_000, 150_000));
        assert_eq!(probe_targets(ReceiveQuality::AudioOnly, &cameras), (0, 0));
    }

    #[test]
    fn audio_comes_first_in_the_budget() {
        assert_eq!(budget_per_camera(1_000_000, 1, 1), 790_000);
        assert_eq!(budget_per_camera(1_000_000, 2, 2), 365_000);
        assert_eq!(budget_per_camera(50_000, 1, 1), 0);
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
