//! Size limits of signaling messages against the real relay: SDP may be large enough for a
//! full room, everything else is held to 64 KiB, and a message over its limit is answered
//! with `too_large` and a clean close (1009), never a silent drop.

use anyhow::{bail, ensure, Result};
use sprechstunde_shared::{
    close_code, ClientMessage, ErrorCode, ServerMessage, MAX_MESSAGE_BYTES, MAX_SDP_MESSAGE_BYTES,
};
use sprechstunde_tests::raw_ws::{connect, expect_error, join, next, send_raw, Socket};
use sprechstunde_tests::relay::Relay;

async fn joined(relay: &Relay, name: &str) -> Result<Socket> {
    let mut socket = connect(relay).await?;
    send_raw(&mut socket, &join("grenzen", name)).await?;
    match next(&mut socket).await? {
        Ok(ServerMessage::Welcome { .. }) => Ok(socket),
        other => bail!("expected welcome, got {other:?}"),
    }
}

async fn refused_as_too_large_and_closed(socket: &mut Socket, what: &str) -> Result<()> {
    let message = expect_error(socket, ErrorCode::TooLarge).await?;
    ensure!(
        message.contains("bytes"),
        "{what}: the error says the limit: {message}"
    );
    match next(socket).await? {
        Err(Some(code)) => ensure!(
            code == close_code::MESSAGE_TOO_BIG,
            "{what}: closed with {code}"
        ),
        other => bail!("{what}: expected the close 1009, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_chat_message_over_64_kib_gets_too_large_and_a_clean_close() -> Result<()> {
    let relay = Relay::start()?;
    let mut socket = joined(&relay, "Anna").await?;
    let chat = ClientMessage::Chat {
        text: "ä".repeat(33 * 1024),
        to: None,
    }
    .to_json();
    ensure!(chat.len() > MAX_MESSAGE_BYTES && chat.len() < 70 * 1024);
    send_raw(&mut socket, &chat).await?;
    refused_as_too_large_and_closed(&mut socket, "a 66 KiB chat message").await
}

#[tokio::test]
async fn sdp_may_be_larger_than_chat_up_to_its_own_limit() -> Result<()> {
    let relay = Relay::start()?;
    let mut socket = joined(&relay, "Ben").await?;
    // 100 KiB of SDP is within the SDP limit: judged as SDP (this one is not valid).
    let offer = ClientMessage::Offer {
        sdp: format!("v=0\r\n{}", "a=x-filler\r\n".repeat(100 * 1024 / 12)),
    }
    .to_json();
    ensure!(offer.len() > MAX_MESSAGE_BYTES && offer.len() < MAX_SDP_MESSAGE_BYTES);
    send_raw(&mut socket, &offer).await?;
    expect_error(&mut socket, ErrorCode::InvalidSdp).await?;
    send_raw(&mut socket, &ClientMessage::Ping.to_json()).await?;
    ensure!(
        matches!(next(&mut socket).await?, Ok(ServerMessage::Pong)),
        "the connection stays open"
    );

    // Over the SDP limit: refused and closed like any other message over its limit.
    let huge = ClientMessage::Answer {
        sdp: "a".repeat(MAX_SDP_MESSAGE_BYTES + 1),
    }
    .to_json();
    send_raw(&mut socket, &huge).await?;
    refused_as_too_large_and_closed(&mut socket, "an answer over 256 KiB").await
}

#[tokio::test]
async fn tile_heights_are_taken_up_to_their_limit_and_refused_beyond() -> Result<()> {
    use sprechstunde_shared::{ParticipantId, TileHeight, MAX_TILE_HEIGHTS};
    let relay = Relay::start()?;
    let mut socket = joined(&relay, "Cara").await?;
    let tiles = |count: usize| ClientMessage::TileHeights {
        tiles: (0..count)
            .map(|i| TileHeight {
                participant_id: ParticipantId(i as u64),
                screen: i % 2 == 1,
                height: 360,
            })
            .collect(),
    };
    // As many as a full room can show: taken without a word (the ping after it is answered).
    send_raw(&mut socket, &tiles(MAX_TILE_HEIGHTS).to_json()).await?;
    send_raw(&mut socket, &ClientMessage::Ping.to_json()).await?;
    loop {
        match next(&mut socket).await? {
            Ok(ServerMessage::Pong) => break,
            Ok(ServerMessage::Error { code, message }) => {
                bail!("{MAX_TILE_HEIGHTS} tile heights refused: {code:?} {message}")
            }
            Ok(_) => continue,
            other => bail!("expected the pong, got {other:?}"),
        }
    }
    send_raw(&mut socket, &tiles(MAX_TILE_HEIGHTS + 1).to_json()).await?;
    loop {
        match next(&mut socket).await? {
            Ok(ServerMessage::Error { code, .. }) => {
                ensure!(code == ErrorCode::MessageTooLong, "refused with {code:?}");
                return Ok(());
            }
            Ok(_) => continue,
            other => bail!("expected an error for too many tile heights, got {other:?}"),
        }
    }
}
