//! Staying in the call when the network misbehaves: real relay, real headless Chromium, and
//! for broken paths each browser on a host of its own (a network namespace joined by a veth
//! pair, see `netns.rs`) whose packets nftables drops.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver, MediaStats};
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;
use sprechstunde_tests::two_hosts::{
    both_see_each_other, camera_of, TwoHosts, MEDIA_TIMEOUT, ROOM,
};

async fn until<F>(browser: &Browser, what: &str, timeout: Duration, check: F) -> Result<MediaStats>
where
    F: Fn(&MediaStats) -> bool,
{
    browser.until_stats(what, timeout, check).await
}

/// Sample `watcher`'s view of `name` once a second for `seconds`: the tile must stay (same
/// participant id) and its frames must grow every second.
async fn media_keeps_flowing(watcher: &Browser, name: &str, seconds: u32) -> Result<String> {
    let (id, mut frames) = camera_of(&watcher.stats().await?, name)
        .with_context(|| format!("{name}'s video is not shown"))?;
    for second in 1..=seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (now_id, now_frames) = camera_of(&watcher.stats().await?, name)
            .with_context(|| format!("{name}'s tile went away after {second} s"))?;
        ensure!(
            now_id == id,
            "{name} came back as another participant: {id} -> {now_id}"
        );
        ensure!(
            now_frames > frames,
            "{name}'s video stood still in second {second}: {frames} -> {now_frames}"
        );
        frames = now_frames;
    }
    Ok(id)
}

async fn shows_reconnecting(browser: &Browser) -> Result<bool> {
    Ok(browser
        .eval("return !!document.getElementById('reconnecting');")
        .await?
        == Value::Bool(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signaling_cut_is_resumed_and_a_long_one_ends_in_a_clean_rejoin() -> Result<()> {
    // Bound whole: its parts must live to the end of the test.
    let call = TwoHosts::call(None).await?;
    let (anna, ben, relay, anna_host) = (&call.anna, &call.ben, &call.relay, &call.anna_host);
    let http_port = call.http_port;

    // 3 s without signaling: nothing visible happens, media never stops.
    let id_before = camera_of(&ben.stats().await?, "Anna")
        .context("Anna's tile")?
        .0;
    anna_host.cut_tcp(http_port)?;
    let id_during = media_keeps_flowing(ben, "Anna", 3).await?;
    anna_host.heal()?;
    let id_after = media_keeps_flowing(ben, "Anna", 3).await?;
    ensure!(
        id_before == id_during && id_during == id_after,
        "Anna changed identity: {id_before} / {id_during} / {id_after}"
    );

    // 20 s: both sides notice and the relay keeps Anna's session; she resumes it as the
    // same participant, Ben never sees her leave, and a message sent meanwhile reaches her.
    anna_host.cut_tcp(http_port)?;
    let id_resumed = media_keeps_flowing(ben, "Anna", 18).await?;
    ben.click("#open-chat").await?;
    ben.eval(
        "document.getElementById('chat-input').value = 'Nachricht-waehrend-der-Pause';
         document.getElementById('chat-send').click();",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    anna_host.heal()?;
    eventually(
        "Anna to be back without a notice",
        MEDIA_TIMEOUT,
        || async {
            Ok(if shows_reconnecting(anna).await? {
                Err(())
            } else {
                Ok(())
            })
        },
    )
    .await?;
    ensure!(
        id_resumed == id_after,
        "Anna came back as another participant"
    );
    media_keeps_flowing(ben, "Anna", 2).await?;
    anna.click("#open-chat").await?;
    eventually("the message sent meanwhile to reach Anna", Duration::from_secs(10), || async {
        let shown = anna
            .eval("return document.querySelector('.messages').textContent.includes('Nachricht-waehrend-der-Pause');")
            .await?;
        Ok(if shown == Value::Bool(true) { Ok(()) } else { Err(shown) })
    })
    .await?;
    ensure!(
        relay.log().contains("resumed"),
        "the relay log shows no resume"
    );

    // 40 s: Anna notices, shows it, and after the relay let her go joins afresh by herself.
    anna_host.cut_tcp(http_port)?;
    let cut = Instant::now();
    eventually(
        "Anna to show that she reconnects",
        Duration::from_secs(25),
        || async {
            Ok(if shows_reconnecting(anna).await? {
                Ok(())
            } else {
                Err(())
            })
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(40).saturating_sub(cut.elapsed())).await;
    anna_host.heal()?;
    let back = until(ben, "Ben to see Anna again", Duration::from_secs(40), |s| {
        camera_of(s, "Anna").is_some_and(|(id, frames)| id != id_after && frames > 10)
    })
    .await?;
    until(anna, "Anna to see Ben again", MEDIA_TIMEOUT, |s| {
        camera_of(s, "Ben").is_some_and(|(_, frames)| frames > 10)
    })
    .await?;
    ensure!(
        !shows_reconnecting(anna).await?,
        "Anna still shows the reconnect notice"
    );
    println!(
        "long cut: Anna back as {:?} after {:?}",
        camera_of(&back, "Anna"),
        cut.elapsed()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_media_path_comes_back_by_ice_restart() -> Result<()> {
    let call = TwoHosts::call(None).await?;
    let (anna, ben, relay, anna_host) = (&call.anna, &call.ben, &call.relay, &call.anna_host);
    let media_port = call.media_port;
    let id = camera_of(&ben.stats().await?, "Anna").context("tile")?.0;

    anna_host.cut_udp(media_port)?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let stalled = camera_of(&ben.stats().await?, "Anna").context("Anna's tile went away")?;
    anna_host.heal()?;
    let healed = Instant::now();
    until(
        ben,
        "Anna's video to move again at Ben",
        MEDIA_TIMEOUT,
        |s| {
            camera_of(s, "Anna")
                .is_some_and(|(now_id, frames)| now_id == id && frames > stalled.1 + 30)
        },
    )
    .await?;
    let anna_sees = camera_of(&anna.stats().await?, "Ben")
        .context("Ben's tile")?
        .1;
    until(
        anna,
        "Ben's video to move again at Anna",
        MEDIA_TIMEOUT,
        |s| camera_of(s, "Ben").is_some_and(|(_, frames)| frames > anna_sees + 30),
    )
    .await?;
    println!("media back {:?} after the path healed", healed.elapsed());
    ensure!(
        relay.log().contains("ICE restart requested"),
        "Anna's client never asked for an ICE restart"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_browser_is_gone_for_the_others_within_10_s() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let anna_driver = Driver::start().await?;
    let ben_driver = Driver::start().await?;
    let anna = anna_driver.browser().await?;
    let ben = ben_driver.browser().await?;
    anna.join(&base, ROOM, "Anna").await?;
    let alone = relay.metric("participants")?;
    ben.join(&base, ROOM, "Ben").await?;
    both_see_each_other(&anna, &ben, MEDIA_TIMEOUT).await?;
    ensure!(relay.metric("participants")? == alone + 1.0);

    // SIGKILL to Ben's chromedriver and Chromium: no goodbye of any kind.
    drop(ben);
    drop(ben_driver);
    let killed = Instant::now();
    until(&anna, "Ben's tile to go", Duration::from_secs(10), |s| {
        s.tiles.is_empty()
    })
    .await?;
    let seen_after = killed.elapsed();
    eventually(
        "the relay to let Ben go",
        Duration::from_secs(5),
        || async {
            let now = relay.metric("participants")?;
            Ok(if now == alone { Ok(()) } else { Err(now) })
        },
    )
    .await?;
    println!("Ben's leave seen after {seen_after:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_relay_restart_three_find_each_other_again() -> Result<()> {
    let mut relay = Relay::start_fixed(&[])?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let people = ["Anna", "Ben", "Cem"];
    let mut browsers = Vec::new();
    for name in people {
        let browser = driver.browser().await?;
        browser.join(&base, ROOM, name).await?;
        browsers.push(browser);
    }
    for browser in &browsers {
        until(
            browser,
            "everyone to see the two others",
            MEDIA_TIMEOUT,
            |s| s.live_videos() == 2,
        )
        .await?;
    }
    for crash in [false, true] {
        if crash {
            relay.crash_and_restart()?;
        } else {
            relay.restart()?;
        }
        let restarted = Instant::now();
        all_see_the_others_moving(&browsers, &people).await?;
        println!(
            "all three back {:?} after the relay {}",
            restarted.elapsed(),
            if crash { "crashed" } else { "restarted" }
        );
        ensure!(restarted.elapsed() < Duration::from_secs(15));
    }
    Ok(())
}

/// Everyone sees every other one's camera moving (frozen pictures of before do not count).
async fn all_see_the_others_moving(browsers: &[Browser], people: &[&str]) -> Result<()> {
    for (browser, name) in browsers.iter().zip(people) {
        let others: Vec<&str> = people.iter().copied().filter(|o| o != name).collect();
        eventually(
            &format!("{name} to see the two others moving"),
            Duration::from_secs(20),
            || async {
                let before = browser.stats().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
                let after = browser.stats().await?;
                let moving = others.iter().all(|other| {
                    match (camera_of(&before, other), camera_of(&after, other)) {
                        (Some((id, then)), Some((same, now))) => id == same && now > then + 5,
                        _ => false,
                    }
                });
                Ok(if moving { Ok(()) } else { Err(after.tiles) })
            },
        )
        .await?;
    }
    Ok(())
}

/// Audio of `stats` summed: (packets received, packets lost, samples concealed, samples).
fn audio_totals(stats: &MediaStats) -> (u64, i64, u64, u64) {
    stats.audio.iter().fold((0, 0, 0, 0), |acc, a| {
        (
            acc.0 + a.packets_received,
            acc.1 + a.packets_lost,
            acc.2 + a.concealed_samples,
            acc.3 + a.total_samples_received,
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_loss_and_150_ms_round_trip_keep_the_call_going() -> Result<()> {
    // 75 ms each way: a 150 ms round trip for all media.
    let call = TwoHosts::call(Some(Duration::from_millis(75))).await?;
    let (ben, ben_host) = (&call.ben, &call.ben_host);

    // Ben loses 5 % of everything coming to him, for a minute.
    ben_host.lose_incoming_udp(5)?;
    let start = audio_totals(&ben.stats().await?);
    let video_start = ben
        .stats()
        .await?
        .video
        .iter()
        .map(|v| (v.packets_lost, v.nack_count))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    media_keeps_flowing(ben, "Anna", 60).await?;
    let end_stats = ben.stats().await?;
    ben_host.heal()?;
    let end = audio_totals(&end_stats);
    let video_end = end_stats
        .video
        .iter()
        .map(|v| (v.packets_lost, v.nack_count))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let received = end.0 - start.0;
    let lost = (end.1 - start.1).max(0) as u64;
    let concealed = end.2 - start.2;
    let samples = (end.3 - start.3).max(1);
    let unrecovered = concealed as f64 / samples as f64;
    println!(
        "audio under 5 % loss, 150 ms RTT, 60 s: {received} packets received, {lost} lost on the wire ({:.1} %), {:.2} % of samples concealed; video: {} packets lost, {} NACKs sent",
        100.0 * lost as f64 / (received + lost).max(1) as f64,
        100.0 * unrecovered,
        video_end.0 - video_start.0,
        video_end.1 - video_start.1,
    );
    ensure!(
        received > 2500,
        "audio did not keep flowing: {received} packets in 60 s"
    );
    ensure!(
        unrecovered < 0.01,
        "{:.2} % of the audio was lost after recovery",
        100.0 * unrecovered
    );
    Ok(())
}
