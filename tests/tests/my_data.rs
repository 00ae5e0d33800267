//! "Meine Daten": the page lists what the browser stores for this origin, and deleting
//! leaves every storage area empty, checked by enumerating them in the browser.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::json;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::relay::Relay;

const PLANT_DATA: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  sessionStorage.setItem('probe-session', 'eins');
  document.cookie = 'probe-cookie=zwei; path=/';
  await new Promise((resolve, reject) => {
    const request = indexedDB.open('probe-db', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('s');
    request.onsuccess = () => { request.result.close(); resolve(); };
    request.onerror = () => reject(request.error);
  });
  const cache = await caches.open('probe-cache');
  await cache.put('/probe', new Response('drei'));
})().then(() => done('ok'), (e) => done(String(e)));
"#;

const ENUMERATE: &str = r#"
const done = arguments[arguments.length - 1];
(async () => ({
  local: localStorage.length,
  session: sessionStorage.length,
  cookie: document.cookie,
  databases: (await indexedDB.databases()).map((d) => d.name),
  caches: await caches.keys(),
  workers: (await navigator.serviceWorker.getRegistrations()).length,
}))().then(done, (e) => done(String(e)));
"#;

/// What "Meine Daten" lists.
async fn my_data_list(browser: &Browser, relay: &Relay) -> Result<String> {
    browser.client.goto(&relay.url("/meine-daten")).await?;
    Ok(browser
        .wait_for(Locator::Id("my-data-list"))
        .await?
        .text()
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_leaves_every_storage_area_empty() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    let client = &browser.client;
    client.goto(&relay.url("/")).await?;
    // A remembered setting, made through the UI: pick English, then German again.
    let select = browser.wait_for(Locator::Id("language")).await?;
    select.select_by_value("en").await?;
    client
        .find(Locator::Id("language"))
        .await?
        .select_by_value("de")
        .await?;
    let planted = client.execute_async(PLANT_DATA, vec![]).await?;
    ensure!(planted == "ok", "planting failed: {planted}");

    let list = my_data_list(&browser, &relay).await?;
    for expected in [
        "sprechstunde.language = de",
        "probe-session",
        "probe-cookie",
        "probe-db",
        "probe-cache",
    ] {
        ensure!(list.contains(expected), "{expected} not listed in {list:?}");
    }

    browser
        .button("Alle meine Daten löschen")
        .await?
        .click()
        .await?;
    browser.button("Ja, alles löschen").await?.click().await?;
    let result = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("my-data-result"))
        .await?
        .text()
        .await?;
    ensure!(result == "Alle Daten wurden gelöscht.", "{result:?}");

    let left = client.execute_async(ENUMERATE, vec![]).await?;
    ensure!(
        left == json!({ "local": 0, "session": 0, "cookie": "", "databases": [], "caches": [], "workers": 0 }),
        "left behind: {left}"
    );
    client.goto(&relay.url("/meine-daten")).await?;
    browser.wait_for(Locator::Id("my-data-empty")).await?;
    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_devices_name_and_email_are_remembered_when_asked_and_listed() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    let client = &browser.client;
    client.goto(&relay.url("/r/geraete")).await?;
    browser
        .button("Kamera und Mikrofon testen")
        .await?
        .click()
        .await?;
    // With permission the cameras have names; choose the last one in the settings.
    browser.click("details.prejoin-settings > summary").await?;
    let chosen =
        sprechstunde_tests::eventually("the camera list", Duration::from_secs(15), || async {
            let id = browser
                .eval(
                    "const s = document.getElementById('camera-device');
                     const o = s && [...s.options].filter(o => o.value);
                     if (!o || o.length < 2) return null;
                     s.value = o[o.length - 1].value;
                     s.dispatchEvent(new Event('change', { bubbles: true }));
                     return s.value;",
                )
                .await?;
            Ok(match id.as_str() {
                Some(id) => Ok(id.to_string()),
                None => Err(id),
            })
        })
        .await?;
    browser
        .wait_for(Locator::Id("display-name"))
        .await?
        .send_keys("Familie Gerät")
        .await?;
    browser
        .wait_for(Locator::Id("email"))
        .await?
        .send_keys("geraet@example.org")
        .await?;
    browser.click("label[for='remember-name']").await?;
    browser.agree_to_privacy_notice().await?;
    browser.press_join().await?;
    browser.button("Verlassen").await?.click().await?;

    client.goto(&relay.url("/r/geraete")).await?;
    let (name, email, camera) = (
        browser.wait_for(Locator::Id("display-name")).await?.prop("value").await?,
        browser.wait_for(Locator::Id("email")).await?.prop("value").await?,
        browser
            .eval("return document.getElementById('camera-device') ? document.getElementById('camera-device').value : null;")
            .await?,
    );
    ensure!(name.as_deref() == Some("Familie Gerät"), "name {name:?}");
    ensure!(
        email.as_deref() == Some("geraet@example.org"),
        "e-mail {email:?}"
    );
    ensure!(
        camera == json!(chosen),
        "camera {camera} instead of {chosen}"
    );

    let list = my_data_list(&browser, &relay).await?;
    for key in [
        "sprechstunde.camera_device",
        "sprechstunde.email = geraet@example.org",
        "sprechstunde.display_name",
    ] {
        ensure!(list.contains(key), "{key} not listed in {list:?}");
    }
    Ok(())
}
