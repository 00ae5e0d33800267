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

use super::client_sdp::{self, CandidateScope, MAX_REMOTE_CANDIDATES};
use super::lines::{Change, Lines, OpenedTrack};
use super::rooms::{TrackKey, TrackKind};
use sprechstunde_shared::{ForwardedStream, ParticipantId};

/// Runs `work` on a participant's media state; a panic inside (str0m on hostile input) is
/// caught and reported as `None`, so that one participant cannot stop media for everyone.
pub fn isolated<T>(work: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).ok()
}

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
    /// An offer outside the protocol: a second one, a data channel, too many lines.
    NotAllowed(&'static str),
}

pub struct Peer {
    pub rtc: Rtc,
    /// The client's first offer has been answered; the relay may offer from now on.
    negotiated: bool,
    pending: Option<PendingOffer>,
    /// The lines of others' media this participant receives.
    lines: Lines<Mid>,
    pub next_timeout: Instant,
    /// What the participant chose to receive of others' video.
    pub receive: sprechstunde_shared::ReceiveQuality,
    /// Which layer of each simulcast track it gets.
    pub layers: super::simulcast::LayerChoices,
    /// When keyframes were last asked for because this participant switched video on.
    pub video_resumed_at: Option<Instant>,
    /// What this participant says it sends; what is off is not forwarded.
    pub sending: sprechstunde_shared::MediaState,
    /// The media path has been up at least once.
    pub media_connected: bool,
    /// How its connection is, as last told to the room.
    pub link: super::link_quality::LinkQuality,
    /// What str0m estimates the link to this participant carries (bits per second).
    pub egress_estimate: Option<u64>,
    /// Its media comes over ICE-TCP (the web port), as its last datagram did.
    pub over_tcp: bool,
    /// The voices it gets are sent with redundancy (RED), as negotiated at first.
    pub redundant_audio: bool,
    /// How tall (device pixels) it shows each other's camera or screen (`true`).
    pub tile_heights: std::collections::HashMap<(ParticipantId, bool), u32>,
    /// When the participant entered the room (and this connection began).
    pub entered: Instant,
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
    /// Remote candidates taken so far (in the offer and trickled).
    remote_candidates: usize,
    /// str0m panicked on this participant's input: the connection is given up (the others
    /// and the relay go on).
    pub failed: bool,
    /// Which remote addresses the relay may send checks to.
    scope: CandidateScope,
}

/// The relay's offer in flight, kept to send again after a resume.
struct PendingOffer {
    sdp: String,
    streams: Vec<ForwardedStream>,
    str0m: SdpPendingOffer,
}

fn media_kind(kind: TrackKind) -> MediaKind {
    match kind {
        TrackKind::Audio => MediaKind::Audio,
        TrackKind::Video | TrackKind::Screen => MediaKind::Video,
    }
}

const VIDEO_RESEND_PACKETS: usize = 256;
/// Where each receiver's bandwidth estimate starts (libwebrtc starts at 300 kbit/s): enough
/// for the middle layer at once, more found by probing.
const INITIAL_ESTIMATE: str0m::bwe::Bitrate = str0m::bwe::Bitrate::kbps(600);

impl Peer {
    pub fn new(now: Instant, local_candidates: &[Candidate]) -> Peer {
        let mut rtc = Rtc::builder()
            // One codec per kind, the one every supported browser sends and decodes (VP8,
            // Opus): what one sends, all others can take as it is, and a forwarded line offers
            // exactly that instead of two dozen payload types.
            .clear_codecs()
            .enable_vp8(true)
            // The estimate of each receiver's link, from its transport-wide feedback; the
            // allocation (`allocation`) shares it among the pictures, voices first.
            .enable_bwe(Some(INITIAL_ESTIMATE))
            // RFC 2198 redundancy for Opus on every leg: a lost audio packet is rebuilt from
            // the next one (audio has no retransmission in browsers).
            .enable_opus(true, true)
            // Packets kept per outgoing video stream for resends. str0m keeps 1000, about
            // 1.2 MB per stream and most of a participant's memory; 256 is 1.4 s of a camera,
            // more than libwebrtc's own sender keeps (about 1 s, or 3 round trips).
            .set_send_buffer_video(VIDEO_RESEND_PACKETS)
            // Loss and round trip each second, for the connection indicator.
            .set_stats_interval(Some(super::link_quality::STATS_INTERVAL))
            // A fresh DTLS certificate per connection: nothing to commit or to leak.
            .build(now);
        for candidate in local_candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        Peer {
            rtc,
            negotiated: false,
            pending: None,
            lines: Lines::default(),
            next_timeout: now,
            receive: sprechstunde_shared::ReceiveQuality::Auto,
            layers: super::simulcast::LayerChoices::default(),
            video_resumed_at: None,
            sending: sprechstunde_shared::MediaState::default(),
            media_connected: false,
            link: super::link_quality::LinkQuality::default(),
            egress_estimate: None,
            over_tcp: false,
            redundant_audio: true,
            tile_heights: std::collections::HashMap::new(),
            entered: now,
            last_heard: now,
            ice_lost_since: None,
            wants_ice_restart: false,
            restart_requested: None,
            early_candidates: Vec::new(),
            remote_candidates: 0,
            failed: false,
            scope: CandidateScope::of(local_candidates.iter().map(|c| c.addr().ip())),
        }
    }

    /// What the link to this peer is taken to carry, for sharing it among pictures: str0m's
    /// estimate, and before its first one the estimate str0m's pacer starts at, since that
    /// is what leaves the relay meanwhile. Sharing nothing then, every picture went out in
    /// its largest layer and queued behind the pacer (up to 300 KB per receiver, frames
    /// delayed by seconds), and a newcomer's first keyframe was asked of a layer it would
    /// not get. `None` over ICE-TCP (see `over_tcp`).
    pub fn link_estimate(&self) -> Option<u64> {
        (!self.over_tcp).then(|| {
            self.egress_estimate
                .unwrap_or_else(|| INITIAL_ESTIMATE.as_u64())
        })
    }

    /// Answer the client's offer. Returns the answer SDP.
    pub fn accept_offer(&mut self, sdp: &str) -> Result<String, PeerError> {
        if self.negotiated {
            return Err(PeerError::NotAllowed(
                "one offer per session; later changes come from the relay",
            ));
        }
        if let Some(problem) = client_sdp::offer_problem(sdp) {
            return Err(PeerError::NotAllowed(problem));
        }
        let (sdp, candidates) = client_sdp::keep_allowed_candidates(sdp, self.scope);
        let offer =
            SdpOffer::from_sdp_string(&sdp).map_err(|e| PeerError::InvalidSdp(e.to_string()))?;
        let rtc = &mut self.rtc;
        let answer = isolated(|| rtc.sdp_api().accept_offer(offer))
            .ok_or_else(|| self.give_up())?
            .map_err(|e| PeerError::Rejected(e.to_string()))?;
        // Accepting an offer invalidates our own pending one: redo it in the next round.
        if self.pending.take().is_some() {
            self.lines.abandoned();
        }
        self.negotiated = true;
        self.remote_candidates += candidates;
        for candidate in self.early_candidates.drain(..) {
            self.rtc.add_remote_candidate(candidate);
        }
        Ok(answer.to_sdp_string())
    }

    /// Take the client's answer to our offer. Returns the tracks that are now open.
    pub fn accept_answer(&mut self, sdp: &str) -> Result<Vec<OpenedTrack<Mid>>, PeerError> {
        let Some(pending) = self.pending.take() else {
            return Err(PeerError::UnexpectedAnswer);
        };
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| PeerError::InvalidSdp(e.to_string()))?;
        let rtc = &mut self.rtc;
        isolated(|| rtc.sdp_api().accept_answer(pending.str0m, answer))
            .ok_or_else(|| self.give_up())?
            .map_err(|e| PeerError::Rejected(e.to_string()))?;
        Ok(self.lines.answered())
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
        // Checks only to addresses the relay may probe, and only so many.
        if !self.scope.allows(candidate.addr().ip())
            || self.remote_candidates >= MAX_REMOTE_CANDIDATES
        {
            return Ok(());
        }
        self.remote_candidates += 1;
        if self.negotiated {
            self.rtc.add_remote_candidate(candidate);
        } else if self.early_candidates.len() < MAX_EARLY_CANDIDATES {
            self.early_candidates.push(candidate);
        }
        Ok(())
    }

    /// str0m failed inside on this participant's input: their media connection ends.
    fn give_up(&mut self) -> PeerError {
        self.failed = true;
        PeerError::Rejected("the media connection failed".into())
    }

    /// Queue a track of another participant to be offered to this one.
    pub fn offer_track(&mut self, key: TrackKey<Mid>, kind: TrackKind) {
        self.lines.offer(key, kind);
    }

    /// Stop sending everything that came from `origin` (it left); its lines wait for the
    /// next person.
    pub fn stop_tracks_from(&mut self, origin: ParticipantId) {
        self.lines.stop_from(origin);
    }

    /// Build the next relay offer if anything changed and nothing is in flight: the SDP and
    /// whose media each stream carries.
    pub fn create_offer_if_needed(&mut self) -> Option<(String, Vec<ForwardedStream>)> {
        if !self.negotiated || self.pending.is_some() || !self.rtc.is_alive() {
            return None;
        }
        let mut change = self.rtc.sdp_api();
        if std::mem::take(&mut self.wants_ice_restart) {
            // Keep the relay's candidates: its address did not change, the client's path did.
            change.ice_restart(true);
        }
        for planned in self.lines.plan() {
            match planned {
                Change::Add {
                    index,
                    kind,
                    stream,
                } => {
                    let mid = change.add_media(
                        media_kind(kind),
                        Direction::SendOnly,
                        Some(stream),
                        None,
                        None,
                    );
                    self.lines.added(index, mid);
                }
                Change::Activate(mid) => change.set_direction(mid, Direction::SendOnly),
                Change::Deactivate(mid) => change.set_direction(mid, Direction::Inactive),
            }
        }
        if !change.has_changes() {
            self.lines.abandoned();
            return None;
        }
        let Some((offer, pending)) = change.apply() else {
            self.lines.abandoned();
            return None;
        };
        let sdp = offer.to_sdp_string();
        let streams = self.lines.streams();
        self.pending = Some(PendingOffer {
            sdp: sdp.clone(),
            streams: streams.clone(),
            str0m: pending,
        });
        Some((sdp, streams))
    }

    /// The relay's offer in flight, to send again on a new connection (its answer may never
    /// have come because the old connection dropped).
    pub fn offer_in_flight(&self) -> Option<(String, Vec<ForwardedStream>)> {
        self.pending
            .as_ref()
            .map(|p| (p.sdp.clone(), p.streams.clone()))
    }

    /// How many media lines the relay sends this participant (in use or waiting for reuse).
    pub fn line_count(&self) -> usize {
        self.lines.count()
    }

    /// Ask for an ICE restart with the next offer (sent as soon as none is in flight).
    pub fn request_ice_restart(&mut self, now: Instant) {
        self.wants_ice_restart = true;
        self.restart_requested = Some(now);
    }

    /// Video tracks of others this participant receives now.
    pub fn open_video_tracks(&self) -> Vec<TrackKey<Mid>> {
        self.lines.open_video()
    }

    /// Every track of others this participant receives now, with its kind.
    pub fn open_tracks(&self) -> Vec<(TrackKey<Mid>, TrackKind)> {
        self.lines.open()
    }

    /// The line this participant receives the other participant's `track` on.
    pub fn line_of(&self, track: TrackKey<Mid>) -> Option<Mid> {
        self.lines.line_of(track)
    }

    /// The other participant's track that this participant receives on `out_mid`.
    pub fn track_on(&self, out_mid: Mid) -> Option<TrackKey<Mid>> {
        self.lines.track_on(out_mid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a browser offers first: its microphone line.
    fn client_offer() -> String {
        crate::sfu::test_offer::audio_offer("sendonly")
    }

    fn line(sdp: &str, prefix: &str) -> Option<String> {
        sdp.lines()
            .find(|l| l.starts_with(prefix))
            .map(str::to_string)
    }

    #[test]
    fn the_link_is_taken_to_carry_the_starting_estimate_until_str0m_estimates_it() {
        let mut peer = Peer::new(Instant::now(), &[]);
        assert_eq!(peer.link_estimate(), Some(600_000));
        peer.egress_estimate = Some(2_000_000);
        assert_eq!(peer.link_estimate(), Some(2_000_000));
        peer.over_tcp = true;
        assert_eq!(peer.link_estimate(), None, "over TCP, TCP sets the pace");
    }

    #[test]
    fn an_ice_restart_keeps_the_web_port_candidate_and_changes_the_credentials() {
        let now = Instant::now();
        let udp = Candidate::host("10.0.0.1:10000".parse().expect("address"), "udp")
            .expect("udp candidate");
        let tcp = Candidate::builder()
            .tcp()
            .host("10.0.0.1:443".parse().expect("address"))
            .tcptype(str0m::net::TcpType::Passive)
            .build()
            .expect("tcp candidate");
        let mut peer = Peer::new(now, &[udp, tcp]);
        let answer = peer.accept_offer(&client_offer()).expect("answer");
        assert!(answer.contains("tcptype passive"), "{answer}");
        let ufrag = line(&answer, "a=ice-ufrag:");

        peer.request_ice_restart(now);
        let (restart, _) = peer.create_offer_if_needed().expect("a restart offer");
        assert!(restart.contains("tcptype passive"), "{restart}");
        assert!(restart.contains(" udp "), "{restart}");
        assert_ne!(line(&restart, "a=ice-ufrag:"), ufrag, "new ICE credentials");
    }
}
