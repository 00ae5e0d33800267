//! The whole call by keyboard alone: from opening the room link to being in the call,
//! muting, raising the hand, writing in the chat and leaving, with Tab, Enter and Space only
//! (and typing the name and the message). Focus moves into a panel when it opens and back
//! to its button when Escape closes it. The single-key shortcuts work and can be switched
//! off. The counselor's browser shows that each action really reached the room.

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use fantoccini::key::Key;
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "tastatur";

/// Send keys to whatever has the focus, as a keyboard does.
async fn press(browser: &Browser, keys: &str) -> Result<()> {
    browser
        .client
        .active_element()
        .await?
        .send_keys(keys)
        .await?;
    Ok(())
}

async fn focused_is(browser: &Browser, selector: &str) -> Result<bool> {
    Ok(browser
        .client
        .execute(
            "const e = document.activeElement; return !!e && e.matches(arguments[0]);",
            vec![selector.into()],
        )
        .await?
        == Value::Bool(true))
}

/// Press Tab until `selector` has the focus (a page has fewer than 80 stops).
async fn tab_to(browser: &Browser, selector: &str) -> Result<()> {
    for _ in 0..80 {
        if focused_is(browser, selector).await? {
            return Ok(());
        }
        press(browser, &Key::Tab.to_string()).await?;
    }
    let at = browser
        .eval("const e = document.activeElement; return e ? e.outerHTML.slice(0, 120) : null;")
        .await?;
    bail!("Tab never reached {selector}; the focus is on {at}")
}

async fn pressed(browser: &Browser, id: &str) -> Result<String> {
    let value = browser
        .client
        .execute(
            "const b = document.getElementById(arguments[0]); return b ? b.getAttribute('aria-pressed') : null;",
            vec![id.into()],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_call_by_keyboard_alone() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;
    counselor.join(&relay.url(""), ROOM, "Frau Berger").await?;

    family
        .client
        .goto(&relay.url(&format!("/r/{ROOM}")))
        .await?;
    family
        .wait_for(fantoccini::Locator::Id("display-name"))
        .await?;
    tab_to(&family, "#display-name").await?;
    press(&family, "Ben").await?;
    tab_to(&family, "#consent").await?;
    press(&family, " ").await?;
    tab_to(&family, "#join").await?;
    press(&family, &Key::Enter.to_string()).await?;
    family
        .wait_for(fantoccini::Locator::Css("main.room"))
        .await?;
    counselor
        .until_true(
            "Ben in the counselor's room",
            Duration::from_secs(20),
            "return [...document.querySelectorAll('figure.tile figcaption')].some(c => c.textContent.endsWith('Ben'));",
        )
        .await?;

    // Mute with Enter, raise the hand with Space: the counselor sees both on Ben's tile.
    tab_to(&family, "#toggle-mic").await?;
    press(&family, &Key::Enter.to_string()).await?;
    tab_to(&family, "#toggle-hand").await?;
    press(&family, " ").await?;
    counselor
        .until_true(
            "Ben muted with his hand up at the counselor",
            Duration::from_secs(10),
            "const t = [...document.querySelectorAll('figure.tile')].find(t => (t.querySelector('figcaption') || {}).textContent?.endsWith('Ben')); return !!t && !!t.querySelector('.badge.muted') && !!t.querySelector('.badge.hand');",
        )
        .await?;

    // The chat: focus goes into the panel, the message is written and sent with Enter.
    tab_to(&family, "#open-chat").await?;
    press(&family, &Key::Enter.to_string()).await?;
    family
        .until_true(
            "the focus in the opened chat",
            Duration::from_secs(5),
            "const e = document.activeElement; return !!e && !!e.closest('#side-panel');",
        )
        .await?;
    tab_to(&family, "#chat-input").await?;
    press(&family, "Hallo per Tastatur").await?;
    press(&family, &Key::Enter.to_string()).await?;
    counselor
        .until_true(
            "the message at the counselor",
            Duration::from_secs(10),
            "return document.getElementById('announcements').textContent.includes('Nachricht von Ben: Hallo per Tastatur');",
        )
        .await?;
    // Escape closes the panel and the focus is back on its button.
    press(&family, &Key::Escape.to_string()).await?;
    family
        .until_true(
            "the chat closed, the focus back on its button",
            Duration::from_secs(5),
            "return !document.getElementById('side-panel') && document.activeElement === document.getElementById('open-chat');",
        )
        .await?;

    // Shortcuts: M unmutes; switched off in the settings, M does nothing.
    ensure!(pressed(&family, "toggle-mic").await? == "true", "not muted");
    press(&family, "m").await?;
    family
        .until_true(
            "M to unmute",
            Duration::from_secs(5),
            "return document.getElementById('toggle-mic').getAttribute('aria-pressed') === 'false';",
        )
        .await?;
    tab_to(&family, "#open-settings").await?;
    press(&family, " ").await?;
    tab_to(&family, "#keyboard-shortcuts").await?;
    press(&family, " ").await?;
    press(&family, &Key::Escape.to_string()).await?;
    family
        .until_true(
            "the settings closed",
            Duration::from_secs(5),
            "return !document.getElementById('side-panel');",
        )
        .await?;
    press(&family, "m").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(
        pressed(&family, "toggle-mic").await? == "false",
        "M still mutes with the shortcuts switched off"
    );

    // Leave with Enter.
    tab_to(&family, "#controls button.leave").await?;
    press(&family, &Key::Enter.to_string()).await?;
    family
        .until_true(
            "the page after leaving",
            Duration::from_secs(10),
            "return !document.querySelector('main.room');",
        )
        .await?;
    counselor
        .until_true(
            "Ben gone at the counselor",
            Duration::from_secs(10),
            "return document.getElementById('announcements').textContent.includes('Ben hat das Gespräch verlassen');",
        )
        .await?;
    Ok(())
}
