//! Bad input on `/ws` against the real relay: every malformed, unknown or out-of-order
//! message gets an error naming the problem, repeated abuse closes the connection with a
//! close code, and a participant in the room notices nothing.

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use sprechstunde_shared::{
    close_code, ClientMessage, ErrorCode, MediaState, ServerMessage, PROTOCOL_VERSION,
};
use sprechstunde_tests::raw_ws::{connect, expect_error, join, next, next_if_closed, send_raw};
use sprechstunde_tests::relay::Relay;

#[tokio::test]
async fn bad_messages_get_errors_that_name_the_problem() -> Result<()> {
    let relay = Relay::start()?;
    let mut socket = connect(&relay).await?;

    send_raw(&mut socket, "{not json").await?;
    let message = expect_error(&mut socket, ErrorCode::Malformed).await?;
    ensure!(message.contains("malformed"), "{message}");

    send_raw(&mut socket, r#"{"offer":{"sdp":"v=0"}}"#).await?;
    let message = expect_error(&mut socket, ErrorCode::OutOfOrder).await?;
    ensure!(message.contains("join first"), "{message}");

    send_raw(
        &mut socket,
        r#"{"join":{"version":1,"room":"r","name":"n","admin":true}}"#,
    )
    .await?;
    let message = expect_error(&mut socket, ErrorCode::Malformed).await?;
    ensure!(
        message.contains("admin"),
        "the error should name the unknown field: {message}"
    );

    send_raw(&mut socket, &join("../etc", "Eve")).await?;
    expect_error(&mut socket, ErrorCode::InvalidRoomName).await?;

    // Four strikes so far; a ping is not one, the connection is still open.
    send_raw(&mut socket, &ClientMessage::Ping.to_json()).await?;
    ensure!(matches!(next(&mut socket).await?, Ok(ServerMessage::Pong)));

    send_raw(&mut socket, r#"{"explode":{}}"#).await?;
    expect_error(&mut socket, ErrorCode::Malformed).await?;
    match next(&mut socket).await? {
        Err(Some(code)) => ensure!(code == close_code::PROTOCOL_ABUSE, "closed with {code}"),
        other => bail!("expected a close for abuse, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_protocol_version_is_refused_and_closed() -> Result<()> {
    let relay = Relay::start()?;
    let mut socket = connect(&relay).await?;
    let join = ClientMessage::Join {
        version: PROTOCOL_VERSION + 1,
        room: "r".into(),
        name: "n".into(),
        email: None,
        media: MediaState::default(),
        token: None,
        password: None,
    };
    send_raw(&mut socket, &join.to_json()).await?;
    expect_error(&mut socket, ErrorCode::UnsupportedVersion).await?;
    match next(&mut socket).await? {
        Err(Some(code)) => ensure!(code == close_code::UNSUPPORTED_VERSION),
        other => bail!("expected a close, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn abuse_has_no_effect_on_others_in_the_room() -> Result<()> {
    let relay = Relay::start()?;
    let mut calm = connect(&relay).await?;
    send_raw(&mut calm, &join("ruhig", "Ruth")).await?;
    ensure!(matches!(
        next(&mut calm).await?,
        Ok(ServerMessage::Welcome { .. })
    ));

    let mut rowdy = connect(&relay).await?;
    send_raw(&mut rowdy, &join("ruhig", "Rudi")).await?;
    ensure!(matches!(
        next(&mut rowdy).await?,
        Ok(ServerMessage::Welcome { .. })
    ));
    let rudi = match next(&mut calm).await? {
        Ok(ServerMessage::ParticipantJoined { participant }) => participant.id,
        other => bail!("expected Rudi to join, got {other:?}"),
    };

    // Garbage SDP, answers nobody asked for, a second join, then junk until closed.
    send_raw(
        &mut rowdy,
        &ClientMessage::Offer {
            sdp: "garbage".into(),
        }
        .to_json(),
    )
    .await?;
    expect_error(&mut rowdy, ErrorCode::InvalidSdp).await?;
    send_raw(
        &mut rowdy,
        &ClientMessage::Answer { sdp: "v=0".into() }.to_json(),
    )
    .await?;
    expect_error(&mut rowdy, ErrorCode::OutOfOrder).await?;
    send_raw(&mut rowdy, &join("ruhig", "Rudi")).await?;
    expect_error(&mut rowdy, ErrorCode::OutOfOrder).await?;
    // One at a time, each answered: the relay must close cleanly, not reset a busy sender.
    let closed = loop {
        send_raw(&mut rowdy, "\u{0}\u{1}").await?;
        match next(&mut rowdy).await? {
            Ok(ServerMessage::Error { .. }) => match next_if_closed(&mut rowdy).await? {
                Some(code) => break code,
                None => continue,
            },
            other => bail!("unexpected {other:?}"),
        }
    };
    ensure!(
        closed == Some(close_code::PROTOCOL_ABUSE),
        "closed with {closed:?}"
    );

    // Ruth saw only Rudi leave, and her connection works as before.
    match next(&mut calm).await? {
        Ok(ServerMessage::ParticipantLeft { participant_id }) => ensure!(participant_id == rudi),
        other => bail!("expected Rudi to leave, got {other:?}"),
    }
    send_raw(&mut calm, &ClientMessage::Ping.to_json()).await?;
    ensure!(matches!(next(&mut calm).await?, Ok(ServerMessage::Pong)));
    ensure!(relay.metric("participants")? == 1.0);
    ensure!(!relay.log().contains("panicked"));
    Ok(())
}

#[tokio::test]
async fn the_relay_serves_the_app_and_health() -> Result<()> {
    let relay = Relay::start()?;
    let (status, body) = relay.get("/healthz")?;
    ensure!(status == 200 && body == "ok");
    let (status, page) = relay.get("/r/Beratung-1")?;
    ensure!(
        status == 200 && page.contains("<html"),
        "room page: {status}"
    );
    let (status, _) = relay.get("/does/not/exist")?;
    ensure!(status == 404);
    Ok(())
}

#[tokio::test]
async fn sigterm_tells_clients_before_the_relay_stops() -> Result<()> {
    let mut relay = Relay::start()?;
    let mut socket = connect(&relay).await?;
    send_raw(&mut socket, &join("abschied", "Ada")).await?;
    ensure!(matches!(
        next(&mut socket).await?,
        Ok(ServerMessage::Welcome { .. })
    ));

    let waiter = tokio::task::spawn_blocking(move || {
        let stopped = relay.terminate(Duration::from_secs(5));
        (relay, stopped)
    });
    let closed = loop {
        match next(&mut socket).await? {
            Ok(_) => continue,
            Err(code) => break code,
        }
    };
    ensure!(
        closed == Some(close_code::SHUTTING_DOWN),
        "closed with {closed:?}"
    );
    let (relay, stopped) = waiter.await?;
    ensure!(stopped?, "the relay did not exit after SIGTERM");
    ensure!(relay.log().contains("stopped"));
    Ok(())
}

#[tokio::test]
async fn mdns_candidates_are_ignored_quietly() -> Result<()> {
    let relay = Relay::start()?;
    let mut socket = connect(&relay).await?;
    send_raw(&mut socket, &join("mdns", "Mia")).await?;
    ensure!(matches!(
        next(&mut socket).await?,
        Ok(ServerMessage::Welcome { .. })
    ));
    let candidate =
        "candidate:1 1 udp 2122260223 4f7c1a2e-7c1b-4a8e-9f7e-1a2b3c4d5e6f.local 54321 typ host";
    send_raw(
        &mut socket,
        &ClientMessage::Candidate {
            candidate: candidate.into(),
        }
        .to_json(),
    )
    .await?;
    send_raw(
        &mut socket,
        &ClientMessage::Candidate {
            candidate: "nonsense".into(),
        }
        .to_json(),
    )
    .await?;
    // Candidates are handled in order: one error (for the nonsense) and nothing else.
    let message = expect_error(&mut socket, ErrorCode::InvalidSdp).await?;
    ensure!(message.contains("candidate"), "{message}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    send_raw(&mut socket, &ClientMessage::Ping.to_json()).await?;
    let reply = next(&mut socket).await?;
    ensure!(
        matches!(reply, Ok(ServerMessage::Pong)),
        "a second error? got {reply:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_the_own_accepted() -> Result<()> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let relay = Relay::start()?;
    let with_origin = |origin: &str| -> Result<_> {
        let mut request = relay.ws_url().into_client_request()?;
        request.headers_mut().insert("origin", origin.parse()?);
        Ok(request)
    };
    match tokio_tungstenite::connect_async(with_origin("https://evil.example")?).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            ensure!(response.status() == 403, "status {}", response.status())
        }
        other => bail!("a foreign origin was not refused: {:?}", other.map(|_| ())),
    }
    let own = format!("http://{}", relay.http);
    ensure!(tokio_tungstenite::connect_async(with_origin(&own)?)
        .await
        .is_ok());
    Ok(())
}

#[tokio::test]
async fn one_address_may_hold_only_so_many_connections() -> Result<()> {
    let relay = Relay::start()?;
    let mut open = Vec::new();
    for _ in 0..50 {
        open.push(connect(&relay).await?);
    }
    match tokio_tungstenite::connect_async(relay.ws_url()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            ensure!(response.status() == 429, "status {}", response.status())
        }
        other => bail!("the 51st connection was accepted: {:?}", other.map(|_| ())),
    }
    // Closing one frees its place.
    let mut first = open.remove(0);
    first.close(None).await?;
    drop(first);
    let reopened =
        sprechstunde_tests::eventually("a free place", Duration::from_secs(5), || async {
            Ok(
                match tokio_tungstenite::connect_async(relay.ws_url()).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(e.to_string()),
                },
            )
        })
        .await;
    ensure!(reopened.is_ok(), "{reopened:?}");
    Ok(())
}

#[tokio::test]
async fn a_message_flood_is_refused_then_closed() -> Result<()> {
    let relay = Relay::start()?;
    let mut socket = connect(&relay).await?;
    for _ in 0..200 {
        // The relay may close while the flood is still being sent.
        if send_raw(&mut socket, &ClientMessage::Ping.to_json())
            .await
            .is_err()
        {
            break;
        }
    }
    let mut pongs = 0;
    let closed = loop {
        match next(&mut socket).await? {
            Ok(ServerMessage::Pong) => pongs += 1,
            Ok(ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }) => {}
            Ok(other) => bail!("unexpected {other:?}"),
            Err(code) => break code,
        }
    };
    // Closing on a sender with unread data resets the TCP connection, which may lose replies
    // and the close frame: so the client side checks bounds and the relay's counter the rest
    // (the exact burst arithmetic is a unit test of the limiter).
    ensure!(pongs <= 45, "{pongs} pongs: at most the burst may pass");
    ensure!(
        closed.is_none() || closed == Some(close_code::PROTOCOL_ABUSE),
        "closed with {closed:?}"
    );
    ensure!(relay.metric("signaling_errors_total")? >= 5.0);
    // The relay serves the next connection as before.
    let mut fresh = connect(&relay).await?;
    send_raw(&mut fresh, &ClientMessage::Ping.to_json()).await?;
    ensure!(matches!(next(&mut fresh).await?, Ok(ServerMessage::Pong)));
    Ok(())
}

#[tokio::test]
async fn a_full_room_says_so_and_closes() -> Result<()> {
    let relay = Relay::start_with(&["--room-capacity", "2"])?;
    let mut sockets = Vec::new();
    for name in ["Eins", "Zwei"] {
        let mut socket = connect(&relay).await?;
        send_raw(&mut socket, &join("klein", name)).await?;
        ensure!(matches!(
            next(&mut socket).await?,
            Ok(ServerMessage::Welcome { .. })
        ));
        sockets.push(socket);
    }
    let mut third = connect(&relay).await?;
    send_raw(&mut third, &join("Klein", "Drei")).await?;
    expect_error(&mut third, ErrorCode::RoomFull).await?;
    match next(&mut third).await? {
        Err(code) => ensure!(code == Some(close_code::FULL), "closed with {code:?}"),
        other => bail!("expected a close, got {other:?}"),
    }
    // The others noticed nothing of it: up to the pong, only Zwei's arrival.
    send_raw(&mut sockets[0], &ClientMessage::Ping.to_json()).await?;
    loop {
        match next(&mut sockets[0]).await? {
            Ok(ServerMessage::Pong) => break,
            Ok(ServerMessage::ParticipantJoined { participant }) => {
                ensure!(
                    participant.name == "Zwei",
                    "{} was let in",
                    participant.name
                )
            }
            other => bail!("unexpected {other:?}"),
        }
    }
    ensure!(relay.metric("participants")? == 2.0);
    Ok(())
}
