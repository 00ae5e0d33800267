//! Host and guests through the UI of real headless Chromium instances and the real relay:
//! the guest knocks by opening the link, the host hears and sees it and lets them in, media
//! flows; the host mutes the guest (audio stops, the guest unmutes), removes them, and ends
//! the meeting for everyone.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use sprechstunde_tests::browser::{Browser, Driver, MediaStats};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "erstberatung";
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// Counts the tones the page starts (the page keeps its own reference to the constructor,
/// so the prototype is observed).
const OBSERVE_TONES: &str = r#"
if (window.__testTones === undefined) {
  window.__testTones = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__testTones += 1; return start.apply(this, args); };
}
"#;

async fn until<F>(browser: &Browser, what: &str, check: F) -> Result<MediaStats>
where
    F: Fn(&MediaStats) -> bool,
{
    browser.until_stats(what, MEDIA_TIMEOUT, check).await
}

async fn until_true(browser: &Browser, what: &str, script: &str) -> Result<()> {
    browser.until_true(what, MEDIA_TIMEOUT, script).await
}

fn link(relay: &Relay, kind: &str) -> Result<String> {
    let line = relay.admin(&["room", &format!("{kind}-link"), ROOM])?;
    let (_, fragment) = line
        .trim()
        .split_once('#')
        .context("no fragment in the link")?;
    Ok(relay.url(&format!("/r/{ROOM}#{fragment}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_admits_mutes_removes_and_ends_for_everyone() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let host = driver.browser().await?;
    let guest = driver.browser().await?;

    host.open_prejoin(&link(&relay, "host")?, "Frau Berger")
        .await?;
    host.eval(OBSERVE_TONES).await?;
    host.press_join().await?;
    // The token is read once: out of the address bar and history, kept for this tab only
    // (a reload keeps the host a host).
    until_true(
        &host,
        "the host token to leave the address bar",
        "return !location.href.includes('host=') && Object.keys(sessionStorage).some(k => k === 'sprechstunde.link-token:/r/erstberatung');",
    )
    .await?;
    // The host starts typing the topic; the knock below re-renders the room mid-word.
    host.click("#open-host").await?;
    host.type_into("room-topic", "Anmeldung ").await?;

    // The guest opens the plain link and presses "Beitreten": that is the knock.
    guest
        .open_prejoin(&relay.url(&format!("/r/{ROOM}")), "Familie Demir")
        .await?;
    guest.button("Beitreten").await?.click().await?;
    until_true(
        &guest,
        "the guest to wait with the host present",
        "const s = document.getElementById('waiting-state'); return !!s && s.dataset.hostPresent === 'true';",
    )
    .await?;
    ensure!(
        guest
            .eval("return document.querySelectorAll('video').length")
            .await?
            == 0,
        "a waiting guest sees no video"
    );

    until_true(
        &host,
        "the host to see the knock",
        "const n = document.getElementById('waiting-notice'); return !!n && n.textContent.includes('Familie Demir');",
    )
    .await?;
    host.type_into("room-topic", "Grundschule").await?;
    host.click("#save-room-info").await?;
    until_true(
        &guest,
        "the waiting guest to see the whole topic, typed across the knock",
        "const t = document.getElementById('waiting-topic'); return !!t && t.textContent.trim() === 'Anmeldung Grundschule';",
    )
    .await?;
    let tones = host.eval("return window.__testTones").await?;
    ensure!(tones.as_u64().unwrap_or(0) >= 1, "no knock tone: {tones}");
    host.click("#waiting-notice button.admit").await?;
    guest
        .wait_for(fantoccini::Locator::Css("main.room"))
        .await
        .context("the admitted guest's room")?;
    until(&host, "the host to see and hear the guest", |s| {
        s.live_videos() == 1 && s.audio_packets() > 50
    })
    .await?;
    until(&guest, "the guest to see and hear the host", |s| {
        s.live_videos() == 1 && s.audio_packets() > 50
    })
    .await?;
    until_true(
        &guest,
        "the guest to see who the host is",
        "document.getElementById('open-people').click(); return [...document.querySelectorAll('.panel.people li[data-host=\"true\"]')].some(li => li.textContent.includes('Frau Berger'));",
    )
    .await?;

    // The host mutes the guest: the guest's audio stops reaching the host.
    host.click("#open-people").await?;
    host.click(".panel.people button[id^='mute-']").await?;
    until_true(
        &guest,
        "the guest's microphone button to show muted",
        "return document.getElementById('toggle-mic').getAttribute('aria-pressed') === 'true';",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let muted_then = host.stats().await?.audio_packets();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let muted_now = host.stats().await?.audio_packets();
    ensure!(
        muted_now <= muted_then + 5,
        "audio kept flowing after the host muted the guest: {muted_then} -> {muted_now}"
    );
    // The guest unmutes themselves: audio flows again.
    guest.click("#toggle-mic").await?;
    until(&host, "the guest's audio to flow again", |s| {
        s.audio_packets() > muted_now + 50
    })
    .await?;

    // The host removes the guest: the guest is told, the host's stage empties.
    host.click(".panel.people button[id^='remove-']").await?;
    until_true(
        &guest,
        "the guest to be told they were removed",
        "return document.body.innerText.includes('Die Leitung hat Sie aus dieser Beratung entfernt.');",
    )
    .await?;
    until(&host, "the guest's tile to go", |s| s.tiles.is_empty()).await?;

    // Someone invited by link comes straight in; then the host ends the meeting for all.
    let invited = driver.browser().await?;
    invited
        .open_prejoin(&link(&relay, "invite")?, "Herr Dolmetscher")
        .await?;
    invited.press_join().await?;
    until(&invited, "the invited guest to see the host", |s| {
        s.live_videos() == 1
    })
    .await?;
    host.click("#open-host").await?;
    host.click("#end-meeting").await?;
    host.click("#end-meeting").await?;
    for (who, browser) in [("the invited guest", &invited), ("the host", &host)] {
        until_true(
            browser,
            &format!("{who} to be told the meeting ended"),
            "return document.body.innerText.includes('Die Leitung hat die Beratung beendet.');",
        )
        .await?;
    }
    let connections = invited
        .eval("return window.__testPeerConnections.filter(pc => pc.connectionState !== 'closed').length")
        .await?;
    ensure!(
        connections == 0,
        "a peer connection is still open after the end: {connections}"
    );

    host.close().await?;
    guest.close().await?;
    invited.close().await?;
    Ok(())
}
