//! One participant's peer connection with the relay: a str0m `Rtc` plus the state of the
//! SDP negotiation for the tracks the relay sends to this participant.
//!
//! The client offers first (its own tracks); after that only the relay offers, whenever
//! tracks of others come or go. One relay offer is in flight at a time; changes made
//! meanwhile wait for the next round.

use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::{Candidate, Rtc};

use super::rooms::{TrackKey, TrackKind};
use sprechstunde_shared::ParticipantId;

/// Candidates kept from before the first offer; more are dropped (no real client sends so
/// many, and they must not grow without bound).
const MAX_EARLY_CANDIDATES: usize = 32;

#[derive(Debug)]
pub enum PeerError {
    InvalidSdp(String),
    InvalidCandidate,
    /// An answer came without an offer from the relay.
    UnexpectedAnswer,
    /// An offer came before the first one was answered, or the media connection is gone.
    Rejected(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    ToOpen,
    Negotiating(Mid),
    Open(Mid),
    ToStop(Mid),
    NegotiatingStop(Mid),
}

#[derive(Debug)]
struct OutTrack {
    key: TrackKey<Mid>,
    kind: TrackKind,
    state: OutState,
}

impl OutTrack {
    fn mid(&self) -> Option<Mid> {
        match self.state {
            OutState::ToOpen => None,
            OutState::Negotiating(m)
            | OutState::Open(m)
            | OutState::ToStop(m)
            | OutState::NegotiatingStop(m) => Some(m),
        }
    }
}

pub struct Peer {
    pub rtc: Rtc,
    /// The client's first offer has been answered; the relay may offer from now on.
    negotiated: bool,
    pending: Option<SdpPendingOffer>,
    outgoing: Vec<OutTrack>,
    pub next_timeout: Instant,
    /// False when the participant chose "audio only": no video is forwarded to them.
    pub receive_video: bool,
    /// What this participant says it sends; what is off is not forwarded.
    pub sending: sprechstunde_shared::MediaState,
    /// The media path has been up at least once.
    pub media_connected: bool,
    /// When a datagram last came from this participant (media, RTCP or ICE consent checks).
    pub last_heard: Instant,
    /// When the media path was lost (ICE disconnected), until it is back.
    pub ice_lost_since: Option<Instant>,
    /// The client asked for an ICE restart: the next offer carries new credentials.
    wants_ice_restart: bool,
    /// When the client last asked for an ICE restart (it is alive and trying).
    pub restart_requested: Option<Instant>,
    /// Candidates that came before the client's first offer, applied after it (a client
    /// may trickle its first candidates ahead of the offer they belong to).
    early_candidates: Vec<Candidate>,
}

/// A track the relay now sends on `out_mid` after a completed negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenedTrack {
    pub key: TrackKey<Mid>,
    pub kind: TrackKind,
    pub out_mid: Mid,
}

fn media_kind(kind: TrackKind) -> MediaKind {
    match kind {
        TrackKind::Audio => MediaKind::Audio,
        TrackKind::Video | TrackKind::Screen => MediaKind::Video,
    }
}

/// The stream a receiver sees a track in: camera and microphone together (lip sync), the
/// screen in a stream of its own.
fn stream_id(key: TrackKey<Mid>, kind: TrackKind) -> String {
    match kind {
        TrackKind::Screen => key.origin.screen_stream_id(),
        TrackKind::Audio | TrackKind::Video => key.origin.stream_id(),
    }
}

const VIDEO_RESEND_PACKETS: usize = 256;

impl Peer {
    pub fn new(now: Instant, local_candidates: &[Candidate]) -> Peer {
        let mut rtc = Rtc::builder()
            .enable_bwe(None)
            // RFC 2198 redundancy for Opus on every leg: a lost audio packet is rebuilt from
            // the next one (audio has no retransmission in browsers).
            .enable_opus(true, true)
            // Packets kept per outgoing video stream for resends. str0m keeps 1000, about
            // 1.2 MB per stream and most of a participant's memory; 256 is 1.4 s of a camera,
            // more than libwebrtc's own sender keeps (about 1 s, or 3 round trips).
            .set_send_buffer_video(VIDEO_RESEND_PACKETS)
            // A fresh DTLS certificate per connection: nothing to commit or to leak.
            .build(now);
        for candidate in local_candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        Peer {
            rtc,
            negotiated: false,
            pending: None,
            outgoing: Vec::new(),
            next_timeout: now,
            receive_video: true,
            sending: sprechstunde_shared::MediaState::default(),
            media_connected: false,
            last_heard: now,
            ice_lost_since: None,
            wants_ice_restart: false,
            restart_requested: None,
            early_candidates: Vec::new(),
        }
    }

    /// Answer the client's offer. Returns the answer SDP.
    pub fn accept_offer(&mut self, sdp: &str) -> Result<String, PeerError> {
        let offer =
            SdpOffer::from_sdp_string(sdp).map_err(|e| PeerError::InvalidSdp(e.to_string()))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| PeerError::Rejected(e.to_string()))?;
        // Accepting an offer invalidates our own pending one: redo it in the next round.
        if self.pending.take().is_some() {
            for track in &mut self.outgoing {
                track.state = match track.state {
                    OutState::Negotiating(_) => OutState::ToOpen,
                    OutState::NegotiatingStop(m) => OutState::ToStop(m),
                    other => other,
                };
            }
        }
        self.negotiated = true;
        for candidate in self.early_candidates.drain(..) {
            self.rtc.add_remote_candidate(candidate);
        }
        Ok(answer.to_sdp_string())
    }

    /// Take the client's answer to our offer. Returns the tracks that are now open.
    pub fn accept_answer(&mut self, sdp: &str) -> Result<Vec<OpenedTrack>, PeerError> {
        let Some(pending) = self.pending.take() else {
            return Err(PeerError::UnexpectedAnswer);
        };
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| PeerError::InvalidSdp(e.to_string()))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| PeerError::Rejected(e.to_string()))?;
        let mut opened = Vec::new();
        for track in &mut self.outgoing {
            if let OutState::Negotiating(mid) = track.state {
                track.state = OutState::Open(mid);
                opened.push(OpenedTrack {
                    key: track.key,
                    kind: track.kind,
                    out_mid: mid,
                });
            }
        }
        self.outgoing
            .retain(|t| !matches!(t.state, OutState::NegotiatingStop(_)));
        Ok(opened)
    }

    pub fn add_remote_candidate(&mut self, candidate: &str) -> Result<(), PeerError> {
        let line = candidate.strip_prefix("a=").unwrap_or(candidate);
        // Browsers hide host addresses behind mDNS names the relay cannot resolve; their
        // checks still arrive and are learned as peer-reflexive candidates.
        if line
            .split_whitespace()
            .nth(4)
            .is_some_and(|host| host.ends_with(".local"))
        {
            return Ok(());
        }
        let candidate =
            Candidate::from_sdp_string(line).map_err(|_| PeerError::InvalidCandidate)?;
        if self.negotiated {
            self.rtc.add_remote_candidate(candidate);
        } else if self.early_candidates.len() < MAX_EARLY_CANDIDATES {
            self.early_candidates.push(candidate);
        }
        Ok(())
    }

    /// Queue a track of another participant to be offered to this one.
    pub fn offer_track(&mut self, key: TrackKey<Mid>, kind: TrackKind) {
        if self.outgoing.iter().any(|t| t.key == key) {
            return;
        }
        self.outgoing.push(OutTrack {
            key,
            kind,
            state: OutState::ToOpen,
        });
    }

    /// Stop sending everything that came from `origin` (it left).
    pub fn stop_tracks_from(&mut self, origin: ParticipantId) {
        self.outgoing.retain_mut(|track| {
            if track.key.origin != origin {
                return true;
            }
            match track.state {
                // Never offered: just forget it.
                OutState::ToOpen => false,
                OutState::Negotiating(m) | OutState::Open(m) => {
                    track.state = OutState::ToStop(m);
                    true
                }
                OutState::ToStop(_) | OutState::NegotiatingStop(_) => true,
            }
        });
    }

    /// Build the next relay offer if anything changed and nothing is in flight.
    pub fn create_offer_if_needed(&mut self) -> Option<String> {
        if !self.negotiated || self.pending.is_some() || !self.rtc.is_alive() {
            return None;
        }
        let mut change = self.rtc.sdp_api();
        if std::mem::take(&mut self.wants_ice_restart) {
            // Keep the relay's candidates: its address did not change, the client's path did.
            change.ice_restart(true);
        }
        for track in &mut self.outgoing {
            match track.state {
                OutState::ToOpen => {
                    let mid = change.add_media(
                        media_kind(track.kind),
                        Direction::SendOnly,
                        Some(stream_id(track.key, track.kind)),
                        None,
                        None,
                    );
                    track.state = OutState::Negotiating(mid);
                }
                OutState::ToStop(mid) => {
                    change.stop_media(mid);
                    track.state = OutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        if !change.has_changes() {
            return None;
        }
        let (offer, pending) = change.apply()?;
        self.pending = Some(pending);
        Some(offer.to_sdp_string())
    }

    /// Ask for an ICE restart with the next offer (sent as soon as none is in flight).
    pub fn request_ice_restart(&mut self, now: Instant) {
        self.wants_ice_restart = true;
        self.restart_requested = Some(now);
    }

    /// Video tracks of others this participant receives now.
    pub fn open_video_tracks(&self) -> Vec<TrackKey<Mid>> {
        self.outgoing
            .iter()
            .filter(|t| t.kind.is_video() && matches!(t.state, OutState::Open(_)))
            .map(|t| t.key)
            .collect()
    }

    /// The other participant's track that this participant receives on `out_mid`.
    pub fn track_on(&self, out_mid: Mid) -> Option<TrackKey<Mid>> {
        self.outgoing
            .iter()
            .find(|t| t.mid() == Some(out_mid) && matches!(t.state, OutState::Open(_)))
            .map(|t| t.key)
    }
}
