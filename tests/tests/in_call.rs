//! In-call state over the protocol, against the real relay with raw WebSocket clients that
//! do not use our UI: chat with a relay-set sender, private messages, bad chat input, hands,
//! microphone and camera state, the room's topic, and what is kept while the room lives.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use sprechstunde_shared::{
    ClientMessage, ErrorCode, MediaState, ParticipantId, ServerMessage, CHAT_TEXT_MAX,
};
use sprechstunde_tests::relay::Relay;
use sprechstunde_tests::ws::WsClient;

const QUIET: Duration = Duration::from_millis(800);

fn chats(messages: &[ServerMessage]) -> Vec<&sprechstunde_shared::ChatMessage> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Chat(chat) => Some(chat),
            _ => None,
        })
        .collect()
}

async fn expect_error(client: &mut WsClient, code: ErrorCode) -> Result<()> {
    let got = client
        .next_where(Duration::from_secs(5), |m| {
            matches!(m, ServerMessage::Error { .. })
        })
        .await?;
    ensure!(
        matches!(got, ServerMessage::Error { code: c, .. } if c == code),
        "expected {code:?}, got {got:?}"
    );
    Ok(())
}

#[tokio::test]
async fn chat_reaches_everyone_with_the_sender_the_relay_sets() -> Result<()> {
    let relay = Relay::start()?;
    let mut anna = WsClient::join(&relay, "chat", "Anna").await?;
    let mut ben = WsClient::join(&relay, "chat", "Ben").await?;
    let mut cem = WsClient::join(&relay, "chat", "Cem").await?;
    let markup = "<img src=x onerror=alert(1)>";
    anna.send(&ClientMessage::Chat {
        text: markup.into(),
        to: None,
    })
    .await?;
    let sender = anna.id;
    for receiver in [&mut anna, &mut ben, &mut cem] {
        let message = receiver.next_chat().await?;
        ensure!(message.text == markup, "text changed: {:?}", message.text);
        ensure!(message.from == sender && message.from_name == "Anna");
        ensure!(message.to.is_none() && message.time_ms > 1_700_000_000_000);
    }

    // A client that tries to name the sender itself is refused; nothing reaches the others.
    ben.send_raw(&format!(
        r#"{{"chat":{{"text":"gefälscht","from":{}}}}}"#,
        anna.id.0
    ))
    .await?;
    expect_error(&mut ben, ErrorCode::Malformed).await?;
    ensure!(chats(&cem.drain(QUIET).await).is_empty());
    Ok(())
}

#[tokio::test]
async fn a_private_message_reaches_only_its_receiver() -> Result<()> {
    let relay = Relay::start()?;
    let mut anna = WsClient::join(&relay, "privat", "Anna").await?;
    let mut ben = WsClient::join(&relay, "privat", "Ben").await?;
    let mut cem = WsClient::join(&relay, "privat", "Cem").await?;
    let mut other_room = WsClient::join(&relay, "anderer-raum", "Dora").await?;

    anna.send(&ClientMessage::Chat {
        text: "nur für Ben".into(),
        to: Some(ben.id),
    })
    .await?;
    let received = ben.next_chat().await?;
    ensure!(received.text == "nur für Ben" && received.from == anna.id);
    ensure!(received.to == Some(ben.id) && received.to_name.as_deref() == Some("Ben"));
    let echo = anna.next_chat().await?;
    ensure!(echo.id == received.id, "the sender sees its own message");
    ensure!(
        chats(&cem.drain(QUIET).await).is_empty(),
        "the third participant received a private message"
    );

    // To someone who is not here (or in another room): refused, nobody gets anything.
    for target in [ParticipantId(999_999), other_room.id, anna.id] {
        anna.send(&ClientMessage::Chat {
            text: "verirrt".into(),
            to: Some(target),
        })
        .await?;
        expect_error(&mut anna, ErrorCode::UnknownParticipant).await?;
    }
    ensure!(chats(&ben.drain(QUIET).await).is_empty());
    ensure!(chats(&other_room.drain(QUIET).await).is_empty());
    Ok(())
}

#[tokio::test]
async fn bad_chat_input_is_refused_with_a_reason_and_reaches_nobody() -> Result<()> {
    let relay = Relay::start()?;
    let mut anna = WsClient::join(&relay, "grenzen", "Anna").await?;
    let mut ben = WsClient::join(&relay, "grenzen", "Ben").await?;

    anna.send(&ClientMessage::Chat {
        text: " \n\t ".into(),
        to: None,
    })
    .await?;
    expect_error(&mut anna, ErrorCode::EmptyMessage).await?;
    anna.send(&ClientMessage::Chat {
        text: "x".repeat(CHAT_TEXT_MAX + 1),
        to: None,
    })
    .await?;
    expect_error(&mut anna, ErrorCode::MessageTooLong).await?;
    ensure!(chats(&ben.drain(QUIET).await).is_empty());

    // The longest allowed message arrives whole.
    let longest = "ü".repeat(CHAT_TEXT_MAX);
    anna.send(&ClientMessage::Chat {
        text: longest.clone(),
        to: None,
    })
    .await?;
    ensure!(ben.next_chat().await?.text == longest);

    // A flood: a burst passes, the rest is refused; the relay and the others carry on.
    let mut flooder = WsClient::join(&relay, "grenzen", "Flut").await?;
    for i in 0..16 {
        flooder
            .send(&ClientMessage::Chat {
                text: format!("flut {i}"),
                to: None,
            })
            .await?;
    }
    let seen = flooder.drain(Duration::from_secs(2)).await;
    ensure!(
        seen.iter().any(|m| matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        )),
        "the flooder was not told to slow down"
    );
    let delivered = chats(&ben.drain(Duration::from_secs(1)).await).len();
    ensure!(
        (1..=11).contains(&delivered),
        "{delivered} of 16 flood messages reached others"
    );
    ensure!(relay.get("/healthz")?.0 == 200);
    anna.send(&ClientMessage::Chat {
        text: "noch da?".into(),
        to: None,
    })
    .await?;
    ensure!(ben.next_chat().await?.text == "noch da?");
    Ok(())
}

#[tokio::test]
async fn chat_reaches_those_present_from_their_arrival_and_ends_with_the_room() -> Result<()> {
    let relay = Relay::start()?;
    let mut anna = WsClient::join(&relay, "verlauf", "Anna").await?;
    let mut ben = WsClient::join(&relay, "verlauf", "Ben").await?;
    anna.send(&ClientMessage::Chat {
        text: "für alle".into(),
        to: None,
    })
    .await?;
    anna.send(&ClientMessage::Chat {
        text: "nur Ben".into(),
        to: Some(ben.id),
    })
    .await?;
    ben.next_chat().await?;
    ben.next_chat().await?;
    ben.leave().await?;

    // Ben joins afresh (a new participant): the relay cannot tell him from the next family,
    // so he gets nothing written before (his own page keeps what it showed him); what is
    // written from now on reaches him.
    let mut ben_again = WsClient::join(&relay, "verlauf", "Ben").await?;
    ensure!(
        ben_again.chat.is_empty(),
        "history went to a new participant: {:?}",
        ben_again.chat
    );
    anna.send(&ClientMessage::Chat {
        text: "wieder da?".into(),
        to: None,
    })
    .await?;
    ensure!(ben_again.next_chat().await?.text == "wieder da?");
    let cem = WsClient::join(&relay, "verlauf", "Cem").await?;
    ensure!(
        cem.chat.is_empty(),
        "history leaked to a newcomer: {:?}",
        cem.chat
    );

    // Everyone leaves: the room ends, and its chat with it.
    for client in [anna, ben_again, cem] {
        client.leave().await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = WsClient::join(&relay, "verlauf", "Dora").await?;
    ensure!(
        later.chat.is_empty(),
        "chat outlived the room: {:?}",
        later.chat
    );
    Ok(())
}

#[tokio::test]
async fn hands_are_seen_in_the_order_raised_and_only_ones_own_can_be_raised() -> Result<()> {
    let relay = Relay::start()?;
    let mut anna = WsClient::join(&relay, "hand", "Anna").await?;
    let mut ben = WsClient::join(&relay, "hand", "Ben").await?;
    let mut cem = WsClient::join(&relay, "hand", "Cem").await?;
    cem.send(&ClientMessage::SetHand { raised: true }).await?;
    cem.drain(Duration::from_millis(200)).await;
    anna.send(&ClientMessage::SetHand { raised: true }).await?;
    let mut hands = std::collections::HashMap::new();
    while hands.len() < 2 {
        if let ServerMessage::ParticipantUpdated { participant } = ben
            .next_where(Duration::from_secs(5), |m| {
                matches!(m, ServerMessage::ParticipantUpdated { .. })
            })
            .await?
        {
            hands.insert(participant.id, participant.hand);
        }
    }
    let (cem_place, anna_place) = (hands[&cem.id], hands[&anna.id]);
    ensure!(
        cem_place.is_some() && anna_place.is_some() && cem_place < anna_place,
        "order: {hands:?}"
    );

    anna.send(&ClientMessage::SetHand { raised: false }).await?;
    let lowered = ben
        .next_where(Duration::from_secs(5), |m| {
            matches!(m, ServerMessage::ParticipantUpdated { .. })
        })
        .await?;
    ensure!(
        matches!(&lowered, ServerMessage::ParticipantUpdated { participant } if participant.id == anna.id && participant.hand.is_none()),
        "{lowered:?}"
    );

    // Someone else's hand or microphone cannot be named in a message.
    anna.drain(QUIET).await;
    ben.send_raw(&format!(
        r#"{{"set_hand":{{"raised":false,"id":{}}}}}"#,
        cem.id.0
    ))
    .await?;
    expect_error(&mut ben, ErrorCode::Malformed).await?;
    ben.send_raw(&format!(
        r#"{{"set_media":{{"mic":false,"camera":false,"screen":false,"participant":{}}}}}"#,
        cem.id.0
    ))
    .await?;
    expect_error(&mut ben, ErrorCode::Malformed).await?;
    let after: Vec<ServerMessage> = anna.drain(QUIET).await;
    ensure!(
        !after.iter().any(|m| matches!(m, ServerMessage::ParticipantUpdated { participant } if participant.id == cem.id)),
        "a refused message changed someone else: {after:?}"
    );
    Ok(())
}

#[tokio::test]
async fn microphone_and_camera_state_is_shown_to_the_others() -> Result<()> {
    let relay = Relay::start()?;
    let mut anna = WsClient::join(&relay, "zustand", "Anna").await?;
    let muted = MediaState {
        mic: false,
        camera: false,
        screen: false,
    };
    let ben = WsClient::join_with(&relay, "zustand", "Ben", muted).await?;
    let joined = anna
        .next_where(Duration::from_secs(5), |m| {
            matches!(m, ServerMessage::ParticipantJoined { .. })
        })
        .await?;
    ensure!(
        matches!(&joined, ServerMessage::ParticipantJoined { participant } if participant.id == ben.id && participant.media == muted),
        "{joined:?}"
    );
    let mut ben = ben;
    ben.send(&ClientMessage::SetMedia(MediaState {
        mic: true,
        camera: false,
        screen: true,
    }))
    .await?;
    let updated = anna
        .next_where(Duration::from_secs(5), |m| {
            matches!(m, ServerMessage::ParticipantUpdated { .. })
        })
        .await?;
    ensure!(
        matches!(&updated, ServerMessage::ParticipantUpdated { participant } if participant.media.mic && participant.media.screen && !participant.media.camera),
        "{updated:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_room_header_comes_from_configuration() -> Result<()> {
    let config =
        std::env::temp_dir().join(format!("sprechstunde-rooms-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        "[rooms.elternberatung]\ntopic = \"Schulwahl nach der 4. Klasse\"\ndescription = \"Erstgespräch mit Dolmetscherin\"\n",
    )?;
    let config_path = config.to_str().context("temp path")?;
    let relay = Relay::start_with(&["--config", config_path])?;
    let anna = WsClient::join(&relay, "Elternberatung", "Anna").await?;
    ensure!(anna.topic.as_deref() == Some("Schulwahl nach der 4. Klasse"));
    ensure!(anna.description.as_deref() == Some("Erstgespräch mit Dolmetscherin"));
    let other = WsClient::join(&relay, "sonstwo", "Ben").await?;
    ensure!(other.topic.is_none() && other.description.is_none());
    let _ = std::fs::remove_file(&config);
    Ok(())
}
