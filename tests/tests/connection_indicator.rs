//! Everyone sees how each participant's connection is: when a fifth of what the relay sends
//! Ben is lost on his network, his tile says "Verbindung schlecht" to Anna and to himself, a
//! tap explains it (passing axe), and once his network is whole again the badge goes.

use std::time::Duration;

use anyhow::{ensure, Result};
use serde_json::Value;
use sprechstunde_tests::two_hosts::TwoHosts;

const BEN_ON_ANNAS_STAGE: &str = "figure.tile[data-participant]:not(.own) .badge.connection";
const OWN: &str = "figure.tile.own .badge.connection";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lossy_link_shows_on_the_tile_for_everyone_and_goes_when_it_heals() -> Result<()> {
    let call = TwoHosts::call(None).await?;
    let (anna, ben) = (&call.anna, &call.ben);
    // A clean path: no badge anywhere.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (who, browser) in [("Anna", anna), ("Ben", ben)] {
        let badges = browser
            .eval("return document.querySelectorAll('.badge.connection').length;")
            .await?;
        ensure!(
            badges == 0,
            "{who} sees {badges} connection badges on a clean path"
        );
    }

    call.ben_host.lose_incoming_udp(20)?;
    anna.until_true(
        "Anna to see Ben's connection as bad",
        Duration::from_secs(20),
        &format!("const b = document.querySelector('{BEN_ON_ANNAS_STAGE}'); return !!b && b.dataset.quality === 'bad' && b.textContent.includes('Verbindung schlecht');"),
    )
    .await?;
    ben.until_true(
        "Ben to see his own connection as bad",
        Duration::from_secs(10),
        &format!(
            "const b = document.querySelector('{OWN}'); return !!b && b.dataset.quality === 'bad';"
        ),
    )
    .await?;
    let annas_own = anna
        .eval("return document.querySelectorAll('figure.tile.own .badge.connection').length;")
        .await?;
    ensure!(
        annas_own == 0,
        "Anna's own connection is whole: {annas_own} badges"
    );
    // A tap explains what it means.
    anna.click(BEN_ON_ANNAS_STAGE).await?;
    let help = anna
        .eval("const p = document.querySelector('figure.tile[data-participant]:not(.own) .connection-help'); return p ? p.textContent : null;")
        .await?;
    ensure!(
        help.as_str()
            .is_some_and(|h| h.contains("Bild und Ton kommen kaum an")),
        "the explanation: {help}"
    );
    anna.screenshot_if_asked("connection-badge-explained")
        .await?;
    // Badge and explanation are readable (contrast) and named, as the rest of the room.
    let violations = anna.serious_accessibility_violations().await?;
    ensure!(violations.is_empty(), "axe: {violations:?}");

    call.ben_host.heal()?;
    anna.until_true(
        "the badge to go once Ben's network is whole",
        Duration::from_secs(20),
        &format!("return !document.querySelector('{BEN_ON_ANNAS_STAGE}');"),
    )
    .await?;
    let own_badge = ben
        .eval(&format!("return !!document.querySelector('{OWN}');"))
        .await?;
    ensure!(own_badge == Value::Bool(false), "Ben still sees his badge");
    Ok(())
}
