//! Nothing is requested from anywhere but the relay: a full flow through every page records
//! each resource the browser loaded, the WebSocket it opened and the ICE servers it was given.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;

/// Every URL this page loaded (navigation and resources), per the Resource Timing API.
async fn loaded_urls(browser: &Browser) -> Result<Vec<String>> {
    let value = browser
        .client
        .execute(
            "return performance.getEntries().map((e) => e.name).filter((n) => n.includes(':'));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

const SPY_CONNECTIONS: &str = r#"
window.__sockets = []; window.__iceServers = [];
const OriginalWebSocket = window.WebSocket;
const SpyWebSocket = function (url, ...rest) { window.__sockets.push(String(url)); return new OriginalWebSocket(url, ...rest); };
SpyWebSocket.prototype = OriginalWebSocket.prototype;
window.WebSocket = SpyWebSocket;
const OriginalPeerConnection = window.RTCPeerConnection;
const SpyPeerConnection = function (config, ...rest) {
  window.__iceServers.push(JSON.stringify((config && config.iceServers) || []));
  return new OriginalPeerConnection(config, ...rest);
};
SpyPeerConnection.prototype = OriginalPeerConnection.prototype;
window.RTCPeerConnection = SpyPeerConnection;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_contacts_only_the_relay() -> Result<()> {
    let relay = Relay::start()?;
    let origin = relay.url("");
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    let mut seen = Vec::new();

    for (path, ready) in [
        ("/", "#room-name"),
        ("/datenschutz", "main.privacy h2"),
        ("/meine-daten", "main.my-data p"),
    ] {
        browser.client.goto(&relay.url(path)).await?;
        browser.wait_for(Locator::Css(ready)).await?;
        seen.extend(loaded_urls(&browser).await?);
    }

    browser.client.goto(&relay.url("/r/dritte")).await?;
    browser.wait_for(Locator::Id("consent")).await?;
    browser.client.execute(SPY_CONNECTIONS, vec![]).await?;
    browser
        .client
        .find(Locator::Id("display-name"))
        .await?
        .send_keys("Dora")
        .await?;
    browser.agree_to_privacy_notice().await?;
    browser.button("Beitreten").await?.click().await?;
    eventually("the media connection", Duration::from_secs(20), || async {
        let status = browser.text("#media-status").await.unwrap_or_default();
        Ok(if status.contains("verschlüsselt") {
            Ok(())
        } else {
            Err(status)
        })
    })
    .await?;
    seen.extend(loaded_urls(&browser).await?);
    let sockets: Vec<String> = serde_json::from_value(
        browser
            .client
            .execute("return window.__sockets;", vec![])
            .await?,
    )?;
    let ice: Vec<String> = serde_json::from_value(
        browser
            .client
            .execute("return window.__iceServers;", vec![])
            .await?,
    )?;
    browser.button("Verlassen").await?.click().await?;

    ensure!(
        seen.len() >= 8,
        "suspiciously few requests recorded: {seen:?}"
    );
    let foreign: Vec<&String> = seen
        .iter()
        .filter(|url| !url.starts_with(&origin))
        .collect();
    ensure!(foreign.is_empty(), "requests to other origins: {foreign:?}");
    let ws_origin = origin.replacen("http://", "ws://", 1);
    // The connection check's and the call's: both to the relay, neither with an ICE server.
    let relay_socket = format!("{ws_origin}/ws");
    ensure!(
        sockets == [relay_socket.clone(), relay_socket],
        "WebSockets: {sockets:?}"
    );
    ensure!(
        ice == ["[]", "[]"],
        "ICE servers handed to the browser: {ice:?}"
    );
    ensure!(relay.metric("csp_violations_total")? == 0.0);
    browser.close().await?;
    Ok(())
}
