//! A synthetic participant of our relay: it joins through the same signaling protocol as
//! the browser, on one connection that publishes and receives (the client offers its own
//! tracks once; then the relay offers what others publish and the client answers).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{ClientMessage, ServerMessage};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::leg::{self, MediaProfile, SignalIn, SignalOut};
use super::pauses::Pauses;
use super::Participant;
use crate::ws::JoinRequest;

/// Join `room` at the relay's HTTP address, from `source` (a loopback address; the relay
/// limits connections per address).
pub async fn join(
    relay: SocketAddr,
    source: IpAddr,
    room: &str,
    index: u32,
    profile: MediaProfile,
) -> Result<Participant> {
    crate::ensure_isolated_network()?;
    let socket = crate::raw_ws::connect_to(relay, source)
        .await
        .context("signaling connection to the relay")?;
    let (mut sink, mut stream) = socket.split();
    let join = JoinRequest::new(room, &format!("Last {index}")).message();
    sink.send(Message::text(join.to_json())).await?;
    let pauses = Arc::new(Mutex::new(Pauses::default()));
    loop {
        let Some(message) = stream.next().await else {
            bail!("the relay closed before welcoming participant {index}");
        };
        if let Message::Text(text) = message? {
            let message = ServerMessage::from_json(text.as_str())?;
            if let Ok(mut pauses) = pauses.lock() {
                pauses.read(&message);
            }
            match message {
                ServerMessage::Welcome { .. } => break,
                ServerMessage::Error { message, .. } => bail!("join refused: {message}"),
                _ => {}
            }
        }
    }

    let (leg, mut from_leg) = leg::start(source, Some((index, profile))).await?;
    let (outgoing, mut outgoing_rx) = mpsc::unbounded_channel::<ClientMessage>();
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing_rx.recv().await {
            let leaving = matches!(message, ClientMessage::Leave);
            if sink.send(Message::text(message.to_json())).await.is_err() || leaving {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let to_relay = outgoing.clone();
    let from_leg_task = tokio::spawn(async move {
        while let Some(signal) = from_leg.recv().await {
            let message = match signal {
                SignalOut::Offer(sdp) => ClientMessage::Offer { sdp },
                SignalOut::Answer(sdp) => ClientMessage::Answer { sdp },
            };
            if to_relay.send(message).is_err() {
                break;
            }
        }
    });
    // The relay closes a signaling connection that says nothing for its idle timeout (15 s),
    // as a browser's client keeps it alive.
    let keepalive_to = outgoing.clone();
    let keepalive = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            if keepalive_to.send(ClientMessage::Ping).is_err() {
                break;
            }
        }
    });
    let to_leg = leg.to_leg.clone();
    let pauses_read = pauses.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(message) = ServerMessage::from_json(text.as_str()) else {
                continue;
            };
            if let Ok(mut pauses) = pauses_read.lock() {
                pauses.read(&message);
            }
            let signal = match message {
                ServerMessage::Offer { sdp, .. } => SignalIn::Offer(sdp),
                ServerMessage::Answer { sdp } => SignalIn::Answer(sdp),
                _ => continue,
            };
            if to_leg.send(signal).is_err() {
                break;
            }
        }
    });
    Ok(Participant {
        legs: vec![leg],
        tasks: vec![from_leg_task, reader, keepalive],
        farewell: Some(Box::new(move || {
            let _ = outgoing.send(ClientMessage::Leave);
        })),
        writer: Some(writer),
        pauses: Some(pauses),
    })
}
