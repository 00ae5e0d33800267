//! Typed, versioned signaling messages. Unknown fields, wrong types and duplicate keys are
//! rejected by deserialization, so a malformed message never reaches room logic.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped on every incompatible change; sent by the client in [`ClientMessage::Join`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest signaling message either side accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Assigned by the relay; never taken from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

impl ParticipantId {
    /// The media stream id the relay uses for this participant's tracks (`a=msid`), so a
    /// receiver can map an incoming track to a participant.
    pub fn stream_id(self) -> String {
        self.to_string()
    }

    pub fn from_stream_id(stream_id: &str) -> Option<Self> {
        stream_id.strip_prefix('p')?.parse().ok().map(ParticipantId)
    }
}

/// Messages from a browser (or any client) to the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum ClientMessage {
    /// First message on a connection.
    Join {
        version: u32,
        room: String,
        name: String,
    },
    /// An SDP offer from the client (its first one sets up the peer connection).
    Offer { sdp: String },
    /// The client's answer to an offer from the relay.
    Answer { sdp: String },
    /// A trickled ICE candidate (`a=candidate` line without the `a=`).
    Candidate { candidate: String },
    /// Leave the room; the relay closes the connection afterwards.
    Leave,
    /// Application-level keepalive; answered with [`ServerMessage::Pong`].
    Ping,
}

/// Messages from the relay to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum ServerMessage {
    /// Answer to `Join`: who you are and who is already in the room.
    Welcome {
        version: u32,
        participant_id: ParticipantId,
        room: String,
        participants: Vec<Participant>,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantLeft {
        participant_id: ParticipantId,
    },
    /// The relay renegotiates (people joined or left); the client answers.
    Offer {
        sdp: String,
    },
    /// The relay's answer to the client's offer.
    Answer {
        sdp: String,
    },
    /// Something the client sent was refused. The connection stays open unless it repeats.
    Error {
        code: ErrorCode,
        message: String,
    },
    Pong,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub id: ParticipantId,
    pub name: String,
}

/// Machine-readable reason of a [`ServerMessage::Error`]; the client shows its own
/// translated text for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not valid JSON, an unknown message type, an unknown field or a wrong type.
    Malformed,
    /// The client speaks another protocol version.
    UnsupportedVersion,
    /// A message that is not allowed in the current state (e.g. an offer before joining).
    OutOfOrder,
    InvalidRoomName,
    InvalidName,
    /// The SDP or candidate could not be used.
    InvalidSdp,
    /// The media connection failed; the client should rejoin.
    MediaFailed,
    /// The message was larger than [`MAX_MESSAGE_BYTES`].
    TooLarge,
    /// Too many messages per second.
    RateLimited,
    /// The room has as many participants as it may.
    RoomFull,
    /// The relay has as many participants as it may.
    ServerFull,
    Internal,
}

/// WebSocket close codes the relay uses (application range 4000-4999).
pub mod close_code {
    /// Repeated malformed or out-of-order messages.
    pub const PROTOCOL_ABUSE: u16 = 4000;
    /// The client's protocol version is not supported.
    pub const UNSUPPORTED_VERSION: u16 = 4001;
    /// The relay is shutting down; the client may reconnect later.
    pub const SHUTTING_DOWN: u16 = 4002;
    /// The media connection died; the client should rejoin.
    pub const MEDIA_FAILED: u16 = 4003;
    /// The room or the relay is full.
    pub const FULL: u16 = 4004;
}

impl ClientMessage {
    pub fn to_json(&self) -> String {
        // Serializing these plain enums cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl ServerMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_samples() -> Vec<ClientMessage> {
        vec![
            ClientMessage::Join {
                version: PROTOCOL_VERSION,
                room: "beratung-1".into(),
                name: "Ayşe Yılmaz".into(),
            },
            ClientMessage::Offer {
                sdp: "v=0\r\n".into(),
            },
            ClientMessage::Answer {
                sdp: "v=0\r\n".into(),
            },
            ClientMessage::Candidate {
                candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host".into(),
            },
            ClientMessage::Leave,
            ClientMessage::Ping,
        ]
    }

    fn server_samples() -> Vec<ServerMessage> {
        let participant = Participant {
            id: ParticipantId(7),
            name: "Berater".into(),
        };
        vec![
            ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                participant_id: ParticipantId(3),
                room: "beratung-1".into(),
                participants: vec![participant.clone()],
            },
            ServerMessage::ParticipantJoined { participant },
            ServerMessage::ParticipantLeft {
                participant_id: ParticipantId(7),
            },
            ServerMessage::Offer {
                sdp: "v=0\r\n".into(),
            },
            ServerMessage::Answer {
                sdp: "v=0\r\n".into(),
            },
            ServerMessage::error(ErrorCode::OutOfOrder, "join first"),
            ServerMessage::Pong,
        ]
    }

    #[test]
    fn every_client_message_round_trips() {
        for message in client_samples() {
            let json = message.to_json();
            assert_eq!(
                ClientMessage::from_json(&json).ok(),
                Some(message),
                "{json}"
            );
        }
    }

    #[test]
    fn every_server_message_round_trips() {
        for message in server_samples() {
            let json = message.to_json();
            assert_eq!(
                ServerMessage::from_json(&json).ok(),
                Some(message),
                "{json}"
            );
        }
    }

    #[test]
    fn wire_format_is_tagged_snake_case() {
        let json = ClientMessage::Join {
            version: 1,
            room: "a".into(),
            name: "b".into(),
        }
        .to_json();
        assert_eq!(
            json,
            r#"{"type":"join","data":{"version":1,"room":"a","name":"b"}}"#
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = ClientMessage::from_json(r#"{"type":"offer","data":{"sdp":"x","sender":"p1"}}"#);
        assert!(err.is_err(), "a forged sender field must not be accepted");
        let err = ServerMessage::from_json(r#"{"type":"pong","extra":1}"#);
        assert!(err.is_err());
    }

    #[test]
    fn unknown_types_wrong_types_and_duplicates_are_rejected() {
        for bad in [
            r#"{"type":"explode"}"#,
            r#"{"type":"join","data":{"version":"1","room":"a","name":"b"}}"#,
            r#"{"type":"join","data":{"version":1,"room":5,"name":"b"}}"#,
            r#"{"type":"join","data":{"version":1,"room":"a"}}"#,
            r#"{"type":"offer","data":{"sdp":"a","sdp":"b"}}"#,
            r#"{"type":"offer","type":"answer","data":{"sdp":"a"}}"#,
            r#"{"type":"ping","data":{"x":1}}"#,
            r#"{"type":"ping","sender":"p1"}"#,
            r#"{"data":{"sdp":"a"}}"#,
            r#"[1,2,3]"#,
            "not json",
            "",
        ] {
            assert!(ClientMessage::from_json(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn stream_ids_map_back_to_participants() {
        let id = ParticipantId(42);
        assert_eq!(ParticipantId::from_stream_id(&id.stream_id()), Some(id));
        assert_eq!(ParticipantId::from_stream_id("x42"), None);
        assert_eq!(ParticipantId::from_stream_id("p"), None);
    }
}
