//! An independent WebRTC participant built on webrtc-rs: it joins through the same
//! signaling protocol as the browser, publishes a synthetic VP8 video (from a fixture file)
//! and Opus audio, and counts what it receives. Three stacks (Chromium, webrtc-rs, str0m)
//! must interoperate for its tests to pass; it is also the seed of the load generator.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{
    ClientMessage, MediaState, Participant, ParticipantId, ServerMessage, TrackSource,
    PROTOCOL_VERSION,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::APIBuilder;
use webrtc::ice::network_type::NetworkType;
use webrtc::interceptor::registry::Registry;
use webrtc::media::io::ivf_reader::IVFReader;
use webrtc::media::Sample;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;
use webrtc::track::track_local::TrackLocal;

const VIDEO_FIXTURE: &[u8] = include_bytes!("../fixtures/pattern-320x240.ivf");
/// An Opus frame of silence (CELT, 20 ms).
const OPUS_SILENCE: [u8; 3] = [0xf8, 0xff, 0xfe];

/// What arrived from one other participant.
#[derive(Debug, Default)]
pub struct Received {
    pub video_packets: AtomicU64,
    pub audio_packets: AtomicU64,
    pub video_bytes: AtomicU64,
    /// Size of the last VP8 keyframe seen (width << 16 | height), 0 if none yet.
    pub keyframe_size: AtomicU64,
}

impl Received {
    pub fn keyframe(&self) -> Option<(u64, u64)> {
        let packed = self.keyframe_size.load(Ordering::Relaxed);
        (packed != 0).then_some((packed >> 16, packed & 0xffff))
    }
}

pub struct SyntheticClient {
    pub id: ParticipantId,
    /// Who was in the room when it joined.
    pub others: Vec<Participant>,
    pub received: Arc<Mutex<HashMap<ParticipantId, Arc<Received>>>>,
    peer: Arc<RTCPeerConnection>,
    outgoing: mpsc::UnboundedSender<ClientMessage>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn new_peer() -> Result<Arc<RTCPeerConnection>> {
    let mut media = MediaEngine::default();
    media.register_default_codecs()?;
    let mut registry = Registry::new();
    registry = register_default_interceptors(registry, &mut media)?;
    let mut settings = SettingEngine::default();
    // Loopback only: never the machine's LAN address.
    settings.set_include_loopback_candidate(true);
    settings.set_ip_filter(Box::new(|ip| ip.is_loopback()));
    settings.set_network_types(vec![NetworkType::Udp4]);
    let api = APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .build();
    Ok(Arc::new(
        api.new_peer_connection(RTCConfiguration::default()).await?,
    ))
}

fn track(mime: &str, id: &str) -> Arc<TrackLocalStaticSample> {
    Arc::new(TrackLocalStaticSample::new(
        RTCRtpCodecCapability {
            mime_type: mime.to_string(),
            ..Default::default()
        },
        id.to_string(),
        "synthetic".to_string(),
    ))
}

impl SyntheticClient {
    /// Join `room` at the relay's WebSocket `url` and start publishing.
    pub async fn join(url: &str, room: &str, name: &str) -> Result<SyntheticClient> {
        crate::ensure_isolated_network()?;
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("WebSocket connect")?;
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut outgoing_rx) = mpsc::unbounded_channel::<ClientMessage>();
        let writer = tokio::spawn(async move {
            while let Some(message) = outgoing_rx.recv().await {
                if sink.send(Message::text(message.to_json())).await.is_err() {
                    break;
                }
            }
        });
        outgoing.send(ClientMessage::Join {
            version: PROTOCOL_VERSION,
            room: room.to_string(),
            name: name.to_string(),
            email: None,
            media: MediaState::default(),
            token: None,
            password: None,
        })?;
        let (id, others) = loop {
            let Some(message) = stream.next().await else {
                bail!("relay closed before welcoming");
            };
            if let Message::Text(text) = message? {
                match ServerMessage::from_json(text.as_str())? {
                    ServerMessage::Welcome {
                        participant_id,
                        participants,
                        ..
                    } => break (participant_id, participants),
                    ServerMessage::Error { message, .. } => bail!("join refused: {message}"),
                    _ => {}
                }
            }
        };

        let peer = new_peer().await?;
        let video = track(MIME_TYPE_VP8, "video");
        let audio = track(MIME_TYPE_OPUS, "audio");
        for local in [video.clone(), audio.clone()] {
            let sender = peer
                .add_transceiver_from_track(
                    local as Arc<dyn TrackLocal + Send + Sync>,
                    Some(RTCRtpTransceiverInit {
                        direction: RTCRtpTransceiverDirection::Sendonly,
                        send_encodings: vec![],
                    }),
                )
                .await?
                .sender()
                .await;
            // RTCP from the relay must be read for the interceptors (NACK, reports) to work.
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1500];
                while sender.read(&mut buf).await.is_ok() {}
            });
        }

        let received: Arc<Mutex<HashMap<ParticipantId, Arc<Received>>>> = Arc::default();
        // Whose media each stream carries, from the relay's offers (it reuses lines).
        let owners: Arc<Mutex<HashMap<String, (ParticipantId, TrackSource)>>> = Arc::default();
        let sink_for_tracks = received.clone();
        let track_owners = owners.clone();
        peer.on_track(Box::new(move |remote, _, _| {
            let received = sink_for_tracks.clone();
            let owner = track_owners
                .lock()
                .ok()
                .and_then(|owners| owners.get(&remote.stream_id()).copied());
            Box::pin(async move {
                let Some((origin, TrackSource::Camera)) = owner else {
                    return;
                };
                let counters = received
                    .lock()
                    .map(|mut map| map.entry(origin).or_default().clone());
                let Ok(counters) = counters else { return };
                let is_video = remote.kind() == RTPCodecType::Video;
                tokio::spawn(async move {
                    while let Ok((packet, _)) = remote.read_rtp().await {
                        if is_video {
                            counters.video_packets.fetch_add(1, Ordering::Relaxed);
                            counters
                                .video_bytes
                                .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
                            if let Some((w, h)) = crate::vp8::keyframe_size(&packet.payload) {
                                counters
                                    .keyframe_size
                                    .store(((w as u64) << 16) | h as u64, Ordering::Relaxed);
                            }
                        } else {
                            counters.audio_packets.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            })
        }));

        let signaling = outgoing.clone();
        let candidates = outgoing.clone();
        peer.on_ice_candidate(Box::new(move |candidate| {
            if let Some(candidate) = candidate.and_then(|c| c.to_json().ok()) {
                let _ = candidates.send(ClientMessage::Candidate {
                    candidate: candidate.candidate,
                });
            }
            Box::pin(async {})
        }));

        let offer = peer.create_offer(None).await?;
        peer.set_local_description(offer.clone()).await?;
        outgoing.send(ClientMessage::Offer { sdp: offer.sdp })?;

        let signaling_peer = peer.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(message) = ServerMessage::from_json(text.as_str()) else {
                    continue;
                };
                let result: Result<()> = async {
                    match message {
                        ServerMessage::Answer { sdp } => {
                            signaling_peer
                                .set_remote_description(RTCSessionDescription::answer(sdp)?)
                                .await?;
                        }
                        ServerMessage::Offer { sdp, streams } => {
                            if let Ok(mut owners) = owners.lock() {
                                *owners = streams
                                    .into_iter()
                                    .map(|s| (s.stream, (s.participant_id, s.source)))
                                    .collect();
                            }
                            signaling_peer
                                .set_remote_description(RTCSessionDescription::offer(sdp)?)
                                .await?;
                            let answer = signaling_peer.create_answer(None).await?;
                            signaling_peer.set_local_description(answer.clone()).await?;
                            outgoing.send(ClientMessage::Answer { sdp: answer.sdp })?;
                        }
                        _ => {}
                    }
                    Ok(())
                }
                .await;
                if let Err(e) = result {
                    eprintln!("synthetic client: signaling failed: {e:#}");
                    break;
                }
            }
        });

        let video_task = tokio::spawn(publish_video(video));
        let audio_task = tokio::spawn(publish_audio(audio));
        Ok(SyntheticClient {
            id,
            others,
            received,
            peer,
            outgoing: signaling,
            tasks: vec![writer, reader, video_task, audio_task],
        })
    }

    pub fn from(&self, origin: ParticipantId) -> Option<Arc<Received>> {
        self.received.lock().ok()?.get(&origin).cloned()
    }

    /// Say goodbye (`leave`), as the app's leave button does, then close.
    pub async fn leave(self) {
        let _ = self.outgoing.send(ClientMessage::Leave);
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.close().await;
    }

    pub async fn close(self) {
        for task in &self.tasks {
            task.abort();
        }
        let _ = self.peer.close().await;
    }
}

/// The fixture's frames at 30 fps, looped.
async fn publish_video(track: Arc<TrackLocalStaticSample>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(33));
    loop {
        let mut reader = match IVFReader::new(std::io::Cursor::new(VIDEO_FIXTURE)) {
            Ok((reader, _)) => reader,
            Err(e) => {
                eprintln!("synthetic client: video fixture unreadable: {e}");
                return;
            }
        };
        while let Ok((frame, _)) = reader.parse_next_frame() {
            ticker.tick().await;
            let sample = Sample {
                data: frame.freeze(),
                duration: Duration::from_millis(33),
                ..Default::default()
            };
            if track.write_sample(&sample).await.is_err() {
                return;
            }
        }
    }
}

async fn publish_audio(track: Arc<TrackLocalStaticSample>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    loop {
        ticker.tick().await;
        let sample = Sample {
            data: Bytes::from_static(&OPUS_SILENCE),
            duration: Duration::from_millis(20),
            ..Default::default()
        };
        if track.write_sample(&sample).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_video_fixture_is_a_loopable_vp8_stream() {
        let (mut reader, header) =
            IVFReader::new(std::io::Cursor::new(VIDEO_FIXTURE)).expect("IVF header");
        assert_eq!(&header.four_cc, b"VP80");
        assert_eq!((header.width, header.height), (320, 240));
        let mut frames = 0;
        let mut first_is_key = false;
        while let Ok((frame, _)) = reader.parse_next_frame() {
            if frames == 0 {
                first_is_key = frame[0] & 0x01 == 0;
            }
            frames += 1;
        }
        assert_eq!(frames, 30);
        assert!(first_is_key, "the loop must start with a keyframe");
    }
}
