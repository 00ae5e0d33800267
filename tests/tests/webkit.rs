//! WebKit, the engine of every iPhone browser, as far as it can be tested here: Debian's
//! WebKitGTK (MiniBrowser under Xvfb) is built without WebRTC. The app loads and runs its
//! WebAssembly, the start page works, a room link says at once that this browser cannot
//! make calls, and the family can still see their (mock) camera and microphone work.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::Value;
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::relay::Relay;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkit_without_webrtc_loads_the_app_says_so_and_shows_the_camera() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start_webkit().await?;
    let browser = driver.browser().await?;
    browser.client.goto(&relay.url("/")).await?;
    browser.wait_for(Locator::Id("room-name")).await?;
    let webrtc = browser.eval("return typeof RTCPeerConnection;").await?;
    ensure!(
        webrtc == "undefined",
        "this WebKit has WebRTC after all ({webrtc}): the test no longer tests the refusal"
    );

    browser.client.goto(&relay.url("/r/elternberatung")).await?;
    let page = browser.wait_for(Locator::Id("browser-cannot-call")).await?;
    let text = page.text().await?;
    ensure!(
        text.contains("Dieser Browser kann keine Videogespräche führen"),
        "the page says: {text:?}"
    );
    let form = browser
        .eval("return !!document.getElementById('display-name') || !!document.getElementById('consent');")
        .await?;
    ensure!(form == Value::Bool(false), "the join form is shown");

    browser
        .button("Kamera und Mikrofon testen")
        .await?
        .click()
        .await?;
    browser
        .until_true(
            "the mock camera's picture in the preview",
            Duration::from_secs(15),
            "const v = document.querySelector('#device-check figure.tile.own video');
             return !!v && v.videoWidth > 0 && !v.paused && !!document.getElementById('mic-level');",
        )
        .await?;
    let size = browser
        .eval("const v = document.querySelector('#device-check video'); return [v.videoWidth, v.videoHeight];")
        .await?;
    ensure!(
        size[0].as_u64().unwrap_or(0) >= 320,
        "the preview is {size} px"
    );
    browser.close().await?;
    Ok(())
}
