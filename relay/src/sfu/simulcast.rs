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

use sprechstunde_shared::{ReceiveQuality, SIMULCAST_MAX_BITRATES, SIMULCAST_RIDS};
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

/// What a layer is taken to need until its bitrate is measured (its first
/// [`RATE_WINDOW`]): the most the client sends it at; the largest for a track sent in one
/// layer or an unknown rid. Counted as nothing, an unmeasured layer was what a newcomer got
/// first: the largest, at 1.5 Mbit/s while the pacer sent 0.66 (the starting estimate), with
/// nothing to probe for, until the smaller layer's keyframe; frames queued for up to 0.7 s.
pub fn bitrate_or_expected(measured: u64, rid: Option<Rid>) -> u64 {
    if measured > 0 {
        return measured;
    }
    let largest = SIMULCAST_MAX_BITRATES[SIMULCAST_MAX_BITRATES.len() - 1];
    rid.and_then(|rid| SIMULCAST_MAX_BITRATES.get(rank(&rid)).copied())
        .unwrap_or(largest)
}

/// A stream's bitrate over [`RATE_WINDOW`], when it was last seen, and its picture height.
struct Rate {
    last_seen: Instant,
    window_start: Instant,
    window_bytes: u64,
    /// Bits per second over the last full window.
    bitrate: u64,
    /// The picture height of its last keyframe (VP8).
    height: Option<u32>,
}

impl Rate {
    fn new(now: Instant) -> Rate {
        Rate {
            last_seen: now,
            window_start: now,
            window_bytes: 0,
            bitrate: 0,
            height: None,
        }
    }

    fn add(&mut self, bytes: usize, now: Instant) {
        self.last_seen = now;
        self.window_bytes += bytes as u64;
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= RATE_WINDOW {
            self.bitrate = self.window_bytes * 8 * 1_000 / elapsed.as_millis().max(1) as u64;
            self.window_start = now;
            self.window_bytes = 0;
        }
    }

    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) < LAYER_STOPPED_AFTER
    }
}

/// A layer that is being sent now, with its bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLayer {
    pub rid: Rid,
    pub bitrate: u64,
    pub height: Option<u32>,
}

#[derive(Default)]
struct TrackLayers {
    /// The layers its SDP names.
    declared: Vec<Rid>,
    seen: Vec<(Rid, Rate)>,
}

/// What each sender sends: the layers of each simulcast track, and the rate of each track
/// sent in one layer (audio included).
#[derive(Default)]
pub struct SentLayers {
    tracks: HashMap<TrackKey<Mid>, TrackLayers>,
    single: HashMap<TrackKey<Mid>, Rate>,
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

    /// A frame of `key` came, `bytes` long; `rid` names its layer if it is sent in layers.
    pub fn frame(&mut self, key: TrackKey<Mid>, rid: Option<Rid>, bytes: usize, now: Instant) {
        let Some(rid) = rid else {
            self.single
                .entry(key)
                .or_insert_with(|| Rate::new(now))
                .add(bytes, now);
            return;
        };
        let layers = &mut self.tracks.entry(key).or_default().seen;
        let index = match layers.iter().position(|(seen, _)| *seen == rid) {
            Some(index) => index,
            None => {
                layers.push((rid, Rate::new(now)));
                layers.sort_by_key(|(seen, _)| rank(seen));
                layers
                    .iter()
                    .position(|(seen, _)| *seen == rid)
                    .unwrap_or(0)
            }
        };
        if let Some((_, rate)) = layers.get_mut(index) {
            rate.add(bytes, now);
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
            .filter(|(_, rate)| rate.live(now))
            .map(|(rid, rate)| LiveLayer {
                rid: *rid,
                bitrate: rate.bitrate,
                height: rate.height,
            })
            .collect()
    }

    /// The bitrate of `key`, sent in one layer, if it is being sent now.
    pub fn single_bitrate(&self, key: &TrackKey<Mid>, now: Instant) -> Option<u64> {
        self.single_live(key, now).map(|(bitrate, _)| bitrate)
    }

    /// The bitrate and picture height of `key`, sent in one layer, if it is being sent now.
    pub fn single_live(&self, key: &TrackKey<Mid>, now: Instant) -> Option<(u64, Option<u32>)> {
        self.single
            .get(key)
            .filter(|rate| rate.live(now))
            .map(|rate| (rate.bitrate, rate.height))
    }

    /// A keyframe of `key` (layer `rid`) came: its picture height, where it can be read.
    pub fn keyframe(&mut self, key: &TrackKey<Mid>, rid: Option<Rid>, frame: &[u8]) {
        let Some(height) = vp8_keyframe_height(frame) else {
            return;
        };
        let rate = match rid {
            None => self.single.get_mut(key),
            Some(rid) => self
                .tracks
                .get_mut(key)
                .and_then(|t| t.seen.iter_mut().find(|(seen, _)| *seen == rid))
                .map(|(_, rate)| rate),
        };
        if let Some(rate) = rate {
            rate.height = Some(height);
        }
    }

    pub fn forget(&mut self, key: &TrackKey<Mid>) {
        self.tracks.remove(key);
        self.single.remove(key);
    }
}

/// The picture height a VP8 key frame states (RFC 6386, 9.1: a 3-byte frame tag whose
/// lowest bit is 0 for a key frame, the start code 9d 01 2a, then width and height in 14
/// bits each, little-endian).
fn vp8_keyframe_height(frame: &[u8]) -> Option<u32> {
    let header = frame.get(..10)?;
    if header[0] & 1 != 0 || header[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    Some(u32::from(
        u16::from_le_bytes([header[8], header[9]]) & 0x3fff,
    ))
}

/// The layer a receiver gets of a simulcast track while the allocation has given it none that
/// is being sent: the largest for "auto" (the estimate has not spoken yet, or the layer it
/// gave stopped), the smallest for "low".
pub fn default_layer(quality: ReceiveQuality, live: &[LiveLayer]) -> Option<Rid> {
    match quality {
        ReceiveQuality::AudioOnly => None,
        ReceiveQuality::Low => live.first().map(|l| l.rid),
        ReceiveQuality::Auto => live.last().map(|l| l.rid),
    }
}

/// What the allocation ([`super::allocation`]) gave a receiver for one picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Allotted {
    /// Nothing decided yet.
    #[default]
    Unset,
    /// This layer (`None`: the one layer of a track sent in one).
    Layer(Option<Rid>),
    /// Its link cannot carry even the smallest layer.
    Paused,
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
    /// What the allocation gave it.
    pub allotted: Allotted,
    /// Video to it is paused, and it was told so.
    pub paused: bool,
    /// Since when its smallest layer has not fitted while it was shown
    /// ([`super::allocation::PAUSE_AFTER`]).
    pub short_since: Option<Instant>,
}

/// A frame to forward: its rewritten timestamp, and the arrival time to queue it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    pub time: MediaTime,
    pub arrived: Instant,
}

impl LayerChoice {
    /// The layer of a simulcast track to forward, of those in `live`.
    pub fn target(&self, quality: ReceiveQuality, live: &[LiveLayer]) -> Option<Rid> {
        match self.allotted {
            Allotted::Paused => None,
            Allotted::Layer(Some(rid)) if live.iter().any(|l| l.rid == rid) => Some(rid),
            _ => default_layer(quality, live),
        }
    }

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

    pub fn get(&self, key: &TrackKey<Mid>) -> Option<&LayerChoice> {
        self.tracks.get(key)
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
            height: None,
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
            sent.frame(key(), Some(Rid::from("h")), 2_000, now);
            sent.frame(key(), Some(Rid::from("l")), 300, now);
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
        sent.frame(key(), Some(Rid::from("l")), 300, now + LAYER_STOPPED_AFTER);
        let live = sent.live(&key(), now + LAYER_STOPPED_AFTER);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].rid, Rid::from("l"));
    }

    #[test]
    fn a_track_in_one_layer_is_measured_too() {
        let start = Instant::now();
        let mut sent = SentLayers::default();
        for frame in 0..31u64 {
            let now = start + Duration::from_millis(frame * 1_000 / 30);
            sent.frame(key(), None, 1_000, now);
        }
        let now = start + Duration::from_millis(1_000);
        assert_eq!(sent.single_bitrate(&key(), now), Some(248_000));
        assert!(!sent.is_simulcast(&key()));
        assert_eq!(sent.single_bitrate(&key(), now + LAYER_STOPPED_AFTER), None);
    }

    #[test]
    fn a_keyframe_tells_its_layers_height() {
        let now = Instant::now();
        let mut sent = SentLayers::default();
        let h = Some(Rid::from("h"));
        sent.frame(key(), h, 1_000, now);
        // A 1280x720 key frame (scale bits set, which do not count), then a delta frame.
        let keyframe = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x45, 0xd0, 0x42];
        sent.keyframe(&key(), h, &keyframe);
        sent.keyframe(&key(), h, &[0x51, 0x42, 0x00, 0, 0, 0, 0, 0, 0, 0]);
        sent.keyframe(&key(), h, &keyframe[..6]);
        assert_eq!(sent.live(&key(), now)[0].height, Some(720));
        assert_eq!(vp8_keyframe_height(&keyframe[..6]), None);
        assert_eq!(
            vp8_keyframe_height(&[0x51, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0, 5, 0xd0, 2]),
            None
        );
    }

    #[test]
    fn a_layer_not_yet_measured_counts_at_the_most_it_is_sent_at() {
        use super::super::allocation;
        assert_eq!(bitrate_or_expected(0, Some(Rid::from("l"))), 100_000);
        assert_eq!(bitrate_or_expected(0, Some(Rid::from("m"))), 500_000);
        assert_eq!(bitrate_or_expected(0, Some(Rid::from("h"))), 1_500_000);
        assert_eq!(bitrate_or_expected(0, Some(Rid::from("q"))), 1_500_000);
        assert_eq!(bitrate_or_expected(0, None), 1_500_000);
        assert_eq!(bitrate_or_expected(42_000, Some(Rid::from("h"))), 42_000);
        // So a newcomer's first allotment at the starting estimate is the smallest layer,
        // and the estimator probes toward the largest from the first packet.
        let layers: Vec<_> = ["l", "m", "h"]
            .into_iter()
            .map(|rid| allocation::Layer {
                rid: Some(Rid::from(rid)),
                bitrate: bitrate_or_expected(0, Some(Rid::from(rid))),
                height: None,
            })
            .collect();
        let picture = allocation::Picture {
            screen: false,
            last_voice: None,
            layers,
            current: None,
            shown_height: None,
        };
        let shared = allocation::allocate(
            ReceiveQuality::Auto,
            Some(allocation::budget(600_000, 25_000)),
            &[picture],
        );
        assert_eq!(shared.picks, vec![Some(Some(Rid::from("l")))]);
        assert_eq!(shared.desired, 1_500_000);
    }

    #[test]
    fn the_target_is_what_was_allotted_while_it_is_sent() {
        let (l, m, h) = (Rid::from("l"), Rid::from("m"), Rid::from("h"));
        let live = [layer("l", 150_000), layer("h", 1_400_000)];
        let mut choice = LayerChoice::default();
        assert_eq!(choice.target(ReceiveQuality::Auto, &live), Some(h));
        assert_eq!(choice.target(ReceiveQuality::Low, &live), Some(l));
        assert_eq!(choice.target(ReceiveQuality::AudioOnly, &live), None);
        choice.allotted = Allotted::Layer(Some(l));
        assert_eq!(choice.target(ReceiveQuality::Auto, &live), Some(l));
        // The layer it was given stopped: the largest being sent until the next allocation.
        choice.allotted = Allotted::Layer(Some(m));
        assert_eq!(choice.target(ReceiveQuality::Auto, &live), Some(h));
        choice.allotted = Allotted::Paused;
        assert_eq!(choice.target(ReceiveQuality::Auto, &live), None);
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
