//! Text people write in their own script reads right in a German page. An Arabic chat
//! message with a German word in it is laid out right to left (it starts on the right, the
//! German word at its left end), a German one left to right, side by side in the same list;
//! a name in Arabic and Latin letters in the people list does the same. Without direction
//! detection (`dir="auto"`, `<bdi>`) the page's left-to-right order would put the Arabic
//! first on the left.

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::relay::Relay;

/// Where the first and the last character of an element's text are drawn (x of their
/// centres), so that the direction they run in can be told.
const FIRST_AND_LAST_X: &str = r#"
const [selector, text] = arguments;
const element = [...document.querySelectorAll(selector)].find(e => e.textContent.trim() === text);
if (!element) return null;
const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
const node = walker.nextNode();
if (!node) return null;
const x = (from) => {
  const range = document.createRange();
  range.setStart(node, from); range.setEnd(node, from + 1);
  const r = range.getBoundingClientRect();
  return r.left + r.width / 2;
};
return [x(0), x(node.textContent.length - 1)];
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_text_runs_right_to_left_in_a_german_page() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;
    counselor
        .join(&relay.url(""), "sprachen", "Frau Berger")
        .await?;
    family
        .join(&relay.url(""), "sprachen", "سارة Ahmed")
        .await?;

    let arabic = "سؤال عن Schule";
    let german = "Guten Tag, willkommen";
    family.send_chat(arabic, None).await?;
    counselor.send_chat(german, None).await?;
    counselor
        .until_true(
            "both messages",
            Duration::from_secs(10),
            &format!("const t = [...document.querySelectorAll('.message .text')].map(e => e.textContent); return t.includes({arabic:?}) && t.includes({german:?});"),
        )
        .await?;
    let direction = |value: serde_json::Value| -> Option<bool> {
        let (first, last) = (value.get(0)?.as_f64()?, value.get(1)?.as_f64()?);
        Some(first > last)
    };
    for (text, right_to_left) in [(arabic, true), (german, false)] {
        let xs = counselor
            .client
            .execute(FIRST_AND_LAST_X, vec![".message .text".into(), text.into()])
            .await?;
        ensure!(
            direction(xs.clone()) == Some(right_to_left),
            "{text:?} is drawn with its first and last letter at {xs}"
        );
    }

    counselor.click("#open-people").await?;
    let name = "سارة Ahmed";
    let xs = counselor
        .client
        .execute(
            FIRST_AND_LAST_X,
            vec![".people .person bdi".into(), name.into()],
        )
        .await?;
    ensure!(
        direction(xs.clone()) == Some(true),
        "the name {name:?} is drawn with its first and last letter at {xs}"
    );
    Ok(())
}
