//! One WebRTC connection of a synthetic participant, on str0m: it may publish a synthetic
//! camera (VP8-shaped frames, keyframes every few seconds) and microphone (Opus-sized frames
//! every 20 ms), and it counts what arrives. Every frame carries a [`Stamp`], so the receiver
//! knows who sent it, which one it was and when.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sprechstunde_shared::SIMULCAST_RIDS;
use str0m::change::SdpPendingOffer;
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::stamp::Stamp;
use super::stats::{LegStats, TrackKind};

/// What one participant publishes.
#[derive(Debug, Clone, Copy)]
pub struct MediaProfile {
    pub video_bits_per_second: u32,
    pub frames_per_second: u32,
    pub keyframe_every: Duration,
    /// A keyframe is this many times the size of a delta frame.
    pub keyframe_factor: u32,
    pub audio_frame_bytes: usize,
    /// Send the camera in three layers (simulcast, rids `l`, `m`, `h`) as Chromium does:
    /// the largest at `video_bits_per_second`, the others at a tenth and a third of it.
    pub simulcast: bool,
    /// Negotiate redundant audio (RED, RFC 2198) for what it receives, as browsers do: the
    /// relay may then send each voice twice over.
    pub redundant_audio: bool,
}

impl Default for MediaProfile {
    /// A webcam as browsers send it to one receiver: about 1.5 Mbit/s at 30 frames per
    /// second (about 150 packets per second), a keyframe every 3 s; Opus at 20 ms frames.
    fn default() -> Self {
        MediaProfile {
            video_bits_per_second: 1_500_000,
            frames_per_second: 30,
            keyframe_every: Duration::from_secs(3),
            keyframe_factor: 4,
            audio_frame_bytes: 90,
            simulcast: false,
            redundant_audio: false,
        }
    }
}

impl MediaProfile {
    fn delta_frame_bytes(&self) -> usize {
        (self.video_bits_per_second / 8 / self.frames_per_second) as usize
    }
}

/// Session descriptions going into a leg.
#[derive(Debug)]
pub enum SignalIn {
    Offer(String),
    Answer(String),
}

/// Session descriptions a leg wants sent to the server.
#[derive(Debug)]
pub enum SignalOut {
    Offer(String),
    Answer(String),
}

/// The controlling side of a running leg (what it wants sent comes out of the receiver
/// [`start`] returns beside it).
pub struct LegHandle {
    pub to_leg: mpsc::UnboundedSender<SignalIn>,
    pub stats: Arc<Mutex<LegStats>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LegHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start a leg bound to `bind` (any free port). A publishing leg offers its two tracks
/// first; a receiving-only leg waits for the server's offer.
pub async fn start(
    bind: IpAddr,
    publish: Option<(u32, MediaProfile)>,
) -> Result<(LegHandle, mpsc::UnboundedReceiver<SignalOut>)> {
    crate::ensure_isolated_network()?;
    let socket = UdpSocket::bind(SocketAddr::new(bind, 0))
        .await
        .with_context(|| format!("bind UDP on {bind}"))?;
    let local = socket.local_addr()?;
    let redundant_audio = publish.is_some_and(|(_, profile)| profile.redundant_audio);
    let mut rtc = Rtc::builder()
        .clear_codecs()
        .enable_opus(true, redundant_audio)
        .enable_vp8(true)
        .build(Instant::now());
    rtc.add_local_candidate(Candidate::host(local, "udp")?);
    let stats = Arc::new(Mutex::new(LegStats::default()));
    let (to_leg, signals_in) = mpsc::unbounded_channel();
    let (signals_out, from_leg) = mpsc::unbounded_channel();
    let mut leg = Leg {
        rtc,
        socket,
        local,
        stats: stats.clone(),
        signals_out,
        pending: None,
        publishing: None,
        connected: false,
    };
    if let Some((sender, profile)) = publish {
        leg.offer_tracks(sender, profile)?;
    }
    let task = tokio::spawn(leg.run(signals_in));
    Ok((
        LegHandle {
            to_leg,
            stats,
            task,
        },
        from_leg,
    ))
}

struct Publishing {
    sender: u32,
    profile: MediaProfile,
    audio: Mid,
    video: Mid,
    started: Option<Instant>,
    audio_sent: u32,
    video_sent: u32,
    last_keyframe: Option<Instant>,
    filler: Vec<u8>,
}

struct Leg {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    stats: Arc<Mutex<LegStats>>,
    signals_out: mpsc::UnboundedSender<SignalOut>,
    pending: Option<SdpPendingOffer>,
    publishing: Option<Publishing>,
    connected: bool,
}

const AUDIO_FRAME: Duration = Duration::from_millis(20);

impl Leg {
    fn offer_tracks(&mut self, sender: u32, profile: MediaProfile) -> Result<()> {
        let mut change = self.rtc.sdp_api();
        let stream = Some(format!("load-{sender}"));
        let audio = change.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            stream.clone(),
            None,
            None,
        );
        let simulcast = profile.simulcast.then(|| {
            let mut layers = Simulcast::new();
            for rid in SIMULCAST_RIDS {
                layers.add_send_layer(SimulcastLayer::new(rid));
            }
            layers
        });
        let video = change.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            stream,
            None,
            simulcast,
        );
        let (offer, pending) = change.apply().context("nothing to offer")?;
        self.pending = Some(pending);
        self.publishing = Some(Publishing {
            sender,
            profile,
            audio,
            video,
            started: None,
            audio_sent: 0,
            video_sent: 0,
            last_keyframe: None,
            filler: vec![0x5a; profile.delta_frame_bytes() * profile.keyframe_factor as usize],
        });
        let _ = self
            .signals_out
            .send(SignalOut::Offer(offer.to_sdp_string()));
        Ok(())
    }

    async fn run(mut self, mut signals_in: mpsc::UnboundedReceiver<SignalIn>) {
        let mut buf = vec![0u8; 2048];
        loop {
            let Some(timeout) = self.drain() else { return };
            let wake = self.next_media_at().map_or(timeout, |at| at.min(timeout));
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    let Ok((n, source)) = received else { return };
                    self.receive(source, &buf[..n]);
                    // Take what else is queued before polling again.
                    while let Ok((n, source)) = self.socket.try_recv_from(&mut buf) {
                        self.receive(source, &buf[..n]);
                    }
                }
                signal = signals_in.recv() => {
                    let Some(signal) = signal else { return };
                    if let Err(e) = self.signal(signal) {
                        eprintln!("load leg: signaling failed: {e:#}");
                        return;
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    self.send_media_due(now);
                    if self.rtc.handle_input(Input::Timeout(now)).is_err() {
                        return;
                    }
                }
            }
        }
    }

    fn receive(&mut self, source: SocketAddr, bytes: &[u8]) {
        if let Ok(mut stats) = self.stats.lock() {
            stats.datagram_received(bytes);
        }
        let Ok(contents) = bytes.try_into() else {
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        let _ = self.rtc.handle_input(input);
    }

    fn signal(&mut self, signal: SignalIn) -> Result<()> {
        match signal {
            SignalIn::Answer(sdp) => {
                let answer = SdpAnswer::from_sdp_string(&sdp)?;
                let pending = self.pending.take().context("an answer without an offer")?;
                self.rtc.sdp_api().accept_answer(pending, answer)?;
            }
            SignalIn::Offer(sdp) => {
                let offer = SdpOffer::from_sdp_string(&sdp)?;
                let answer = self.rtc.sdp_api().accept_offer(offer)?;
                let _ = self
                    .signals_out
                    .send(SignalOut::Answer(answer.to_sdp_string()));
            }
        }
        Ok(())
    }

    /// Send what str0m has to send, handle its events; returns when it next wants time.
    fn drain(&mut self) -> Option<Instant> {
        loop {
            if !self.rtc.is_alive() {
                return None;
            }
            match self.rtc.poll_output().ok()? {
                Output::Timeout(at) => return Some(at),
                Output::Transmit(transmit) => {
                    let sent = self
                        .socket
                        .try_send_to(&transmit.contents, transmit.destination)
                        .is_ok();
                    if let Ok(mut stats) = self.stats.lock() {
                        stats.datagram_sent(&transmit.contents, sent);
                    }
                }
                Output::Event(event) => self.event(event),
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected => self.connected = true,
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.connected = false
            }
            Event::MediaData(data) => {
                let kind = match data.params.spec().codec {
                    Codec::Opus => TrackKind::Audio,
                    _ => TrackKind::Video,
                };
                if let (Some(stamp), Ok(mut stats)) = (Stamp::read(&data.data), self.stats.lock()) {
                    stats.frame_received(kind, stamp);
                }
            }
            _ => {}
        }
    }

    fn next_media_at(&self) -> Option<Instant> {
        let publishing = self.publishing.as_ref()?;
        let started = publishing.started?;
        let frame = Duration::from_secs(1) / publishing.profile.frames_per_second;
        Some(
            (started + AUDIO_FRAME * publishing.audio_sent)
                .min(started + frame * publishing.video_sent),
        )
    }

    fn send_media_due(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        let Some(publishing) = self.publishing.as_mut() else {
            return;
        };
        let started = *publishing.started.get_or_insert(now);
        let profile = publishing.profile;
        let frame = Duration::from_secs(1) / profile.frames_per_second;
        while started + AUDIO_FRAME * publishing.audio_sent <= now {
            let index = publishing.audio_sent;
            publishing.audio_sent += 1;
            let mut data = vec![0xfc; profile.audio_frame_bytes.max(Stamp::LEN + 1)];
            Stamp::now(publishing.sender, index).write(&mut data[1..]);
            let time = MediaTime::new(
                u64::from(index) * 960,
                str0m::media::Frequency::FORTY_EIGHT_KHZ,
            );
            write(
                &mut self.rtc,
                publishing.audio,
                Codec::Opus,
                None,
                now,
                time,
                data,
            );
        }
        while started + frame * publishing.video_sent <= now {
            let index = publishing.video_sent;
            publishing.video_sent += 1;
            let key = publishing
                .last_keyframe
                .is_none_or(|at| now.duration_since(at) >= profile.keyframe_every);
            let size = if key {
                publishing.last_keyframe = Some(now);
                profile.delta_frame_bytes() * profile.keyframe_factor as usize
            } else {
                profile.delta_frame_bytes()
            };
            let time = MediaTime::new(u64::from(index) * 3000, str0m::media::Frequency::NINETY_KHZ);
            let layers: Vec<(Option<Rid>, usize)> = if profile.simulcast {
                SIMULCAST_RIDS
                    .iter()
                    .zip(LAYER_DIVISORS)
                    .map(|(rid, divisor)| (Some(Rid::from(*rid)), divisor))
                    .collect()
            } else {
                vec![(None, 1)]
            };
            for (rid, divisor) in layers {
                let size = (size / divisor).max(Stamp::LEN + 1);
                let mut data = publishing.filler[..size].to_vec();
                // VP8's first byte: bit 0 clear marks a keyframe.
                data[0] = if key { 0x10 } else { 0x11 };
                Stamp::now(publishing.sender, index).write(&mut data[1..]);
                write(
                    &mut self.rtc,
                    publishing.video,
                    Codec::Vp8,
                    rid,
                    now,
                    time,
                    data,
                );
            }
        }
    }
}

/// The camera's simulcast layers (rids `SIMULCAST_RIDS`), each as the divisor of the largest
/// layer's frame size: 150, 500 and 1500 kbit/s, as Chromium sent them at "high" until
/// session 15 made the client's smallest layer 100 kbit/s (the bench's figures so far were
/// measured with these).
const LAYER_DIVISORS: [usize; 3] = [10, 3, 1];

fn write(
    rtc: &mut Rtc,
    mid: Mid,
    codec: Codec,
    rid: Option<Rid>,
    now: Instant,
    time: MediaTime,
    data: Vec<u8>,
) {
    let Some(mut writer) = rtc.writer(mid) else {
        return;
    };
    if let Some(rid) = rid {
        writer = writer.rid(rid);
    }
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return;
    };
    let _ = writer.write(pt, now, time, data);
}
