//! The one peer connection to the relay. The client offers once with its own tracks; after
//! that the relay offers whenever others' tracks come or go, and this side answers (it is the
//! polite peer: should offers cross, it rolls its own back).

use js_sys::{Array, Reflect};
use sprechstunde_shared::ParticipantId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit,
    RtcSignalingState, RtcTrackEvent,
};

pub enum PeerEvent {
    /// A trickled local ICE candidate to send to the relay.
    Candidate(String),
    /// Media of another participant arrived.
    RemoteStream(ParticipantId, MediaStream),
    /// The connection state changed (`connected`, `failed`, ...).
    State(String),
}

pub struct Peer {
    connection: RtcPeerConnection,
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
    /// A peer connection with one sending audio and one sending video line, carrying the
    /// local tracks if there are any.
    pub fn new(
        local: Option<&MediaStream>,
        on_event: impl Fn(PeerEvent) + 'static,
    ) -> Result<Peer, JsValue> {
        let config = RtcConfiguration::new();
        // No STUN or TURN server unless the relay configures one: nothing goes to third parties.
        config.set_ice_servers(&Array::new());
        let connection = RtcPeerConnection::new_with_configuration(&config)?;
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
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
            let streams = event.streams();
            if let Ok(stream) = streams.get(0).dyn_into::<MediaStream>() {
                if let Some(id) = ParticipantId::from_stream_id(&stream.id()) {
                    handler(PeerEvent::RemoteStream(id, stream));
                }
            }
        });
        let handler = on_event;
        let state_source = connection.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            let state = Reflect::get(&state_source, &JsValue::from_str("connectionState"))
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            handler(PeerEvent::State(state));
        });
        connection.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        connection.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        let peer = Peer {
            connection,
            _on_candidate: on_candidate,
            _on_track: on_track,
            _on_state: on_state,
        };
        peer.add_sending_lines(local);
        Ok(peer)
    }

    fn add_sending_lines(&self, local: Option<&MediaStream>) {
        for kind in ["audio", "video"] {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendonly);
            let track = local.and_then(|stream| {
                stream
                    .get_tracks()
                    .iter()
                    .filter_map(|t| t.dyn_into::<MediaStreamTrack>().ok())
                    .find(|t| t.kind() == kind)
            });
            match (track, local) {
                (Some(track), Some(stream)) => {
                    init.set_streams(&Array::of1(stream));
                    self.connection
                        .add_transceiver_with_media_stream_track_and_init(&track, &init);
                }
                // No such device: the line is there, so a device added later needs no
                // renegotiation; it just carries nothing yet.
                _ => {
                    self.connection
                        .add_transceiver_with_str_and_init(kind, &init);
                }
            }
        }
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

    /// Take an offer from the relay; returns our answer's SDP.
    pub async fn answer_offer(&self, sdp: &str) -> Result<String, JsValue> {
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

    pub fn close(&self) {
        self.connection.set_onicecandidate(None);
        self.connection.set_ontrack(None);
        self.connection.set_onconnectionstatechange(None);
        self.connection.close();
    }
}
