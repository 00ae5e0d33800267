//! A signaling client that speaks the protocol directly, without any UI and without media:
//! for tests of what the relay allows and delivers.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{
    ChatMessage, ClientMessage, MediaState, Participant, ParticipantId, ServerMessage,
    PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::relay::Relay;

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub id: ParticipantId,
    /// What the welcome said.
    pub others: Vec<Participant>,
    pub chat: Vec<ChatMessage>,
    pub topic: Option<String>,
    pub description: Option<String>,
    /// Every message received so far, as JSON text, to search afterwards.
    pub transcript: Vec<String>,
}

impl WsClient {
    pub async fn join(relay: &Relay, room: &str, name: &str) -> Result<WsClient> {
        WsClient::join_with(relay, room, name, MediaState::default()).await
    }

    pub async fn join_with(
        relay: &Relay,
        room: &str,
        name: &str,
        media: MediaState,
    ) -> Result<WsClient> {
        crate::ensure_isolated_network()?;
        let (socket, _) = tokio_tungstenite::connect_async(relay.ws_url()).await?;
        let mut client = WsClient {
            socket,
            id: ParticipantId(0),
            others: Vec::new(),
            chat: Vec::new(),
            topic: None,
            description: None,
            transcript: Vec::new(),
        };
        client
            .send(&ClientMessage::Join {
                version: PROTOCOL_VERSION,
                room: room.into(),
                name: name.into(),
                media,
            })
            .await?;
        let welcome = client
            .next_where(Duration::from_secs(5), |m| {
                matches!(
                    m,
                    ServerMessage::Welcome { .. } | ServerMessage::Error { .. }
                )
            })
            .await?;
        match welcome {
            ServerMessage::Welcome {
                participant_id,
                participants,
                topic,
                description,
                chat,
                ..
            } => {
                client.id = participant_id;
                client.others = participants;
                client.chat = chat;
                client.topic = topic;
                client.description = description;
                Ok(client)
            }
            other => bail!("join refused: {other:?}"),
        }
    }

    pub async fn send(&mut self, message: &ClientMessage) -> Result<()> {
        self.send_raw(&message.to_json()).await
    }

    pub async fn send_raw(&mut self, text: &str) -> Result<()> {
        self.socket.send(Message::text(text.to_string())).await?;
        Ok(())
    }

    /// The next message that `wanted` accepts; others are skipped (and kept in the
    /// transcript).
    pub async fn next_where(
        &mut self,
        timeout: Duration,
        wanted: impl Fn(&ServerMessage) -> bool,
    ) -> Result<ServerMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .context("timed out waiting for a message")?
                .context("the relay closed the connection")??;
            let Message::Text(text) = message else {
                continue;
            };
            self.transcript.push(text.to_string());
            let parsed = ServerMessage::from_json(text.as_str())?;
            if wanted(&parsed) {
                return Ok(parsed);
            }
        }
    }

    /// Everything that arrives within `window`.
    pub async fn drain(&mut self, window: Duration) -> Vec<ServerMessage> {
        let deadline = tokio::time::Instant::now() + window;
        let mut got = Vec::new();
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout_at(deadline, self.socket.next()).await
        {
            if let Message::Text(text) = message {
                self.transcript.push(text.to_string());
                if let Ok(parsed) = ServerMessage::from_json(text.as_str()) {
                    got.push(parsed);
                }
            }
        }
        got
    }

    pub async fn next_chat(&mut self) -> Result<ChatMessage> {
        match self
            .next_where(Duration::from_secs(5), |m| {
                matches!(m, ServerMessage::Chat(_))
            })
            .await?
        {
            ServerMessage::Chat(message) => Ok(message),
            other => bail!("expected a chat message, got {other:?}"),
        }
    }

    pub async fn leave(mut self) -> Result<()> {
        self.send(&ClientMessage::Leave).await?;
        while self.socket.next().await.is_some() {}
        Ok(())
    }
}
