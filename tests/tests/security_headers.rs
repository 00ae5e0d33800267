//! Every response carries the security headers; the app runs under a CSP without inline
//! script, and a violation is reported back to the relay.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;

#[tokio::test]
async fn every_response_has_the_security_headers() -> Result<()> {
    let relay = Relay::start()?;
    for path in ["/", "/r/beratung", "/healthz", "/nothing"] {
        let headers = sprechstunde_tests::http::get(relay.http, path, "")?.headers;
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .with_context(|| format!("{path}: no {name}"))
        };
        let csp = get("content-security-policy")?;
        ensure!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        ensure!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{csp}"
        );
        ensure!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "{csp}"
        );
        ensure!(get("referrer-policy")? == "no-referrer");
        ensure!(get("x-content-type-options")? == "nosniff");
        ensure!(get("permissions-policy")?.contains("camera=(self)"));
    }
    let (_, page) = relay.get("/r/beratung")?;
    ensure!(
        page.contains("<script type=\"module\" src=\"/loader-"),
        "loader not external: {page}"
    );
    ensure!(
        !page.contains("import init"),
        "inline script left in the page"
    );
    let loader = page
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("loader path")?;
    let (status, body) = relay.get(loader)?;
    ensure!(
        status == 200 && body.contains("import init"),
        "loader {loader}: {status}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csp_blocks_inline_script_and_reports_it() -> Result<()> {
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let browser = driver.browser().await?;
    // The app starts under the policy (the loader and wasm are allowed).
    browser.client.goto(&relay.url("/")).await?;
    browser
        .wait_for(fantoccini::Locator::Id("room-name"))
        .await?;
    ensure!(relay.metric("csp_violations_total")? == 0.0);
    let ran = browser
        .client
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.__inline = 1;'; \
             document.body.appendChild(s); return window.__inline === 1;",
            vec![],
        )
        .await?;
    ensure!(
        ran == serde_json::Value::Bool(false),
        "inline script ran despite the CSP"
    );
    eventually("the violation report", Duration::from_secs(10), || async {
        let count = relay.metric("csp_violations_total")?;
        Ok(if count >= 1.0 { Ok(()) } else { Err(count) })
    })
    .await?;
    browser.close().await?;
    Ok(())
}
