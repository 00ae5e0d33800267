//! Interpreters: one who comes with an interpreter's link is let in without knocking and
//! labelled "Dolmetschen" for everyone, on the tile and in the people list; a host can mark
//! and unmark anyone; in the speaker view the interpreter's tile stays next to the large one.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "dolmetschen";

/// Whether `name`'s camera tile carries the interpreter's label.
fn labelled(name: &str) -> String {
    format!(
        "const t = [...document.querySelectorAll('figure.tile[data-source=camera]')].find(t => (t.querySelector('figcaption') || {{}}).textContent?.endsWith({name:?})); return !!t && !!t.querySelector('.interpreter-badge') && t.querySelector('.interpreter-badge').textContent === 'Dolmetschen';"
    )
}

fn not_labelled(name: &str) -> String {
    format!(
        "const t = [...document.querySelectorAll('figure.tile[data-source=camera]')].find(t => (t.querySelector('figcaption') || {{}}).textContent?.endsWith({name:?})); return !!t && !t.querySelector('.interpreter-badge');"
    )
}

async fn open_with_link(
    browser: &Browser,
    relay: &Relay,
    fragment: &str,
    name: &str,
) -> Result<()> {
    browser
        .open_prejoin(&relay.url(&format!("/r/{ROOM}#{fragment}")), name)
        .await?;
    browser.press_join().await
}

fn fragment_of(line: &str) -> Result<String> {
    let (_, fragment) = line
        .trim()
        .split_once('#')
        .context("no fragment in the link")?;
    Ok(fragment.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interpreters_are_labelled_for_everyone_and_stay_beside_the_speaker() -> Result<()> {
    // Guests knock here: the interpreter's link must still let her straight in.
    let relay = Relay::start_with(&["--guests-wait-for-host", "true"])?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;
    let interpreter = driver.browser().await?;

    let host = fragment_of(&relay.admin(&["room", "host-link", ROOM])?)?;
    let invite = fragment_of(&relay.admin(&["room", "invite-link", ROOM])?)?;
    let interpret = fragment_of(&relay.admin(&["room", "interpreter-link", ROOM])?)?;
    ensure!(interpret.starts_with("interpret="), "{interpret}");

    open_with_link(&counselor, &relay, &host, "Frau Berger").await?;
    open_with_link(&family, &relay, &invite, "Ben").await?;
    open_with_link(&interpreter, &relay, &interpret, "Irina").await?;

    for (browser, who, other) in [
        (&counselor, "the counselor", "Ben"),
        (&family, "the family", "Frau Berger"),
    ] {
        browser
            .until_true(
                &format!("{who} to see Irina labelled"),
                Duration::from_secs(20),
                &labelled("Irina"),
            )
            .await?;
        browser
            .until_true(
                &format!("{who} to see {other} unlabelled"),
                Duration::from_secs(20),
                &not_labelled(other),
            )
            .await?;
    }
    counselor.click("#open-people").await?;
    counselor
        .until_true(
            "the people list to label Irina",
            Duration::from_secs(5),
            "const li = [...document.querySelectorAll('.people li')].find(l => l.textContent.includes('Irina')); return !!li && !!li.querySelector('.interpreter-badge');",
        )
        .await?;

    // A host marks Ben too, then takes the mark away again: everyone sees both.
    let ben = counselor
        .eval("const t = [...document.querySelectorAll('figure.tile[data-source=camera]')].find(t => t.querySelector('figcaption').textContent.endsWith('Ben')); return t.dataset.participant;")
        .await?;
    let ben = ben.as_str().context("Ben's id")?.to_string();
    counselor.click(&format!("#mark-interpreter-{ben}")).await?;
    family
        .until_true(
            "Ben marked, as his own picture shows",
            Duration::from_secs(10),
            "return !!document.querySelector('figure.tile.own .interpreter-badge');",
        )
        .await?;
    interpreter
        .until_true(
            "Ben labelled at Irina",
            Duration::from_secs(10),
            &labelled("Ben"),
        )
        .await?;
    counselor
        .click(&format!("#unmark-interpreter-{ben}"))
        .await?;
    interpreter
        .until_true(
            "Ben unlabelled again at Irina",
            Duration::from_secs(10),
            &not_labelled("Ben"),
        )
        .await?;

    // Speaker view at the family: the large tile first, the interpreter right after it.
    family.click("#toggle-layout").await?;
    family
        .until_true(
            "the speaker view with Irina beside the large tile",
            Duration::from_secs(10),
            "const tiles = [...document.querySelectorAll('.stage.speaker figure.tile')]; return tiles.length >= 3 && tiles[0].classList.contains('large') && tiles[1].querySelector('figcaption').textContent.endsWith('Irina');",
        )
        .await?;
    let visible = family
        .eval("const t = [...document.querySelectorAll('figure.tile')].find(t => t.querySelector('figcaption').textContent.endsWith('Irina')); const r = t.getBoundingClientRect(); return r.width > 50 && r.height > 50 && r.top >= 0 && r.bottom <= innerHeight;")
        .await?;
    ensure!(
        visible == Value::Bool(true),
        "Irina's tile is not fully on screen in the speaker view"
    );
    Ok(())
}
