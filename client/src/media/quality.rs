//! The video quality a participant sends: a cap on resolution and bitrate.

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

#[cfg(test)]
mod tests {
    use super::*;

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
