//! The video quality a participant sends: a cap on resolution and bitrate, and the
//! simulcast layers the camera is sent in.

use sprechstunde_shared::{SIMULCAST_MAX_BITRATES, SIMULCAST_RIDS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    Low,
    #[default]
    Standard,
    High,
}

impl Quality {
    pub const ALL: [Quality; 3] = [Quality::Low, Quality::Standard, Quality::High];

    pub fn code(self) -> &'static str {
        match self {
            Quality::Low => "low",
            Quality::Standard => "standard",
            Quality::High => "high",
        }
    }

    pub fn from_code(code: &str) -> Option<Quality> {
        Quality::ALL.into_iter().find(|q| q.code() == code)
    }

    /// Lines of the picture sent at most.
    pub fn max_height(self) -> f64 {
        match self {
            Quality::Low => 180.0,
            Quality::Standard => 360.0,
            Quality::High => 720.0,
        }
    }

    pub fn max_bitrate(self) -> f64 {
        match self {
            Quality::Low => 150_000.0,
            Quality::Standard => 500_000.0,
            Quality::High => 1_500_000.0,
        }
    }

    /// `scaleResolutionDownBy` for a camera delivering `width` x `height`. The cap is on
    /// the longer side (that of a 16:9 picture `max_height` high), so a phone held upright
    /// sends 360x640 at "standard", not 202x360.
    pub fn scale_down_from(self, width: f64, height: f64) -> f64 {
        let longest_allowed = self.max_height() * 16.0 / 9.0;
        (width.max(height) / longest_allowed).max(1.0)
    }
}

/// One simulcast layer of the camera: at most this many lines, at most this bitrate.
struct Layer {
    rid: &'static str,
    max_height: f64,
    max_bitrate: f64,
}

const LAYERS: [Layer; 3] = [
    // The smallest layer is what a weak link gets. At 150 kbit/s a busy camera's did not
    // fit a 300 kbit/s downlink beside one voice (the estimate settles near 200 kbit/s
    // there) and froze for seconds; 100 kbit/s does (the weak-links test).
    Layer {
        rid: SIMULCAST_RIDS[0],
        max_height: 180.0,
        max_bitrate: SIMULCAST_MAX_BITRATES[0] as f64,
    },
    Layer {
        rid: SIMULCAST_RIDS[1],
        max_height: 360.0,
        max_bitrate: SIMULCAST_MAX_BITRATES[1] as f64,
    },
    Layer {
        rid: SIMULCAST_RIDS[2],
        max_height: 720.0,
        max_bitrate: SIMULCAST_MAX_BITRATES[2] as f64,
    },
];

/// How one layer is sent (`RTCRtpEncodingParameters`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encoding {
    pub rid: &'static str,
    pub active: bool,
    pub scale_resolution_down_by: f64,
    pub max_bitrate: f64,
}

impl Quality {
    /// The camera's layers at this quality, for a camera delivering `width` x `height`: those
    /// up to the quality's size are sent, each only where it is larger than the one below
    /// (a 640x360 camera has no 720p layer to send). The smallest is always sent.
    pub fn encodings(self, width: f64, height: f64) -> Vec<Encoding> {
        let mut below: Option<f64> = None;
        LAYERS
            .iter()
            .map(|layer| {
                let longest_allowed = layer.max_height * 16.0 / 9.0;
                let scale = (width.max(height) / longest_allowed).max(1.0);
                let larger = below.is_none_or(|b| scale < b);
                let active = larger && (below.is_none() || layer.max_height <= self.max_height());
                if active {
                    below = Some(scale);
                }
                Encoding {
                    rid: layer.rid,
                    active,
                    scale_resolution_down_by: scale,
                    max_bitrate: layer.max_bitrate,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(quality: Quality, width: f64, height: f64) -> Vec<(&'static str, f64)> {
        quality
            .encodings(width, height)
            .into_iter()
            .filter(|e| e.active)
            .map(|e| (e.rid, height.min(width) / e.scale_resolution_down_by))
            .collect()
    }

    #[test]
    fn layers_up_to_the_quality_and_only_those_the_camera_can_fill() {
        assert_eq!(
            sent(Quality::High, 1280.0, 720.0),
            [("l", 180.0), ("m", 360.0), ("h", 720.0)]
        );
        assert_eq!(
            sent(Quality::Standard, 1280.0, 720.0),
            [("l", 180.0), ("m", 360.0)]
        );
        assert_eq!(sent(Quality::Low, 1280.0, 720.0), [("l", 180.0)]);
        // A 640x360 camera: no layer larger than itself.
        assert_eq!(
            sent(Quality::High, 640.0, 360.0),
            [("l", 180.0), ("m", 360.0)]
        );
        // A phone held upright: the same sizes across.
        assert_eq!(
            sent(Quality::High, 720.0, 1280.0),
            [("l", 180.0), ("m", 360.0), ("h", 720.0)]
        );
        // A tiny camera still sends its one layer.
        assert_eq!(sent(Quality::High, 160.0, 120.0), [("l", 120.0)]);
    }

    #[test]
    fn scaling_never_enlarges_and_reaches_the_cap() {
        assert_eq!(Quality::Low.scale_down_from(1280.0, 720.0), 4.0);
        assert_eq!(Quality::Standard.scale_down_from(1280.0, 720.0), 2.0);
        assert_eq!(Quality::High.scale_down_from(640.0, 480.0), 1.0);
        for quality in Quality::ALL {
            assert_eq!(Quality::from_code(quality.code()), Some(quality));
            assert!(720.0 / quality.scale_down_from(1280.0, 720.0) <= quality.max_height());
        }
    }

    #[test]
    fn a_phone_held_upright_keeps_the_same_picture_size_as_held_across() {
        for quality in Quality::ALL {
            let across = quality.scale_down_from(1280.0, 720.0);
            let upright = quality.scale_down_from(720.0, 1280.0);
            assert_eq!(across, upright);
            // Standard: 360x640 upright, not 202x360.
            if quality == Quality::Standard {
                assert_eq!((720.0 / upright, 1280.0 / upright), (360.0, 640.0));
            }
        }
    }
}
