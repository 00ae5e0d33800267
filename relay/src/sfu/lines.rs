//! The media lines the relay sends one receiver, reused as people come and go.
//!
//! A line freed by someone who left goes inactive and is given to the next person, so a
//! session's size follows the people present, not the day's history (a counselor who sees
//! twelve families in one room has lines for one). A line's stream id (`a=msid`) therefore
//! names a place in the session, not a person: [`Lines::streams`] says whose it is now.
//!
//! Camera and microphone of one person share a "person slot" (stream `m<n>`) so that the
//! browser keeps them in sync; a screen share has a line of its own (stream `s<n>`). A slot
//! is given to someone new only when all its lines are free.
//!
//! Plain state, generic over the media-line id `M`, so it is tested without WebRTC.

use sprechstunde_shared::{ForwardedStream, ParticipantId, TrackSource};

use super::rooms::{TrackKey, TrackKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Carries a track from the next offer on: added, or an inactive line made active again.
    ToOpen,
    /// In the offer in flight, to carry its track.
    Opening,
    Open,
    /// Its track is gone: inactive with the next offer.
    ToFree,
    /// In the offer in flight, inactive.
    Freeing,
    /// Inactive, ready for the next track of its kind.
    Free,
}

#[derive(Debug)]
struct Line<M> {
    kind: TrackKind,
    slot: u32,
    /// Set once the line is in an offer.
    mid: Option<M>,
    /// Whose track it carries (or carried, until free).
    track: Option<TrackKey<M>>,
    state: State,
}

impl<M: Copy> Line<M> {
    fn stream(&self) -> String {
        match self.kind {
            TrackKind::Screen => format!("s{}", self.slot),
            TrackKind::Audio | TrackKind::Video => format!("m{}", self.slot),
        }
    }

    fn is_free(&self) -> bool {
        self.state == State::Free
    }

    fn occupant(&self) -> Option<ParticipantId> {
        (!self.is_free())
            .then_some(self.track.map(|t| t.origin))
            .flatten()
    }
}

/// What the next offer must do to one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Change<M> {
    /// A new send-only line; report its mid with [`Lines::added`].
    Add {
        index: usize,
        kind: TrackKind,
        stream: String,
    },
    /// An inactive line carries a track again.
    Activate(M),
    /// A line's track is gone.
    Deactivate(M),
}

/// A track this receiver now gets on `out_mid`, after a completed negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenedTrack<M> {
    pub key: TrackKey<M>,
    pub kind: TrackKind,
    pub out_mid: M,
}

#[derive(Debug)]
pub struct Lines<M> {
    lines: Vec<Line<M>>,
}

impl<M> Default for Lines<M> {
    fn default() -> Self {
        Lines { lines: Vec::new() }
    }
}

impl<M: Copy + Eq> Lines<M> {
    /// Queue a track of another participant for this receiver (once).
    pub fn offer(&mut self, key: TrackKey<M>, kind: TrackKind) {
        let taken = self.lines.iter().any(|l| {
            !matches!(l.state, State::Free | State::ToFree | State::Freeing) && l.track == Some(key)
        });
        if taken {
            return;
        }
        let slot = match kind {
            TrackKind::Screen => None,
            TrackKind::Audio | TrackKind::Video => Some(self.person_slot(key.origin)),
        };
        let reusable = self
            .lines
            .iter()
            .position(|l| l.kind == kind && l.is_free() && slot.is_none_or(|slot| l.slot == slot));
        match reusable {
            Some(index) => {
                let line = &mut self.lines[index];
                line.track = Some(key);
                line.state = State::ToOpen;
            }
            None => {
                let slot = slot.unwrap_or_else(|| self.next_slot(TrackKind::Screen));
                self.lines.push(Line {
                    kind,
                    slot,
                    mid: None,
                    track: Some(key),
                    state: State::ToOpen,
                });
            }
        }
    }

    /// The person slot `origin` has, or the first wholly free one, or a new one.
    fn person_slot(&self, origin: ParticipantId) -> u32 {
        let is_person = |l: &&Line<M>| l.kind != TrackKind::Screen;
        if let Some(line) = self
            .lines
            .iter()
            .filter(is_person)
            .find(|l| l.occupant() == Some(origin))
        {
            return line.slot;
        }
        let mut slots: Vec<u32> = self
            .lines
            .iter()
            .filter(is_person)
            .map(|l| l.slot)
            .collect();
        slots.sort_unstable();
        slots.dedup();
        slots
            .into_iter()
            .find(|slot| {
                self.lines
                    .iter()
                    .filter(is_person)
                    .filter(|l| l.slot == *slot)
                    .all(Line::is_free)
            })
            .unwrap_or_else(|| self.next_slot(TrackKind::Audio))
    }

    fn next_slot(&self, kind: TrackKind) -> u32 {
        let screen = kind == TrackKind::Screen;
        self.lines
            .iter()
            .filter(|l| (l.kind == TrackKind::Screen) == screen)
            .map(|l| l.slot + 1)
            .max()
            .unwrap_or(0)
    }

    /// Stop sending what came from `origin` (it left).
    pub fn stop_from(&mut self, origin: ParticipantId) {
        self.lines.retain_mut(|line| {
            if line.track.map(|t| t.origin) != Some(origin) {
                return true;
            }
            match (line.state, line.mid) {
                // Never offered: forget it.
                (State::ToOpen, None) => false,
                // Offered inactive and never used since: nothing to tell.
                (State::ToOpen, Some(_)) => {
                    line.state = State::Free;
                    true
                }
                (State::Opening | State::Open, _) => {
                    line.state = State::ToFree;
                    true
                }
                (State::ToFree | State::Freeing | State::Free, _) => true,
            }
        });
    }

    /// What the next offer must change; marks those lines as in flight.
    pub fn plan(&mut self) -> Vec<Change<M>> {
        let mut changes = Vec::new();
        for (index, line) in self.lines.iter_mut().enumerate() {
            match (line.state, line.mid) {
                (State::ToOpen, None) => {
                    changes.push(Change::Add {
                        index,
                        kind: line.kind,
                        stream: line.stream(),
                    });
                    line.state = State::Opening;
                }
                (State::ToOpen, Some(mid)) => {
                    changes.push(Change::Activate(mid));
                    line.state = State::Opening;
                }
                (State::ToFree, Some(mid)) => {
                    changes.push(Change::Deactivate(mid));
                    line.state = State::Freeing;
                }
                _ => {}
            }
        }
        changes
    }

    /// The mid a [`Change::Add`] got.
    pub fn added(&mut self, index: usize, mid: M) {
        if let Some(line) = self.lines.get_mut(index) {
            line.mid = Some(mid);
        }
    }

    /// The offer in flight was answered: returns the tracks now open.
    pub fn answered(&mut self) -> Vec<OpenedTrack<M>> {
        let mut opened = Vec::new();
        for line in &mut self.lines {
            match (line.state, line.track, line.mid) {
                (State::Opening, Some(key), Some(out_mid)) => {
                    line.state = State::Open;
                    opened.push(OpenedTrack {
                        key,
                        kind: line.kind,
                        out_mid,
                    });
                }
                (State::Freeing, _, _) => line.state = State::Free,
                _ => {}
            }
        }
        opened
    }

    /// The offer in flight was abandoned: its changes go into the next one.
    pub fn abandoned(&mut self) {
        for line in &mut self.lines {
            line.state = match line.state {
                State::Opening => State::ToOpen,
                State::Freeing => State::ToFree,
                other => other,
            };
        }
    }

    /// Whose media each stream in the session carries once the offer in flight is answered.
    pub fn streams(&self) -> Vec<ForwardedStream> {
        let mut streams: Vec<ForwardedStream> = Vec::new();
        for line in &self.lines {
            let (Some(key), State::Opening | State::Open) = (line.track, line.state) else {
                continue;
            };
            let stream = line.stream();
            if streams.iter().any(|s| s.stream == stream) {
                continue;
            }
            streams.push(ForwardedStream {
                stream,
                participant_id: key.origin,
                source: match line.kind {
                    TrackKind::Screen => TrackSource::Screen,
                    TrackKind::Audio | TrackKind::Video => TrackSource::Camera,
                },
            });
        }
        streams
    }

    /// Video tracks of others this receiver gets now.
    pub fn open_video(&self) -> Vec<TrackKey<M>> {
        self.open()
            .into_iter()
            .filter(|(_, kind)| kind.is_video())
            .map(|(track, _)| track)
            .collect()
    }

    /// Every track this receiver gets now, with its kind.
    pub fn open(&self) -> Vec<(TrackKey<M>, TrackKind)> {
        self.lines
            .iter()
            .filter(|l| l.state == State::Open)
            .filter_map(|l| l.track.map(|track| (track, l.kind)))
            .collect()
    }

    /// The line this receiver gets `track` on.
    pub fn line_of(&self, track: TrackKey<M>) -> Option<M> {
        self.lines
            .iter()
            .find(|l| l.track == Some(track) && l.state == State::Open)
            .and_then(|l| l.mid)
    }

    /// The track this receiver gets on `out_mid`.
    pub fn track_on(&self, out_mid: M) -> Option<TrackKey<M>> {
        self.lines
            .iter()
            .find(|l| l.mid == Some(out_mid) && l.state == State::Open)
            .and_then(|l| l.track)
    }

    /// How many lines the session has (in use or free).
    pub fn count(&self) -> usize {
        self.lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(origin: u64, mid: u32) -> TrackKey<u32> {
        TrackKey {
            origin: ParticipantId(origin),
            mid,
        }
    }

    /// One negotiation round: mids for added lines are handed out in order.
    fn negotiate(lines: &mut Lines<u32>, next_mid: &mut u32) -> Vec<Change<u32>> {
        let changes = lines.plan();
        for change in &changes {
            if let Change::Add { index, .. } = change {
                lines.added(*index, *next_mid);
                *next_mid += 1;
            }
        }
        lines.answered();
        changes
    }

    fn visit(lines: &mut Lines<u32>, next_mid: &mut u32, origin: u64) {
        lines.offer(key(origin, 0), TrackKind::Audio);
        lines.offer(key(origin, 1), TrackKind::Video);
        lines.offer(key(origin, 2), TrackKind::Screen);
        negotiate(lines, next_mid);
        lines.stop_from(ParticipantId(origin));
        negotiate(lines, next_mid);
    }

    #[test]
    fn a_day_of_visitors_one_after_another_keeps_three_lines() {
        let mut lines = Lines::default();
        let mut next_mid = 0;
        for visitor in 1..=50 {
            visit(&mut lines, &mut next_mid, visitor);
        }
        assert_eq!(lines.count(), 3);
        assert_eq!(next_mid, 3, "no line was added after the first visitor");
        assert!(lines.streams().is_empty());
    }

    #[test]
    fn a_freed_slot_is_reused_with_the_new_owner_named() {
        let mut lines = Lines::default();
        let mut next_mid = 0;
        lines.offer(key(1, 0), TrackKind::Audio);
        lines.offer(key(1, 1), TrackKind::Video);
        lines.offer(key(2, 0), TrackKind::Audio);
        lines.offer(key(2, 1), TrackKind::Video);
        negotiate(&mut lines, &mut next_mid);
        lines.stop_from(ParticipantId(1));
        assert_eq!(
            lines.plan(),
            vec![Change::Deactivate(0), Change::Deactivate(1)]
        );
        // Someone comes while the freeing is in flight: the slot is not theirs yet.
        lines.offer(key(3, 0), TrackKind::Audio);
        assert!(matches!(lines.plan()[..], [Change::Add { .. }]));

        let mut lines2 = Lines::default();
        let mut mid2 = 0;
        lines2.offer(key(1, 0), TrackKind::Audio);
        lines2.offer(key(1, 1), TrackKind::Video);
        negotiate(&mut lines2, &mut mid2);
        lines2.stop_from(ParticipantId(1));
        negotiate(&mut lines2, &mut mid2);
        lines2.offer(key(3, 5), TrackKind::Video);
        lines2.offer(key(3, 4), TrackKind::Audio);
        assert_eq!(
            lines2.plan(),
            vec![Change::Activate(0), Change::Activate(1)]
        );
        let opened = lines2.answered();
        assert_eq!(opened.len(), 2);
        assert_eq!(lines2.track_on(1), Some(key(3, 5)));
        assert_eq!(
            lines2.streams(),
            vec![ForwardedStream {
                stream: "m0".into(),
                participant_id: ParticipantId(3),
                source: TrackSource::Camera,
            }]
        );
    }

    #[test]
    fn people_present_together_get_slots_of_their_own() {
        let mut lines = Lines::default();
        let mut next_mid = 0;
        for origin in 1..=3 {
            lines.offer(key(origin, 0), TrackKind::Audio);
            lines.offer(key(origin, 1), TrackKind::Video);
            lines.offer(key(origin, 2), TrackKind::Screen);
        }
        negotiate(&mut lines, &mut next_mid);
        let streams = lines.streams();
        assert_eq!(streams.len(), 6);
        for origin in 1..=3u64 {
            let theirs: Vec<&str> = streams
                .iter()
                .filter(|s| s.participant_id == ParticipantId(origin))
                .map(|s| s.stream.as_str())
                .collect();
            assert_eq!(theirs.len(), 2, "camera stream and screen stream");
        }
        assert_eq!(lines.track_on(3), Some(key(2, 0)));
        assert_eq!(lines.open_video().len(), 6);
    }

    #[test]
    fn a_track_stopped_before_it_was_offered_leaves_nothing() {
        let mut lines = Lines::default();
        lines.offer(key(1, 0), TrackKind::Audio);
        lines.stop_from(ParticipantId(1));
        assert!(lines.plan().is_empty());
        assert_eq!(lines.count(), 0);
    }
}
