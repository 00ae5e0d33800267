//! A signaling connection at the level of WebSocket messages, for sending what no
//! well-behaved client would and reading exactly what comes back.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{ErrorCode, ServerMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::relay::Relay;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn connect(relay: &Relay) -> Result<Socket> {
    Ok(tokio_tungstenite::connect_async(relay.ws_url()).await?.0)
}

/// From another loopback address (127.0.0.2, ...), so as not to share the per-address
/// connection limit with browsers on 127.0.0.1.
pub async fn connect_from(relay: &Relay, source: std::net::IpAddr) -> Result<Socket> {
    connect_to(relay.http, source).await
}

/// The signaling WebSocket of the relay at `http`, from the local address `source`.
pub async fn connect_to(http: std::net::SocketAddr, source: std::net::IpAddr) -> Result<Socket> {
    let tcp = tokio::net::TcpSocket::new_v4()?;
    tcp.bind(std::net::SocketAddr::new(source, 0))?;
    let stream = tcp.connect(http).await?;
    let url = format!("ws://{http}/ws");
    Ok(
        tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
            .await?
            .0,
    )
}

pub async fn send_raw(socket: &mut Socket, text: &str) -> Result<()> {
    socket.send(Message::text(text.to_string())).await?;
    Ok(())
}

/// The next message from the relay, or the close code if it closed.
pub async fn next(socket: &mut Socket) -> Result<Result<ServerMessage, Option<u16>>> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .context("no answer from the relay")?;
        match message {
            Some(Ok(Message::Text(text))) => match ServerMessage::from_json(text.as_str())? {
                // Sent about once a second while a room lives; not an answer to anything.
                ServerMessage::SpeakingStats { .. } => continue,
                message => return Ok(Ok(message)),
            },
            Some(Ok(Message::Close(frame))) => return Ok(Err(frame.map(|f| u16::from(f.code)))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Ok(Err(None)),
        }
    }
}

/// After an error reply: the close that follows it, if the relay closes now.
pub async fn next_if_closed(socket: &mut Socket) -> Result<Option<Option<u16>>> {
    loop {
        return match tokio::time::timeout(Duration::from_millis(300), socket.next()).await {
            Err(_) => Ok(None),
            Ok(Some(Ok(Message::Close(frame)))) => Ok(Some(frame.map(|f| u16::from(f.code)))),
            Ok(Some(Ok(Message::Text(text))))
                if matches!(
                    ServerMessage::from_json(text.as_str()),
                    Ok(ServerMessage::SpeakingStats { .. })
                ) =>
            {
                continue
            }
            Ok(Some(Ok(other))) => bail!("unexpected {other:?}"),
            Ok(Some(Err(_)) | None) => Ok(Some(None)),
        };
    }
}

pub async fn expect_error(socket: &mut Socket, code: ErrorCode) -> Result<String> {
    match next(socket).await? {
        Ok(ServerMessage::Error { code: got, message }) if got == code => Ok(message),
        other => bail!("expected error {code:?}, got {other:?}"),
    }
}

pub fn join(room: &str, name: &str) -> String {
    crate::ws::JoinRequest::new(room, name).message().to_json()
}
