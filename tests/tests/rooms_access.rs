//! Rooms and access against clients that do not follow the UI: raw WebSocket clients talk to
//! the real relay binary. The waiting room, host rights, removal, tokens and passwords must
//! hold whatever a client sends.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sprechstunde_shared::{
    close_code, ClientMessage, ErrorCode, MediaState, ModerationAction, ParticipantId,
    ServerMessage,
};
use sprechstunde_tests::relay::Relay;
use sprechstunde_tests::ws::{JoinRequest, WsClient};

const ROOM: &str = "beratung-7";
const SHORT: Duration = Duration::from_millis(800);
const WAIT: Duration = Duration::from_secs(5);
/// A known secret, so the test can sign tokens the relay must refuse (expired, other room).
const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";

fn link_token(relay: &Relay, kind: &str, room: &str) -> Result<String> {
    let line = relay.admin(&["room", &format!("{kind}-link"), room])?;
    let (_, token) = line
        .trim()
        .split_once(&format!(
            "#{}=",
            if kind == "host" { "host" } else { "invite" }
        ))
        .with_context(|| format!("no token in {line:?}"))?;
    Ok(token.to_string())
}

/// A token in the relay's `v1` format, signed with `secret`.
fn sign(secret: &str, role: &str, room: &str, expires: u64) -> String {
    let payload = format!("{role}:{room}:{expires}:{}", "5a".repeat(16));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(payload.as_bytes());
    format!(
        "v1.{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

async fn host(relay: &Relay, name: &str) -> Result<WsClient> {
    let token = link_token(relay, "host", ROOM)?;
    let mut client = WsClient::connect(relay, None).await?;
    match client
        .request(&JoinRequest::new(ROOM, name).with_token(&token))
        .await?
    {
        ServerMessage::Welcome { host: true, .. } => Ok(client),
        other => bail!("host not welcomed as host: {other:?}"),
    }
}

/// A host who lets everyone straight in.
async fn host_without_waiting_room(relay: &Relay) -> Result<WsClient> {
    let mut counselor = host(relay, "Beraterin").await?;
    counselor
        .send(&ClientMessage::SetRoomPolicy {
            waiting_room: false,
            locked: false,
        })
        .await?;
    Ok(counselor)
}

/// Knock as a guest and expect the waiting room.
async fn knock(relay: &Relay, request: &JoinRequest) -> Result<WsClient> {
    let mut client = WsClient::connect(relay, None).await?;
    match client.request(request).await? {
        ServerMessage::Waiting { .. } => Ok(client),
        other => bail!("expected the waiting room, got {other:?}"),
    }
}

async fn expect_error(client: &mut WsClient, code: ErrorCode) -> Result<()> {
    match client
        .next_where(WAIT, |m| matches!(m, ServerMessage::Error { .. }))
        .await?
    {
        ServerMessage::Error { code: got, .. } if got == code => Ok(()),
        other => bail!("expected {code:?}, got {other:?}"),
    }
}

async fn waiting_list(client: &mut WsClient) -> Result<Vec<ParticipantId>> {
    match client
        .next_where(WAIT, |m| matches!(m, ServerMessage::WaitingRoom { .. }))
        .await?
    {
        ServerMessage::WaitingRoom { guests } => Ok(guests.iter().map(|g| g.id).collect()),
        _ => unreachable!("filtered above"),
    }
}

/// The next knock a host hears of.
async fn knocked(client: &mut WsClient) -> Result<sprechstunde_shared::WaitingGuest> {
    match client
        .next_where(WAIT, |m| matches!(m, ServerMessage::Knocked { .. }))
        .await?
    {
        ServerMessage::Knocked { guest } => Ok(guest),
        _ => unreachable!("filtered above"),
    }
}

async fn moderate(
    host: &mut WsClient,
    target: ParticipantId,
    action: ModerationAction,
) -> Result<()> {
    host.send(&ClientMessage::Moderate {
        participant: target,
        action,
    })
    .await
}

#[tokio::test]
async fn a_waiting_guest_gets_nothing_of_the_room_until_admitted() -> Result<()> {
    let relay = Relay::start()?;
    let mut counselor = host(&relay, "Frau Berger").await?;
    let mut interpreter = {
        let token = link_token(&relay, "invite", ROOM)?;
        let mut client = WsClient::connect(&relay, None).await?;
        match client
            .request(&JoinRequest::new(ROOM, "Herr Dolmetsch").with_token(&token))
            .await?
        {
            ServerMessage::Welcome { .. } => client,
            other => bail!("an invitation lets in without knocking: {other:?}"),
        }
    };
    counselor
        .send(&ClientMessage::Chat {
            text: "vertraulicher-chat-1f3a".into(),
            to: None,
        })
        .await?;
    interpreter.next_chat().await?;

    let mut guest = knock(&relay, &JoinRequest::new(ROOM, "Familie Yilmaz")).await?;
    ensure!(
        knocked(&mut counselor).await?.id == guest.id,
        "the host sees who knocks"
    );
    // What a client that ignores the UI might try while waiting.
    for attempt in [
        ClientMessage::Chat {
            text: "hallo".into(),
            to: None,
        },
        ClientMessage::Chat {
            text: "privat".into(),
            to: Some(counselor.id),
        },
        ClientMessage::Offer {
            sdp: "v=0\r\n".into(),
        },
        ClientMessage::SetMedia(MediaState::default()),
        ClientMessage::SetHand { raised: true },
        ClientMessage::ReceiveQuality {
            quality: sprechstunde_shared::ReceiveQuality::Auto,
        },
        ClientMessage::Candidate {
            candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host".into(),
        },
    ] {
        guest.send(&attempt).await?;
        expect_error(&mut guest, ErrorCode::NotAdmitted).await?;
    }
    counselor
        .send(&ClientMessage::Chat {
            text: "vertraulicher-chat-2b7c".into(),
            to: None,
        })
        .await?;
    guest.drain(SHORT).await;
    for secret in [
        "vertraulicher-chat",
        "Frau Berger",
        "Herr Dolmetsch",
        "participant_joined",
        "speaking_stats",
    ] {
        ensure!(
            !guest.transcript.iter().any(|m| m.contains(secret)),
            "a waiting guest received {secret:?}: {:?}",
            guest.transcript
        );
    }
    let others_before = interpreter.drain(SHORT).await;
    ensure!(
        !others_before
            .iter()
            .any(|m| matches!(m, ServerMessage::ParticipantJoined { .. })),
        "the others learn nothing of a guest still waiting"
    );

    moderate(&mut counselor, guest.id, ModerationAction::Admit).await?;
    guest.admitted(WAIT).await?;
    ensure!(
        guest.others.len() == 2,
        "admitted: sees both: {:?}",
        guest.others
    );
    ensure!(
        guest.chat.is_empty(),
        "admitted: reads nothing written before they came in (it may be another family's): {:?}",
        guest.chat
    );
    ensure!(
        guest
            .others
            .iter()
            .any(|p| p.host && p.name == "Frau Berger"),
        "guests see who the host is"
    );
    interpreter
        .next_where(WAIT, |m| matches!(m, ServerMessage::ParticipantJoined { participant } if participant.name == "Familie Yilmaz"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn guests_cannot_do_what_hosts_do() -> Result<()> {
    let relay = Relay::start()?;
    let mut counselor = host_without_waiting_room(&relay).await?;
    let mut guest = WsClient::join(&relay, ROOM, "Gast").await?;
    let mut other = WsClient::join(&relay, ROOM, "Zweiter Gast").await?;
    for attempt in [
        ClientMessage::SetRoomInfo {
            topic: Some("gekapert".into()),
            description: None,
        },
        ClientMessage::SetRoomPolicy {
            waiting_room: false,
            locked: true,
        },
        ClientMessage::SetPassword {
            password: Some("ausgesperrt".into()),
        },
        ClientMessage::SetWaitingMessage {
            text: Some("weg".into()),
        },
        ClientMessage::Moderate {
            participant: other.id,
            action: ModerationAction::Remove,
        },
        ClientMessage::Moderate {
            participant: counselor.id,
            action: ModerationAction::Mute,
        },
        ClientMessage::Moderate {
            participant: guest.id,
            action: ModerationAction::MakeHost,
        },
        ClientMessage::EndMeeting,
    ] {
        guest.send(&attempt).await?;
        expect_error(&mut guest, ErrorCode::NotHost).await?;
    }
    let seen = other.drain(SHORT).await;
    ensure!(
        !seen.iter().any(|m| matches!(
            m,
            ServerMessage::RoomUpdated { .. }
                | ServerMessage::Moderated { .. }
                | ServerMessage::Error { .. }
        )),
        "nothing a guest tried reached anyone: {seen:?}"
    );
    // The room is still open, without a password: a newcomer walks in.
    WsClient::join(&relay, ROOM, "Dritter Gast").await?;

    // Host rights handed over: the new host may, the old one no longer.
    moderate(&mut counselor, guest.id, ModerationAction::MakeHost).await?;
    guest
        .next_where(
            WAIT,
            |m| matches!(m, ServerMessage::ParticipantUpdated { participant } if participant.host),
        )
        .await?;
    counselor
        .send(&ClientMessage::SetRoomInfo {
            topic: Some("alt".into()),
            description: None,
        })
        .await?;
    expect_error(&mut counselor, ErrorCode::NotHost).await?;
    guest
        .send(&ClientMessage::SetRoomInfo {
            topic: Some("Schulwechsel".into()),
            description: None,
        })
        .await?;
    match other
        .next_where(WAIT, |m| matches!(m, ServerMessage::RoomUpdated { .. }))
        .await?
    {
        ServerMessage::RoomUpdated { state } => {
            ensure!(state.topic.as_deref() == Some("Schulwechsel"))
        }
        _ => unreachable!(),
    }
    Ok(())
}

#[tokio::test]
async fn a_removed_participant_cannot_come_back_with_the_same_link() -> Result<()> {
    let relay = Relay::start()?;
    let mut counselor = host(&relay, "Beraterin").await?;
    let invitation = link_token(&relay, "invite", ROOM)?;
    let request = JoinRequest::new(ROOM, "Störer").with_token(&invitation);
    let mut intruder = WsClient::connect(&relay, None).await?;
    ensure!(matches!(
        intruder.request(&request).await?,
        ServerMessage::Welcome { .. }
    ));
    let mut witness = WsClient::connect(&relay, None).await?;
    witness
        .request(&JoinRequest::new(ROOM, "Zeuge").with_token(&invitation))
        .await?;

    // Back to the waiting room and in again first: the link is still theirs.
    moderate(
        &mut counselor,
        intruder.id,
        ModerationAction::SendToWaitingRoom,
    )
    .await?;
    intruder
        .next_where(WAIT, |m| matches!(m, ServerMessage::Waiting { .. }))
        .await?;
    moderate(&mut counselor, intruder.id, ModerationAction::Admit).await?;
    intruder.admitted(WAIT).await?;
    moderate(&mut counselor, intruder.id, ModerationAction::Remove).await?;
    expect_error(&mut intruder, ErrorCode::Removed).await?;
    ensure!(intruder.closed_with(WAIT).await? == Some(close_code::REMOVED));
    let removed = intruder.id;
    witness
        .next_where(WAIT, |m| matches!(m, ServerMessage::ParticipantLeft { participant_id } if *participant_id == removed))
        .await?;

    let mut again = WsClient::connect(&relay, None).await?;
    match again.request(&request).await? {
        ServerMessage::Error {
            code: ErrorCode::Removed,
            ..
        } => {}
        other => bail!("the same invitation let a removed participant back: {other:?}"),
    }
    ensure!(again.closed_with(WAIT).await? == Some(close_code::REMOVED));
    Ok(())
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() -> Result<()> {
    let relay = Relay::start_with(&["--token-secret", SECRET])?;
    let later = unix_now() + 3600;
    let valid = sign(SECRET, "host", ROOM, later);
    let mut forged_signature = valid.clone();
    forged_signature.pop();
    forged_signature.push(if valid.ends_with('A') { 'B' } else { 'A' });
    let refused = [
        (
            "signed with another secret",
            sign("another-secret-0123456789-abcdefghijk", "host", ROOM, later),
        ),
        ("signature altered", forged_signature),
        (
            "expired a minute ago",
            sign(SECRET, "host", ROOM, unix_now() - 60),
        ),
        (
            "for another room",
            sign(SECRET, "host", "andere-beratung", later),
        ),
        ("unknown role", sign(SECRET, "admin", ROOM, later)),
        ("not a token", "v1.x.y".to_string()),
        ("too long", format!("v1.{}.x", "A".repeat(400))),
    ];
    for (what, token) in refused {
        let mut client = WsClient::connect(&relay, None).await?;
        match client
            .request(&JoinRequest::new(ROOM, "Fälscher").with_token(&token))
            .await?
        {
            ServerMessage::Error {
                code: ErrorCode::InvalidToken,
                ..
            } => {}
            other => bail!("token {what} was not refused: {other:?}"),
        }
    }
    // The control: a token made the same way with the right secret makes a host.
    let mut real = WsClient::connect(&relay, None).await?;
    ensure!(matches!(
        real.request(&JoinRequest::new(ROOM, "Beraterin").with_token(&valid))
            .await?,
        ServerMessage::Welcome { host: true, .. }
    ));
    ensure!(
        !relay.log().contains(&valid[10..40]),
        "a token reached the relay's log"
    );
    let events = relay.admin(&["log", "export", "--ip", "127.0.0.1"])?;
    ensure!(
        events.matches("sign_in_failed").count() >= 7,
        "failed sign-ins are logged: {events}"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_passwords_are_limited_per_address_while_another_address_gets_in() -> Result<()> {
    const PASSWORD: &str = "Sonnenblume-4711";
    let relay = Relay::start()?;
    let mut counselor = host_without_waiting_room(&relay).await?;
    let mut early = WsClient::join(&relay, ROOM, "Früh da").await?;
    counselor
        .send(&ClientMessage::SetPassword {
            password: Some(PASSWORD.into()),
        })
        .await?;
    match early
        .next_where(WAIT, |m| matches!(m, ServerMessage::RoomUpdated { .. }))
        .await?
    {
        ServerMessage::RoomUpdated { state } => ensure!(state.has_password),
        _ => unreachable!(),
    }

    let guesser: IpAddr = "127.0.0.2".parse()?;
    let mut answers = Vec::new();
    let mut transcripts = Vec::new();
    for attempt in 0..20 {
        let mut client = WsClient::connect(&relay, Some(guesser)).await?;
        let answer = client
            .request(&JoinRequest::new(ROOM, "Rater").with_password(&format!("falsch-{attempt}")))
            .await?;
        answers.push(match answer {
            ServerMessage::Error { code, .. } => code,
            other => bail!("a wrong password got {other:?}"),
        });
        transcripts.extend(client.transcript);
    }
    ensure!(
        answers[..5].iter().all(|c| *c == ErrorCode::WrongPassword),
        "{answers:?}"
    );
    ensure!(
        answers[5..]
            .iter()
            .all(|c| *c == ErrorCode::TooManyAttempts),
        "after 5 wrong passwords the address is limited: {answers:?}"
    );
    let mut limited = WsClient::connect(&relay, Some(guesser)).await?;
    ensure!(matches!(
        limited
            .request(&JoinRequest::new(ROOM, "Rater").with_password(PASSWORD))
            .await?,
        ServerMessage::Error {
            code: ErrorCode::TooManyAttempts,
            ..
        }
    ));

    let mut no_password = WsClient::connect(&relay, Some("127.0.0.3".parse()?)).await?;
    ensure!(matches!(
        no_password.request(&JoinRequest::new(ROOM, "Ohne")).await?,
        ServerMessage::Error {
            code: ErrorCode::PasswordRequired,
            ..
        }
    ));
    let mut family = WsClient::connect(&relay, Some("127.0.0.4".parse()?)).await?;
    match family
        .request(&JoinRequest::new(ROOM, "Familie").with_password(PASSWORD))
        .await?
    {
        ServerMessage::Welcome { state, .. } => ensure!(state.has_password),
        other => bail!("the right password from another address: {other:?}"),
    }
    family.drain(SHORT).await;
    counselor.drain(SHORT).await;
    early.drain(SHORT).await;

    // Nobody's traffic ever carried the password, nor any file of the relay.
    for transcript in [
        &counselor.transcript,
        &early.transcript,
        &family.transcript,
        &no_password.transcript,
        &limited.transcript,
        &transcripts,
    ] {
        ensure!(
            !transcript
                .iter()
                .any(|m| m.contains(PASSWORD) || m.contains("Sonnenblume")),
            "the password was sent to a client"
        );
    }
    ensure!(relay.files_containing(PASSWORD)?.is_empty());
    ensure!(!relay.log().contains(PASSWORD));
    let failures = relay.admin(&["log", "export", "--ip", "127.0.0.2"])?;
    ensure!(
        failures.contains("wrong password") && failures.contains("too many password attempts"),
        "{failures}"
    );
    Ok(())
}

#[tokio::test]
async fn hosts_moderate_and_end_the_meeting() -> Result<()> {
    let relay = Relay::start_with(&["--guests-wait-for-host", "true"])?;
    // No host yet: the guest waits for one.
    let mut guest = knock(&relay, &JoinRequest::new(ROOM, "Familie Nowak")).await?;
    ensure!(guest
        .transcript
        .iter()
        .any(|m| m.contains(r#""host_present":false"#)));
    let mut counselor = host(&relay, "Beraterin").await?;
    ensure!(waiting_list(&mut counselor).await? == vec![guest.id]);
    guest
        .next_where(WAIT, |m| {
            matches!(
                m,
                ServerMessage::Waiting {
                    host_present: true,
                    ..
                }
            )
        })
        .await?;
    counselor
        .send(&ClientMessage::SetWaitingMessage {
            text: Some("Noch 2 Minuten".into()),
        })
        .await?;
    guest
        .next_where(WAIT, |m| matches!(m, ServerMessage::Waiting { message: Some(text), .. } if text == "Noch 2 Minuten"))
        .await?;
    moderate(&mut counselor, guest.id, ModerationAction::Admit).await?;
    guest.admitted(WAIT).await?;

    // Mute and camera off: the guest is told, everyone sees it.
    guest.send(&ClientMessage::SetHand { raised: true }).await?;
    moderate(&mut counselor, guest.id, ModerationAction::Mute).await?;
    guest
        .next_where(WAIT, |m| {
            matches!(
                m,
                ServerMessage::Moderated {
                    action: ModerationAction::Mute
                }
            )
        })
        .await?;
    moderate(&mut counselor, guest.id, ModerationAction::StopCamera).await?;
    moderate(&mut counselor, guest.id, ModerationAction::LowerHand).await?;
    let guest_id = guest.id;
    counselor
        .next_where(WAIT, |m| matches!(m, ServerMessage::ParticipantUpdated { participant }
            if participant.id == guest_id && !participant.media.mic && !participant.media.camera && participant.hand.is_none()))
        .await?;
    // Unmuting is theirs to do.
    guest
        .send(&ClientMessage::SetMedia(MediaState {
            mic: true,
            camera: false,
            screen: false,
        }))
        .await?;
    counselor
        .next_where(WAIT, |m| {
            matches!(m, ServerMessage::ParticipantUpdated { participant }
            if participant.id == guest_id && participant.media.mic)
        })
        .await?;

    // Back to the waiting room: out of the room for everyone, nothing more of it.
    moderate(
        &mut counselor,
        guest.id,
        ModerationAction::SendToWaitingRoom,
    )
    .await?;
    guest
        .next_where(WAIT, |m| matches!(m, ServerMessage::Waiting { .. }))
        .await?;
    counselor
        .next_where(WAIT, |m| matches!(m, ServerMessage::ParticipantLeft { participant_id } if *participant_id == guest_id))
        .await?;
    guest
        .send(&ClientMessage::Chat {
            text: "darf ich?".into(),
            to: None,
        })
        .await?;
    expect_error(&mut guest, ErrorCode::NotAdmitted).await?;

    // Locked: nobody new, not even to knock.
    counselor
        .send(&ClientMessage::SetRoomPolicy {
            waiting_room: true,
            locked: true,
        })
        .await?;
    counselor
        .next_where(
            WAIT,
            |m| matches!(m, ServerMessage::RoomUpdated { state } if state.locked),
        )
        .await?;
    let mut late = WsClient::connect(&relay, None).await?;
    ensure!(matches!(
        late.request(&JoinRequest::new(ROOM, "Zu spät")).await?,
        ServerMessage::Error {
            code: ErrorCode::RoomLocked,
            ..
        }
    ));

    // The end: everyone, waiting or not, is told and disconnected.
    counselor.send(&ClientMessage::EndMeeting).await?;
    expect_error(&mut guest, ErrorCode::MeetingEnded).await?;
    ensure!(guest.closed_with(WAIT).await? == Some(close_code::MEETING_ENDED));
    ensure!(counselor.closed_with(WAIT).await? == Some(close_code::MEETING_ENDED));
    // A new meeting in the same room starts clean: unlocked, no message.
    let mut next = host(&relay, "Beraterin").await?;
    next.drain(SHORT).await;
    ensure!(!next.transcript.iter().any(|m| m.contains("Noch 2 Minuten")));
    Ok(())
}

/// Rows of every table of the relay's database, as text.
fn database_dump(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    let connection = rusqlite::Connection::open(path)?;
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for table in tables {
        let mut statement = connection.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns = statement.column_count();
        let mut query = statement.query([])?;
        while let Some(row) = query.next()? {
            let mut text = Vec::new();
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i)?;
                text.push(format!("{value:?}"));
            }
            rows.push((table.clone(), text.join("|")));
        }
    }
    Ok(rows)
}

#[tokio::test]
async fn only_the_room_name_outlives_the_meeting() -> Result<()> {
    const MARKERS: [&str; 5] = [
        "Thema-Marker-8e1",
        "Beschreibung-Marker-8e2",
        "Passwort-Marker-8e3",
        "Chat-Marker-8e4",
        "Name-Marker-8e5",
    ];
    let mut relay = Relay::start_with(&["--open-rooms", "false"])?;
    let mut stranger = WsClient::connect(&relay, None).await?;
    ensure!(matches!(
        stranger
            .request(&JoinRequest::new("nicht-angelegt", "Gast"))
            .await?,
        ServerMessage::Error {
            code: ErrorCode::UnknownRoom,
            ..
        }
    ));
    relay.admin(&["room", "add", ROOM])?;
    ensure!(relay.admin(&["room", "list"])?.trim() == ROOM);

    let mut counselor = host(&relay, MARKERS[4]).await?;
    counselor
        .send(&ClientMessage::SetRoomInfo {
            topic: Some(MARKERS[0].into()),
            description: Some(MARKERS[1].into()),
        })
        .await?;
    counselor
        .send(&ClientMessage::SetWaitingMessage {
            text: Some(MARKERS[1].into()),
        })
        .await?;
    counselor
        .send(&ClientMessage::SetPassword {
            password: Some(MARKERS[2].into()),
        })
        .await?;
    counselor
        .next_where(
            WAIT,
            |m| matches!(m, ServerMessage::RoomUpdated { state } if state.has_password),
        )
        .await?;
    let mut guest = knock(
        &relay,
        &JoinRequest::new(ROOM, MARKERS[4]).with_password(MARKERS[2]),
    )
    .await?;
    moderate(&mut counselor, guest.id, ModerationAction::Admit).await?;
    guest.admitted(WAIT).await?;
    ensure!(guest.topic.as_deref() == Some(MARKERS[0]));
    guest
        .send(&ClientMessage::Chat {
            text: MARKERS[3].into(),
            to: None,
        })
        .await?;
    counselor.next_chat().await?;
    counselor.send(&ClientMessage::EndMeeting).await?;
    ensure!(counselor.closed_with(WAIT).await? == Some(close_code::MEETING_ENDED));

    relay.restart()?;
    let rows = database_dump(&relay.data_dir.join("sprechstunde.sqlite3"))?;
    let rooms: Vec<&String> = rows
        .iter()
        .filter(|(table, _)| table == "rooms")
        .map(|(_, row)| row)
        .collect();
    ensure!(
        rooms.len() == 1 && rooms[0].contains(ROOM),
        "the rooms table holds the room's name only: {rooms:?}"
    );
    for marker in MARKERS {
        ensure!(
            !rows.iter().any(|(_, row)| row.contains(marker)),
            "{marker} is in the database"
        );
        ensure!(
            relay.files_containing(marker)?.is_empty(),
            "{marker} is in a file of the data directory"
        );
    }
    // The meeting's settings ended with it: no password, no topic.
    let mut after = WsClient::connect(&relay, None).await?;
    match after.request(&JoinRequest::new(ROOM, "Danach")).await? {
        ServerMessage::Welcome { state, .. } => {
            ensure!(!state.has_password && state.topic.is_none(), "{state:?}")
        }
        other => bail!("after the restart: {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn an_email_address_reaches_hosts_and_nobody_else() -> Result<()> {
    const EMAIL: &str = "familie.oez@example.org";
    let relay = Relay::start()?;
    let mut counselor = host(&relay, "Beraterin").await?;
    let invitation = link_token(&relay, "invite", ROOM)?;
    let mut interpreter = WsClient::connect(&relay, None).await?;
    interpreter
        .request(&JoinRequest::new(ROOM, "Dolmetscher").with_token(&invitation))
        .await?;

    let mut bad = WsClient::connect(&relay, None).await?;
    ensure!(matches!(
        bad.request(&JoinRequest::new(ROOM, "Familie").with_email("keine adresse"))
            .await?,
        ServerMessage::Error {
            code: ErrorCode::InvalidEmail,
            ..
        }
    ));

    let mut family = knock(
        &relay,
        &JoinRequest::new(ROOM, "Familie Öz").with_email(EMAIL),
    )
    .await?;
    ensure!(knocked(&mut counselor).await?.email.as_deref() == Some(EMAIL));
    moderate(&mut counselor, family.id, ModerationAction::Admit).await?;
    family.admitted(WAIT).await?;
    match counselor
        .next_where(WAIT, |m| matches!(m, ServerMessage::Contacts { .. }))
        .await?
    {
        ServerMessage::Contacts { contacts } => {
            ensure!(contacts
                .iter()
                .any(|c| c.id == family.id && c.email == EMAIL))
        }
        _ => unreachable!(),
    }
    family
        .send(&ClientMessage::Chat {
            text: "Hallo".into(),
            to: None,
        })
        .await?;
    interpreter.next_chat().await?;
    interpreter.drain(SHORT).await;
    ensure!(
        !interpreter.transcript.iter().any(|m| m.contains(EMAIL)),
        "a non-host received the e-mail address"
    );
    ensure!(relay.files_containing(EMAIL)?.is_empty());
    Ok(())
}
