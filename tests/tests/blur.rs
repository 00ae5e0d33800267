//! Background blur: the frames the other participant decodes lose their background detail
//! while the person stays sharp; the runtime comes from the relay only, and only once blur is
//! switched on; the choice survives a reload, but not on a kiosk tablet.
//!
//! The sender's fake camera plays `fixtures/blur-person.y4m`: a portrait in the middle, fine
//! gravel to the left and right.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use serde::Deserialize;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::receiving::choose;
use sprechstunde_tests::relay::Relay;

/// Mean absolute Laplacian (4-neighbour, on luma) of the remote camera video, in two parts of
/// the frame: the gravel at the sides and the face in the middle. Fractions of the frame, so
/// that a scaled-down stream is measured the same way.
const MEASURE_DETAIL: &str = r#"
const video = document.querySelector("figure.tile[data-participant][data-source='camera']:not(.own) video");
if (!video || video.videoWidth === 0) return null;
const w = video.videoWidth, h = video.videoHeight;
const canvas = document.createElement('canvas');
canvas.width = w; canvas.height = h;
const ctx = canvas.getContext('2d', { willReadFrequently: true });
ctx.drawImage(video, 0, 0, w, h);
const data = ctx.getImageData(0, 0, w, h).data;
const luma = (x, y) => { const i = (y * w + x) * 4; return 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]; };
const detail = (x0, x1, y0, y1) => {
  let sum = 0, n = 0;
  for (let y = Math.max(1, Math.floor(y0 * h)); y < Math.min(h - 1, Math.floor(y1 * h)); y++) {
    for (let x = Math.max(1, Math.floor(x0 * w)); x < Math.min(w - 1, Math.floor(x1 * w)); x++) {
      sum += Math.abs(4 * luma(x, y) - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1));
      n++;
    }
  }
  return sum / n;
};
const left = detail(0.01, 0.19, 0.05, 0.95), right = detail(0.81, 0.99, 0.05, 0.95);
return { width: w, height: h, background: (left + right) / 2, face: detail(0.43, 0.56, 0.08, 0.32) };
"#;

#[derive(Debug, Deserialize, Clone, Copy)]
struct Detail {
    width: u64,
    height: u64,
    background: f64,
    face: f64,
}

/// Median over a few frames a quarter second apart: one frame may be mid-keyframe.
async fn detail(viewer: &Browser) -> Result<Detail> {
    let mut samples = Vec::new();
    for _ in 0..7 {
        let value = viewer.eval(MEASURE_DETAIL).await?;
        if let Ok(sample) = serde_json::from_value::<Detail>(value) {
            samples.push(sample);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ensure!(samples.len() >= 5, "the remote video could not be read");
    let median = |pick: fn(&Detail) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Ok(Detail {
        background: median(|d| d.background),
        face: median(|d| d.face),
        ..samples[0]
    })
}

async fn loaded_urls(browser: &Browser) -> Result<Vec<String>> {
    let value = browser
        .eval("return performance.getEntries().map((e) => e.name).filter((n) => n.includes(':'));")
        .await?;
    Ok(serde_json::from_value(value)?)
}

async fn blur_checked(browser: &Browser) -> Result<bool> {
    Ok(browser
        .wait_for(Locator::Id("background-blur"))
        .await?
        .prop("checked")
        .await?
        .as_deref()
        == Some("true"))
}

const BLUR_RUNNING: &str =
    "const s = document.getElementById('blur-status'); return !!s && s.dataset.running === 'true' && Number(s.dataset.fps) > 0;";

/// The family (camera: the fixture) and the counselor in a call; the family switches blur
/// on. Returns the browsers and the detail the counselor sees before and with blur.
struct BlurredCall {
    relay: Relay,
    _driver: Driver,
    family: Browser,
    counselor: Browser,
    sharp: Detail,
    blurred: Detail,
}

async fn blurred_call(family_without_canvas_filter: bool) -> Result<BlurredCall> {
    let relay = Relay::start()?;
    let origin = relay.url("");
    let driver = Driver::start().await?;
    let fixture = sprechstunde_tests::workspace_root().join("tests/fixtures/blur-person.y4m");
    let family = driver.browser_with_camera_file(&fixture).await?;
    if family_without_canvas_filter {
        family
            .before_every_page("delete CanvasRenderingContext2D.prototype.filter;")
            .await?;
    }
    let counselor = driver.browser().await?;
    family.join(&origin, "unschaerfe", "Familie").await?;
    counselor.join(&origin, "unschaerfe", "Beratung").await?;
    // One picture size throughout, so that detail is compared like with like: the smallest
    // simulcast layer (the 640x360 camera halved). With "Automatisch" the layer follows the
    // bandwidth estimate, which this busy machine's own load moves.
    choose(&counselor, "receive-quality", "low").await?;
    // Settled: the encoder starts soft and sharpens over a few seconds.
    counselor
        .until_stats(
            "the family's video at the small layer's size",
            Duration::from_secs(30),
            |s| {
                s.video
                    .iter()
                    .any(|v| v.frame_width == 320 && v.frames_decoded > 90)
            },
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sharp = detail(&counselor).await?;
    let before: Vec<String> = loaded_urls(&family).await?;
    ensure!(
        !before.iter().any(|u| u.contains("/vendor/")),
        "the blur runtime was loaded before anyone asked for blur: {before:?}"
    );

    family.click("#open-settings").await?;
    family.click("#background-blur").await?;
    family
        .until_true("blur runs", Duration::from_secs(60), BLUR_RUNNING)
        .await?;
    // The new track reaches the other side through the same line; let it settle.
    let frames_then = counselor.stats().await?.frames_decoded();
    counselor
        .until_stats("blurred frames arrive", Duration::from_secs(20), |s| {
            s.frames_decoded() > frames_then + 60 && s.video.iter().any(|v| v.frame_width == 320)
        })
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let blurred = detail(&counselor).await?;
    Ok(BlurredCall {
        relay,
        _driver: driver,
        family,
        counselor,
        sharp,
        blurred,
    })
}

/// The background loses its detail, the face keeps it.
fn assert_blurred(sharp: Detail, blurred: Detail) -> Result<()> {
    // The sender's browser may send a smaller picture while blur loads its processor (the
    // camera is two simulcast encoders): same shape, not larger. A smaller picture has more
    // detail per pixel, not less, so the comparison below only gets stricter.
    ensure!(
        blurred.width * sharp.height == blurred.height * sharp.width
            && blurred.width <= sharp.width,
        "the blurred video has another shape: {blurred:?} vs {sharp:?}"
    );
    ensure!(
        blurred.background < sharp.background * 0.4,
        "the background kept its detail: {:.2} with blur, {:.2} without",
        blurred.background,
        sharp.background
    );
    ensure!(
        blurred.face > sharp.face * 0.6,
        "the face lost its detail too (the person must stay sharp): {:.2} with blur, {:.2} without",
        blurred.face,
        sharp.face
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_side_sees_the_background_blurred() -> Result<()> {
    let BlurredCall {
        relay,
        _driver,
        family,
        counselor,
        sharp,
        blurred,
    } = blurred_call(false).await?;
    let origin = relay.url("");
    let status = family.text("#blur-status").await?;
    let fps: f64 = family
        .eval("return Number(document.getElementById('blur-status').dataset.fps);")
        .await?
        .as_f64()
        .unwrap_or(0.0);
    let mask_fps: f64 = family
        .eval("return Number(document.getElementById('blur-status').dataset.maskFps);")
        .await?
        .as_f64()
        .unwrap_or(0.0);
    eprintln!(
        "detail without blur {sharp:?}, with blur {blurred:?}; {fps:.1} fps, {mask_fps:.1} masks/s; status {status:?}"
    );
    assert_blurred(sharp, blurred)?;
    ensure!(
        status.contains("Hintergrund unscharf"),
        "status: {status:?}"
    );

    let after = loaded_urls(&family).await?;
    ensure!(
        after.iter().any(|u| u.ends_with(
            "/vendor/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.wasm"
        )),
        "the runtime did not come from the relay: {after:?}"
    );
    let counselor_urls = loaded_urls(&counselor).await?;
    let foreign: Vec<&String> = after
        .iter()
        .chain(&counselor_urls)
        .filter(|u| !u.starts_with(&origin))
        .collect();
    ensure!(foreign.is_empty(), "requests elsewhere: {foreign:?}");
    ensure!(
        relay.metric("csp_violations_total")? == 0.0,
        "the blur runtime broke the Content-Security-Policy"
    );

    // Switched off mid-call: the call goes on with the sharp picture.
    family.click("#background-blur").await?;
    let frames_then = counselor.stats().await?.frames_decoded();
    counselor
        .until_stats(
            "frames keep coming after blur is off",
            Duration::from_secs(20),
            |s| s.frames_decoded() > frames_then + 60,
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sharp_again = detail(&counselor).await?;
    ensure!(
        sharp_again.background > blurred.background * 2.0,
        "the background stayed blurred after switching off: {sharp_again:?}"
    );
    family.close().await?;
    counselor.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blur_choice_survives_a_reload_but_not_on_a_kiosk() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;

    browser.client.goto(&relay.url("/r/merken")).await?;
    ensure!(
        !blur_checked(&browser).await?,
        "blur is on before anyone chose it"
    );
    browser.click("#background-blur").await?;
    browser.client.refresh().await?;
    ensure!(
        blur_checked(&browser).await?,
        "blur was forgotten after a reload"
    );
    let stored = browser
        .eval("return localStorage.getItem('sprechstunde.background_blur');")
        .await?;
    ensure!(stored == "on", "stored {stored}");
    // With the preview on, the blur starts right there in pre-join.
    browser.start_preview().await?;
    browser
        .until_true(
            "blur runs in the preview",
            Duration::from_secs(60),
            BLUR_RUNNING,
        )
        .await?;

    browser.close().await?;

    // A kiosk tablet: a profile of its own.
    let browser = driver.browser().await?;
    browser.client.goto(&relay.url("/kiosk/merken")).await?;
    ensure!(
        !blur_checked(&browser).await?,
        "blur is on before anyone chose it"
    );
    browser.click("#background-blur").await?;
    let length = browser.eval("return localStorage.length;").await?;
    ensure!(length == 0, "the kiosk stored {length} items");
    browser.client.refresh().await?;
    ensure!(
        !blur_checked(&browser).await?,
        "a kiosk tablet remembered blur across a reload"
    );
    browser
        .client
        .find(Locator::Id("display-name"))
        .await
        .context("kiosk pre-join")?;
    browser.close().await?;
    Ok(())
}

/// Safari before 18 has no canvas `filter`: the background is as unrecognisable there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_canvas_filters_the_background_is_blurred_as_much() -> Result<()> {
    let call = blurred_call(true).await?;
    let missing = call
        .family
        .eval("return 'filter' in CanvasRenderingContext2D.prototype;")
        .await?;
    ensure!(missing == false, "the canvas filter is still there");
    eprintln!(
        "without canvas filter: detail without blur {:?}, with blur {:?}",
        call.sharp, call.blurred
    );
    assert_blurred(call.sharp, call.blurred)?;
    // Measured here: with the filter 2 % of the background detail is left, scaling alone
    // (the code before the extra step) left 7 %, the extra step 5 %.
    ensure!(
        call.blurred.background < call.sharp.background * 0.06,
        "the background is less blurred than with a canvas filter: {:.2} of {:.2}",
        call.blurred.background,
        call.sharp.background
    );
    Ok(())
}
