//! `docs/PROTOCOL.md` is the contract: its example session is run against the real relay,
//! message by message, exactly as written there. A client written only from the document
//! must meet what the document shows.
//!
//! The example's lines are `A → {json}` (participant A sends this, verbatim), `A ← {json}`
//! (A's next message from the relay must be this; a string "…" matches any value;
//! `speaking_stats`, sent about once a second, is skipped) and `A ← close CODE`.

use std::collections::HashMap;

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::raw_ws::{connect, next, send_raw, Socket};
use sprechstunde_tests::relay::Relay;

const DOC: &str = include_str!("../../docs/PROTOCOL.md");

/// The lines of the fenced block under "## Example session".
fn example_lines() -> Result<Vec<&'static str>> {
    let section = DOC
        .split("## Example session")
        .nth(1)
        .context("docs/PROTOCOL.md has no example session")?;
    let block = section
        .split("```")
        .nth(1)
        .context("the example session has no code block")?;
    Ok(block
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect())
}

/// `expected` matches `actual`: the same keys and values, "…" standing for any value.
fn matches(expected: &Value, actual: &Value, path: &str) -> Result<()> {
    match (expected, actual) {
        (Value::String(wild), _) if wild == "…" => Ok(()),
        (Value::Object(e), Value::Object(a)) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => matches(ev, av, &format!("{path}.{key}"))?,
                    (Some(_), None) => bail!("{path}.{key} is missing"),
                    (None, Some(av)) => bail!("{path}.{key} = {av} is not in the document"),
                    (None, None) => {}
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            ensure!(
                e.len() == a.len(),
                "{path}: {} items, the document shows {}",
                a.len(),
                e.len()
            );
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                matches(ev, av, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => {
            ensure!(
                expected == actual,
                "{path}: {actual}, the document says {expected}"
            );
            Ok(())
        }
    }
}

/// The next message for a participant, as JSON, or its close code.
async fn receive(socket: &mut Socket) -> Result<Result<Value, Option<u16>>> {
    Ok(match next(socket).await? {
        Ok(message) => Ok(serde_json::from_str(&message.to_json())?),
        Err(code) => Err(code),
    })
}

#[tokio::test]
async fn the_example_session_of_the_protocol_document_runs_as_written() -> Result<()> {
    let lines = example_lines()?;
    ensure!(
        lines.len() >= 20,
        "the example session is too short to prove much"
    );
    let relay = Relay::start()?;
    let mut sockets: HashMap<&str, Socket> = HashMap::new();
    for (number, line) in lines.iter().enumerate() {
        let context = || format!("example line {}: {line}", number + 1);
        let (who, rest) = line.split_once(' ').with_context(context)?;
        if !sockets.contains_key(who) {
            sockets.insert(who, connect(&relay).await?);
        }
        let socket = sockets.get_mut(who).with_context(context)?;
        if let Some(json) = rest.strip_prefix("→ ") {
            send_raw(socket, json).await.with_context(context)?;
        } else if let Some(code) = rest.strip_prefix("← close ") {
            let code: u16 = code.parse().with_context(context)?;
            match receive(socket).await.with_context(context)? {
                Err(Some(got)) if got == code => {}
                other => bail!("{}: got {other:?}", context()),
            }
        } else if let Some(json) = rest.strip_prefix("← ") {
            let expected: Value = serde_json::from_str(json).with_context(context)?;
            match receive(socket).await.with_context(context)? {
                Ok(actual) => matches(&expected, &actual, "")
                    .with_context(|| format!("{}: the relay sent {actual}", context()))?,
                Err(code) => bail!("{}: closed with {code:?}", context()),
            }
        } else {
            bail!("{}: neither → nor ←", context());
        }
    }
    Ok(())
}
