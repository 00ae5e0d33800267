//! A browser that cannot make calls (no `RTCPeerConnection`, as in some messengers' in-app
//! browsers and old versions) is told so on arrival, before anything is typed, with the link
//! to open elsewhere and a button that copies it. Chromium with WebRTC taken away stands in
//! for such a browser. A browser that cannot even start the app (no WebAssembly, or an old
//! Safari that refuses it under the page's security policy) gets a message, not a blank
//! page.

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::Value;
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::relay::Relay;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_without_webrtc_is_told_at_once_and_given_the_link() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    browser.client.goto(&relay.url("/")).await?;
    browser.wait_for(Locator::Id("room-name")).await?;
    browser
        .eval("delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection; return typeof RTCPeerConnection;")
        .await?;
    browser.type_into("room-name", "elternberatung").await?;
    browser.button("Weiter").await?.click().await?;

    let page = browser.wait_for(Locator::Id("browser-cannot-call")).await?;
    let text = page.text().await?;
    ensure!(
        text.contains("Dieser Browser kann keine Videogespräche führen")
            && text.contains("Safari, Chrome oder Firefox"),
        "the page says: {text:?}"
    );
    let nothing_to_type = browser
        .eval("return !document.getElementById('display-name') && !document.getElementById('consent');")
        .await?;
    ensure!(
        nothing_to_type == Value::Bool(true),
        "the family is asked to type before being told"
    );
    let link = browser
        .eval("return document.getElementById('room-link').value")
        .await?;
    ensure!(
        link == relay.url("/r/elternberatung"),
        "the link to open elsewhere: {link}"
    );
    browser.button("Link kopieren").await?.click().await?;
    // Copied, or where the browser refuses the clipboard (headless Chromium may), the link
    // is selected for copying by hand and the page says so.
    browser
        .until_true(
            "the copy to be confirmed, or the link selected to copy by hand",
            std::time::Duration::from_secs(5),
            "const f = document.getElementById('room-link');
             return document.body.innerText.includes('Der Link ist kopiert.')
               || (document.body.innerText.includes('Der Link ist markiert')
                   && document.activeElement === f && f.selectionStart === 0 && f.selectionEnd === f.value.length);",
        )
        .await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_cannot_start_the_app_gets_a_message_not_a_blank_page() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    // A Chromium without WebAssembly stands in for a Safari that refuses the app's
    // WebAssembly (before Safari 16, under the page's security policy).
    let old = driver.browser().await?;
    old.before_every_page("delete window.WebAssembly;").await?;
    old.client.goto(&relay.url("/r/elternberatung")).await?;
    let wasm = old.eval("return typeof WebAssembly;").await?;
    ensure!(
        wasm == "undefined",
        "WebAssembly is {wasm} in the old browser"
    );
    old.until_true(
        "the message that this browser cannot start the page",
        std::time::Duration::from_secs(20),
        "const f = document.getElementById('boot-fallback');
         return !!f && getComputedStyle(f).visibility === 'visible' && f.innerText.includes('Safari ab iOS 16');",
    )
    .await?;
    old.close().await?;

    // Where the app starts, the message is gone for good.
    let current = driver.browser().await?;
    current.client.goto(&relay.url("/")).await?;
    current.wait_for(Locator::Id("room-name")).await?;
    let fallback = current
        .eval("return !!document.getElementById('boot-fallback');")
        .await?;
    ensure!(
        fallback == Value::Bool(false),
        "the fallback is still in the page"
    );
    current.close().await?;
    Ok(())
}
