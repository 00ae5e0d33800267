//! Kiosk mode on a shared tablet: two families in a row on the same browser profile; the
//! second finds no trace of the first, and storage stays empty throughout.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::{json, Value};
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;

async fn storage(browser: &Browser) -> Result<Value> {
    Ok(browser
        .client
        .execute(
            "return { local: localStorage.length, session: sessionStorage.length, cookie: document.cookie };",
            vec![],
        )
        .await?)
}

async fn family_joins(browser: &Browser, name: &str) -> Result<()> {
    let field = browser.wait_for(Locator::Id("display-name")).await?;
    let prefilled = field.prop("value").await?.unwrap_or_default();
    ensure!(prefilled.is_empty(), "the name field shows {prefilled:?}");
    let remember = browser
        .client
        .find_all(Locator::Id("remember-name"))
        .await?;
    ensure!(remember.is_empty(), "kiosk offers to remember a name");
    field.send_keys(name).await?;
    browser.agree_to_privacy_notice().await?;
    browser.press_join().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_family_finds_no_trace_of_the_last() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let tablet = driver.browser().await?;
    let empty = json!({ "local": 0, "session": 0, "cookie": "" });

    tablet.client.goto(&relay.url("/kiosk/empfang")).await?;
    // Even choosing a language leaves nothing behind.
    tablet
        .wait_for(Locator::Id("language"))
        .await?
        .select_by_value("en")
        .await?;
    tablet
        .client
        .find(Locator::Id("language"))
        .await?
        .select_by_value("de")
        .await?;
    family_joins(&tablet, "Familie Erste").await?;
    ensure!(
        storage(&tablet).await? == empty,
        "stored during the first session"
    );
    let stage = tablet.text("main.room").await?;
    ensure!(stage.contains("Familie Erste"));

    tablet.button("Verlassen").await?.click().await?;
    // Back to a clean pre-join by itself, without anyone touching the tablet.
    eventually(
        "the tablet to start afresh",
        Duration::from_secs(20),
        || async {
            let url = tablet.client.current_url().await?;
            let field = tablet.client.find_all(Locator::Id("display-name")).await?;
            Ok(if url.path() == "/kiosk/empfang" && !field.is_empty() {
                Ok(())
            } else {
                Err(url.to_string())
            })
        },
    )
    .await?;
    let page = tablet.text("body").await?;
    ensure!(
        !page.contains("Familie Erste"),
        "the first family's name is still on screen"
    );
    ensure!(storage(&tablet).await? == empty);

    family_joins(&tablet, "Familie Zweite").await?;
    let stage = tablet.text("main.room").await?;
    ensure!(
        !stage.contains("Familie Erste"),
        "the second family sees the first: {stage}"
    );
    ensure!(tablet.text("#people-count").await?.starts_with("1 "));
    ensure!(storage(&tablet).await? == empty);
    tablet.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untouched_kiosk_pre_join_starts_afresh_after_its_idle_time() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let tablet = driver.browser().await?;
    tablet
        .client
        .goto(&relay.url("/kiosk/empfang?idle=10"))
        .await?;
    let field = tablet.wait_for(Locator::Id("display-name")).await?;
    field.send_keys("Familie, die wegging").await?;
    // A mark in this page's memory: a reload takes it away.
    tablet.eval("window.__testBeforeReset = true;").await?;
    eventually("the tablet to start afresh", Duration::from_secs(25), || async {
        let fresh = tablet
            .eval(
                "const f = document.getElementById('display-name');
                 return !window.__testBeforeReset && !!f && f.value === '' && location.search === '?idle=10';",
            )
            .await?;
        Ok(if fresh == Value::Bool(true) { Ok(()) } else { Err(fresh) })
    })
    .await?;
    ensure!(
        storage(&tablet).await? == json!({ "local": 0, "session": 0, "cookie": "" }),
        "storage after the reset"
    );
    Ok(())
}
