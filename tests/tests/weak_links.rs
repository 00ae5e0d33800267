//! Weak links (#19): a family on weak mobile data gets the counselor's camera in the layer
//! its link carries, without freezes, while someone on a good link keeps the large one; when
//! the link recovers the picture grows again, and when not even the smallest layer fits, the
//! video pauses with a notice while the sound goes on.
//!
//! Anna (sending, "Hoch") and Cara are on one host with an open link; Ben's host gets at
//! most what `tc` lets through.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::netns::RELAY_IP;
use sprechstunde_tests::receiving::{choose, received, until_received, until_received_within};
use sprechstunde_tests::two_hosts::{TwoHosts, ROOM};

async fn join_without_camera(browser: &Browser, base: &str, name: &str) -> Result<()> {
    browser
        .open_prejoin(&format!("{base}/r/{ROOM}"), name)
        .await?;
    browser.click("label[for='join-camera']").await?;
    browser.press_join().await
}

const PAUSED_NOTICE: &str =
    "const n = document.querySelector('figure.tile[data-participant]:not(.own) .video-paused'); return !!n && n.textContent.includes('Video pausiert');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_link_gets_a_smaller_layer_then_a_pause_and_recovers() -> Result<()> {
    let call = TwoHosts::ready(None).await?;
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    let (anna, ben) = (&call.anna, &call.ben);
    let cara = call.browser_beside_anna().await?;
    anna.join(&base, ROOM, "Anna").await?;
    choose(anna, "video-quality", "high").await?;
    join_without_camera(ben, &base, "Ben").await?;
    join_without_camera(&cara, &base, "Cara").await?;
    for (who, browser) in [("Ben", ben), ("Cara", &cara)] {
        until_received(browser, &format!("{who} to get Anna's 720 lines"), |r| {
            r.frame_height >= 700
        })
        .await?;
    }

    // Ben's downlink drops to 400 kbit/s: the middle layer no longer fits, the small one does.
    call.ben_host.limit_incoming(400)?;
    let capped = Instant::now();
    until_received(ben, "Ben to get at most 180 lines", |r| {
        r.frame_height > 0 && r.frame_height <= 180
    })
    .await?;
    println!(
        "Ben down to the small layer {:?} after the cap",
        capped.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (settled, cara_settled) = (received(ben).await?, received(&cara).await?);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (later, cara_later) = (received(ben).await?, received(&cara).await?);
    let (decoded, frozen) = (
        later.frames_decoded - settled.frames_decoded,
        later.freezes - settled.freezes,
    );
    // Cara's open link over the same 10 s: what the machine's own load costs.
    let cara_frozen = cara_later.freezes - cara_settled.freezes;
    println!(
        "over 10 s capped: Ben {decoded} frames decoded, {frozen:.2} s frozen; Cara (open) {:.2} s frozen",
        cara_frozen
    );
    // Padding toward the next layer once froze Ben's picture 6 s in 10 here.
    ensure!(
        decoded >= 80 && frozen < 2.0 && later.frame_height <= 180,
        "Ben's picture on the capped link: {decoded} frames in 10 s, {frozen:.2} s frozen, {} lines",
        later.frame_height
    );
    let cara_now = received(&cara).await?;
    ensure!(
        cara_now.frame_height >= 700,
        "Cara on her open link lost the large layer: {cara_now:?}"
    );

    // The cap lifted: Ben climbs back.
    call.ben_host.unlimit_incoming()?;
    let lifted = Instant::now();
    until_received_within(
        ben,
        "Ben to climb back to 720 lines",
        Duration::from_secs(15),
        |r| r.frame_height >= 700,
    )
    .await?;
    println!(
        "Ben back to 720 lines {:?} after the cap was lifted",
        lifted.elapsed()
    );

    // 120 kbit/s: not even the small layer fits. The video pauses with a notice, the sound
    // goes on.
    call.ben_host.limit_incoming(120)?;
    ben.until_true(
        "Ben to see the paused-video notice",
        Duration::from_secs(30),
        PAUSED_NOTICE,
    )
    .await?;
    ben.screenshot_if_asked("video-paused").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let paused_from = received(ben).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let paused_to = received(ben).await?;
    let video = paused_to.video_bytes - paused_from.video_bytes;
    let audio = paused_to.audio_packets - paused_from.audio_packets;
    println!("Ben paused, over 4 s: {video} video bytes, {audio} audio packets");
    ensure!(
        video < 20_000,
        "video kept coming while paused: {video} bytes in 4 s"
    );
    ensure!(
        audio >= 150,
        "Ben's sound stopped while his video was paused: {audio} packets in 4 s"
    );

    // Whole again: video comes back and the notice goes.
    call.ben_host.unlimit_incoming()?;
    let whole = Instant::now();
    ben.until_true(
        "the notice to go",
        Duration::from_secs(30),
        "return !document.querySelector('.video-paused');",
    )
    .await?;
    until_received(ben, "Ben's picture to come back", |r| {
        r.frames_decoded > paused_to.frames_decoded + 30
    })
    .await?;
    println!(
        "Ben's video back {:?} after the link healed",
        whole.elapsed()
    );
    cara.close().await?;
    Ok(())
}
