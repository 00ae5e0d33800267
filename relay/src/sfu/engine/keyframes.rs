//! Keyframe requests to senders: coalesced, so receivers starting together cost the sender one
//! keyframe, and asked again until the keyframe comes. A browser may drop a request that
//! arrives while it renegotiates or right after another (Chrome ignores those within 300 ms of
//! the last); the newcomer's first picture would then wait for the browser's own timer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use str0m::media::{Mid, Rid};

use crate::sfu::rooms::TrackKey;

/// A track, and which of its simulcast layers (`None`: a track sent in one layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LayerKey {
    pub track: TrackKey<Mid>,
    pub rid: Option<Rid>,
}

/// Requests for one track closer together than this are sent once.
pub const COALESCE: Duration = Duration::from_millis(300);
/// A keyframe not come this long after the request is asked for again …
const RETRY_AFTER: Duration = Duration::from_millis(350);
/// … until this long after the first request.
const GIVE_UP_AFTER: Duration = Duration::from_secs(3);

struct Awaited {
    first_asked: Instant,
    /// Other frames of the track came since: it is sending, only the keyframe is missing (a
    /// sender whose camera is off is not asked again and again).
    flowing: bool,
}

#[derive(Default)]
pub struct KeyframeRequests {
    /// When each layer's sender was last asked.
    last: HashMap<LayerKey, Instant>,
    /// Layers whose keyframe has not come yet.
    awaited: HashMap<LayerKey, Awaited>,
}

impl KeyframeRequests {
    /// Whether a request for `key` now is not one too many.
    pub fn may_ask(&self, key: &LayerKey, now: Instant) -> bool {
        self.last
            .get(key)
            .is_none_or(|last| now.saturating_duration_since(*last) >= COALESCE)
    }

    pub fn asked(&mut self, key: LayerKey, now: Instant) {
        self.last.insert(key, now);
        self.awaited.entry(key).or_insert(Awaited {
            first_asked: now,
            flowing: false,
        });
    }

    /// A frame of `key` came: a keyframe ends the wait.
    pub fn frame(&mut self, key: &LayerKey, keyframe: bool) {
        if self.awaited.is_empty() {
            return;
        }
        if keyframe {
            self.awaited.remove(key);
        } else if let Some(awaited) = self.awaited.get_mut(key) {
            awaited.flowing = true;
        }
    }

    /// Forgets a track that ended, so the next one may ask at once.
    pub fn forget(&mut self, track: &TrackKey<Mid>) {
        self.last.retain(|key, _| key.track != *track);
        self.awaited.retain(|key, _| key.track != *track);
    }

    /// Forgets when `track`'s layers were last asked: the next request goes out at once.
    pub fn ask_afresh(&mut self, track: &TrackKey<Mid>) {
        self.last.retain(|key, _| key.track != *track);
    }

    /// Tracks to ask again now; those waited for too long are given up.
    pub fn due(&mut self, now: Instant) -> Vec<LayerKey> {
        self.awaited
            .retain(|_, a| now.saturating_duration_since(a.first_asked) < GIVE_UP_AFTER);
        self.awaited
            .iter()
            .filter(|(key, awaited)| {
                awaited.flowing
                    && self
                        .last
                        .get(key)
                        .is_none_or(|last| now.saturating_duration_since(*last) >= RETRY_AFTER)
            })
            .map(|(key, _)| *key)
            .collect()
    }

    /// When [`KeyframeRequests::due`] next has something.
    pub fn next_due(&self) -> Option<Instant> {
        self.awaited
            .iter()
            .filter(|(_, awaited)| awaited.flowing)
            .filter_map(|(key, _)| self.last.get(key))
            .map(|last| *last + RETRY_AFTER)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprechstunde_shared::ParticipantId;

    fn key() -> LayerKey {
        LayerKey {
            track: TrackKey {
                origin: ParticipantId(1),
                mid: Mid::from("1"),
            },
            rid: None,
        }
    }

    #[test]
    fn a_keyframe_not_come_is_asked_again_while_other_frames_come() {
        let start = Instant::now();
        let mut requests = KeyframeRequests::default();
        requests.asked(key(), start);
        assert!(!requests.may_ask(&key(), start + COALESCE / 2));
        // Nothing came at all (camera off): not asked again.
        assert!(requests.due(start + RETRY_AFTER).is_empty());
        assert_eq!(requests.next_due(), None);
        requests.frame(&key(), false);
        assert!(requests.due(start + RETRY_AFTER / 2).is_empty());
        assert_eq!(requests.next_due(), Some(start + RETRY_AFTER));
        assert_eq!(requests.due(start + RETRY_AFTER), vec![key()]);
        requests.asked(key(), start + RETRY_AFTER);
        requests.frame(&key(), true);
        assert!(requests.due(start + 2 * RETRY_AFTER).is_empty());
        assert_eq!(requests.next_due(), None);

        // A sender that never sends a keyframe is asked for at most GIVE_UP_AFTER.
        let later = start + Duration::from_secs(10);
        requests.asked(key(), later);
        requests.frame(&key(), false);
        assert!(requests.due(later + GIVE_UP_AFTER).is_empty());
        assert_eq!(requests.next_due(), None);
    }
}
