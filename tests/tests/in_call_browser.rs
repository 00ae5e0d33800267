//! The in-call features through the UI of real headless Chromium instances and the real
//! relay, asserting effects: packets and frames that stop or flow, speaking time the relay
//! counts, what the others' screens show, and the chat file on disk.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver, MediaStats};
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;

const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// Until `check` holds for `browser`'s media statistics.
async fn until<F>(browser: &Browser, what: &str, check: F) -> Result<MediaStats>
where
    F: Fn(&MediaStats) -> bool,
{
    browser.until_stats(what, MEDIA_TIMEOUT, check).await
}

/// Join with the microphone switched off on the pre-join page.
async fn join_muted(browser: &Browser, base: &str, room: &str, name: &str) -> Result<()> {
    browser.client.goto(&format!("{base}/r/{room}")).await?;
    browser
        .eval(sprechstunde_tests::browser::OBSERVE_PEER_CONNECTIONS)
        .await?;
    browser.click("#display-name").await?;
    browser
        .client
        .find(fantoccini::Locator::Id("display-name"))
        .await?
        .send_keys(name)
        .await?;
    browser.agree_to_privacy_notice().await?;
    browser.click("label[for='join-mic']").await?;
    browser.press_join().await
}

/// Speaking time per name, from the speaking-time panel (opened if needed).
async fn speaking_times(browser: &Browser) -> Result<Vec<(String, u64)>> {
    let value = browser
        .eval(
            r#"
            if (!document.querySelector('.panel.speaking')) document.getElementById('open-speaking').click();
            return [...document.querySelectorAll('.panel.speaking tr[data-participant]')]
              .map(r => [r.querySelector('th').textContent, Number(r.dataset.ms)]);
            "#,
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

fn time_of(times: &[(String, u64)], name: &str) -> Option<u64> {
    times
        .iter()
        .find(|(n, _)| n.starts_with(name))
        .map(|(_, ms)| *ms)
}

/// Audio packets received from the one other participant.
fn audio_packets(stats: &MediaStats) -> u64 {
    stats.audio.iter().map(|a| a.packets_received).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_camera_off_speaking_time_and_hand_reach_the_other_side() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser().await?;
    anna.join(&base, "stummschalten", "Anna").await?;
    join_muted(&ben, &base, "stummschalten", "Ben").await?;
    until(&ben, "Ben to see and hear Anna", |s| {
        s.live_videos() == 1 && audio_packets(s) > 50
    })
    .await?;

    // Anna speaks (Chromium's fake microphone beeps), Ben joined muted.
    let grown = eventually("Anna's speaking time to grow", MEDIA_TIMEOUT, || async {
        let times = speaking_times(&ben).await?;
        Ok(match time_of(&times, "Anna") {
            Some(ms) if ms >= 1000 => Ok(times),
            _ => Err(times),
        })
    })
    .await?;
    ensure!(
        time_of(&grown, "Ben") == Some(0),
        "muted Ben has speaking time: {grown:?}"
    );
    let anna_sees = anna.stats().await?;
    ensure!(
        audio_packets(&anna_sees) == 0,
        "muted Ben sent audio: {anna_sees:?}"
    );

    // Anna mutes: her packets stop reaching Ben and her speaking time stops.
    anna.click("#toggle-mic").await?;
    let muted = ben.stats().await?;
    eventually("Ben to see Anna muted", MEDIA_TIMEOUT, || async {
        let shown = ben
            .eval("return !!document.querySelector('figure.tile[data-participant]:not(.own) .badge.muted');")
            .await?;
        Ok(if shown == Value::Bool(true) { Ok(()) } else { Err(shown) })
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (packets_then, time_then) = (
        audio_packets(&ben.stats().await?),
        time_of(&speaking_times(&ben).await?, "Anna"),
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (packets_now, time_now) = (
        audio_packets(&ben.stats().await?),
        time_of(&speaking_times(&ben).await?, "Anna"),
    );
    ensure!(
        packets_now <= packets_then + 5,
        "audio kept flowing while muted: {packets_then} -> {packets_now} (before muting {})",
        audio_packets(&muted)
    );
    ensure!(
        time_then == time_now,
        "speaking time grew while muted: {time_then:?} -> {time_now:?}"
    );

    // Anna turns her camera off: the track is stopped and Ben shows her name instead.
    let frames_before = ben.stats().await?.frames_decoded();
    anna.click("#toggle-camera").await?;
    let off = until(&ben, "Ben to show Anna's placeholder", |s| {
        s.tile("Anna", "camera").is_some_and(|t| t.camera_off)
    })
    .await?;
    let senders = anna
        .eval(
            "return window.__testPeerConnections.flatMap(pc => pc.getSenders())
               .filter(s => s.track && s.track.kind === 'video' && s.track.readyState === 'live').length;",
        )
        .await?;
    ensure!(senders == 0, "a live camera track is still sent: {senders}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let frames_after = ben.stats().await?.frames_decoded();
    ensure!(
        frames_after <= off.frames_decoded() + 2,
        "frames kept arriving with the camera off: {frames_before} / {} -> {frames_after}",
        off.frames_decoded()
    );

    // Ben raises his hand: Anna sees it on his tile and in the list.
    ben.click("#toggle-hand").await?;
    eventually("Anna to see Ben's hand", MEDIA_TIMEOUT, || async {
        let shown = anna
            .eval("return !!document.querySelector('figure.tile[data-participant]:not(.own) .badge.hand');")
            .await?;
        Ok(if shown == Value::Bool(true) { Ok(()) } else { Err(shown) })
    })
    .await?;
    anna.click("#open-people").await?;
    let hands = anna.text("#raised-hands").await?;
    ensure!(hands.contains("Ben"), "raised hands list: {hands:?}");

    anna.close().await?;
    ben.close().await?;
    Ok(())
}

/// Chat lines without the leading local time (`YYYY-MM-DD HH:MM:SS  `), which is checked
/// for its shape separately.
fn chat_lines(file: &str) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for line in file.lines() {
        if let Some(continued) = line.strip_prefix("    ") {
            let last: &mut String = lines.last_mut().context("continuation first")?;
            last.push('\n');
            last.push_str(continued);
            continue;
        }
        let (time, rest) = line.split_at_checked(21).context("short line")?;
        let shape_ok = time.len() == 21
            && time.as_bytes()[4] == b'-'
            && time.as_bytes()[10] == b' '
            && time.as_bytes()[13] == b':'
            && time.ends_with("  ");
        ensure!(shape_ok, "time stamp {time:?}");
        lines.push(rest.to_string());
    }
    Ok(lines)
}

async fn downloaded_chat(browser: &Browser, dir: &std::path::Path) -> Result<String> {
    browser.click("#chat-download").await?;
    eventually("the chat file", Duration::from_secs(15), || async {
        let file = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "txt"));
        Ok(match file {
            Some(path) => Ok(std::fs::read_to_string(path)?),
            None => Err("no file yet"),
        })
    })
    .await
}

async fn shown_messages(browser: &Browser) -> Result<Vec<(String, String)>> {
    if browser
        .eval("return !!document.querySelector('.messages');")
        .await?
        != Value::Bool(true)
    {
        browser.click("#open-chat").await?;
    }
    let value = browser
        .eval(
            "return [...document.querySelectorAll('.messages li.message')]
               .map(m => [m.querySelector('.sender').textContent, m.querySelector('.text').textContent]);",
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_public_private_as_text_and_as_a_file() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let downloads = relay.data_dir.join("downloads");
    let (ben_dir, cem_dir) = (downloads.join("ben"), downloads.join("cem"));
    std::fs::create_dir_all(&ben_dir)?;
    std::fs::create_dir_all(&cem_dir)?;
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser_with_downloads(Some(&ben_dir)).await?;
    let cem = driver.browser_with_downloads(Some(&cem_dir)).await?;
    for (browser, name) in [(&anna, "Anna"), (&ben, "Ben"), (&cem, "Cem")] {
        browser.join(&base, "chat", name).await?;
    }
    eventually("everyone to be in the room", MEDIA_TIMEOUT, || async {
        let count = anna.text("#people-count").await?;
        Ok(if count.starts_with('3') {
            Ok(())
        } else {
            Err(count)
        })
    })
    .await?;

    let markup = "<img src=x onerror=alert(1)>";
    let long = "Lang ".repeat(2000);
    let long = long.trim();
    anna.send_chat("Hallo zusammen, siehe https://example.org/info", None)
        .await?;
    // Ben has not opened the chat: the unread counter tells him.
    eventually("Ben's unread counter", MEDIA_TIMEOUT, || async {
        let unread = ben
            .eval(
                "const u = document.getElementById('chat-unread'); return u ? u.textContent : '';",
            )
            .await?;
        Ok(if unread.as_str().is_some_and(|u| u.starts_with('1')) {
            Ok(())
        } else {
            Err(unread)
        })
    })
    .await?;
    anna.send_chat("Nur für dich", Some("Ben")).await?;
    anna.send_chat(markup, None).await?;
    anna.send_chat(long, None).await?;

    let expected_ben: Vec<(String, String)> = [
        "Hallo zusammen, siehe https://example.org/info",
        "Nur für dich",
        markup,
        long,
    ]
    .iter()
    .map(|t| ("Anna".to_string(), t.to_string()))
    .collect();
    let seen_by_ben = eventually("Ben to see four messages", MEDIA_TIMEOUT, || async {
        let shown = shown_messages(&ben).await?;
        Ok(if shown.len() >= 4 {
            Ok(shown)
        } else {
            Err(shown)
        })
    })
    .await?;
    ensure!(seen_by_ben == expected_ben, "Ben sees {seen_by_ben:?}");
    let seen_by_cem = eventually("Cem to see three messages", MEDIA_TIMEOUT, || async {
        let shown = shown_messages(&cem).await?;
        Ok(if shown.len() >= 3 {
            Ok(shown)
        } else {
            Err(shown)
        })
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen_by_cem_later = shown_messages(&cem).await?;
    ensure!(
        seen_by_cem_later == seen_by_cem && !seen_by_cem.iter().any(|(_, t)| t == "Nur für dich"),
        "Cem sees the private message or more: {seen_by_cem_later:?}"
    );
    // Markup stays text: no image element was made, no script ran.
    let images = ben
        .eval("return document.querySelectorAll('.messages img').length;")
        .await?;
    ensure!(images == 0, "markup rendered as HTML");
    // The link is shown as a link, and nothing was fetched from it (the relay's own log
    // would not see it; the browser is in a namespace without any route out).
    let link = ben
        .eval("const a = document.querySelector('.messages a'); return a ? a.getAttribute('href') : null;")
        .await?;
    ensure!(link == "https://example.org/info", "link: {link}");

    let ben_file = downloaded_chat(&ben, &ben_dir).await?;
    let expected_lines = vec![
        "Anna: Hallo zusammen, siehe https://example.org/info".to_string(),
        "Anna → Ben (privat): Nur für dich".to_string(),
        format!("Anna: {markup}"),
        format!("Anna: {long}"),
    ];
    ensure!(
        chat_lines(&ben_file)? == expected_lines,
        "Ben's file: {ben_file:?}"
    );
    let cem_file = downloaded_chat(&cem, &cem_dir).await?;
    let mut cem_expected = expected_lines.clone();
    cem_expected.remove(1);
    ensure!(
        chat_lines(&cem_file)? == cem_expected,
        "Cem's file: {cem_file:?}"
    );

    for browser in [anna, ben, cem] {
        browser.close().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screen_share_camera_switch_and_low_quality() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser().await?;
    anna.join(&base, "bildschirm", "Anna").await?;
    ben.join(&base, "bildschirm", "Ben").await?;
    until(&ben, "Ben to see Anna", |s| s.live_videos() == 1).await?;

    // Anna shares her screen: Ben decodes a second, large video next to her camera.
    anna.click("#toggle-screen").await?;
    anna.wait_for(fantoccini::Locator::Id("sharing-banner"))
        .await?;
    let shared = until(&ben, "Ben to decode Anna's screen", |s| {
        s.tile("Anna", "screen")
            .is_some_and(|t| t.video_width >= 1000 && t.video_height >= 560)
            && s.tile("Anna", "camera").is_some_and(|t| t.video_width > 0)
    })
    .await?;
    ensure!(shared.live_videos() == 2, "{shared:?}");

    // Stopping removes the screen tile; the camera stays.
    anna.click("#sharing-banner button").await?;
    until(&ben, "the screen tile to go", |s| {
        s.tile("Anna", "screen").is_none() && s.tile("Anna", "camera").is_some()
    })
    .await?;

    // Anna switches to another camera (Chromium's third fake one; the second is a depth
    // camera WebRTC does not encode): the call stays up and her picture keeps coming.
    anna.click("#open-settings").await?;
    let switched = anna
        .eval(
            "const s = document.getElementById('camera-device');
             if (s.options.length < 4) return 'only ' + s.options.length + ' options';
             s.value = s.options[3].value;
             s.dispatchEvent(new Event('change', { bubbles: true }));
             return s.options[3].textContent;",
        )
        .await?;
    ensure!(switched == "fake_device_2", "{switched}");
    let shown = |s: &MediaStats| s.tile("Anna", "camera").map_or(0, |t| t.frames_shown);
    let before = shown(&ben.stats().await?);
    until(
        &ben,
        "Anna's picture to keep coming after the camera switch",
        |s| shown(s) >= before + 20,
    )
    .await?;
    let sent_from = anna
        .eval(
            "return window.__testPeerConnections.flatMap(pc => pc.getSenders())
               .filter(s => s.track && s.track.kind === 'video').map(s => s.track.label);",
        )
        .await?;
    ensure!(
        sent_from == serde_json::json!(["fake_device_2"]),
        "sending {sent_from}"
    );
    let status = anna.text("#media-status").await?;
    ensure!(status.contains("verschlüsselt"), "call not up: {status}");

    // Low quality: Anna's camera is sent scaled to at most 180 lines, and that is what Ben
    // decodes.
    anna.eval(
        "const q = document.getElementById('video-quality');
         q.value = 'low'; q.dispatchEvent(new Event('change', { bubbles: true })); return null;",
    )
    .await?;
    until(&ben, "Ben to decode at most 180 lines", |s| {
        s.tile("Anna", "camera")
            .is_some_and(|t| t.video_height > 0 && t.video_height <= 180)
    })
    .await?;
    // Of the camera's simulcast layers only the smallest is sent, 720 lines scaled down 4x.
    let sent = anna
        .eval(
            "const s = window.__testPeerConnections.flatMap(pc => pc.getSenders())
               .find(s => s.track && s.track.kind === 'video');
             return s.getParameters().encodings.filter(e => e.active)
               .map(e => e.rid + ':' + e.scaleResolutionDownBy).join();",
        )
        .await?;
    ensure!(sent == "l:4", "layers sent at 'low': {sent}");

    // Sharing again and stopping it from the browser's own bar (which ends the track) ends
    // it in the app too.
    anna.click("#toggle-screen").await?;
    until(&ben, "Ben to see the screen again", |s| {
        s.tile("Anna", "screen").is_some_and(|t| t.video_width > 0)
    })
    .await?;
    anna.eval(
        "const s = window.__testPeerConnections.flatMap(pc => pc.getSenders())
           .find(s => s.track && s.track.kind === 'video' && s.track.contentHint === 'detail');
         s.track.stop(); s.track.dispatchEvent(new Event('ended')); return null;",
    )
    .await?;
    until(
        &ben,
        "the screen tile to go after the browser's stop",
        |s| s.tile("Anna", "screen").is_none(),
    )
    .await?;
    let banner = anna
        .eval("return !!document.getElementById('sharing-banner');")
        .await?;
    ensure!(banner == false, "Anna still shows the sharing banner");

    anna.close().await?;
    ben.close().await?;
    Ok(())
}
