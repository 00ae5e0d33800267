//! The counselors' desk as a test drives it: a staff member's printed password, signing in,
//! and making an appointment's links.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::browser::Browser;

/// The password `staff add` / `staff reset-password` printed.
pub fn password_in(line: &str) -> Result<String> {
    line.trim()
        .rsplit(' ')
        .next()
        .map(str::to_string)
        .context("no password printed")
}

/// Signs in at the desk at `desk_url` and waits for the signed-in desk.
pub async fn sign_in_at_the_desk(
    browser: &Browser,
    desk_url: &str,
    login: &str,
    password: &str,
) -> Result<()> {
    browser.goto(desk_url).await?;
    browser.type_into("desk-login", login).await?;
    browser.type_into("desk-password", password).await?;
    browser.click("#desk-sign-in").await?;
    browser
        .until_true(
            "the desk after signing in",
            Duration::from_secs(10),
            &format!("const n = document.getElementById('desk-login-name'); return !!n && n.textContent === {login:?};"),
        )
        .await
}

/// Makes links for `room` starting `in_minutes` from now; the invitation link.
pub async fn make_links(browser: &Browser, in_minutes: i64) -> Result<String> {
    browser
        .eval(&format!(
            "const d = new Date(Date.now() + {in_minutes} * 60000); \
             const p = n => String(n).padStart(2, '0'); \
             document.getElementById('meeting-date').value = `${{d.getFullYear()}}-${{p(d.getMonth() + 1)}}-${{p(d.getDate())}}`; \
             document.getElementById('meeting-time').value = `${{p(d.getHours())}}:${{p(d.getMinutes())}}`;"
        ))
        .await?;
    let before = browser
        .eval("const l = document.getElementById('meeting-invite-link'); return l ? l.value : '';")
        .await?;
    browser.click("#meeting-make").await?;
    browser
        .until_true(
            "the new links",
            Duration::from_secs(10),
            &format!("const l = document.getElementById('meeting-invite-link'); return !!l && l.value !== {before};"),
        )
        .await?;
    let link = browser
        .eval("return document.getElementById('meeting-invite-link').value;")
        .await?;
    link.as_str()
        .map(str::to_string)
        .context("no invitation link")
}

/// The counselor's own link among the links just made.
pub async fn host_link(browser: &Browser) -> Result<String> {
    browser
        .eval("return document.getElementById('meeting-host-link').value;")
        .await?
        .as_str()
        .map(str::to_string)
        .context("no host link")
}

/// Waits until the room's heading is the meeting's `topic`.
pub async fn until_topic_heading(browser: &Browser, topic: &str, timeout: Duration) -> Result<()> {
    browser
        .until_true(
            "the topic as the room's heading",
            timeout,
            &format!("const h = document.getElementById('room-topic-heading'); return !!h && h.textContent === {topic:?};"),
        )
        .await
}
