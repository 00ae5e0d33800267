//! The access log of the real relay: exactly the notice's fields, no query strings or
//! tokens, no names; joins and leaves as events; the operator's data-subject tools work on
//! what the running relay wrote.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sprechstunde_shared::{ClientMessage, MediaState, ServerMessage, PROTOCOL_VERSION};
use sprechstunde_tests::eventually;
use sprechstunde_tests::relay::Relay;
use tokio_tungstenite::tungstenite::Message;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/// A name nobody else uses, to look for everywhere afterwards.
const NAME_MARKER: &str = "Marker-Name-7f3a9c";
const TOKEN_MARKER: &str = "token-marker-51b2e0";
const CHAT_MARKER: &str = "chat-marker-c4d8e1";

async fn join_and_leave(relay: &Relay) -> Result<()> {
    let (mut socket, _) = tokio_tungstenite::connect_async(relay.ws_url()).await?;
    let join = ClientMessage::Join {
        version: PROTOCOL_VERSION,
        room: "Beratung".into(),
        name: NAME_MARKER.into(),
        email: None,
        media: MediaState::default(),
        token: None,
        password: None,
    };
    socket.send(Message::text(join.to_json())).await?;
    let welcome = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await?
        .context("closed")??;
    let text = welcome.into_text()?;
    ensure!(matches!(
        ServerMessage::from_json(text.as_str())?,
        ServerMessage::Welcome { .. }
    ));
    // A chat message, which lives only in the relay's memory while the room does.
    let chat = ClientMessage::Chat {
        text: format!("Hallo {CHAT_MARKER}"),
        to: None,
    };
    socket.send(Message::text(chat.to_json())).await?;
    loop {
        let reply = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await?
            .context("closed")??;
        if let Ok(ServerMessage::Chat(message)) =
            ServerMessage::from_json(reply.into_text()?.as_str())
        {
            ensure!(message.text.contains(CHAT_MARKER));
            break;
        }
    }
    socket
        .send(Message::text(ClientMessage::Leave.to_json()))
        .await?;
    while socket.next().await.is_some() {}
    Ok(())
}

async fn export(relay: &Relay) -> Result<Value> {
    Ok(serde_json::from_str(&relay.admin(&[
        "log",
        "export",
        "--ip",
        "127.0.0.1",
    ])?)?)
}

#[tokio::test]
async fn requests_and_sign_ins_are_logged_with_the_notice_fields_only() -> Result<()> {
    let relay = Relay::start()?;
    let (status, _) = relay.get_as(&format!("/r/beratung?t={TOKEN_MARKER}"), FIREFOX)?;
    ensure!(status == 200);
    relay.get_as("/nothing-here", FIREFOX)?;
    join_and_leave(&relay).await?;

    let log = eventually(
        "the log to hold the requests and both events",
        Duration::from_secs(10),
        || async {
            let log = export(&relay).await?;
            let access = log["access"].as_array().map(Vec::len).unwrap_or(0);
            let events = log["events"].as_array().map(Vec::len).unwrap_or(0);
            Ok(if access >= 3 && events == 2 {
                Ok(log)
            } else {
                Err(log)
            })
        },
    )
    .await?;

    let room_page = log["access"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["path"] == "/r/beratung"))
        .context("no entry for the room page")?;
    ensure!(room_page["ip"] == "127.0.0.1");
    ensure!(room_page["status"] == 200);
    ensure!(
        room_page["bytes"].as_u64().unwrap_or(0) > 100,
        "{room_page}"
    );
    ensure!(room_page["browser"] == "Firefox" && room_page["browser_version"] == "128.0");
    ensure!(room_page["os"] == "Linux");
    ensure!(room_page["time_ms"].as_i64().unwrap_or(0) > 0);
    let statuses: Vec<&Value> = log["access"]
        .as_array()
        .map(|a| a.iter().map(|e| &e["status"]).collect())
        .unwrap_or_default();
    ensure!(
        statuses.iter().any(|s| **s == 404),
        "the 404 is logged too: {statuses:?}"
    );
    ensure!(
        statuses.iter().any(|s| **s == 101),
        "the WebSocket upgrade is logged: {statuses:?}"
    );

    let kinds: Vec<(&Value, &Value)> = log["events"]
        .as_array()
        .map(|a| a.iter().map(|e| (&e["kind"], &e["room"])).collect())
        .unwrap_or_default();
    ensure!(
        kinds
            == [
                (&Value::from("join"), &Value::from("beratung")),
                (&Value::from("leave"), &Value::from("beratung"))
            ],
        "{kinds:?}"
    );

    // Neither the token from the query string, nor the name, nor the chat is anywhere: not
    // in the export, not in any file of the data directory (database, write-ahead log,
    // relay log).
    let exported = log.to_string();
    for marker in [TOKEN_MARKER, NAME_MARKER, CHAT_MARKER] {
        ensure!(!exported.contains(marker), "{marker} in the export");
        let files = relay.files_containing(marker)?;
        ensure!(files.is_empty(), "{marker} found in {files:?}");
    }

    // The conference (one person, then empty) counts in the anonymous statistics.
    let stats: Value = serde_json::from_str(&relay.admin(&["stats", "--json", "--days", "1"])?)?;
    ensure!(stats[0]["conferences"] == "<5", "{stats}");
    ensure!(
        !stats.to_string().contains("127.0.0.1"),
        "statistics hold an address: {stats}"
    );
    Ok(())
}

#[tokio::test]
async fn erase_and_holds_through_the_operator_commands() -> Result<()> {
    let relay = Relay::start()?;
    relay.get_as("/", FIREFOX)?;
    eventually(
        "the request to be logged",
        Duration::from_secs(10),
        || async {
            let log = export(&relay).await?;
            Ok(if log["access"].as_array().is_some_and(|a| !a.is_empty()) {
                Ok(())
            } else {
                Err(log)
            })
        },
    )
    .await?;

    let hold = relay.admin(&["hold", "add", "--ip", "127.0.0.1", "--reason", "Vorfall 12"])?;
    let hold = hold.trim();
    ensure!(hold.parse::<i64>().is_ok(), "hold id: {hold:?}");
    ensure!(relay.admin(&["hold", "list"])?.contains("Vorfall 12"));
    let erased = relay.admin(&["log", "erase", "--ip", "127.0.0.1"])?;
    ensure!(
        erased.contains("erased 0") && erased.contains("legal hold"),
        "{erased}"
    );
    ensure!(export(&relay).await?["access"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));

    relay.admin(&["hold", "release", hold])?;
    let erased = relay.admin(&["log", "erase", "--ip", "127.0.0.1"])?;
    ensure!(!erased.contains("erased 0"), "{erased}");
    let log = export(&relay).await?;
    ensure!(
        log["access"].as_array().is_some_and(|a| a.is_empty()),
        "{log}"
    );
    ensure!(
        log["events"].as_array().is_some_and(|a| a.is_empty()),
        "{log}"
    );

    let csv = relay.admin(&["log", "export", "--ip", "127.0.0.1", "--format", "csv"])?;
    ensure!(csv.starts_with("record,time,ip,path"), "{csv}");
    Ok(())
}

#[tokio::test]
async fn retention_above_the_promise_is_refused_at_start() -> Result<()> {
    let output =
        std::process::Command::new(std::env::var("SPRECHSTUNDE_RELAY_BIN").unwrap_or_else(|_| {
            sprechstunde_tests::workspace_root()
                .join("target/debug/sprechstunde-relay")
                .to_string_lossy()
                .into_owned()
        }))
        .args(["--retention-days", "31", "check-config"])
        .output()?;
    ensure!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(stderr.contains("at most 30"), "{stderr}");
    Ok(())
}

#[tokio::test]
async fn admin_statistics_need_the_configured_token() -> Result<()> {
    let closed = Relay::start()?;
    ensure!(closed.get("/admin/stats")?.0 == 404, "off without a token");

    let token = "test-admin-token-0123456789abcdef";
    let relay = Relay::start_with(&["--admin-token", token])?;
    relay.get_as("/", FIREFOX)?;
    ensure!(relay.get("/admin/stats")?.0 == 401);
    let wrong = relay.get_with(
        "/admin/stats",
        &[("Authorization", "Bearer test-admin-token-0123456789abcdeX")],
    )?;
    ensure!(wrong.0 == 401);
    let bearer = format!("Bearer {token}");
    let stats = eventually(
        "statistics with today's request",
        Duration::from_secs(10),
        || async {
            let (status, body) =
                relay.get_with("/admin/stats?days=1", &[("Authorization", bearer.as_str())])?;
            let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            Ok(if status == 200 && json[0]["requests"] != Value::Null {
                Ok(json)
            } else {
                Err((status, body))
            })
        },
    )
    .await?;
    ensure!(stats[0]["browsers"]["Firefox"] == "<5", "{stats}");
    ensure!(!stats.to_string().contains("127.0.0.1") && !stats.to_string().contains("Mozilla"));
    // The counters too: with the token only, once there is one.
    ensure!(
        relay.get("/metrics")?.0 == 401,
        "/metrics without the token"
    );
    let (status, body) = relay.get_with("/metrics", &[("Authorization", bearer.as_str())])?;
    ensure!(
        status == 200 && body.contains("sprechstunde_rooms"),
        "{status}"
    );
    // Without a token: only from this machine, not through a proxy.
    let (status, _) = closed.get_with("/metrics", &[("X-Forwarded-For", "203.0.113.7")])?;
    ensure!(status == 401, "/metrics through a proxy: {status}");
    ensure!(closed.get("/metrics")?.0 == 200);
    ensure!(
        !relay.log().contains(token),
        "the token is in the relay log"
    );
    Ok(())
}

#[tokio::test]
async fn json_lines_for_a_log_shipper_carry_the_same_fields_and_are_erased_too() -> Result<()> {
    let relay = Relay::start_with(&["--access-log-jsonl", "true"])?;
    relay.get_as("/r/beratung?t=token-marker-jsonl", FIREFOX)?;
    join_and_leave(&relay).await?;
    let dir = relay.data_dir.join("access-log");
    let lines = eventually("the JSON-lines copy", Duration::from_secs(5), || async {
        let mut text = String::new();
        for entry in std::fs::read_dir(&dir)? {
            text.push_str(&std::fs::read_to_string(entry?.path())?);
        }
        Ok(if text.contains("\"kind\":\"leave\"") {
            Ok(text)
        } else {
            Err(text)
        })
    })
    .await?;
    let parsed: Vec<Value> = lines
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    ensure!(parsed.iter().any(|v| v["type"] == "access"
        && v["path"] == "/r/beratung"
        && v["browser"] == "Firefox"
        && v["ip"] == "127.0.0.1"));
    ensure!(parsed
        .iter()
        .any(|v| v["type"] == "event" && v["kind"] == "join" && v["room"] == "beratung"));
    for marker in [NAME_MARKER, CHAT_MARKER, "token-marker-jsonl"] {
        ensure!(!lines.contains(marker), "{marker} is in the JSON lines");
    }
    let erased = relay.admin(&["log", "erase", "--ip", "127.0.0.1"])?;
    ensure!(erased.contains("from the JSON-lines copies"), "{erased}");
    let mut after = String::new();
    for entry in std::fs::read_dir(&dir)? {
        after.push_str(&std::fs::read_to_string(entry?.path())?);
    }
    ensure!(
        !after.contains("127.0.0.1"),
        "the erased address is still in the copies: {after}"
    );
    Ok(())
}

/// One address sending 1,000 requests with 16 KB paths adds at most its share to the log,
/// with paths cut short; what was left out is counted.
#[tokio::test]
async fn one_address_cannot_flood_the_log() -> Result<()> {
    let relay = Relay::start()?;
    let long_path = format!("/{}", "x".repeat(16 * 1024));
    for _ in 0..1_000 {
        relay.get(&long_path)?;
    }
    let log = eventually("the log to settle", Duration::from_secs(10), || async {
        let log = export(&relay).await?;
        let access = log["access"].as_array().map(Vec::len).unwrap_or(0);
        Ok(if access >= 600 { Ok(log) } else { Err(log) })
    })
    .await?;
    let entries = log["access"].as_array().context("access entries")?;
    ensure!(
        entries.len() == 600,
        "{} entries from one address",
        entries.len()
    );
    let longest = entries
        .iter()
        .filter_map(|e| e["path"].as_str())
        .map(str::len)
        .max()
        .unwrap_or(0);
    ensure!(longest <= 256, "a path of {longest} bytes was logged");
    ensure!(
        relay.metric("access_log_left_out_total")? == 400.0,
        "what was left out is counted"
    );
    Ok(())
}
