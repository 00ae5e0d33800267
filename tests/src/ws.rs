//! A signaling client that speaks the protocol directly, without any UI and without media:
//! for tests of what the relay allows and delivers.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_shared::{
    ChatMessage, ClientMessage, MediaState, Participant, ParticipantId, ServerMessage,
    PROTOCOL_VERSION,
};
use std::net::IpAddr;
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
    pub host: bool,
    /// Every message received so far, as JSON text, to search afterwards.
    pub transcript: Vec<String>,
}

/// A join as a client may send it; build with [`JoinRequest::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub room: String,
    pub name: String,
    pub email: Option<String>,
    pub media: MediaState,
    pub token: Option<String>,
    pub password: Option<String>,
}

impl JoinRequest {
    pub fn new(room: &str, name: &str) -> JoinRequest {
        JoinRequest {
            room: room.into(),
            name: name.into(),
            email: None,
            media: MediaState::default(),
            token: None,
            password: None,
        }
    }

    pub fn with_email(mut self, email: &str) -> JoinRequest {
        self.email = Some(email.into());
        self
    }

    pub fn with_token(mut self, token: &str) -> JoinRequest {
        self.token = Some(token.into());
        self
    }

    pub fn with_password(mut self, password: &str) -> JoinRequest {
        self.password = Some(password.into());
        self
    }

    pub fn message(&self) -> ClientMessage {
        ClientMessage::Join {
            version: PROTOCOL_VERSION,
            room: self.room.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            media: self.media,
            token: self.token.clone(),
            password: self.password.clone(),
        }
    }
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
        let mut client = WsClient::connect(relay, None).await?;
        let request = JoinRequest {
            media,
            ..JoinRequest::new(room, name)
        };
        match client.request(&request).await? {
            ServerMessage::Welcome { .. } => Ok(client),
            other => bail!("join refused: {other:?}"),
        }
    }

    /// A signaling connection, from `source` (a loopback address such as 127.0.0.2) if given.
    pub async fn connect(relay: &Relay, source: Option<IpAddr>) -> Result<WsClient> {
        crate::ensure_isolated_network()?;
        let socket = match source {
            None => tokio_tungstenite::connect_async(relay.ws_url()).await?.0,
            Some(source) => crate::raw_ws::connect_from(relay, source).await?,
        };
        Ok(WsClient {
            socket,
            id: ParticipantId(0),
            others: Vec::new(),
            chat: Vec::new(),
            topic: None,
            description: None,
            host: false,
            transcript: Vec::new(),
        })
    }

    /// Send a join and return the answer: `welcome`, `waiting` or `error`.
    pub async fn request(&mut self, request: &JoinRequest) -> Result<ServerMessage> {
        self.send(&request.message()).await?;
        let answer = self
            .next_where(Duration::from_secs(10), |m| {
                matches!(
                    m,
                    ServerMessage::Welcome { .. }
                        | ServerMessage::Waiting { .. }
                        | ServerMessage::Error { .. }
                )
            })
            .await?;
        self.absorb(&answer);
        Ok(answer)
    }

    /// Wait (in the waiting room) until admitted; returns the welcome.
    pub async fn admitted(&mut self, timeout: Duration) -> Result<()> {
        let welcome = self
            .next_where(timeout, |m| matches!(m, ServerMessage::Welcome { .. }))
            .await?;
        self.absorb(&welcome);
        Ok(())
    }

    fn absorb(&mut self, answer: &ServerMessage) {
        match answer {
            ServerMessage::Welcome {
                participant_id,
                participants,
                state,
                chat,
                host,
                ..
            } => {
                self.id = *participant_id;
                self.others = participants.clone();
                self.chat = chat.clone();
                self.topic = state.topic.clone();
                self.description = state.description.clone();
                self.host = *host;
            }
            ServerMessage::Waiting { participant_id, .. } => self.id = *participant_id,
            _ => {}
        }
    }

    /// The close code the relay ends the connection with (skipping other messages).
    pub async fn closed_with(&mut self, timeout: Duration) -> Result<Option<u16>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .context("timed out waiting for the close")?
            {
                None | Some(Err(_)) => return Ok(None),
                Some(Ok(Message::Close(frame))) => return Ok(frame.map(|f| u16::from(f.code))),
                Some(Ok(Message::Text(text))) => self.transcript.push(text.to_string()),
                Some(Ok(_)) => {}
            }
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
