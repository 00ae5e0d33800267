//! Families read the app in their own language. German is built in; another language's
//! file is fetched from the relay only when someone chooses it (the relay's access log says
//! which files were asked for), and Arabic turns the whole page right to left. A screen
//! reader hears who joins, raises a hand or writes, in the listener's language, with the
//! chat closed.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const ROOM: &str = "sprachen";

/// Paths of every request in the relay's JSON-lines access log so far.
fn requested_paths(relay: &Relay) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    let dir = relay.data_dir.join("access-log");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(paths);
    };
    for entry in entries {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).context("access log line")?;
            if let Some(path) = record.get("path").and_then(Value::as_str) {
                paths.push(path.to_string());
            }
        }
    }
    Ok(paths)
}

/// The language files the relay has been asked for.
fn language_requests(relay: &Relay) -> Result<Vec<String>> {
    Ok(requested_paths(relay)?
        .into_iter()
        .filter(|p| p.starts_with("/lang/"))
        .collect())
}

/// Wait until the access log has recorded `path` (it is written in the background).
async fn until_logged(relay: &Relay, what: &str, wanted: impl Fn(&[String]) -> bool) -> Result<()> {
    sprechstunde_tests::eventually(what, Duration::from_secs(10), || async {
        let paths = requested_paths(relay)?;
        Ok(if wanted(&paths) {
            Ok(())
        } else {
            Err(paths.len())
        })
    })
    .await
}

async fn choose_language(browser: &Browser, code: &str) -> Result<()> {
    browser
        .client
        .execute(
            "const select = document.getElementById('language'); select.value = arguments[0]; select.dispatchEvent(new Event('change', { bubbles: true })); return null;",
            vec![code.into()],
        )
        .await?;
    Ok(())
}

async fn page_language(browser: &Browser) -> Result<(String, String)> {
    let value = browser
        .eval("return [document.documentElement.lang, document.documentElement.dir || 'ltr'];")
        .await?;
    let field = |i: usize| {
        value
            .get(i)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok((field(0), field(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_is_loaded_when_chosen_and_the_room_runs_right_to_left() -> Result<()> {
    let relay = Relay::start_with(&["--access-log-jsonl", "true"])?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;

    family
        .open_prejoin(&relay.url(&format!("/r/{ROOM}")), "Ben")
        .await?;
    until_logged(&relay, "the pre-join page in the access log", |paths| {
        paths.iter().any(|p| p.ends_with(".wasm"))
    })
    .await?;
    ensure!(
        language_requests(&relay)?.is_empty(),
        "German needs no language file, but {:?} were asked for",
        language_requests(&relay)?
    );
    ensure!(page_language(&family).await? == ("de".into(), "ltr".into()));

    choose_language(&family, "ar").await?;
    family
        .until_true(
            "the pre-join page in Arabic, right to left",
            Duration::from_secs(10),
            "return document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar' && document.querySelector('h1').textContent === 'هل أنتم مستعدون للدخول؟';",
        )
        .await?;
    until_logged(&relay, "the Arabic file in the access log", |paths| {
        paths.iter().any(|p| p.starts_with("/lang/ar-"))
    })
    .await?;
    let files = language_requests(&relay)?;
    ensure!(
        files.len() == 1 && files[0].starts_with("/lang/ar-") && files[0].ends_with(".json"),
        "language files asked for: {files:?}"
    );

    // The counselor works in German; the family joins in Arabic.
    counselor.join(&relay.url(""), ROOM, "Frau Berger").await?;
    // The consent box ticked on the German page stays ticked in Arabic.
    ensure!(
        family
            .eval("return document.getElementById('consent').checked")
            .await?
            == Value::Bool(true),
        "switching the language lost the consent tick"
    );
    family.click("#join").await?;
    if let Err(e) = family.wait_for(fantoccini::Locator::Css("main.room")).await {
        let page = family.eval("return document.body.innerText").await?;
        return Err(e.context(format!("the family's room did not appear: {page}")));
    }

    // The counselor's screen reader hears the family come in, in German, by name.
    counselor
        .until_true(
            "the counselor to hear that Ben joined",
            Duration::from_secs(10),
            "const r = document.getElementById('announcements'); return !!r && r.textContent.includes('Ben ist beigetreten');",
        )
        .await?;

    // The control bar is mirrored: the microphone, first in the bar, is on the right.
    let order = family
        .eval("const a = document.getElementById('toggle-mic').getBoundingClientRect(); const b = document.getElementById('toggle-hand').getBoundingClientRect(); return [a.left, b.left];")
        .await?;
    let (mic, hand) = (
        order.get(0).and_then(Value::as_f64).unwrap_or_default(),
        order.get(1).and_then(Value::as_f64).unwrap_or_default(),
    );
    ensure!(
        mic > hand,
        "in Arabic the microphone ({mic}) is left of the hand ({hand})"
    );

    // With the chat closed, the family hears the counselor's hand and message in Arabic.
    counselor.click("#toggle-hand").await?;
    counselor.send_chat("Guten Tag, Ben", None).await?;
    family
        .until_true(
            "the family to hear the hand and the message in Arabic",
            Duration::from_secs(10),
            "const r = document.getElementById('announcements'); return !!r && !document.getElementById('chat-input') && r.textContent.includes('رفع Frau Berger يده') && r.textContent.includes('رسالة من Frau Berger: Guten Tag, Ben');",
        )
        .await?;

    // The German message reads left to right inside the right-to-left page.
    family.click("#open-chat").await?;
    let xs = family
        .client
        .execute(
            "const e = [...document.querySelectorAll('.message .text')].find(e => e.textContent.trim() === 'Guten Tag, Ben'); if (!e) return null; const n = document.createTreeWalker(e, NodeFilter.SHOW_TEXT).nextNode(); const x = (i) => { const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1); const b = r.getBoundingClientRect(); return b.left + b.width / 2; }; return [x(0), x(n.textContent.length - 1)];",
            vec![],
        )
        .await?;
    let first = xs
        .get(0)
        .and_then(Value::as_f64)
        .context("no German message")?;
    let last = xs
        .get(1)
        .and_then(Value::as_f64)
        .context("no German message")?;
    ensure!(first < last, "the German message runs right to left: {xs}");
    // Times as each language writes them (Chromium writes Arabic times with "ص"/"م"), not
    // in German: the page's text is the browser's own rendering for the page's language.
    let time_in = |lang: &str| {
        format!(
            "const t = document.querySelector('.message time'); \
             if (!t) return null; \
             const d = new Date(t.getAttribute('datetime')); \
             return [t.textContent, d.toLocaleTimeString('{lang}'), d.toLocaleTimeString('de')];"
        )
    };
    let arabic = family.eval(&time_in("ar")).await?;
    ensure!(
        arabic[0] == arabic[1] && arabic[1] != arabic[2],
        "the chat's time in Arabic (shown, as Arabic writes it, as German does): {arabic}"
    );
    // The counselor's chat is still open from sending.
    let german = counselor.eval(&time_in("de")).await?;
    ensure!(
        german[0] == german[1]
            && german[0].as_str().is_some_and(|t| {
                t.len() == 8
                    && t.chars().enumerate().all(|(i, c)| {
                        if i == 2 || i == 5 {
                            c == ':'
                        } else {
                            c.is_ascii_digit()
                        }
                    })
            }),
        "the chat's time in German is {german}"
    );

    // The choice is remembered: the privacy notice opens in Arabic, and as the operator has
    // no Arabic notice, it says that the German text below is the binding one.
    family.client.goto(&relay.url("/datenschutz")).await?;
    family
        .until_true(
            "the notice page in Arabic with the German text marked",
            Duration::from_secs(20),
            "const note = document.querySelector('.notice-language'); const text = document.querySelector('.privacy [lang=de]'); return document.documentElement.dir === 'rtl' && !!note && note.textContent.includes('النص الألماني') && !!text && text.textContent.length > 100;",
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_suggests_a_language_and_the_browsers_own_is_offered() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;

    // An invitation made for a Ukrainian family opens in Ukrainian.
    browser
        .client
        .goto(&relay.url(&format!("/r/{ROOM}?lang=uk")))
        .await?;
    browser
        .until_true(
            "the pre-join page in Ukrainian",
            Duration::from_secs(20),
            "const h = document.querySelector('h1'); return !!h && h.textContent === 'Готові приєднатися?' && document.documentElement.lang === 'uk';",
        )
        .await?;
    ensure!(page_language(&browser).await?.1 == "ltr");

    // Without a link's suggestion: German, with the browser's own language (Chromium here
    // says English) offered in that language.
    browser.client.goto(&relay.url("/")).await?;
    browser
        .until_true(
            "the start page in German with English offered",
            Duration::from_secs(20),
            "const o = document.getElementById('language-offer'); return document.documentElement.lang === 'de' && !!o && o.textContent.trim() === 'Read in English' && o.lang === 'en';",
        )
        .await?;
    browser.click("#language-offer").await?;
    browser
        .until_true(
            "the start page in English, the offer gone",
            Duration::from_secs(10),
            "return document.documentElement.lang === 'en' && document.querySelector('h1').textContent === 'Welcome to video counseling' && !document.getElementById('language-offer');",
        )
        .await?;
    // Chosen once, kept: a new page starts in English.
    browser.client.goto(&relay.url("/")).await?;
    browser
        .until_true(
            "English again after a reload",
            Duration::from_secs(20),
            "const h = document.querySelector('h1'); return !!h && h.textContent === 'Welcome to video counseling';",
        )
        .await?;
    Ok(())
}
