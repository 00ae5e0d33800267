//! From opening the link to the first remote frame, with every step a person takes done by
//! the bench at once: our page and Janus's stock VideoRoom demo page, each joining a room
//! where one browser already sends camera and microphone.
//!
//! Every wait here polls every 10 ms (fantoccini's own waits poll every 250 ms, which would
//! add up to a quarter second per step to either page).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::Value;

use crate::browser::{Browser, Driver, OBSERVE_PEER_CONNECTIONS};
use crate::load::janus::Janus;

/// Video frames decoded over all of the page's peer connections (Janus's demo page receives
/// each publisher on a connection of its own).
const FRAMES_DECODED: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  let frames = 0;
  for (const pc of (window.__testPeerConnections || [])) {
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats();
    report.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0; });
  }
  return frames;
})().then(done, () => done(0));
"#;

const CONNECTED: &str =
    "return (window.__testPeerConnections || []).some((pc) => pc.connectionState === 'connected');";

/// "Start" on Janus's page works once `Janus.init` is done and has bound its handler; a click
/// before that is lost (a person clicks later).
const START_BOUND: &str = "const start = document.getElementById('start'); return !!(start && window.jQuery && (jQuery._data(start, 'events') || {}).click);";

const POLL: Duration = Duration::from_millis(10);
const GIVE_UP: Duration = Duration::from_secs(30);

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A fresh browser that counts the peer connections of every page it opens.
async fn observed_browser(driver: &Driver) -> Result<Browser> {
    let browser = driver.browser().await?;
    browser.before_every_page(OBSERVE_PEER_CONNECTIONS).await?;
    Ok(browser)
}

async fn page_text(browser: &Browser) -> String {
    browser
        .eval("return document.body.innerText")
        .await
        .map(|text| text.to_string())
        .unwrap_or_default()
}

async fn until_first_frame(browser: &Browser, since: Instant) -> Result<f64> {
    loop {
        let frames: Value = browser.client.execute_async(FRAMES_DECODED, vec![]).await?;
        if frames.as_u64().unwrap_or(0) > 0 {
            return Ok(ms(since.elapsed()));
        }
        if since.elapsed() > GIVE_UP {
            bail!(
                "no remote frame within {GIVE_UP:?}; the page reads: {}",
                page_text(browser).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn until_script_true(browser: &Browser, what: &str, script: &str) -> Result<()> {
    let started = Instant::now();
    while browser.eval(script).await? != Value::Bool(true) {
        if started.elapsed() > GIVE_UP {
            bail!("{what}: not within {GIVE_UP:?}");
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// An element once it is shown and enabled (Janus's page has its name field from the start,
/// hidden until its session is set up).
async fn until_shown(browser: &Browser, locator: Locator<'_>) -> Result<Element> {
    let started = Instant::now();
    loop {
        if let Ok(element) = browser.client.find(locator).await {
            if element.is_displayed().await.unwrap_or(false)
                && element.is_enabled().await.unwrap_or(false)
            {
                return Ok(element);
            }
        }
        if started.elapsed() > GIVE_UP {
            bail!(
                "{locator:?} did not show; the page reads: {}",
                page_text(browser).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Our page: the link, the name, the consent tick, "Beitreten".
pub async fn ours(driver: &Driver, link: &str) -> Result<f64> {
    let browser = observed_browser(driver).await?;
    let start = Instant::now();
    browser.client.goto(link).await?;
    until_shown(&browser, Locator::Id("display-name"))
        .await?
        .send_keys("Messung")
        .await?;
    until_shown(&browser, Locator::Css("label[for='consent']"))
        .await?
        .click()
        .await?;
    until_shown(
        &browser,
        Locator::XPath("//button[normalize-space(.)='Beitreten']"),
    )
    .await?
    .click()
    .await?;
    let first_frame = until_first_frame(&browser, start).await;
    browser.close().await?;
    first_frame
}

/// Janus's stock demo page: the link, "Start", the name, "Join the room".
async fn janus_join(browser: &Browser, link: &str, name: &str) -> Result<Instant> {
    let start = Instant::now();
    browser.client.goto(link).await?;
    until_script_true(browser, "Janus's demo page is ready", START_BOUND).await?;
    until_shown(browser, Locator::Id("start"))
        .await?
        .click()
        .await?;
    until_shown(browser, Locator::Id("username"))
        .await?
        .send_keys(name)
        .await?;
    until_shown(browser, Locator::Id("register"))
        .await?
        .click()
        .await?;
    Ok(start)
}

pub async fn janus(driver: &Driver, link: &str) -> Result<f64> {
    let browser = observed_browser(driver).await?;
    let start = janus_join(&browser, link, "Messung").await?;
    let first_frame = until_first_frame(&browser, start).await;
    browser.close().await?;
    first_frame
}

/// The browser already in Janus's demo room, sending; stays while it lives.
pub async fn janus_host(driver: &Driver, janus: &Janus) -> Result<(Browser, String)> {
    let link = janus
        .demo_url()
        .context("Janus was started without its demo page")?;
    let host = observed_browser(driver).await?;
    janus_join(&host, &link, "Beraterin").await?;
    until_script_true(&host, "the host's camera is published", CONNECTED).await?;
    Ok((host, link))
}
