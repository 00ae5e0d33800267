//! Consent first: before the participant agrees, the page captures nothing and connects to
//! nothing; the privacy notice it links to is the operator's text, shown as text.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::Value;
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;

/// Count every call that would capture media or open a connection.
const SPIES: &str = r#"
window.__calls = { getUserMedia: 0, webSocket: 0, peerConnection: 0 };
const devices = navigator.mediaDevices;
const getUserMedia = devices.getUserMedia.bind(devices);
devices.getUserMedia = (...args) => { window.__calls.getUserMedia++; return getUserMedia(...args); };
const OriginalWebSocket = window.WebSocket;
const SpyWebSocket = function (...args) { window.__calls.webSocket++; return new OriginalWebSocket(...args); };
SpyWebSocket.prototype = OriginalWebSocket.prototype;
window.WebSocket = SpyWebSocket;
const OriginalPeerConnection = window.RTCPeerConnection;
const SpyPeerConnection = function (...args) { window.__calls.peerConnection++; return new OriginalPeerConnection(...args); };
SpyPeerConnection.prototype = OriginalPeerConnection.prototype;
window.RTCPeerConnection = SpyPeerConnection;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_captured_or_connected_before_consent() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    let client = &browser.client;
    client.goto(&relay.url("/r/zustimmung")).await?;
    browser.wait_for(Locator::Id("consent")).await?;
    client.execute(SPIES, vec![]).await?;

    client
        .find(Locator::Id("display-name"))
        .await?
        .send_keys("Zora")
        .await?;
    browser
        .button("Kamera und Mikrofon testen")
        .await?
        .click()
        .await?;
    browser.button("Beitreten").await?.click().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let error = browser.text("#consent-error").await?;
    ensure!(
        error.contains("Bitte stimmen Sie zuerst"),
        "no hint to agree: {error:?}"
    );
    let calls = client.execute("return window.__calls;", vec![]).await?;
    ensure!(
        calls == serde_json::json!({ "getUserMedia": 0, "webSocket": 0, "peerConnection": 0 }),
        "calls before consent: {calls}"
    );
    ensure!(relay.metric("participants")? == 0.0);

    // Consent given: the connection check connects (its own signaling connection and a
    // peer connection) but captures nothing.
    browser.agree_to_privacy_notice().await?;
    browser.connection_check().await?;
    let calls = client.execute("return window.__calls;", vec![]).await?;
    ensure!(
        calls == serde_json::json!({ "getUserMedia": 0, "webSocket": 1, "peerConnection": 1 }),
        "the connection check: {calls}"
    );
    // Now the same click captures, connects and joins.
    browser.press_join().await?;
    let calls = eventually(
        "the peer connection after joining",
        Duration::from_secs(20),
        || async {
            let calls = client.execute("return window.__calls;", vec![]).await?;
            Ok(if calls["peerConnection"] == 2 {
                Ok(calls)
            } else {
                Err(calls)
            })
        },
    )
    .await?;
    ensure!(calls["getUserMedia"].as_u64() >= Some(1), "{calls}");
    ensure!(calls["webSocket"] == 2, "{calls}");
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_privacy_page_shows_the_operators_notice_as_text() -> Result<()> {
    let notice = std::env::temp_dir().join(format!("notice-{}.txt", std::process::id()));
    std::fs::write(
        &notice,
        "# Hinweise des Bildungsbüros\n\nVerantwortlich: Stadt Musterstadt, Marker-4711.\n\n<img src=x onerror=\"window.__pwned=1\">",
    )?;
    let path = notice.to_string_lossy().into_owned();
    let relay = Relay::start_with(&["--privacy-notice-de", &path])?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    browser.client.goto(&relay.url("/datenschutz")).await?;
    let heading = browser
        .wait_for(Locator::Css("main.privacy h2"))
        .await?
        .text()
        .await?;
    ensure!(heading == "Hinweise des Bildungsbüros", "{heading:?}");
    let text = browser.text("main.privacy").await?;
    ensure!(text.contains("Marker-4711"), "{text}");
    ensure!(
        text.contains("<img src=x"),
        "markup must show as text: {text}"
    );
    let images = browser
        .client
        .find_all(Locator::Css("main.privacy img"))
        .await?;
    ensure!(images.is_empty(), "the notice created an element");
    let pwned = browser
        .client
        .execute("return window.__pwned === 1;", vec![])
        .await?;
    ensure!(pwned == Value::Bool(false));
    browser.close().await?;
    let _ = std::fs::remove_file(notice);
    Ok(())
}

async fn stored_name(browser: &sprechstunde_tests::browser::Browser) -> Result<Value> {
    Ok(browser
        .client
        .execute(
            "return localStorage.getItem('sprechstunde.display_name');",
            vec![],
        )
        .await?)
}

async fn name_field(browser: &sprechstunde_tests::browser::Browser) -> Result<String> {
    let field = browser.wait_for(Locator::Id("display-name")).await?;
    Ok(field.prop("value").await?.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_is_remembered_only_when_asked() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    let room = relay.url("/r/merken");

    // By default nothing is remembered.
    browser.join(&relay.url(""), "merken", "Ruth").await?;
    ensure!(stored_name(&browser).await? == Value::Null);
    browser.button("Verlassen").await?.click().await?;
    browser.client.goto(&room).await?;
    ensure!(
        name_field(&browser).await?.is_empty(),
        "a name was pre-filled without consent"
    );

    // Asked for: stored, and pre-filled next time.
    browser
        .client
        .find(Locator::Id("display-name"))
        .await?
        .send_keys("Ruth")
        .await?;
    browser
        .client
        .find(Locator::Css("label[for='remember-name']"))
        .await?
        .click()
        .await?;
    browser.agree_to_privacy_notice().await?;
    browser.press_join().await?;
    ensure!(stored_name(&browser).await? == "Ruth");
    browser.button("Verlassen").await?.click().await?;
    browser.client.goto(&room).await?;
    ensure!(name_field(&browser).await? == "Ruth");

    // Unticked again: forgotten.
    browser
        .client
        .find(Locator::Css("label[for='remember-name']"))
        .await?
        .click()
        .await?;
    browser.agree_to_privacy_notice().await?;
    browser.press_join().await?;
    ensure!(
        stored_name(&browser).await? == Value::Null,
        "the name stayed after unticking"
    );
    browser.close().await?;
    Ok(())
}
