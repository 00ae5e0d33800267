//! Phones and tablets, in Chromium's device emulation (screen size, touch, a mobile
//! User-Agent): every screen fits without sideways scrolling, the call's controls are on
//! screen and big enough for a thumb, the counselor's picture is the large one and the
//! family's own a small one in the corner, and a phone switches between its cameras. The
//! counselors' desk fits a phone too.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Device, Driver};
use sprechstunde_tests::desk::{make_links, password_in, sign_in_at_the_desk};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "handy";

/// Whether the page is wider than the screen (sideways scrolling, or zoomed out to fit).
async fn assert_fits(browser: &Browser, screen: &str) -> Result<()> {
    browser
        .screenshot_if_asked(&screen.replace([' ', ','], "-"))
        .await?;
    let widths = browser
        .eval("return [document.documentElement.scrollWidth, window.innerWidth];")
        .await?;
    let (page, window) = (widths[0].as_f64(), widths[1].as_f64());
    ensure!(
        matches!((page, window), (Some(page), Some(window)) if page <= window + 1.0),
        "{screen}: the page is {widths} (page, window) px wide"
    );
    Ok(())
}

/// Every visible button, field and list on the page is at least 44 px high (and buttons as
/// wide), and lies inside the screen's width (and, where the page must not scroll, its
/// height).
const CONTROLS_TOO_SMALL_OR_OFF_SCREEN: &str = r#"
const [selector, vertical] = arguments;
const visible = [...document.querySelectorAll(selector)]
  .filter(e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden');
const bad = visible.map(e => {
  const r = e.getBoundingClientRect();
  return { text: (e.textContent || e.id || e.tagName).trim().slice(0, 30), width: Math.round(r.width), height: Math.round(r.height),
           top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right),
           button: e.tagName === 'BUTTON' };
}).filter(r => r.height < 44 || (r.button && r.width < 44) || r.left < 0 || r.right > window.innerWidth + 1
               || (vertical && (r.top < 0 || r.bottom > window.innerHeight + 1)));
return { visible: visible.length, bad };
"#;

/// How a screen is checked: a page may scroll down, the call may not.
#[derive(Clone, Copy, PartialEq)]
enum Scrolls {
    Down,
    Never,
}

/// Checks the controls matching `selector`; returns how many are visible.
async fn assert_thumb_sized(
    browser: &Browser,
    screen: &str,
    selector: &str,
    scrolls: Scrolls,
) -> Result<u64> {
    let found = browser
        .client
        .execute(
            CONTROLS_TOO_SMALL_OR_OFF_SCREEN,
            vec![
                Value::from(selector),
                Value::from(scrolls == Scrolls::Never),
            ],
        )
        .await?;
    ensure!(
        found["bad"].as_array().is_some_and(|bad| bad.is_empty()),
        "{screen}: controls too small or off screen: {}",
        found["bad"]
    );
    found["visible"]
        .as_u64()
        .context("the count of visible controls")
}

/// The areas (px²) of the counselor's tile and the own tile, each checked to lie on screen.
const TILE_AREAS: &str = r#"
const area = (tile) => {
  if (!tile) return null;
  const r = tile.getBoundingClientRect();
  const onScreen = r.top >= -1 && r.left >= -1 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1;
  return { area: Math.round(r.width * r.height), onScreen, selfView: tile.classList.contains('self-view') };
};
return { remote: area(document.querySelector("figure.tile[data-participant]:not(.own)")),
         own: area(document.querySelector("figure.tile.own")) };
"#;

/// In the call: the counselor's picture is on screen and at least four times the own one,
/// which is the small picture in the corner.
async fn assert_counselor_large(browser: &Browser, screen: &str) -> Result<()> {
    let tiles = browser.eval(TILE_AREAS).await?;
    let remote = tiles["remote"]["area"].as_f64().unwrap_or(0.0);
    let own = tiles["own"]["area"].as_f64().unwrap_or(f64::MAX);
    ensure!(
        tiles["remote"]["onScreen"] == Value::Bool(true)
            && tiles["own"]["onScreen"] == Value::Bool(true)
            && tiles["own"]["selfView"] == Value::Bool(true)
            && remote >= 4.0 * own,
        "{screen}: the tiles are {tiles}"
    );
    Ok(())
}

/// The counselor (on a desktop) in the room; the family joins on `device`, checked on
/// every screen on the way.
async fn family_joins_on(device: Device, name: &str) -> Result<(Relay, Driver, Browser, Browser)> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    counselor.join(&relay.url(""), ROOM, "Frau Berger").await?;

    let family = driver.browser_on(device).await?;
    family.client.goto(&relay.url("/")).await?;
    family.wait_for(Locator::Id("room-name")).await?;
    assert_fits(&family, "start").await?;
    assert_thumb_sized(
        &family,
        "start",
        "main button, main input[type=text], select",
        Scrolls::Down,
    )
    .await?;

    family
        .open_prejoin(&relay.url(&format!("/r/{ROOM}")), name)
        .await?;
    family
        .button("Kamera und Mikrofon testen")
        .await?
        .click()
        .await?;
    family
        .until_true(
            "the camera preview to play",
            Duration::from_secs(10),
            "const v = document.querySelector('figure.tile.own video'); return !!v && v.videoWidth > 0;",
        )
        .await?;
    assert_fits(&family, "pre-join").await?;
    assert_thumb_sized(
        &family,
        "pre-join",
        "main button, main input[type=text], select",
        Scrolls::Down,
    )
    .await?;

    family.press_join().await?;
    family
        .until_sees_and_hears("Frau Berger", Duration::from_secs(20))
        .await?;
    Ok((relay, driver, counselor, family))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_every_screen_fits_and_the_counselor_fills_it() -> Result<()> {
    let (relay, _driver, _counselor, family) =
        family_joins_on(Device::PHONE, "Familie Demir").await?;
    assert_fits(&family, "phone room").await?;
    assert_counselor_large(&family, "room").await?;
    // What a call needs, at the thumb: microphone, camera, hand, chat, "Mehr", leave.
    let shown = assert_thumb_sized(&family, "room", "nav.controls button", Scrolls::Never).await?;
    ensure!(shown == 6, "{shown} controls shown at first on a phone");
    let hidden = family
        .eval("return ['open-people', 'open-settings', 'toggle-layout'].map(id => document.getElementById(id).offsetParent === null);")
        .await?;
    ensure!(
        hidden == serde_json::json!([true, true, true]),
        "the rest is folded away: {hidden}"
    );

    // "Mehr" shows the rest, all on screen.
    family.click("#more-controls").await?;
    let shown =
        assert_thumb_sized(&family, "room, more", "nav.controls button", Scrolls::Never).await?;
    ensure!(shown >= 10, "{shown} controls after \"Mehr\"");
    assert_fits(&family, "room, more").await?;

    // A panel covers the stage, with its close button on screen; closing it brings the
    // stage back.
    family.click("#open-people").await?;
    family.wait_for(Locator::Css("aside.side")).await?;
    assert_fits(&family, "people panel").await?;
    assert_thumb_sized(
        &family,
        "people panel",
        "aside.side button.close-panel",
        Scrolls::Never,
    )
    .await?;
    let covered = family
        .eval("const s = document.querySelector('aside.side').getBoundingClientRect(); return s.width >= innerWidth - 1;")
        .await?;
    ensure!(
        covered == Value::Bool(true),
        "the panel is narrower than the phone"
    );
    family.click("aside.side button.close-panel").await?;
    assert_counselor_large(&family, "room after the panel").await?;

    for (path, screen) in [
        ("/datenschutz", "privacy notice"),
        ("/meine-daten", "my data"),
    ] {
        family.client.goto(&relay.url(path)).await?;
        family.wait_for(Locator::Css("main h1")).await?;
        assert_fits(&family, screen).await?;
        assert_thumb_sized(&family, screen, "main button, select", Scrolls::Down).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_tablet_the_counselor_is_large_and_every_control_on_screen() -> Result<()> {
    let (_relay, _driver, _counselor, family) =
        family_joins_on(Device::TABLET, "Familie Kaya").await?;
    assert_fits(&family, "tablet room").await?;
    assert_counselor_large(&family, "room").await?;
    // A tablet has the room for every control at once.
    let shown = assert_thumb_sized(&family, "room", "nav.controls button", Scrolls::Never).await?;
    ensure!(shown >= 10, "{shown} controls shown on a tablet");
    let more = family
        .eval("return document.getElementById('more-controls').offsetParent === null;")
        .await?;
    ensure!(more == Value::Bool(true), "a tablet needs no \"Mehr\"");
    Ok(())
}

/// Chromium's fake depth camera: switched to and away from, but it sends no picture.
const DEPTH_CAMERA: &str = "fake_device_1";

/// The fake device's cameras in the order the browser lists them, and the one in use.
const CAMERAS: &str = r#"
const done = arguments[arguments.length - 1];
navigator.mediaDevices.enumerateDevices().then(list => {
  const video = document.querySelector('figure.tile.own video');
  const track = video && video.srcObject && video.srcObject.getVideoTracks()[0];
  done({ cameras: list.filter(d => d.kind === 'videoinput').map(d => d.label),
         using: track ? track.label : null, live: !!track && track.readyState === 'live' });
});
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_switches_between_its_cameras_and_the_counselor_keeps_seeing() -> Result<()> {
    let (_relay, _driver, counselor, family) =
        family_joins_on(Device::PHONE, "Familie Demir").await?;
    let before = family.client.execute_async(CAMERAS, vec![]).await?;
    let cameras: Vec<String> = serde_json::from_value(before["cameras"].clone())?;
    ensure!(cameras.len() >= 2, "the fake device lists {before}");
    let mut using = before["using"].as_str().unwrap_or_default().to_string();
    counselor
        .until_true(
            "the counselor to receive the family's picture",
            Duration::from_secs(10),
            "return !!document.querySelector('figure.tile[data-participant]:not(.own) video') && document.querySelector('figure.tile[data-participant]:not(.own) video').videoWidth > 0;",
        )
        .await?;
    // Round the cameras once: each press takes the next one, live.
    for _ in 0..cameras.len() {
        let frames = counselor.received_from("Familie Demir").await?.0;
        family.click("#switch-camera").await?;
        let previous = using.clone();
        family
            .until_true(
                "the next camera to be in use",
                Duration::from_secs(10),
                &format!(
                    "const v = document.querySelector('figure.tile.own video');
                     const t = v && v.srcObject && v.srcObject.getVideoTracks()[0];
                     return !!t && t.readyState === 'live' && t.label !== {previous:?};"
                ),
            )
            .await?;
        let now = family.client.execute_async(CAMERAS, vec![]).await?;
        using = now["using"].as_str().unwrap_or_default().to_string();
        let at = cameras.iter().position(|c| *c == using);
        let was = cameras.iter().position(|c| *c == previous);
        ensure!(
            matches!((was, at), (Some(was), Some(at)) if at == (was + 1) % cameras.len()),
            "from {previous:?} the switch went to {using:?} (cameras {cameras:?})"
        );
        let notice = family
            .eval("const n = document.querySelector('.notice[role=alert]'); return n ? n.textContent : null;")
            .await?;
        ensure!(notice.is_null(), "a notice after switching: {notice}");
        // The counselor goes on receiving the family's picture. Chromium's second fake
        // camera is a depth camera (Y16) whose picture WebRTC does not encode; the other two
        // are ordinary.
        if using == DEPTH_CAMERA {
            continue;
        }
        let start = std::time::Instant::now();
        loop {
            let now = counselor.received_from("Familie Demir").await?.0;
            if now > frames + 10 {
                break;
            }
            ensure!(
                start.elapsed() < Duration::from_secs(10),
                "the counselor's frames of the family stopped at {now} after switching to {using:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_signed_in_desk_fits_with_its_links_and_code() -> Result<()> {
    let relay = Relay::start()?;
    let password = password_in(&relay.admin(&["staff", "add", "anna", "--room", ROOM])?)?;
    let driver = Driver::start().await?;
    let counselor = driver.browser_on(Device::PHONE).await?;
    sign_in_at_the_desk(&counselor, &relay.url("/desk"), "anna", &password).await?;
    counselor
        .type_into("meeting-topic", "Anmeldung an der Gesamtschule")
        .await?;
    counselor
        .type_into("desk-meeting-password", "Sonnenblume-7")
        .await?;
    make_links(&counselor, 30).await?;
    assert_fits(&counselor, "desk on a phone").await?;
    let controls = "main button, main input, main select, main textarea";
    assert_thumb_sized(&counselor, "desk", controls, Scrolls::Down).await?;
    let code = counselor
        .eval("const r = document.querySelector('#meeting-qr svg').getBoundingClientRect(); return [r.width, window.innerWidth];")
        .await?;
    ensure!(
        matches!((code[0].as_f64(), code[1].as_f64()), (Some(code), Some(screen)) if code >= 150.0 && code <= screen),
        "the QR code on a phone: {code} (code, screen) px"
    );
    Ok(())
}
