//! BITV 2.0 / WCAG 2.1 AA as axe-core checks it: every screen and state a family or a
//! counselor meets — start, pre-join, waiting room, the room with two people and each panel
//! open, the host's panel and knock notice, the privacy notice, "Meine Daten", the kiosk
//! page, after leaving — in German, Arabic (right to left) and Turkish, without a serious
//! or critical violation.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::desk::password_in;
use sprechstunde_tests::relay::Relay;

/// Every violation found, by language and screen, so one run reports them all.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    async fn check(&mut self, browser: &Browser, lang: &str, screen: &str) -> Result<()> {
        for v in browser.serious_accessibility_violations().await? {
            self.0.push(format!(
                "[{lang}] {screen}: {} ({}, {}) at {:?}",
                v.id, v.impact, v.help, v.targets
            ));
        }
        Ok(())
    }
}

async fn choose_language(browser: &Browser, code: &str) -> Result<()> {
    browser
        .client
        .execute(
            "const select = document.getElementById('language'); select.value = arguments[0]; select.dispatchEvent(new Event('change', { bubbles: true })); return null;",
            vec![code.into()],
        )
        .await?;
    browser
        .until_true(
            "the page in the chosen language",
            Duration::from_secs(10),
            &format!("return document.documentElement.lang === {code:?};"),
        )
        .await
}

async fn join_now(browser: &Browser, expect: &str) -> Result<()> {
    browser.click("#join").await?;
    browser
        .wait_for(fantoccini::Locator::Css(expect))
        .await
        .with_context(|| format!("{expect} did not appear after joining"))?;
    Ok(())
}

/// Open a panel and wait until it shows.
async fn open_panel(browser: &Browser, button: &str) -> Result<()> {
    browser.click(&format!("#{button}")).await?;
    browser
        .until_true(
            "the panel to open",
            Duration::from_secs(5),
            &format!("return document.getElementById({button:?}).getAttribute('aria-expanded') === 'true' || !!document.querySelector('.side');"),
        )
        .await
}

async fn walk(relay: &Relay, driver: &Driver, lang: &str, findings: &mut Findings) -> Result<()> {
    let room = format!("zugang-{lang}");
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;

    family.client.goto(&relay.url("/")).await?;
    family.wait_for(fantoccini::Locator::Id("language")).await?;
    choose_language(&family, lang).await?;
    findings.check(&family, lang, "start").await?;

    // Pre-join, then the waiting room: the guest is early, the counselor not there yet.
    family
        .client
        .goto(&relay.url(&format!("/r/{room}")))
        .await?;
    family
        .wait_for(fantoccini::Locator::Id("display-name"))
        .await?;
    findings.check(&family, lang, "pre-join").await?;
    family.type_into("display-name", "Ben").await?;
    family.click("label[for='consent'] span").await?;
    findings.check(&family, lang, "pre-join, filled in").await?;
    join_now(&family, ".waiting").await?;
    findings.check(&family, lang, "waiting room").await?;

    // The counselor comes with a host link, sees the knock and lets Ben in.
    let line = relay.admin(&["room", "host-link", &room])?;
    let (_, fragment) = line.trim().split_once('#').context("no fragment")?;
    counselor
        .client
        .goto(&relay.url(&format!("/r/{room}?lang={lang}#{fragment}")))
        .await?;
    counselor
        .wait_for(fantoccini::Locator::Id("display-name"))
        .await?;
    counselor.type_into("display-name", "Frau Berger").await?;
    counselor.click("label[for='consent'] span").await?;
    join_now(&counselor, "main.room").await?;
    counselor
        .wait_for(fantoccini::Locator::Css("#waiting-notice button.admit"))
        .await?;
    findings
        .check(&counselor, lang, "room, a family knocking")
        .await?;
    counselor.click("#waiting-notice button.admit").await?;
    family
        .wait_for(fantoccini::Locator::Css("main.room"))
        .await?;
    counselor
        .until_true(
            "Ben's tile at the counselor",
            Duration::from_secs(20),
            "return document.querySelectorAll('figure.tile[data-participant]:not(.own)').length === 1;",
        )
        .await?;
    findings
        .check(&family, lang, "room with two people (family)")
        .await?;
    findings
        .check(&counselor, lang, "room with two people (counselor)")
        .await?;
    for panel in [
        "open-chat",
        "open-people",
        "open-speaking",
        "open-settings",
        "open-host",
    ] {
        open_panel(&counselor, panel).await?;
        findings.check(&counselor, lang, panel).await?;
    }
    for panel in ["open-chat", "open-people", "open-settings"] {
        open_panel(&family, panel).await?;
        findings
            .check(&family, lang, &format!("{panel} (family)"))
            .await?;
    }

    // After leaving.
    family.click("#controls button.leave").await?;
    family
        .wait_for(fantoccini::Locator::Css("main.left, .left-page, main.page"))
        .await?;
    family
        .until_true(
            "the page after leaving",
            Duration::from_secs(10),
            "return !document.querySelector('main.room');",
        )
        .await?;
    findings.check(&family, lang, "after leaving").await?;

    // The pages of the top bar, and a kiosk tablet.
    for (path, screen) in [
        ("/datenschutz", "privacy notice"),
        ("/meine-daten", "my data"),
    ] {
        family.client.goto(&relay.url(path)).await?;
        family
            .until_true(
                screen,
                Duration::from_secs(20),
                "const m = document.querySelector('main'); return !!m && !m.querySelector('[role=status]') && m.textContent.length > 40;",
            )
            .await?;
        findings.check(&family, lang, screen).await?;
    }
    family
        .client
        .goto(&relay.url(&format!("/kiosk/{room}?lang={lang}")))
        .await?;
    family
        .wait_for(fantoccini::Locator::Id("display-name"))
        .await?;
    findings.check(&family, lang, "kiosk").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_passes_axe_in_german_arabic_and_turkish() -> Result<()> {
    let relay = Relay::start_with(&["--guests-wait-for-host", "true"])?;
    let driver = Driver::start().await?;
    let mut findings = Findings::default();
    for lang in ["de", "ar", "tr"] {
        walk(&relay, &driver, lang, &mut findings)
            .await
            .with_context(|| format!("walking through the app in {lang}"))?;
    }
    if !findings.0.is_empty() {
        bail!(
            "{} serious or critical accessibility violations:\n{}",
            findings.0.len(),
            findings.0.join("\n")
        );
    }
    Ok(())
}

/// Whether the page, with its text at `percent` of the normal size, still fits the window's
/// width, and every visible button of the room's control bar lies within the window.
const ENLARGED_FITS: &str = r#"
document.documentElement.style.fontSize = arguments[0] + '%';
await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
const wide = document.documentElement.scrollWidth - innerWidth;
const off = [...document.querySelectorAll('#controls button')]
  .filter((b) => b.offsetParent !== null)
  .filter((b) => { const r = b.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth || r.top < 0 || r.bottom > innerHeight; })
  .map((b) => b.id || b.textContent.trim());
return { wide, off };
"#;

async fn enlarged_fits(browser: &Browser, screen: &str) -> Result<()> {
    let done = browser
        .client
        .execute(
            &format!("return (async () => {{ {ENLARGED_FITS} }})();"),
            vec![200.into()],
        )
        .await?;
    let wide = done
        .get("wide")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::MAX);
    let off = done.get("off").cloned().unwrap_or_default();
    if wide > 1.0 || off.as_array().is_some_and(|a| !a.is_empty()) {
        bail!(
            "{screen} at 200 % text: {wide} px wider than the window, controls off screen: {off}"
        );
    }
    Ok(())
}

/// WCAG 1.4.4: text enlarged to 200 % on a 1280x800 window loses nothing — no page gets
/// wider than the window, and every control of the room stays on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_at_twice_the_size_loses_nothing() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;
    family.client.set_window_size(1280, 800).await?;
    family.client.goto(&relay.url("/")).await?;
    family.wait_for(fantoccini::Locator::Id("language")).await?;
    enlarged_fits(&family, "the start page").await?;
    counselor
        .join(&relay.url(""), "gross", "Frau Berger")
        .await?;
    family.open_prejoin(&relay.url("/r/gross"), "Ben").await?;
    enlarged_fits(&family, "the pre-join page").await?;
    family.press_join().await?;
    family
        .until_true(
            "the counselor's picture",
            Duration::from_secs(20),
            "return document.querySelectorAll('figure.tile[data-participant]:not(.own)').length === 1;",
        )
        .await?;
    enlarged_fits(&family, "the room").await?;
    family.click("#open-chat").await?;
    enlarged_fits(&family, "the room with the chat open").await?;
    Ok(())
}

/// The counselors' desk: signing in (also refused), the rooms with someone waiting, and an
/// appointment's links with the QR code, in German, Arabic and Turkish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_passes_axe_too() -> Result<()> {
    let relay = Relay::start_with(&["--guests-wait-for-host", "true"])?;
    let password = password_in(&relay.admin(&["staff", "add", "anna", "--room", "beratung"])?)?;
    let driver = Driver::start().await?;
    let guest = driver.browser().await?;
    guest
        .open_prejoin(&relay.url("/r/beratung"), "Carla")
        .await?;
    guest.button("Beitreten").await?.click().await?;
    let mut findings = Findings::default();
    for lang in ["de", "ar", "tr"] {
        let desk = driver.browser().await?;
        desk.client
            .goto(&relay.url(&format!("/desk?lang={lang}")))
            .await?;
        desk.type_into("desk-login", "anna").await?;
        findings.check(&desk, lang, "desk, sign-in").await?;
        desk.type_into("desk-password", "falsch").await?;
        desk.click("#desk-sign-in").await?;
        desk.wait_for(fantoccini::Locator::Id("desk-error")).await?;
        findings.check(&desk, lang, "desk, sign-in refused").await?;
        desk.client
            .goto(&relay.url(&format!("/desk?lang={lang}")))
            .await?;
        desk.type_into("desk-login", "anna").await?;
        desk.type_into("desk-password", &password).await?;
        desk.click("#desk-sign-in").await?;
        desk.until_true(
            "a room with someone waiting",
            Duration::from_secs(10),
            "return !!document.querySelector('li.desk-room.someone-waits');",
        )
        .await?;
        findings.check(&desk, lang, "desk, someone waiting").await?;
        desk.click("#meeting-make").await?;
        desk.wait_for(fantoccini::Locator::Id("meeting-qr")).await?;
        findings
            .check(&desk, lang, "desk, an appointment's links")
            .await?;
        desk.close().await?;
    }
    if !findings.0.is_empty() {
        bail!(
            "{} serious or critical accessibility violations on the desk:\n{}",
            findings.0.len(),
            findings.0.join("\n")
        );
    }
    Ok(())
}
