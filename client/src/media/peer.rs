//! The one peer connection to the relay. The client offers once with its own tracks; after
//! that the relay offers whenever others' tracks come or go, and this side answers (it is the
//! polite peer: should offers cross, it rolls its own back).

use js_sys::{Array, Reflect};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sprechstunde_shared::{ForwardedStream, IceServer, ParticipantId, TrackSource};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceConnectionState, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpSender, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

use super::quality::{Encoding, Quality};

/// The client's sending lines, in the order of its offer. The relay takes the first video
/// line for the camera and the second for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Microphone,
    Camera,
    Screen,
}

impl Line {
    const ALL: [Line; 3] = [Line::Microphone, Line::Camera, Line::Screen];

    fn kind(self) -> &'static str {
        match self {
            Line::Microphone => "audio",
            Line::Camera | Line::Screen => "video",
        }
    }
}

pub enum PeerEvent {
    /// A trickled local ICE candidate to send to the relay.
    Candidate(String),
    /// Media of another participant arrived: their camera and microphone, or their screen.
    RemoteStream(ParticipantId, TrackSource, MediaStream),
    /// The connection state changed.
    State(RtcPeerConnectionState),
}

/// Whose media each stream the relay sends carries now (the relay reuses lines).
type StreamOwners = Rc<RefCell<HashMap<String, (ParticipantId, TrackSource)>>>;

/// The transport of the media path in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTransport {
    Udp,
    /// ICE over TCP to the relay's web port: works where UDP is blocked, with more delay.
    Tcp,
    /// Through the operator's TURN server: where nothing else reaches the relay.
    Turn,
}

pub struct Peer {
    connection: RtcPeerConnection,
    owners: StreamOwners,
    senders: Vec<(Line, RtcRtpSender)>,
    _on_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_state: Closure<dyn FnMut()>,
}

fn sdp_of(description: &JsValue) -> Result<String, JsValue> {
    Reflect::get(description, &JsValue::from_str("sdp"))?
        .as_string()
        .ok_or_else(|| JsValue::from_str("description without SDP"))
}

impl Peer {
    /// A peer connection with its three sending lines, carrying the local tracks there are.
    pub fn new(
        microphone: Option<&MediaStreamTrack>,
        camera: Option<&MediaStreamTrack>,
        ice_servers: &[IceServer],
        on_event: impl Fn(PeerEvent) + 'static,
    ) -> Result<Peer, JsValue> {
        let connection = relay_connection(ice_servers)?;
        let on_event = std::rc::Rc::new(on_event);

        let handler = on_event.clone();
        let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |event: RtcPeerConnectionIceEvent| {
                if let Some(candidate) = event.candidate() {
                    let line = candidate.candidate();
                    if !line.is_empty() {
                        handler(PeerEvent::Candidate(line));
                    }
                }
            },
        );
        let handler = on_event.clone();
        let owners = StreamOwners::default();
        let track_owners = owners.clone();
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
            let streams = event.streams();
            if let Ok(stream) = streams.get(0).dyn_into::<MediaStream>() {
                let owner = track_owners.borrow().get(&stream.id()).copied();
                if let Some((id, source)) = owner {
                    handler(PeerEvent::RemoteStream(id, source, stream));
                }
            }
        });
        let handler = on_event;
        let state_source = connection.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            handler(PeerEvent::State(connection_state(&state_source)));
        });
        connection.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        // Older browsers (Firefox before 113, Safari before 16) only tell the ICE state.
        // One source only: the same change reported twice would ask for two ICE restarts.
        if knows_connection_state(&connection) {
            connection.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        } else {
            connection.set_oniceconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        }

        let senders = add_sending_lines(&connection, microphone, camera);
        Ok(Peer {
            connection,
            owners,
            senders,
            _on_candidate: on_candidate,
            _on_track: on_track,
            _on_state: on_state,
        })
    }

    /// Send `track` on `line` from now on (`None`: send nothing), without renegotiation.
    pub async fn replace_track(
        &self,
        line: Line,
        track: Option<&MediaStreamTrack>,
    ) -> Result<(), JsValue> {
        let Some(sender) = self.sender(line) else {
            return Ok(());
        };
        JsFuture::from(sender.replace_track(track)).await?;
        Ok(())
    }

    /// Cap what the camera line sends: resolution and bitrate.
    pub async fn set_quality(&self, quality: Quality) -> Result<(), JsValue> {
        let Some(sender) = self.sender(Line::Camera) else {
            return Ok(());
        };
        let (width, height) = sender
            .track()
            .map(|track| track_size(&track))
            .unwrap_or((1280.0, 720.0));
        let parameters: JsValue = sender.get_parameters().into();
        let encodings = Array::from(&Reflect::get(&parameters, &JsValue::from_str("encodings"))?);
        let layers = quality.encodings(width, height);
        for encoding in encodings.iter() {
            let rid = Reflect::get(&encoding, &JsValue::from_str("rid"))
                .ok()
                .and_then(|r| r.as_string());
            let layer = match rid {
                Some(rid) => layers.iter().find(|l| l.rid == rid).copied(),
                // A browser that sends one layer only: the quality's own cap.
                None => Some(Encoding {
                    rid: "",
                    active: true,
                    scale_resolution_down_by: quality.scale_down_from(width, height),
                    max_bitrate: quality.max_bitrate(),
                }),
            };
            if let Some(layer) = layer {
                set_encoding(&encoding, &layer)?;
            }
        }
        JsFuture::from(sender.set_parameters_with_parameters(parameters.unchecked_ref())).await?;
        Ok(())
    }

    fn sender(&self, line: Line) -> Option<&RtcRtpSender> {
        self.senders
            .iter()
            .find(|(l, _)| *l == line)
            .map(|(_, sender)| sender)
    }

    /// Create the first offer; returns its SDP.
    pub async fn create_offer(&self) -> Result<String, JsValue> {
        let offer = JsFuture::from(self.connection.create_offer()).await?;
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(&sdp_of(&offer)?);
        JsFuture::from(self.connection.set_local_description(&init)).await?;
        sdp_of(&offer)
    }

    pub async fn accept_answer(&self, sdp: &str) -> Result<(), JsValue> {
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        init.set_sdp(sdp);
        JsFuture::from(self.connection.set_remote_description(&init)).await?;
        Ok(())
    }

    /// Take an offer from the relay and whose media its streams carry; returns our answer's
    /// SDP. The owners are known before the offer is applied, when its tracks arrive.
    pub async fn answer_offer(
        &self,
        sdp: &str,
        streams: &[ForwardedStream],
    ) -> Result<String, JsValue> {
        *self.owners.borrow_mut() = streams
            .iter()
            .map(|s| (s.stream.clone(), (s.participant_id, s.source)))
            .collect();
        if self.connection.signaling_state() == RtcSignalingState::HaveLocalOffer {
            let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
            JsFuture::from(self.connection.set_local_description(&rollback)).await?;
        }
        let init = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        init.set_sdp(sdp);
        JsFuture::from(self.connection.set_remote_description(&init)).await?;
        let answer = JsFuture::from(self.connection.create_answer()).await?;
        let local = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        local.set_sdp(&sdp_of(&answer)?);
        JsFuture::from(self.connection.set_local_description(&local)).await?;
        sdp_of(&answer)
    }

    /// How media travels now (see [`transport_of`]).
    pub async fn transport(&self) -> Option<MediaTransport> {
        transport_of(&self.connection).await
    }

    pub fn state(&self) -> RtcPeerConnectionState {
        connection_state(&self.connection)
    }

    pub fn close(&self) {
        self.connection.set_onicecandidate(None);
        self.connection.set_ontrack(None);
        self.connection.set_onconnectionstatechange(None);
        self.connection.set_oniceconnectionstatechange(None);
        self.connection.close();
    }
}

/// How media travels on `connection` now: over UDP, or over TCP to the relay's web port (a
/// network that blocks UDP). From the selected candidate pair; `None` while there is none.
pub async fn transport_of(connection: &RtcPeerConnection) -> Option<MediaTransport> {
    let report = JsFuture::from(connection.get_stats()).await.ok()?;
    let report: js_sys::Map = report.unchecked_into();
    let field = |value: &JsValue, name: &str| {
        js_sys::Reflect::get(value, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    let mut pair_id = None;
    report.for_each(&mut |value, _| {
        if field(&value, "type").as_deref() == Some("transport") {
            pair_id = pair_id
                .take()
                .or_else(|| field(&value, "selectedCandidatePairId"));
        }
    });
    let pair = report.get(&JsValue::from_str(&pair_id?));
    let local = report.get(&JsValue::from_str(&field(&pair, "localCandidateId")?));
    if field(&local, "candidateType").as_deref() == Some("relay") {
        return Some(MediaTransport::Turn);
    }
    match field(&local, "protocol")?.as_str() {
        "udp" => Some(MediaTransport::Udp),
        "tcp" => Some(MediaTransport::Tcp),
        _ => None,
    }
}

/// A peer connection to the relay: no STUN server, and a TURN server only where the
/// operator runs one (`ice_servers` from `welcome`), so nothing goes to third parties.
pub fn relay_connection(ice_servers: &[IceServer]) -> Result<RtcPeerConnection, JsValue> {
    let config = RtcConfiguration::new();
    let servers = Array::new();
    for server in ice_servers {
        let entry = js_sys::Object::new();
        let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        Reflect::set(&entry, &JsValue::from_str("urls"), &urls)?;
        Reflect::set(
            &entry,
            &JsValue::from_str("username"),
            &JsValue::from_str(&server.username),
        )?;
        Reflect::set(
            &entry,
            &JsValue::from_str("credential"),
            &JsValue::from_str(&server.credential),
        )?;
        servers.push(&entry);
    }
    config.set_ice_servers(&servers);
    RtcPeerConnection::new_with_configuration(&config)
}

/// Microphone, camera and screen lines, all present from the first offer so that switching
/// a device or starting a screen share later needs no renegotiation.
fn add_sending_lines(
    connection: &RtcPeerConnection,
    microphone: Option<&MediaStreamTrack>,
    camera: Option<&MediaStreamTrack>,
) -> Vec<(Line, RtcRtpSender)> {
    let mut senders = Vec::new();
    for line in Line::ALL {
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Sendonly);
        let track = match line {
            Line::Microphone => microphone,
            Line::Camera => camera,
            Line::Screen => None,
        };
        if line == Line::Camera {
            // Simulcast: the relay gives each receiver the layer its link and screen suit.
            // The layers' sizes and rates are set again once the quality is known. All start
            // active: a layer the SDP names as paused (`~h`) Chrome never resumes.
            let (width, height) = track.map(track_size).unwrap_or((1280.0, 720.0));
            let encodings: Array = Quality::High
                .encodings(width, height)
                .iter()
                .map(|layer| Encoding {
                    active: true,
                    ..*layer
                })
                .filter_map(|layer| {
                    let encoding = js_sys::Object::new();
                    Reflect::set(
                        &encoding,
                        &JsValue::from_str("rid"),
                        &JsValue::from_str(layer.rid),
                    )
                    .ok()?;
                    set_encoding(&encoding, &layer).ok()?;
                    Some(JsValue::from(encoding))
                })
                .collect();
            let _ = Reflect::set(&init, &JsValue::from_str("sendEncodings"), &encodings);
        }
        let transceiver = match track {
            Some(track) => {
                connection.add_transceiver_with_media_stream_track_and_init(track, &init)
            }
            // Nothing to send yet: the line is there and carries nothing.
            None => connection.add_transceiver_with_str_and_init(line.kind(), &init),
        };
        senders.push((line, transceiver.sender()));
    }
    senders
}

/// A camera's picture size from its settings.
fn track_size(track: &MediaStreamTrack) -> (f64, f64) {
    let setting = |name: &str| {
        Reflect::get(&track.get_settings(), &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_f64())
    };
    (
        setting("width").unwrap_or(1280.0),
        setting("height").unwrap_or(720.0),
    )
}

/// Set one `RTCRtpEncodingParameters` from a layer.
fn set_encoding(encoding: &JsValue, layer: &Encoding) -> Result<(), JsValue> {
    for (name, value) in [
        ("active", JsValue::from_bool(layer.active)),
        ("maxBitrate", JsValue::from_f64(layer.max_bitrate)),
        (
            "scaleResolutionDownBy",
            JsValue::from_f64(layer.scale_resolution_down_by),
        ),
    ] {
        Reflect::set(encoding, &JsValue::from_str(name), &value)?;
    }
    Ok(())
}

/// The connection's state; where the browser has no `connectionState` (older Firefox and
/// Safari), the one its ICE state implies.
pub fn connection_state(connection: &RtcPeerConnection) -> RtcPeerConnectionState {
    if knows_connection_state(connection) {
        connection.connection_state()
    } else {
        state_from_ice(connection.ice_connection_state())
    }
}

fn knows_connection_state(connection: &RtcPeerConnection) -> bool {
    Reflect::get(connection, &JsValue::from_str("connectionState")).is_ok_and(|s| s.is_string())
}

fn state_from_ice(ice: RtcIceConnectionState) -> RtcPeerConnectionState {
    match ice {
        RtcIceConnectionState::Checking => RtcPeerConnectionState::Connecting,
        RtcIceConnectionState::Connected | RtcIceConnectionState::Completed => {
            RtcPeerConnectionState::Connected
        }
        RtcIceConnectionState::Disconnected => RtcPeerConnectionState::Disconnected,
        RtcIceConnectionState::Failed => RtcPeerConnectionState::Failed,
        RtcIceConnectionState::Closed => RtcPeerConnectionState::Closed,
        _ => RtcPeerConnectionState::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ice_state_stands_in_for_the_connection_state() {
        use RtcIceConnectionState as Ice;
        use RtcPeerConnectionState as Peer;
        let cases = [
            (Ice::New, Peer::New),
            (Ice::Checking, Peer::Connecting),
            (Ice::Connected, Peer::Connected),
            (Ice::Completed, Peer::Connected),
            (Ice::Disconnected, Peer::Disconnected),
            (Ice::Failed, Peer::Failed),
            (Ice::Closed, Peer::Closed),
        ];
        for (ice, expected) in cases {
            assert_eq!(state_from_ice(ice), expected, "{ice:?}");
        }
    }
}
