//! Browsers a few years old: no `RTCPeerConnection.connectionState` (Firefox before 113,
//! Safari before 16). The room still learns that media is up (from the ICE state), says
//! so, and the call works.

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::relay::Relay;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_connection_state_the_room_still_knows_media_is_up() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    counselor.join(&relay.url(""), "alt", "Frau Berger").await?;

    let family = driver.browser().await?;
    family
        .before_every_page(
            "delete RTCPeerConnection.prototype.connectionState;
             delete RTCPeerConnection.prototype.onconnectionstatechange;",
        )
        .await?;
    family.join(&relay.url(""), "alt", "Familie Demir").await?;
    let state = family
        .eval("return typeof RTCPeerConnection.prototype.connectionState;")
        .await?;
    ensure!(state == "undefined", "connectionState is {state}");
    family
        .until_sees_and_hears("Frau Berger", Duration::from_secs(20))
        .await?;
    family
        .until_true(
            "the room to say media is up and how it travels",
            Duration::from_secs(10),
            "const s = document.getElementById('media-status');
             return !!s && s.textContent.includes('verschlüsselt') && !!document.getElementById('media-path');",
        )
        .await?;
    Ok(())
}
