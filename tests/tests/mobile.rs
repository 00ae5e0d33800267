//! What phones do differently. A browser that starts sound only after a tap (Safari on an
//! iPhone when the page captures nothing; Chromium with a gesture-requiring autoplay policy
//! stands in) shows "Ton einschalten" on the counselor's picture, and one tap starts it. A
//! browser without screen sharing shows no button for it. Portrait video is shown whole; a
//! camera that goes away mid-call is noticed and the call goes on.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "telefon";

/// A relay, a driver, and the counselor in the room.
async fn counselor_in_the_room() -> Result<(Relay, Driver, Browser)> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    counselor.join(&relay.url(""), ROOM, "Frau Berger").await?;
    Ok((relay, driver, counselor))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_autoplay_gets_a_button_and_one_tap_starts_the_sound() -> Result<()> {
    // The counselor sends picture and sound; the family's page must start them.
    let (relay, driver, _counselor) = counselor_in_the_room().await?;
    let family = driver.browser_needing_a_tap().await?;
    family
        .client
        .goto(&relay.url(&format!("/r/{ROOM}")))
        .await?;
    family.wait_for(Locator::Id("display-name")).await?;
    // Everything by script, as a page a family opened and never touched: no activation yet.
    // Camera and microphone off: a page that captures may autoplay (Safari and Chromium).
    family
        .eval(
            "document.getElementById('display-name').value = 'Familie Demir';
             document.getElementById('join-mic').click();
             document.getElementById('join-camera').click();
             document.getElementById('consent').click();
             [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Beitreten').click();",
        )
        .await?;
    family.wait_for(Locator::Css("main.room")).await?;
    let button = family
        .client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(
            "figure.tile[data-participant]:not(.own) button.enable-sound",
        ))
        .await?;
    ensure!(button.text().await?.trim() == "Ton einschalten");
    let paused = family
        .eval("const v = document.querySelector('figure.tile[data-participant]:not(.own) video'); return !!v && v.paused;")
        .await?;
    ensure!(
        paused == Value::Bool(true),
        "the picture played without a tap"
    );

    // One tap (a real click) starts picture and sound, and the button goes.
    button.click().await?;
    family
        .until_true(
            "the counselor's picture and sound to play",
            Duration::from_secs(10),
            "const t = document.querySelector('figure.tile[data-participant]:not(.own)');
             const v = t && t.querySelector('video');
             return !!v && !v.paused && !v.muted && v.currentTime > 0 && !t.querySelector('button.enable-sound');",
        )
        .await?;
    Ok(())
}

/// A browser without screen sharing (every phone) shows no "Bildschirm teilen" button, one
/// without any full screen no "Vollbild" button, and the rest of the control bar is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_screen_sharing_there_is_no_share_button() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let phone = driver.browser().await?;
    phone
        .open_prejoin(&relay.url(&format!("/r/{ROOM}")), "Familie Demir")
        .await?;
    phone
        .eval(
            "delete MediaDevices.prototype.getDisplayMedia;
             delete Element.prototype.requestFullscreen;
             delete HTMLVideoElement.prototype.webkitEnterFullscreen;",
        )
        .await?;
    phone.press_join().await?;
    phone.wait_for(Locator::Id("toggle-mic")).await?;
    phone
        .wait_for(Locator::Css("figure.tile.own video"))
        .await?;
    let buttons = phone
        .eval("return [!!document.getElementById('toggle-screen'), !!document.getElementById('toggle-camera'), !!document.getElementById('toggle-hand'),
                       [...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Vollbild')];")
        .await?;
    ensure!(
        buttons == serde_json::json!([false, true, true, false]),
        "share, camera, hand, full-screen buttons present: {buttons}"
    );
    // On the desktop the button is there.
    let desktop = driver.browser().await?;
    desktop.join(&relay.url(""), ROOM, "Frau Berger").await?;
    desktop.wait_for(Locator::Id("toggle-screen")).await?;
    desktop.button("Vollbild").await?;
    Ok(())
}

/// A Y4M video of `frames` frames, `width` x `height`, a moving bar on grey.
fn y4m(width: usize, height: usize, frames: usize) -> Vec<u8> {
    let mut out = format!("YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n").into_bytes();
    for frame in 0..frames {
        out.extend(b"FRAME\n");
        let bar = (frame * 8) % height;
        for row in 0..height {
            let luma = if row / 16 == bar / 16 { 235 } else { 100 };
            out.extend(std::iter::repeat_n(luma, width));
        }
        out.extend(std::iter::repeat_n(128u8, width * height / 2));
    }
    out
}

/// A phone held upright sends portrait video; the counselor sees all of it (the tile
/// letterboxes instead of cropping to 16:9), at "standard" 360 pixels wide, not 202.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portrait_video_is_shown_whole_and_not_shrunk() -> Result<()> {
    let camera = std::env::temp_dir().join(format!("portrait-{}.y4m", std::process::id()));
    std::fs::write(&camera, y4m(720, 1280, 10))?;
    let (relay, driver, counselor) = counselor_in_the_room().await?;
    let base = relay.url("");
    let phone = driver.browser_with_camera_file(&camera).await?;
    phone.join(&base, ROOM, "Familie Demir").await?;
    // The encoder may start smaller while the bandwidth estimate ramps up.
    counselor
        .until_stats(
            "the counselor to see the upright picture at 360x640",
            Duration::from_secs(30),
            |s| {
                s.tile("Familie Demir", "camera").is_some_and(|t| {
                    (t.video_width, t.video_height) == (360, 640) && t.frames_shown > 10
                })
            },
        )
        .await?;
    let fit = counselor
        .eval("const v = document.querySelector('figure.tile[data-participant]:not(.own) video'); return getComputedStyle(v).objectFit;")
        .await?;
    ensure!(
        fit == "contain",
        "the upright picture is cropped: object-fit {fit}"
    );
    let _ = std::fs::remove_file(&camera);
    Ok(())
}

/// A camera that goes away mid-call (unplugged, taken by another app; here its track ends)
/// is noticed: the family is told, the camera shows as off for everyone, and the call goes
/// on with sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_that_goes_away_mid_call_is_noticed_and_the_call_goes_on() -> Result<()> {
    let (relay, driver, counselor) = counselor_in_the_room().await?;
    let base = relay.url("");
    let family = driver.browser().await?;
    family.join(&base, ROOM, "Familie Demir").await?;
    counselor
        .until_sees_and_hears("Familie Demir", Duration::from_secs(30))
        .await?;
    family
        .eval(
            "for (const pc of window.__testPeerConnections)
               for (const s of pc.getSenders())
                 if (s.track && s.track.kind === 'video') s.track.stop();",
        )
        .await?;
    family
        .until_true(
            "the family to be told",
            Duration::from_secs(10),
            "return document.body.innerText.includes('Die Kamera ist nicht mehr verfügbar')
                && document.getElementById('toggle-camera').getAttribute('aria-pressed') === 'true';",
        )
        .await?;
    counselor
        .until_stats(
            "the counselor to see the camera off",
            Duration::from_secs(10),
            |s| {
                s.tile("Familie Demir", "camera")
                    .is_some_and(|t| t.camera_off)
            },
        )
        .await?;
    let heard = counselor.stats().await?.audio_packets();
    counselor
        .until_stats(
            "the family's sound to go on",
            Duration::from_secs(10),
            |s| s.audio_packets() > heard + 50,
        )
        .await?;
    Ok(())
}

/// A remembered camera and microphone that are gone (unplugged, or their ids rotated, as
/// Safari does) give way to what is there: the family still joins with picture and sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_device_that_is_gone_gives_way_to_what_is_there() -> Result<()> {
    let (relay, driver, counselor) = counselor_in_the_room().await?;
    let base = relay.url("");
    let family = driver.browser().await?;
    family.client.goto(&relay.url("/")).await?;
    family.wait_for(Locator::Id("room-name")).await?;
    family
        .eval(
            "localStorage.setItem('sprechstunde.camera_device', 'eine-kamera-die-es-nicht-mehr-gibt');
             localStorage.setItem('sprechstunde.microphone_device', 'ein-mikrofon-das-es-nicht-mehr-gibt');",
        )
        .await?;
    family.join(&base, ROOM, "Familie Demir").await?;
    counselor
        .until_sees_and_hears("Familie Demir", Duration::from_secs(30))
        .await?;
    let told = family
        .eval("return document.body.innerText.includes('Keine Kamera')")
        .await?;
    ensure!(
        told == Value::Bool(false),
        "the family was told there is no camera"
    );
    Ok(())
}
