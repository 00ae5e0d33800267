//! How one receiver's link is shared among the pictures it gets. Audio comes first (it is
//! small and must not suffer); then each picture gets its smallest layer, screen shares
//! first, then whoever spoke last (as Jitsi's "last N"), then what is shown already; then,
//! in the same order, larger layers while the estimate allows. A picture whose
//! smallest layer does not fit is paused. A track sent in one layer (Safari, a screen share,
//! a synthetic participant) is a picture with one layer: it is forwarded or paused.
//!
//! Without this, everything was queued for the receiver whatever its estimate: in a full
//! room the relay's pacer held a receiver to the estimate while nineteen pictures needed
//! more, its queues grew by hundreds of megabytes and some pictures never arrived.

use std::cmp::Reverse;
use std::time::Instant;

use sprechstunde_shared::ReceiveQuality;
use str0m::media::Rid;

/// A layer above the one a receiver gets (or a picture that is paused) is taken only when
/// the budget exceeds its bitrate by this factor, so that a receiver does not go up and
/// straight down again.
const UP_HEADROOM: f64 = 1.15;
/// A picture, once shown, is paused only when what is left falls below this share of its
/// smallest layer: an estimate dips for a moment when a link narrows, and a paused picture
/// is worse than a slow one.
const PAUSE_BELOW: f64 = 0.6;
/// The share of the estimate given to media: the rest is for resends and padding.
const USABLE_PERCENT: u64 = 85;

/// One layer of a picture: `rid` is `None` for a track sent in one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub rid: Option<Rid>,
    pub bitrate: u64,
    /// Its picture height, once a keyframe told it.
    pub height: Option<u32>,
}

/// A picture the receiver gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub screen: bool,
    /// When its sender's voice was last heard.
    pub last_voice: Option<Instant>,
    /// The layers being sent now, smallest first.
    pub layers: Vec<Layer>,
    /// The layer it gets now; `None` while it gets none.
    pub current: Option<Option<Rid>>,
    /// How tall the receiver shows it (device pixels), if it said.
    pub shown_height: Option<u32>,
}

/// What a receiver should get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Per picture, in the order given: the layer to get, or `None`: paused.
    pub picks: Vec<Option<Option<Rid>>>,
    /// What the pictures need to keep up (the picks) and at most (the largest layers), in
    /// bits per second; [`link_targets`] adds the audio for str0m's estimator. A receiver at "low" is probed for the smallest layers
    /// only, at "audio only" not at all: probes are padding, that is data.
    pub minimum: u64,
    pub desired: u64,
}

/// The largest layer worth sending where `picture` is shown: the smallest that is about as
/// tall as its tile (a layer of unknown height does not count), else the largest.
fn fitting_height(picture: &Picture) -> Option<usize> {
    let largest = picture.layers.len().checked_sub(1)?;
    let Some(shown) = picture.shown_height else {
        return Some(largest);
    };
    picture
        .layers
        .iter()
        .position(|l| l.height.is_some_and(|h| h * 10 >= shown * 9))
        .or(Some(largest))
}

/// What an `estimate` of the link leaves for pictures once `audio` (bits per second) is sent.
pub fn budget(estimate: u64, audio: u64) -> u64 {
    (estimate * USABLE_PERCENT / 100).saturating_sub(audio)
}

/// What a forwarded audio track costs on the link besides its payload: 50 packets a second
/// (20 ms Opus frames), each with RTP header, header extensions, SRTP tag, UDP and IPv4
/// (about 62 bytes). For a 35 kbit/s voice that is most of the cost again.
const AUDIO_OVERHEAD_BPS: u64 = 50 * 62 * 8;
/// Redundant audio (RED, RFC 2198) is kept while, with it, audio takes at most this share
/// of the estimate. It doubles each voice's payload: worth it on a lossy link with one or
/// two voices, not when nineteen voices would leave no room for any picture.
const RED_KEPT_PERCENT: u64 = 40;
/// Once dropped, it comes back only below this share: switching it with every swing of
/// the estimate moved the load by a quarter and the estimate with it.
const RED_BACK_PERCENT: u64 = 25;
/// A shown picture whose smallest layer no longer fits is paused only after this long:
/// an estimate dips for a moment after every probe on a narrow link, and pausing at each
/// dip froze a picture that the link carried (measured: paused and resumed every 4 s on a
/// 300 kbit/s link).
pub const PAUSE_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// The audio a receiver gets: whether it is sent with redundancy, and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audio {
    pub redundant: bool,
    pub bits_per_second: u64,
}

/// The audio cost on a link estimated at `estimate` (`None`: not known yet) of voices whose
/// payloads measure `payloads` (bits per second each); `was_redundant`: as sent until now.
pub fn audio(estimate: Option<u64>, payloads: &[u64], was_redundant: bool) -> Audio {
    let cost = |redundant: bool| -> u64 {
        let copies = if redundant { 2 } else { 1 };
        payloads
            .iter()
            .map(|p| p * copies + AUDIO_OVERHEAD_BPS)
            .sum()
    };
    let share = if was_redundant {
        RED_KEPT_PERCENT
    } else {
        RED_BACK_PERCENT
    };
    let redundant = estimate.is_none_or(|e| cost(true) * 100 <= e * share);
    Audio {
        redundant,
        bits_per_second: cost(redundant),
    }
}

/// What str0m's estimator of the link is to keep up (`minimum`) and to probe toward
/// (`desired`), in bits per second: the link's whole load, audio included. It compares them
/// with its estimate of the whole link, so pictures alone looked met while voices filled
/// the link, and it never probed.
pub fn link_targets(audio: Audio, pictures: &Allocation) -> (u64, u64) {
    // No picture to make room for ("audio only", or none sent): nothing to probe for.
    // Probes are data, and a family at "audio only" chose to spend as little as it can.
    if pictures.desired == 0 {
        return (0, 0);
    }
    let minimum = audio.bits_per_second + pictures.minimum;
    let desired = (audio.bits_per_second + pictures.desired) * 100 / USABLE_PERCENT;
    (minimum, desired)
}

/// Share `budget` (`None`: no estimate yet, everything fits) among `pictures`.
pub fn allocate(quality: ReceiveQuality, budget: Option<u64>, pictures: &[Picture]) -> Allocation {
    let mut picks: Vec<Option<usize>> = vec![None; pictures.len()];
    let largest = |p: &Picture| match quality {
        ReceiveQuality::Auto => fitting_height(p),
        ReceiveQuality::Low => (!p.layers.is_empty()).then_some(0),
        ReceiveQuality::AudioOnly => None,
    };
    let current = |p: &Picture| {
        p.current
            .and_then(|rid| p.layers.iter().position(|l| l.rid == rid))
    };
    match budget {
        None => {
            for (pick, picture) in picks.iter_mut().zip(pictures) {
                *pick = largest(picture);
            }
        }
        Some(budget) if quality != ReceiveQuality::AudioOnly => {
            // Screen shares first, then the last to speak, then what is shown already;
            // otherwise the order given.
            let mut order: Vec<usize> = (0..pictures.len()).collect();
            order.sort_by_key(|&i| {
                let picture = &pictures[i];
                (
                    !picture.screen,
                    Reverse(picture.last_voice),
                    picture.current.is_none(),
                )
            });
            let mut left = budget as f64;
            for &i in &order {
                let picture = &pictures[i];
                let Some(smallest) = picture.layers.first() else {
                    continue;
                };
                let share = if picture.current.is_some() {
                    PAUSE_BELOW
                } else {
                    UP_HEADROOM
                };
                if smallest.bitrate as f64 * share <= left {
                    picks[i] = Some(0);
                    left -= smallest.bitrate as f64;
                }
            }
            for &i in &order {
                let (Some(from), Some(to)) = (picks[i], largest(&pictures[i])) else {
                    continue;
                };
                let layers = &pictures[i].layers;
                let now = current(&pictures[i]);
                let base = layers[from].bitrate as f64;
                let better = (from + 1..=to).rev().find(|&j| {
                    let share = if now.is_none_or(|c| j > c) {
                        UP_HEADROOM
                    } else {
                        1.0
                    };
                    layers[j].bitrate as f64 * share - base <= left
                });
                if let Some(j) = better {
                    left -= layers[j].bitrate as f64 - base;
                    picks[i] = Some(j);
                }
            }
        }
        Some(_) => {}
    }
    let bitrate = |picture: &Picture, index: Option<usize>| {
        index
            .and_then(|i| picture.layers.get(i))
            .map_or(0, |l| l.bitrate)
    };
    let minimum = pictures
        .iter()
        .zip(&picks)
        .map(|(picture, pick)| bitrate(picture, *pick))
        .sum::<u64>();
    let desired = pictures
        .iter()
        .map(|picture| bitrate(picture, largest(picture)))
        .sum::<u64>();
    Allocation {
        picks: pictures
            .iter()
            .zip(picks)
            .map(|(picture, pick)| pick.and_then(|i| picture.layers.get(i)).map(|l| l.rid))
            .collect(),
        minimum,
        desired: desired.max(minimum),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(rates: &[(&str, u64)]) -> Vec<Layer> {
        rates
            .iter()
            .map(|(rid, bitrate)| Layer {
                rid: Some(Rid::from(*rid)),
                bitrate: *bitrate,
                height: Some((*bitrate / 2_000) as u32),
            })
            .collect()
    }

    fn camera(current: Option<&str>) -> Picture {
        Picture {
            screen: false,
            last_voice: None,
            layers: layers(&[("l", 150_000), ("m", 450_000), ("h", 1_400_000)]),
            current: current.map(|rid| Some(Rid::from(rid))),
            shown_height: None,
        }
    }

    fn single(bitrate: u64, shown: bool) -> Picture {
        Picture {
            screen: false,
            last_voice: None,
            layers: vec![Layer {
                rid: None,
                bitrate,
                height: None,
            }],
            current: shown.then_some(None),
            shown_height: None,
        }
    }

    fn rids(allocation: &Allocation) -> Vec<Option<String>> {
        allocation
            .picks
            .iter()
            .map(|pick| pick.map(|rid| rid.map_or("-".into(), |r| r.to_string())))
            .collect()
    }

    fn picked(
        quality: ReceiveQuality,
        budget: Option<u64>,
        pictures: &[Picture],
    ) -> Vec<Option<String>> {
        rids(&allocate(quality, budget, pictures))
    }

    const AUTO: ReceiveQuality = ReceiveQuality::Auto;

    fn some(rids: &[&str]) -> Vec<Option<String>> {
        rids.iter()
            .map(|r| (!r.is_empty()).then(|| r.to_string()))
            .collect()
    }

    #[test]
    fn one_camera_follows_the_setting_and_the_budget() {
        let one = |budget, current| picked(AUTO, budget, &[camera(current)]);
        assert_eq!(one(None, None), some(&["h"]));
        assert_eq!(one(Some(600_000), None), some(&["m"]));
        assert_eq!(one(Some(100_000), None), some(&[""]));
        assert_eq!(
            picked(ReceiveQuality::Low, None, &[camera(None)]),
            some(&["l"])
        );
        assert_eq!(
            picked(ReceiveQuality::AudioOnly, None, &[camera(None)]),
            some(&[""])
        );
        assert_eq!(
            picked(ReceiveQuality::AudioOnly, Some(9_000_000), &[camera(None)]),
            some(&[""])
        );
        // Up only with headroom; staying needs none.
        assert_eq!(one(Some(480_000), Some("l")), some(&["l"]));
        assert_eq!(one(Some(480_000), Some("m")), some(&["m"]));
        // The smallest shown stays through a dip; far below it, the picture pauses; it
        // comes back only with headroom.
        assert_eq!(one(Some(100_000), Some("l")), some(&["l"]));
        assert_eq!(one(Some(80_000), Some("l")), some(&[""]));
        assert_eq!(one(Some(150_000), None), some(&[""]));
        assert_eq!(one(Some(175_000), None), some(&["l"]));
        // "Low" is paused too when not even the smallest fits.
        assert_eq!(
            picked(ReceiveQuality::Low, Some(50_000), &[camera(None)]),
            some(&[""])
        );
    }

    #[test]
    fn every_picture_gets_its_smallest_layer_before_any_gets_more() {
        // 700 kbit/s for two cameras: both small plus one at the middle layer, not one large.
        let pictures = [camera(None), camera(None)];
        assert_eq!(picked(AUTO, Some(700_000), &pictures), some(&["m", "l"]));
        // Nineteen pictures sent in one layer of 100 kbit/s and 1 Mbit/s to share: the ones
        // that fit are forwarded, the rest paused (not all queued, none arriving).
        let many: Vec<Picture> = (0..19).map(|_| single(100_000, false)).collect();
        let allocation = allocate(AUTO, Some(1_000_000), &many);
        let forwarded = allocation.picks.iter().filter(|p| p.is_some()).count();
        assert_eq!(forwarded, 9, "{:?}", allocation.picks);
        assert_eq!(allocation.minimum, 900_000);
        assert_eq!(allocation.desired, 1_900_000, "probes toward all of them");
    }

    #[test]
    fn a_screen_share_comes_first_and_shown_pictures_keep_their_place() {
        let screen = Picture {
            screen: true,
            ..single(300_000, false)
        };
        let pictures = [single(200_000, true), single(200_000, false), screen];
        // 500 kbit/s: the screen, and the camera already shown (it may dip to 60 %); the new
        // camera waits.
        assert_eq!(
            picked(AUTO, Some(500_000), &pictures),
            some(&["-", "", "-"])
        );
        assert_eq!(
            picked(AUTO, Some(900_000), &pictures),
            some(&["-", "-", "-"])
        );
    }

    #[test]
    fn no_layer_much_taller_than_the_tile_is_sent() {
        // Layer heights in the test: l 75, m 225, h 700 lines.
        let shown = |height| Picture {
            shown_height: Some(height),
            ..camera(None)
        };
        assert_eq!(picked(AUTO, None, &[shown(70)]), some(&["l"]));
        assert_eq!(
            picked(AUTO, None, &[shown(240)]),
            some(&["m"]),
            "within a tenth"
        );
        assert_eq!(picked(AUTO, None, &[shown(300)]), some(&["h"]));
        assert_eq!(picked(AUTO, None, &[shown(2_000)]), some(&["h"]));
        assert_eq!(picked(AUTO, Some(300_000), &[shown(300)]), some(&["l"]));
        // Nothing probed for beyond what is shown.
        assert_eq!(
            allocate(AUTO, Some(9_000_000), &[shown(70)]).desired,
            150_000
        );
        let unknown = Picture {
            layers: vec![
                Layer {
                    height: None,
                    ..layers(&[("l", 150_000)])[0]
                },
                layers(&[("h", 1_400_000)])[0],
            ],
            ..shown(70)
        };
        assert_eq!(
            picked(AUTO, None, &[unknown]),
            some(&["h"]),
            "an unknown height may be too small"
        );
    }

    #[test]
    fn whoever_spoke_last_comes_before_the_silent() {
        let start = Instant::now();
        let spoke = |at: u64| Picture {
            last_voice: Some(start + std::time::Duration::from_secs(at)),
            ..single(200_000, false)
        };
        // Room for two of four: the two who spoke last, though the silent one is shown.
        let pictures = [single(200_000, true), spoke(1), spoke(5), spoke(3)];
        assert_eq!(
            picked(AUTO, Some(470_000), &pictures),
            some(&["", "", "-", "-"])
        );
    }

    #[test]
    fn the_estimator_keeps_what_is_shown_and_probes_toward_the_largest() {
        let pictures = [
            camera(Some("m")),
            camera(None),
            Picture {
                layers: Vec::new(),
                ..camera(None)
            },
        ];
        let allocation = allocate(AUTO, Some(700_000), &pictures);
        assert_eq!(rids(&allocation), some(&["m", "l", ""]));
        assert_eq!(
            (allocation.minimum, allocation.desired),
            (600_000, 2_800_000)
        );
        let low = allocate(ReceiveQuality::Low, Some(700_000), &pictures);
        assert_eq!((low.minimum, low.desired), (300_000, 300_000));
        let none = allocate(ReceiveQuality::AudioOnly, Some(700_000), &pictures);
        assert_eq!((none.minimum, none.desired), (0, 0));
    }

    #[test]
    fn audio_comes_first_in_the_budget() {
        assert_eq!(budget(1_000_000, 60_000), 790_000);
        assert_eq!(budget(50_000, 60_000), 0);
    }

    #[test]
    fn voices_are_sent_redundant_while_the_link_affords_it() {
        // One voice of 35 kbit/s costs 94.8 kbit/s with RED, 59.8 without.
        let one = audio(Some(400_000), &[35_000], true);
        assert_eq!(
            one,
            Audio {
                redundant: true,
                bits_per_second: 94_800
            }
        );
        let weak = audio(Some(120_000), &[35_000], true);
        assert_eq!(
            weak,
            Audio {
                redundant: false,
                bits_per_second: 59_800
            }
        );
        // Nineteen voices on a 1.2 Mbit/s estimate: with RED 1.8 Mbit/s, more than the
        // link; without, 1.14 Mbit/s.
        let room = audio(Some(1_200_000), &[35_000; 19], true);
        assert_eq!(
            room,
            Audio {
                redundant: false,
                bits_per_second: 1_136_200
            }
        );
        assert!(
            audio(None, &[35_000; 19], false).redundant,
            "unknown link: as negotiated"
        );
    }

    #[test]
    fn redundancy_once_dropped_comes_back_only_well_below_the_limit() {
        // 94.8 kbit/s with RED: kept up to 40 % of the estimate (237 kbit/s), taken back
        // only from 25 % (379 kbit/s).
        assert!(audio(Some(300_000), &[35_000], true).redundant);
        assert!(!audio(Some(300_000), &[35_000], false).redundant);
        assert!(audio(Some(380_000), &[35_000], false).redundant);
    }

    #[test]
    fn the_estimator_is_given_the_whole_links_load() {
        let voices = audio(Some(3_000_000), &[35_000; 19], true);
        let pictures = Allocation {
            picks: Vec::new(),
            minimum: 500_000,
            desired: 1_900_000,
        };
        // Probing toward 3.57 Mbit/s, where all pictures fit within the usable share.
        assert_eq!(link_targets(voices, &pictures), (1_636_200, 3_572_000));
        let none = Allocation {
            picks: Vec::new(),
            minimum: 0,
            desired: 0,
        };
        assert_eq!(
            link_targets(voices, &none),
            (0, 0),
            "audio only: no probing"
        );
        assert_eq!(
            budget(3_572_000, voices.bits_per_second),
            1_900_000,
            "what it probes toward carries every picture"
        );
    }
}
