use super::*;

fn client_samples() -> Vec<ClientMessage> {
    vec![
        ClientMessage::Join {
            version: PROTOCOL_VERSION,
            room: "beratung-1".into(),
            name: "Ayşe Yılmaz".into(),
            email: Some("ayse@example.de".into()),
            media: MediaState::default(),
            token: Some("v1.abc.def".into()),
            password: Some("geheim".into()),
        },
        ClientMessage::SetRoomInfo {
            topic: Some("Schulwahl".into()),
            description: None,
        },
        ClientMessage::SetRoomPolicy {
            waiting_room: true,
            locked: false,
        },
        ClientMessage::SetPassword { password: None },
        ClientMessage::SetWaitingMessage {
            text: Some("Einen Moment bitte".into()),
        },
        ClientMessage::Moderate {
            participant: ParticipantId(4),
            action: ModerationAction::SendToWaitingRoom,
        },
        ClientMessage::EndMeeting,
        ClientMessage::Resume {
            version: PROTOCOL_VERSION,
            token: "3f9a".into(),
        },
        ClientMessage::IceRestart,
        ClientMessage::SetMedia(MediaState {
            mic: false,
            camera: true,
            screen: true,
        }),
        ClientMessage::Chat {
            text: "<b>hi</b>".into(),
            to: Some(ParticipantId(2)),
        },
        ClientMessage::Chat {
            text: "alle".into(),
            to: None,
        },
        ClientMessage::SetHand { raised: true },
        ClientMessage::ReceiveQuality {
            quality: ReceiveQuality::Low,
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
        media: MediaState::default(),
        hand: Some(1),
        host: true,
        interpreter: true,
        connection: ConnectionQuality::Weak,
    };
    let chat = ChatMessage {
        id: 1,
        time_ms: 1_790_000_000_000,
        from: ParticipantId(7),
        from_name: "Berater".into(),
        to: None,
        to_name: None,
        text: "Willkommen".into(),
    };
    vec![
        ServerMessage::Welcome {
            version: PROTOCOL_VERSION,
            participant_id: ParticipantId(3),
            room: "beratung-1".into(),
            host: false,
            participants: vec![participant.clone()],
            state: MeetingSettings {
                topic: Some("Schulwahl".into()),
                waiting_room: true,
                ..MeetingSettings::default()
            },
            chat: vec![chat.clone()],
            resume: "3f9a".into(),
            ice_servers: Vec::new(),
        },
        ServerMessage::Welcome {
            version: PROTOCOL_VERSION,
            participant_id: ParticipantId(4),
            room: "beratung-1".into(),
            host: false,
            participants: Vec::new(),
            state: MeetingSettings::default(),
            chat: Vec::new(),
            resume: "3f9b".into(),
            ice_servers: vec![IceServer {
                urls: vec!["turn:turn.example.org:3478?transport=tcp".into()],
                username: "1700003600:4".into(),
                credential: "6H8aOFgX3Swa+NL0VcU4cgzmYfU=".into(),
            }],
        },
        ServerMessage::ProbeAnswer {
            sdp: "v=0".into(),
            turn: true,
        },
        ServerMessage::MediaUnreachable {
            participant_id: ParticipantId(4),
            name: "Ben".into(),
        },
        ServerMessage::AppointmentLater {
            starts_at_ms: 1_700_000_000_000,
        },
        ServerMessage::Resumed {
            participant_id: ParticipantId(3),
            resume: "77c1".into(),
        },
        ServerMessage::Waiting {
            participant_id: ParticipantId(3),
            room: "beratung-1".into(),
            host_present: true,
            topic: None,
            description: None,
            message: Some("Gleich geht es los".into()),
        },
        ServerMessage::WaitingRoom {
            guests: vec![WaitingGuest {
                id: ParticipantId(3),
                name: "Familie Öz".into(),
                email: None,
            }],
        },
        ServerMessage::Contacts {
            contacts: vec![Contact {
                id: ParticipantId(3),
                email: "oez@example.de".into(),
            }],
        },
        ServerMessage::RoomUpdated {
            state: MeetingSettings::default(),
        },
        ServerMessage::Moderated {
            action: ModerationAction::Mute,
        },
        ServerMessage::ParticipantJoined {
            participant: participant.clone(),
        },
        ServerMessage::ParticipantUpdated { participant },
        ServerMessage::Chat(chat),
        ServerMessage::SpeakingStats {
            speakers: vec![SpeakingTime {
                id: ParticipantId(7),
                name: "Berater".into(),
                ms: 1200,
                present: true,
            }],
            active: Some(ParticipantId(7)),
        },
        ServerMessage::ParticipantLeft {
            participant_id: ParticipantId(7),
        },
        ServerMessage::Offer {
            sdp: "v=0\r\n".into(),
            streams: vec![ForwardedStream {
                stream: "m0".into(),
                participant_id: ParticipantId(7),
                source: TrackSource::Camera,
            }],
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
        email: None,
        media: MediaState::default(),
        token: None,
        password: None,
    }
    .to_json();
    assert_eq!(
        json,
        r#"{"join":{"version":1,"room":"a","name":"b","media":{"mic":true,"camera":true,"screen":false}}}"#
    );
    // Older clients leave out the media state: microphone and camera on.
    assert_eq!(
        ClientMessage::from_json(r#"{"join":{"version":1,"room":"a","name":"b"}}"#).ok(),
        Some(ClientMessage::Join {
            version: 1,
            room: "a".into(),
            name: "b".into(),
            email: None,
            media: MediaState::default(),
            token: None,
            password: None,
        })
    );
}

#[test]
fn a_chat_sender_or_a_hand_for_someone_else_cannot_be_given() {
    for forged in [
        r#"{"chat":{"text":"x","from":"p1"}}"#,
        r#"{"chat":{"text":"x","from_name":"Berater"}}"#,
        r#"{"set_hand":{"raised":true,"id":2}}"#,
        r#"{"set_media":{"mic":false,"camera":false,"screen":false,"id":2}}"#,
    ] {
        assert!(
            ClientMessage::from_json(forged).is_err(),
            "accepted: {forged}"
        );
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let err = ClientMessage::from_json(r#"{"offer":{"sdp":"x","sender":"p1"}}"#);
    assert!(err.is_err(), "a forged sender field must not be accepted");
    assert!(ServerMessage::from_json(r#"{"pong":null,"extra":1}"#).is_err());
    assert!(ServerMessage::from_json(r#"{"pong":{"extra":1}}"#).is_err());
}

#[test]
fn unknown_types_wrong_types_and_duplicates_are_rejected() {
    for bad in [
        r#""explode""#,
        r#"{"explode":{}}"#,
        r#"{"join":{"version":"1","room":"a","name":"b"}}"#,
        r#"{"join":{"version":1,"room":5,"name":"b"}}"#,
        r#"{"join":{"version":1,"room":"a"}}"#,
        r#"{"offer":{"sdp":"a","sdp":"b"}}"#,
        r#"{"offer":{"sdp":"a"},"answer":{"sdp":"a"}}"#,
        r#"{"ping":{"x":1}}"#,
        r#"{"ping":null,"sender":"p1"}"#,
        r#"{"data":{"sdp":"a"}}"#,
        r#"{}"#,
        // Version 2's form.
        r#"{"type":"offer","data":{"sdp":"a"}}"#,
        r#"{"type":"ping"}"#,
        r#"[1,2,3]"#,
        "not json",
        "",
    ] {
        assert!(ClientMessage::from_json(bad).is_err(), "accepted: {bad}");
    }
}

#[test]
fn a_message_without_fields_is_its_name() {
    assert_eq!(ClientMessage::Ping.to_json(), r#""ping""#);
    assert_eq!(ServerMessage::Pong.to_json(), r#""pong""#);
    assert_eq!(
        ClientMessage::from_json(r#""leave""#).ok(),
        Some(ClientMessage::Leave)
    );
}
