//! The pre-join connection check: a peer connection with no camera or microphone, over a
//! signaling connection of its own, that learns whether media will get through to the relay
//! and how (UDP, or TCP on the web port), before the family knocks.

use std::cell::Cell;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_timers::future::TimeoutFuture;
use sprechstunde_shared::{ClientMessage, ErrorCode, ServerMessage};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcPeerConnection, RtcPeerConnectionState, RtcRtpTransceiverDirection, RtcRtpTransceiverInit,
    RtcSdpType, RtcSessionDescriptionInit,
};

use super::peer::{relay_connection, transport_of, MediaTransport};
use crate::signaling::{Signaling, SignalingEvent};

/// How long the signaling connection and the relay's answer may take.
const SIGNALING_TIMEOUT_MS: u32 = 5_000;
/// How long ICE and DTLS may take. A path over TCP comes up within a few seconds where the
/// UDP checks go unanswered.
const MEDIA_TIMEOUT_MS: u32 = 12_000;
const POLL_MS: u32 = 200;

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Media over UDP: the best path.
    Udp,
    /// Media over TCP to the web port: works, with a little more delay.
    Tcp,
    /// The relay answered, but no media path came up: the network blocks it.
    Blocked,
    /// No direct path, but the operator runs a TURN server the call will try.
    BlockedTryTurn,
    /// The relay could not be reached at all.
    NoServer,
    /// The relay runs too many checks just now; joining still works.
    Busy,
}

impl Verdict {
    /// A stable name for the page (`data-verdict`) and for tests.
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Udp => "udp",
            Verdict::Tcp => "tcp",
            Verdict::Blocked => "blocked",
            Verdict::BlockedTryTurn => "blocked-turn",
            Verdict::NoServer => "no-server",
            Verdict::Busy => "busy",
        }
    }
}

/// Run the check; everything it opened is closed when it returns. Setting `stop` ends it
/// early (the page moved on), within a poll interval once media is being tried.
pub async fn check(stop: Rc<Cell<bool>>) -> Verdict {
    let (events, mut incoming) = mpsc::unbounded();
    let Some(signaling) = Signaling::connect(move |event| {
        let _ = events.unbounded_send(event);
    }) else {
        return Verdict::NoServer;
    };
    // No TURN server for the check: its credentials are for admitted participants only.
    let connection = match relay_connection(&[]) {
        Ok(connection) => connection,
        Err(_) => {
            signaling.close();
            return Verdict::NoServer;
        }
    };
    let verdict = run(&signaling, &connection, &mut incoming, &stop).await;
    connection.close();
    signaling.close();
    verdict
}

async fn run(
    signaling: &Signaling,
    connection: &RtcPeerConnection,
    incoming: &mut mpsc::UnboundedReceiver<SignalingEvent>,
    stop: &Cell<bool>,
) -> Verdict {
    if !matches!(next(incoming).await, Some(SignalingEvent::Open)) {
        return Verdict::NoServer;
    }
    let Ok(sdp) = offer(connection).await else {
        return Verdict::NoServer;
    };
    signaling.send(&ClientMessage::Probe { sdp });
    let (answer, turn) = loop {
        match next(incoming).await {
            Some(SignalingEvent::Message(ServerMessage::ProbeAnswer { sdp, turn })) => {
                break (sdp, turn)
            }
            Some(SignalingEvent::Message(ServerMessage::Error {
                code: ErrorCode::Busy,
                ..
            })) => return Verdict::Busy,
            Some(SignalingEvent::Message(ServerMessage::Pong) | SignalingEvent::Garbled) => {}
            _ => return Verdict::NoServer,
        }
    };
    let init = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    init.set_sdp(&answer);
    if JsFuture::from(connection.set_remote_description(&init))
        .await
        .is_err()
    {
        return Verdict::NoServer;
    }
    let mut waited = 0;
    while waited < MEDIA_TIMEOUT_MS && !stop.get() {
        match crate::media::peer::connection_state(connection) {
            RtcPeerConnectionState::Connected => {
                return match transport_of(connection).await {
                    Some(MediaTransport::Tcp | MediaTransport::Turn) => Verdict::Tcp,
                    _ => Verdict::Udp,
                };
            }
            RtcPeerConnectionState::Failed | RtcPeerConnectionState::Closed => break,
            _ => {}
        }
        TimeoutFuture::new(POLL_MS).await;
        waited += POLL_MS;
    }
    if turn {
        Verdict::BlockedTryTurn
    } else {
        Verdict::Blocked
    }
}

/// The check's offer: one receive-only audio line, so that nothing is captured.
async fn offer(connection: &RtcPeerConnection) -> Result<String, JsValue> {
    let init = RtcRtpTransceiverInit::new();
    init.set_direction(RtcRtpTransceiverDirection::Recvonly);
    connection.add_transceiver_with_str_and_init("audio", &init);
    let offer = JsFuture::from(connection.create_offer()).await?;
    let sdp = js_sys::Reflect::get(&offer, &JsValue::from_str("sdp"))?
        .as_string()
        .ok_or_else(|| JsValue::from_str("offer without SDP"))?;
    let local = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    local.set_sdp(&sdp);
    JsFuture::from(connection.set_local_description(&local)).await?;
    Ok(sdp)
}

/// The next signaling event, or `None` after [`SIGNALING_TIMEOUT_MS`].
async fn next(incoming: &mut mpsc::UnboundedReceiver<SignalingEvent>) -> Option<SignalingEvent> {
    match select(incoming.next(), TimeoutFuture::new(SIGNALING_TIMEOUT_MS)).await {
        Either::Left((event, _)) => event,
        Either::Right(_) => None,
    }
}
