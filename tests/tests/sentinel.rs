//! The privacy notice's promise, checked on a whole session through the UI: unique marker
//! strings as name, e-mail, topic, description, password and chat go through the real relay
//! and two real browsers, reach whom they are meant for, and afterwards are in no file of the
//! data directory and in no log line, while the session's address and URL are in the access
//! log.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "sentinel";
const HOST_NAME: &str = "Marker-Beraterin-41c7";
const GUEST_NAME: &str = "Marker-Familie-5d20";
const EMAIL: &str = "marker-e2b9@example.org";
const TOPIC: &str = "Marker-Thema-90fa";
const DESCRIPTION: &str = "Marker-Beschreibung-3b61";
const PASSWORD: &str = "Marker-Passwort-c8e4";
const CHAT: &str = "Marker-Chat-77d1";
const MARKERS: [&str; 7] = [
    HOST_NAME,
    GUEST_NAME,
    EMAIL,
    TOPIC,
    DESCRIPTION,
    PASSWORD,
    CHAT,
];

async fn until_true(browser: &Browser, what: &str, script: &str) -> Result<()> {
    browser
        .until_true(what, Duration::from_secs(30), script)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_leaves_no_personal_data_behind() -> Result<()> {
    let relay = Relay::start()?;
    let line = relay.admin(&["room", "host-link", ROOM])?;
    let (_, fragment) = line.trim().split_once('#').context("host link")?;
    let driver = Driver::start().await?;
    let host = driver.browser().await?;
    let guest = driver.browser().await?;

    host.open_prejoin(&relay.url(&format!("/r/{ROOM}#{fragment}")), HOST_NAME)
        .await?;
    host.press_join().await?;
    host.click("#open-host").await?;
    host.type_into("room-topic", TOPIC).await?;
    host.type_into("room-description", DESCRIPTION).await?;
    host.click("#save-room-info").await?;
    host.type_into("new-password", PASSWORD).await?;
    host.click("#set-password").await?;
    until_true(
        &host,
        "the password to be set",
        "return document.getElementById('password-state').textContent.includes('Ein Passwort ist gesetzt');",
    )
    .await?;

    // The guest gives an e-mail address, is asked for the password, knocks, is let in.
    guest
        .open_prejoin(&relay.url(&format!("/r/{ROOM}")), GUEST_NAME)
        .await?;
    guest.type_into("email", EMAIL).await?;
    guest.button("Beitreten").await?.click().await?;
    guest.type_into("meeting-password", PASSWORD).await?;
    guest.click("#password-submit").await?;
    until_true(
        &guest,
        "the guest to wait and see the topic",
        &format!("const t = document.getElementById('waiting-topic'); return !!t && t.textContent.includes('{TOPIC}');"),
    )
    .await?;
    until_true(
        &host,
        "the host to see the guest's e-mail in the knock",
        &format!("const n = document.getElementById('waiting-notice'); return !!n && n.textContent.includes('{EMAIL}');"),
    )
    .await?;
    host.click("#waiting-notice button.admit").await?;
    guest
        .wait_for(fantoccini::Locator::Css("main.room"))
        .await?;
    host.click("#open-people").await?;
    until_true(
        &host,
        "the host to see the guest's e-mail in the list",
        &format!("return [...document.querySelectorAll('.panel.people [data-email]')].some(e => e.textContent === '{EMAIL}');"),
    )
    .await?;
    let guest_sees_email = guest
        .eval(&format!(
            "return document.body.innerHTML.includes('{EMAIL}');"
        ))
        .await?;
    ensure!(
        guest_sees_email == Value::Bool(false),
        "a guest's page shows an e-mail address"
    );

    guest.click("#open-chat").await?;
    guest.type_into("chat-input", CHAT).await?;
    guest.click("#chat-send").await?;
    host.click("#open-chat").await?;
    until_true(
        &host,
        "the chat to arrive",
        &format!("const m = document.querySelector('.messages'); return !!m && m.textContent.includes('{CHAT}');"),
    )
    .await?;

    host.click("#open-host").await?;
    host.click("#end-meeting").await?;
    host.click("#end-meeting").await?;
    until_true(
        &guest,
        "the meeting to end",
        "return document.body.innerText.includes('Die Leitung hat die Beratung beendet.');",
    )
    .await?;
    host.close().await?;
    guest.close().await?;
    // Let the access-log writer catch up.
    tokio::time::sleep(Duration::from_secs(1)).await;

    for marker in MARKERS {
        ensure!(
            relay.files_containing(marker)?.is_empty(),
            "{marker} is in a file of the data directory"
        );
        ensure!(
            !relay.log().contains(marker),
            "{marker} is in the relay's log"
        );
    }
    ensure!(!relay.log().contains("panicked"), "the relay panicked");
    let entries = relay.admin(&["log", "export", "--ip", "127.0.0.1"])?;
    ensure!(
        entries.contains(&format!("/r/{ROOM}")) && entries.contains("\"join\""),
        "the session's requests and sign-ins are in the access log: {entries}"
    );
    Ok(())
}
