//! Hostile text in every field people can fill in (name, chat, topic, description, message
//! to those waiting) renders as plain text: markup makes no element, a `javascript:` URL is no
//! link, a right-to-left override is taken out, and the Content-Security-Policy never fires.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "vorsicht";
const MARKUP: &str = "<img src=x onerror=window.__pwned=1>";
const SCRIPT_URL: &str = "javascript:window.__pwned=2";
/// U+202E turns the rest of a line around: "Rechnung" + U+202E + "fdp.exe" reads as "Rechnungexe.pdf".
const REVERSED: &str = "Rechnung\u{202e}fdp.exe";

fn link(relay: &Relay, kind: &str) -> Result<String> {
    let line = relay.admin(&["room", &format!("{kind}-link"), ROOM])?;
    let (_, fragment) = line.trim().split_once('#').context("no fragment")?;
    Ok(relay.url(&format!("/r/{ROOM}#{fragment}")))
}

/// Fill a field as if pasted (WebDriver cannot type every character) and submit with `button`.
async fn paste(browser: &Browser, field: &str, text: &str, button: &str) -> Result<()> {
    browser
        .client
        .execute(
            "const [field, text, button] = arguments; const input = document.getElementById(field); input.value = text; input.dispatchEvent(new InputEvent('input', { bubbles: true })); document.getElementById(button).click();",
            vec![Value::from(field), Value::from(text), Value::from(button)],
        )
        .await?;
    Ok(())
}

/// What a page made of it all: the words shown, and what would betray markup taken as HTML.
async fn inspect(browser: &Browser) -> Result<Value> {
    browser
        .eval(
            "return { text: document.body.innerText, images: document.querySelectorAll('img').length, \
             scriptLinks: [...document.querySelectorAll('a')].filter(a => (a.getAttribute('href') || '').toLowerCase().startsWith('javascript')).length, \
             pwned: window.__pwned === undefined ? null : window.__pwned };",
        )
        .await
}

async fn check(browser: &Browser, who: &str, must_show: &[&str]) -> Result<()> {
    let page = inspect(browser).await?;
    let text = page["text"].as_str().unwrap_or_default();
    for shown in must_show {
        ensure!(text.contains(shown), "{who} does not see {shown:?} as text");
    }
    ensure!(page["images"] == 0, "{who}: markup became an element");
    ensure!(
        page["scriptLinks"] == 0,
        "{who}: a javascript: URL became a link"
    );
    ensure!(
        page["pwned"].is_null(),
        "{who}: script ran ({})",
        page["pwned"]
    );
    ensure!(
        !text.contains('\u{202e}'),
        "{who}: a right-to-left override is shown"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_stays_text_everywhere() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let host = driver.browser().await?;
    let guest = driver.browser().await?;

    host.open_prejoin(&link(&relay, "host")?, MARKUP).await?;
    host.press_join().await?;
    host.click("#open-host").await?;
    host.wait_for(fantoccini::Locator::Id("room-topic")).await?;
    paste(&host, "room-topic", SCRIPT_URL, "save-room-info").await?;
    paste(&host, "room-description", REVERSED, "save-room-info").await?;
    paste(
        &host,
        "waiting-message-input",
        MARKUP,
        "save-waiting-message",
    )
    .await?;

    // The guest knocks: the waiting view shows the topic, description and message.
    guest
        .open_prejoin(&relay.url(&format!("/r/{ROOM}")), REVERSED)
        .await?;
    guest.button("Beitreten").await?.click().await?;
    guest
        .until_true(
            "the waiting view with the host's message",
            Duration::from_secs(20),
            "return document.body.innerText.includes('onerror');",
        )
        .await?;
    check(
        &guest,
        "the waiting guest",
        &[SCRIPT_URL, "Rechnungfdp.exe", MARKUP],
    )
    .await?;

    // Admitted: the guest's name at the host, the chat both ways.
    host.button("Hereinlassen").await?.click().await?;
    guest
        .wait_for(fantoccini::Locator::Css("main.room"))
        .await?;
    host.send_chat(MARKUP, None).await?;
    host.send_chat(SCRIPT_URL, None).await?;
    guest.send_chat(REVERSED, None).await?;
    guest
        .until_true(
            "the host's chat",
            Duration::from_secs(20),
            "return document.body.innerText.includes('javascript:window');",
        )
        .await?;
    host.until_true(
        "the guest's chat",
        Duration::from_secs(20),
        "return document.body.innerText.split('Rechnungfdp.exe').length > 2;",
    )
    .await?;
    host.click("#open-people").await?;
    check(
        &guest,
        "the guest",
        &[SCRIPT_URL, "Rechnungfdp.exe", MARKUP],
    )
    .await?;
    check(&host, "the host", &[SCRIPT_URL, "Rechnungfdp.exe", MARKUP]).await?;
    ensure!(
        relay.metric("csp_violations_total")? == 0.0,
        "the Content-Security-Policy reported a violation"
    );
    host.close().await?;
    guest.close().await?;
    Ok(())
}
