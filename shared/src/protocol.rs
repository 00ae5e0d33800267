//! Typed, versioned signaling messages. Unknown fields, wrong types and duplicate keys are
//! rejected by deserialization, so a malformed message never reaches room logic.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped on every incompatible change; sent by the client in [`ClientMessage::Join`].
/// 3: messages are `{"name": {fields}}` (serde's external tagging), not
/// `{"type": "name", "data": {fields}}`. Adjacent tagging made serde keep a second, buffered
/// decoder for every message: 156 KB of the client's 1 MB of WebAssembly.
pub const PROTOCOL_VERSION: u32 = 3;

/// Largest signaling message either side accepts, in bytes, except SDP.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest `offer` or `answer` message, in bytes. A full room (20 people) needs about 60 KB
/// of SDP; this leaves room for browsers that describe each line at length.
pub const MAX_SDP_MESSAGE_BYTES: usize = 256 * 1024;

/// Assigned by the relay; never taken from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// Where a forwarded track comes from. A client's first video line is its camera (with its
/// microphone beside it), its second video line its screen; further lines are not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    Camera,
    Screen,
}

/// Whose media a forwarded media stream (`a=msid` stream id) carries now. The relay reuses
/// the lines of those who left for those who come, so a stream id names a line of the
/// session, not a person: this table, sent with every relay offer, says who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardedStream {
    pub stream: String,
    pub participant_id: ParticipantId,
    pub source: TrackSource,
}

/// What a participant says it sends. The relay shows it to the others and counts no
/// speaking time while `mic` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaState {
    pub mic: bool,
    pub camera: bool,
    pub screen: bool,
}

/// How tall one participant's camera (or screen share) is shown, in device pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TileHeight {
    pub participant_id: ParticipantId,
    #[serde(default)]
    pub screen: bool,
    pub height: u32,
}

/// At most this many pictures in one `tile_heights` (a full room has 19 others with a camera
/// and a screen share each).
pub const MAX_TILE_HEIGHTS: usize = 64;

impl Default for MediaState {
    fn default() -> Self {
        MediaState {
            mic: true,
            camera: true,
            screen: false,
        }
    }
}

/// Messages from a browser (or any client) to the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First message on a connection.
    Join {
        version: u32,
        room: String,
        name: String,
        /// Optional; the relay shows it to hosts only and keeps it only while in the room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        /// Microphone and camera as chosen before joining.
        #[serde(default)]
        media: MediaState,
        /// A host link's or invitation's token (from the link's `#host=` / `#invite=`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// The meeting's password, if the host set one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    /// First message on a new connection after a drop: continue the session the token from
    /// `welcome` names (same participant, media kept). Refused with `resume_failed` once the
    /// relay has let it go; then the client joins afresh.
    Resume { version: u32, token: String },
    /// Before joining, the connection check: an offer with one receive-only audio line. The
    /// relay answers with `probe_answer`; whether ICE and DTLS come up, and over which
    /// transport, tells what will work in the call. Once per connection; it ends with the
    /// connection, or after 20 s.
    Probe { sdp: String },
    /// The client's media path broke (ICE disconnected or failed): the relay sends an offer
    /// with new ICE credentials.
    IceRestart,
    /// An SDP offer from the client (its first one sets up the peer connection).
    Offer { sdp: String },
    /// The client's answer to an offer from the relay.
    Answer { sdp: String },
    /// A trickled ICE candidate (`a=candidate` line without the `a=`).
    Candidate { candidate: String },
    /// Microphone, camera or screen share switched on or off.
    SetMedia(MediaState),
    /// A chat message to everyone, or privately to one participant.
    Chat {
        text: String,
        #[serde(default)]
        to: Option<ParticipantId>,
    },
    /// Raise or lower one's own hand.
    SetHand { raised: bool },
    /// How much of others' video to receive.
    ReceiveQuality { quality: ReceiveQuality },
    /// How tall the client shows others' pictures now: the relay sends no layer much larger
    /// than that. Sent when it changes; a picture not named has no limit.
    TileHeights { tiles: Vec<TileHeight> },
    /// Host: the meeting's topic and description (`None` clears).
    SetRoomInfo {
        topic: Option<String>,
        description: Option<String>,
    },
    /// Host: waiting room on or off, room locked or open.
    SetRoomPolicy { waiting_room: bool, locked: bool },
    /// Host: set (or with `None` remove) the meeting's password. Never sent back to anyone.
    SetPassword { password: Option<String> },
    /// Host: a message shown to everyone in the waiting room (`None` clears).
    SetWaitingMessage { text: Option<String> },
    /// Host: act on another participant (or a waiting guest).
    Moderate {
        participant: ParticipantId,
        action: ModerationAction,
    },
    /// Host: end the meeting for everyone.
    EndMeeting,
    /// Leave the room; the relay closes the connection afterwards.
    Leave,
    /// Application-level keepalive; answered with [`ServerMessage::Pong`].
    Ping,
}

/// What a host can do to someone else. Nobody can switch on another's microphone or camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    /// Let a waiting guest in.
    Admit,
    /// Turn a waiting guest away.
    Deny,
    /// Send a participant back to the waiting room.
    SendToWaitingRoom,
    /// Switch their microphone off; they may switch it on again themselves.
    Mute,
    /// Switch their camera off; they may switch it on again themselves.
    StopCamera,
    /// End their screen share; they may share again themselves.
    StopScreen,
    LowerHand,
    /// Remove them; they cannot come back with the same link token.
    Remove,
    /// Hand over host rights: they become host, the one who asks stops being host.
    MakeHost,
    /// Mark them as the interpreter, shown to everyone; and take the mark away.
    MarkInterpreter,
    UnmarkInterpreter,
}

/// The meeting's settings as everyone in it sees them (sent as `state`). The password
/// itself is never part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingSettings {
    pub topic: Option<String>,
    pub description: Option<String>,
    /// Guests knock and wait to be let in while a host is present.
    pub waiting_room: bool,
    /// Nobody new may come in or knock (hosts with a host link still can).
    pub locked: bool,
    pub has_password: bool,
    /// The host's message to those waiting.
    pub waiting_message: Option<String>,
}

/// Someone knocking, as hosts see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitingGuest {
    pub id: ParticipantId,
    pub name: String,
    pub email: Option<String>,
}

/// An e-mail address a participant gave, as hosts (and only hosts) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub id: ParticipantId,
    pub email: String,
}

/// Messages from the relay to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMessage {
    /// Answer to `Join` (or admission): who you are and who is already in the room.
    Welcome {
        version: u32,
        participant_id: ParticipantId,
        room: String,
        /// Whether you are a host.
        host: bool,
        participants: Vec<Participant>,
        state: MeetingSettings,
        /// The room's chat so far that this participant may read.
        chat: Vec<ChatMessage>,
        /// Secret for `resume` after a dropped connection (valid about 20 s after the drop).
        resume: String,
        /// TURN servers the operator runs, with credentials for this participant (empty:
        /// none configured; media goes to the relay directly).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<IceServer>,
    },
    /// Answer to `Resume`: the session continues. What the relay sent meanwhile follows.
    Resumed {
        participant_id: ParticipantId,
        /// The secret for the next resume: each one works once.
        resume: String,
    },
    /// Answer to `Join` when the guest must wait: nothing of the room is shared until a host
    /// admits them (then `Welcome` follows). Sent again when what they see changes.
    Waiting {
        participant_id: ParticipantId,
        room: String,
        /// False while no host is in the room yet.
        host_present: bool,
        topic: Option<String>,
        description: Option<String>,
        message: Option<String>,
    },
    /// To a host who arrives: everyone waiting, in the order they knocked. Changes come as
    /// `Knocked` and `StoppedWaiting`.
    WaitingRoom {
        guests: Vec<WaitingGuest>,
    },
    /// To hosts: someone knocked; they wait last in line.
    Knocked {
        guest: WaitingGuest,
    },
    /// To hosts: someone no longer waits (let in, turned away, gave up or removed).
    StoppedWaiting {
        participant_id: ParticipantId,
    },
    /// To hosts only: the e-mail addresses of those in the room who gave one.
    Contacts {
        contacts: Vec<Contact>,
    },
    /// The meeting's topic, policy or password state changed.
    RoomUpdated {
        state: MeetingSettings,
    },
    /// To the participant a host acted on (mute, camera off, hand lowered): the client
    /// follows, so its own buttons show the truth.
    Moderated {
        action: ModerationAction,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantLeft {
        participant_id: ParticipantId,
    },
    /// The relay stopped (`paused`) or resumed sending this client `participant_id`'s camera
    /// because its link cannot carry even the smallest layer now; audio goes on.
    VideoPaused {
        participant_id: ParticipantId,
        paused: bool,
    },
    /// Someone's microphone, camera, screen share or hand changed (also sent to themselves).
    ParticipantUpdated {
        participant: Participant,
    },
    Chat(ChatMessage),
    /// Everyone's speaking time so far, about once a second while it changes.
    SpeakingStats {
        speakers: Vec<SpeakingTime>,
        /// Who is speaking now (the one who has been speaking longest).
        active: Option<ParticipantId>,
    },
    /// The relay renegotiates (people joined or left); the client answers.
    Offer {
        sdp: String,
        /// Every stream the relay forwards to this client after this offer, and whose it is.
        streams: Vec<ForwardedStream>,
    },
    /// The relay's answer to the client's offer.
    Answer {
        sdp: String,
    },
    /// The relay's answer to a `probe` offer.
    ProbeAnswer {
        sdp: String,
        /// The operator runs a TURN server that admitted participants may use: a network
        /// that the check finds blocked may still work in the call.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        turn: bool,
    },
    /// To hosts: no media path could be made for this participant in time (a network that
    /// blocks it). They were told and have left; `participant_left` came before.
    MediaUnreachable {
        participant_id: ParticipantId,
        name: String,
    },
    /// The link belongs to an appointment that has not begun: it opens a quarter of an hour
    /// before `starts_at_ms` (milliseconds since 1970). Nothing else follows on this
    /// connection.
    AppointmentLater {
        starts_at_ms: u64,
    },
    /// Something the client sent was refused. The connection stays open unless it repeats.
    Error {
        code: ErrorCode,
        message: String,
    },
    Pong,
}

/// A TURN server for the browser's `iceServers`, with short-lived credentials the relay made
/// for one admitted participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: String,
    pub credential: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub id: ParticipantId,
    pub name: String,
    pub media: MediaState,
    /// Set while the hand is raised: lower numbers were raised earlier.
    pub hand: Option<u64>,
    /// Runs the meeting.
    #[serde(default)]
    pub host: bool,
    /// Interprets for the others (marked by a host, or came with an interpreter's link);
    /// sent only when set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interpreter: bool,
    /// How their media connection to the relay is, as the relay measures it; sent only when
    /// not good.
    #[serde(default, skip_serializing_if = "ConnectionQuality::is_good")]
    pub connection: ConnectionQuality,
}

/// What a participant receives of others' cameras.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiveQuality {
    /// The best layer the link carries.
    #[default]
    Auto,
    /// The smallest layer only, to save data.
    Low,
    /// No video at all.
    AudioOnly,
}

impl ReceiveQuality {
    pub const ALL: [ReceiveQuality; 3] = [
        ReceiveQuality::Auto,
        ReceiveQuality::Low,
        ReceiveQuality::AudioOnly,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReceiveQuality::Auto => "auto",
            ReceiveQuality::Low => "low",
            ReceiveQuality::AudioOnly => "audio_only",
        }
    }

    pub fn from_code(code: &str) -> Option<ReceiveQuality> {
        ReceiveQuality::ALL.into_iter().find(|q| q.code() == code)
    }
}

/// The simulcast layers a camera is sent in, by `rid`, smallest first: about 180, 360 and 720
/// lines.
pub const SIMULCAST_RIDS: [&str; 3] = ["l", "m", "h"];

/// The most each of [`SIMULCAST_RIDS`] is sent at, in bits per second: the client caps its
/// encodings so, and the relay takes a layer to need this until it has measured it.
pub const SIMULCAST_MAX_BITRATES: [u64; 3] = [100_000, 500_000, 1_500_000];

/// A participant's media connection as the relay measures it (loss both ways, round trip).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionQuality {
    #[default]
    Good,
    /// Picture and sound may stutter.
    Weak,
    /// Hardly anything gets through.
    Bad,
}

impl ConnectionQuality {
    pub fn is_good(&self) -> bool {
        *self == ConnectionQuality::Good
    }
}

/// A chat message as the relay delivers it: sender, receiver and time are set by the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub id: u64,
    /// Milliseconds since the Unix epoch, by the relay's clock.
    pub time_ms: u64,
    pub from: ParticipantId,
    pub from_name: String,
    /// Set for a private message.
    pub to: Option<ParticipantId>,
    pub to_name: Option<String>,
    pub text: String,
}

/// One participant's speaking time, counted by the relay from the audio level of their
/// packets while their microphone is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeakingTime {
    pub id: ParticipantId,
    pub name: String,
    pub ms: u64,
    /// Still in the room.
    pub present: bool,
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
    /// An e-mail address that does not look like one.
    InvalidEmail,
    /// The SDP or candidate could not be used.
    InvalidSdp,
    /// The media connection failed; the client should rejoin.
    MediaFailed,
    /// No media connection could be made at all (the network blocks it); rejoining from the
    /// same network will not help.
    MediaUnreachable,
    /// The message was larger than [`MAX_MESSAGE_BYTES`] ([`MAX_SDP_MESSAGE_BYTES`] for an
    /// offer or answer); the connection then closes with [`close_code::MESSAGE_TOO_BIG`].
    TooLarge,
    /// Too many messages per second.
    RateLimited,
    /// The room has as many participants as it may.
    RoomFull,
    /// The relay has as many participants as it may.
    ServerFull,
    /// A chat message without text.
    EmptyMessage,
    /// A chat message over the length limit.
    MessageTooLong,
    /// A private message to someone who is not in the room.
    UnknownParticipant,
    /// Only a host may do this.
    NotHost,
    /// Still in the waiting room: nothing of the room until a host admits you.
    NotAdmitted,
    /// The meeting has a password; send it with `join`.
    PasswordRequired,
    WrongPassword,
    /// Too many wrong passwords from this address or for this room; wait and try again.
    TooManyAttempts,
    /// The link's token is forged, expired or for another room.
    InvalidToken,
    /// The host locked the room.
    RoomLocked,
    /// This relay only opens rooms its operator configured.
    UnknownRoom,
    /// A host removed you; the same link does not let you back in.
    Removed,
    /// A host did not let you in.
    Denied,
    /// A host ended the meeting for everyone.
    MeetingEnded,
    /// The relay is busy (checking passwords, or running connection checks); try again in a
    /// moment.
    Busy,
    /// The session to resume is gone (too long away, or the relay restarted): join afresh.
    ResumeFailed,
    Internal,
}

/// WebSocket close codes the relay uses (application range 4000-4999).
pub mod close_code {
    /// Repeated malformed or out-of-order messages.
    pub const PROTOCOL_ABUSE: u16 = 4000;
    /// A message over its size limit (RFC 6455's "message too big"), after `too_large`.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The client's protocol version is not supported.
    pub const UNSUPPORTED_VERSION: u16 = 4001;
    /// The relay is shutting down; the client may reconnect later.
    pub const SHUTTING_DOWN: u16 = 4002;
    /// The media connection died; the client should rejoin.
    pub const MEDIA_FAILED: u16 = 4003;
    /// The room or the relay is full.
    pub const FULL: u16 = 4004;
    /// A host removed this participant.
    pub const REMOVED: u16 = 4005;
    /// A host did not let this guest in.
    pub const DENIED: u16 = 4006;
    /// A host ended the meeting.
    pub const MEETING_ENDED: u16 = 4007;
    /// The room is locked, or its password changed while joining.
    pub const NOT_ALLOWED: u16 = 4008;
    /// The session was resumed on another connection; this one ends.
    pub const TAKEN_OVER: u16 = 4009;
    /// No media connection could be made in time: the network blocks it.
    pub const MEDIA_UNREACHABLE: u16 = 4010;
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
mod tests;
