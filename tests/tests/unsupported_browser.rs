//! A browser that cannot make calls (no `RTCPeerConnection`, as in some messengers' in-app
//! browsers and old versions) is told so on arrival, before anything is typed, with the link
//! to open elsewhere and a button that copies it. Chromium with WebRTC taken away stands in
//! for such a browser.

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
