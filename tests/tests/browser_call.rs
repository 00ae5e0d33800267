//! Real relay, real headless Chromium with fake camera and microphone, driven through the
//! UI: media really flows through the SFU between two and three participants, leaving is
//! seen by the others, and another room receives nothing.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::{Browser, Driver, Inbound, MediaStats};
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;

const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// Wait until `browser` shows `count` remote videos with decoded frames and received audio.
async fn wait_for_media(browser: &Browser, count: usize, who: &str) -> Result<MediaStats> {
    eventually(
        &format!("{who} to decode {count} remote videos"),
        MEDIA_TIMEOUT,
        || async {
            let stats = browser.stats().await?;
            let decoding = stats.video.iter().filter(|v| v.frames_decoded > 0).count();
            let hearing = stats
                .audio
                .iter()
                .filter(|a| a.packets_received > 0)
                .count();
            Ok(
                if stats.live_videos() == count
                    && stats.tiles.len() == count
                    && decoding >= count
                    && hearing >= count
                {
                    Ok(stats)
                } else {
                    Err(stats)
                },
            )
        },
    )
    .await
}

/// Media keeps flowing from everyone on the stage: for each remote participant a video
/// track whose decoded frames grow and an audio track whose packets grow. Compared track by
/// track, because a stopped track (someone left) drops out of the statistics. The bar is
/// "growing", not a frame rate: three browsers encoding on two cores run at a few fps.
async fn assert_media_grows(browser: &Browser, who: &str) -> Result<()> {
    let before = browser.stats().await?;
    let grown = |after: &MediaStats,
                 kind: fn(&MediaStats) -> &[Inbound],
                 value: fn(&Inbound) -> u64,
                 by: u64| {
        kind(after)
            .iter()
            .filter(|a| {
                kind(&before)
                    .iter()
                    .find(|b| b.track_identifier == a.track_identifier)
                    .is_some_and(|b| value(a) >= value(b) + by)
            })
            .count()
    };
    eventually(&format!("{who}'s media to keep flowing"), Duration::from_secs(10), || async {
        let after = browser.stats().await?;
        let expected = after.tiles.len();
        let videos = grown(&after, |s| &s.video, |v| v.frames_decoded, 3);
        let audios = grown(&after, |s| &s.audio, |a| a.packets_received, 25);
        Ok(if expected > 0 && videos >= expected && audios >= expected {
            Ok(())
        } else {
            Err(format!("of {expected} remote participants, {videos} videos and {audios} audios grew since {before:?}: now {after:?}"))
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_then_three_participants_see_and_hear_each_other() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser().await?;

    anna.join(&base, "beratung", "Anna").await?;
    let opened = Instant::now();
    ben.join(&base, "Beratung", "Ben").await?;

    // Time from opening the link to the first decoded remote frame, for the closing note.
    eventually("Ben's first decoded frame", MEDIA_TIMEOUT, || async {
        let stats = ben.stats().await?;
        Ok(if stats.frames_decoded() > 0 {
            Ok(())
        } else {
            Err(stats)
        })
    })
    .await?;
    println!(
        "time from room link to first remote frame: {} ms",
        opened.elapsed().as_millis()
    );

    let anna_sees = wait_for_media(&anna, 1, "Anna").await?;
    let ben_sees = wait_for_media(&ben, 1, "Ben").await?;
    ensure!(
        anna_sees.tiles[0].name == "Ben",
        "Anna's tile is named {:?}",
        anna_sees.tiles[0].name
    );
    ensure!(
        ben_sees.tiles[0].name == "Anna",
        "Ben's tile is named {:?}",
        ben_sees.tiles[0].name
    );
    // Chromium's fake camera is 640x480; nothing in between scales it down at this rate.
    ensure!(ben_sees.tiles[0].video_width > 0 && ben_sees.tiles[0].video_height > 0);
    assert_media_grows(&anna, "Anna").await?;
    assert_media_grows(&ben, "Ben").await?;
    // The status line says honestly how media travels, once it does.
    let status = anna.text("#media-status").await?;
    ensure!(
        status.contains("verschlüsselt zum Server"),
        "media status: {status:?}"
    );

    // The relay itself forwarded it: its counters grow with the call.
    let forwarded = relay.metric("media_samples_forwarded_total")?;
    let received = relay.metric("datagrams_received_total")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    ensure!(relay.metric("media_samples_forwarded_total")? > forwarded + 50.0);
    ensure!(relay.metric("datagrams_received_total")? > received + 50.0);
    ensure!(relay.metric("keyframe_requests_sent_total")? >= 1.0);
    ensure!(relay.metric("participants")? == 2.0);

    let clara = driver.browser().await?;
    clara.join(&base, "beratung", "Clara").await?;
    wait_for_media(&clara, 2, "Clara").await?;
    wait_for_media(&anna, 2, "Anna").await?;
    wait_for_media(&ben, 2, "Ben").await?;
    assert_media_grows(&clara, "Clara").await?;
    ensure!(clara.text("#people-count").await?.starts_with("3 "));

    // Clara leaves through the button: the others lose her tile within 3 seconds.
    clara.button("Verlassen").await?.click().await?;
    let left_at = Instant::now();
    for (browser, who) in [(&anna, "Anna"), (&ben, "Ben")] {
        eventually(
            &format!("{who} to drop Clara's tile"),
            Duration::from_secs(3),
            || async {
                let stats = browser.stats().await?;
                Ok(if stats.tiles.len() == 1 {
                    Ok(())
                } else {
                    Err(stats.tiles)
                })
            },
        )
        .await?;
    }
    println!(
        "tile removed {} ms after leaving",
        left_at.elapsed().as_millis()
    );
    ensure!(
        clara.text("main h1").await? == "Sie haben die Sitzung verlassen.",
        "Clara does not see the after-leaving screen"
    );
    assert_media_grows(&anna, "Anna after Clara left").await?;
    ensure!(relay.metric("participants")? == 2.0);

    for browser in [anna, ben, clara] {
        browser.close().await?;
    }

    // All of it ran under the Content-Security-Policy without a single violation.
    ensure!(relay.metric("csp_violations_total")? == 0.0);
    // Names never reach the relay's log or its files (the database among them).
    ensure!(
        relay.log().contains("join"),
        "the relay log is empty; the check below would prove nothing"
    );
    for name in ["Anna", "Ben", "Clara"] {
        let files = relay.files_containing(name)?;
        ensure!(files.is_empty(), "{name} appears in {files:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_in_another_room_receives_nothing() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser().await?;
    let xaver = driver.browser().await?;

    anna.join(&base, "raum-eins", "Anna").await?;
    ben.join(&base, "raum-eins", "Ben").await?;
    xaver.join(&base, "raum-zwei", "Xaver").await?;
    wait_for_media(&anna, 1, "Anna").await?;
    wait_for_media(&ben, 1, "Ben").await?;

    // Room one is in full flow; give room two every chance to receive something.
    assert_media_grows(&ben, "Ben").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let xaver_sees = xaver.stats().await?;
    ensure!(
        xaver_sees.tiles.is_empty(),
        "Xaver sees tiles: {:?}",
        xaver_sees.tiles
    );
    ensure!(
        xaver_sees.bytes_received() == 0,
        "Xaver received media bytes from another room: {xaver_sees:?}"
    );
    ensure!(
        xaver.text("main.room .alone").await?.contains("niemand"),
        "Xaver is not told he is alone"
    );
    // And the others never learn of Xaver.
    ensure!(anna.stats().await?.tiles.len() == 1);
    ensure!(ben.stats().await?.tiles.len() == 1);

    for browser in [anna, ben, xaver] {
        browser.close().await?;
    }
    Ok(())
}
