//! Every family gets through: where UDP is blocked, or only the web port is open, media goes
//! over TCP to the relay's web port (ICE-TCP), and on an open network it stays on UDP. Real
//! relay, real Chromium on hosts of their own whose paths nftables narrows.

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::load::{self, MediaProfile};
use sprechstunde_tests::netns::{Host, RELAY_IP};
use sprechstunde_tests::two_hosts::{camera_of, TwoHosts, MEDIA_TIMEOUT, ROOM};

async fn path_of(browser: &Browser) -> Result<String> {
    let mut last = None;
    for _ in 0..50 {
        last = browser.media_path().await?;
        if let Some(path) = &last {
            return Ok(path.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    anyhow::bail!("no media path selected: {last:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_network_keeps_media_on_udp() -> Result<()> {
    let call = TwoHosts::call(None).await?;
    for browser in [&call.anna, &call.ben] {
        let path = path_of(browser).await?;
        ensure!(path == "udp", "media went over {path} on an open network");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_udp_blocked_media_goes_over_the_web_port() -> Result<()> {
    let call = TwoHosts::ready(None).await?;
    call.anna_host.block_udp()?;
    call.ben_host.block_udp()?;
    call.join().await?;
    for browser in [&call.anna, &call.ben] {
        let path = path_of(browser).await?;
        ensure!(path == "tcp", "media went over {path} with UDP blocked");
        // The status line says so, in plain words.
        browser
            .until_true(
                "the status line to name the web port",
                std::time::Duration::from_secs(10),
                "const p = document.getElementById('media-path'); return !!p && p.dataset.transport === 'tcp' && p.textContent.includes('Webport');",
            )
            .await?;
    }
    ensure!(
        call.relay.metric("datagrams_received_total")? > 100.0,
        "the relay counted no media"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_only_the_web_port_open_the_call_works() -> Result<()> {
    let call = TwoHosts::ready(None).await?;
    call.anna_host.only_tcp_to(call.http_port)?;
    call.ben_host.only_tcp_to(call.http_port)?;
    call.join().await?;
    for browser in [&call.anna, &call.ben] {
        let path = path_of(browser).await?;
        ensure!(
            path == "tcp",
            "media went over {path} with only the web port open"
        );
    }
    Ok(())
}

/// What arrives on the web port looking like ICE-TCP but is not: an unanswerable STUN
/// frame, an oversized frame, a frame that never completes. Each is dropped and counted, and
/// the connection closed within seconds; the web still works, and a call in a room of its
/// own goes on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_tcp_media_path_is_dropped_and_closed() -> Result<()> {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    sprechstunde_tests::ensure_isolated_network()?;
    let relay = sprechstunde_tests::relay::Relay::start()?;
    // A STUN binding request header with nobody's credentials, framed.
    let mut stun = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    stun.extend([7u8; 12]);
    let mut unknown = (stun.len() as u16).to_be_bytes().to_vec();
    unknown.extend(&stun);
    let mut oversized = unknown.clone();
    oversized.extend([0xff, 0xff]);
    oversized.extend(vec![0u8; 4000]);
    let mut unfinished = vec![0x00, 0x40, 0x00, 0x01];
    unfinished.extend([0u8; 10]);
    let cases: [(&str, Vec<u8>); 3] = [
        ("an unanswerable STUN frame", unknown),
        ("an oversized frame", oversized),
        ("a frame that never completes", unfinished),
    ];
    // A call in a room of its own: two synthetic participants over UDP.
    let profile = MediaProfile::default();
    let mut call = Vec::new();
    for index in 0..2 {
        let source = std::net::IpAddr::from([127, 0, 3, 1 + index as u8]);
        call.push(load::sprechstunde::join(relay.http, source, "andere", index, profile).await?);
    }
    sprechstunde_tests::eventually(
        "the two to hear each other",
        Duration::from_secs(20),
        || async {
            let heard: Vec<usize> = call.iter().map(|p| p.senders_heard()).collect();
            Ok(if heard == [1, 1] { Ok(()) } else { Err(heard) })
        },
    )
    .await?;
    for participant in &call {
        participant.take();
    }
    let dropped_before = relay.metric("datagrams_dropped_total")?;
    for (what, bytes) in cases {
        let start = Instant::now();
        let mut stream = tokio::net::TcpStream::connect(relay.http).await?;
        stream.write_all(&bytes).await?;
        let mut buffer = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut buffer)).await;
        ensure!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "{what}: the connection was not closed ({read:?})"
        );
        ensure!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: closed only after {:?}",
            start.elapsed()
        );
    }
    ensure!(
        relay.metric("datagrams_dropped_total")? > dropped_before,
        "the unanswerable frames were not counted"
    );
    ensure!(relay.get("/healthz")?.0 == 200);
    ensure!(relay.get("/")?.0 == 200, "the web still works");
    for participant in &call {
        let meanwhile = participant.take();
        ensure!(
            meanwhile.video_received > 100 && meanwhile.audio_received > 100,
            "the call in the other room stalled: {} video, {} audio packets meanwhile",
            meanwhile.video_received,
            meanwhile.audio_received
        );
    }
    Ok(())
}

/// Opens the room's pre-join page, agrees, and reads the connection check's verdict.
async fn check_from(browser: &Browser, call: &TwoHosts, name: &str) -> Result<(String, String)> {
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    browser
        .open_prejoin(&format!("{base}/r/{ROOM}"), name)
        .await?;
    browser.connection_check().await
}

/// Press "Erneut prüfen" and read the new verdict.
async fn check_again(browser: &Browser) -> Result<(String, String)> {
    browser.click("#connection-check-again").await?;
    browser.connection_check().await
}

/// The pre-join check tells each network apart, in plain words: an open one (UDP), one that
/// blocks UDP, one that allows only the web port (TCP on the web port) and one whose
/// middlebox lets only web traffic through (no media at all, though the page loads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_check_names_what_works_in_each_network() -> Result<()> {
    let call = TwoHosts::ready(None).await?;
    call.ben_host.block_udp()?;
    let (verdict, text) = check_from(&call.anna, &call, "Anna").await?;
    ensure!(
        verdict == "udp" && text.starts_with("Alles bereit"),
        "open network: {verdict} {text:?}"
    );
    let (verdict, text) = check_from(&call.ben, &call, "Ben").await?;
    ensure!(
        verdict == "tcp" && text.contains("Webport"),
        "UDP blocked: {verdict} {text:?}"
    );
    call.anna_host.only_tcp_to(call.http_port)?;
    let (verdict, _) = check_again(&call.anna).await?;
    ensure!(verdict == "tcp", "only the web port: {verdict}");
    call.anna_host.heal()?;
    call.anna_host.only_web_to(call.http_port)?;
    let (verdict, text) = check_again(&call.anna).await?;
    ensure!(
        verdict == "blocked" && text.starts_with("Keine Verbindung möglich"),
        "only web traffic: {verdict} {text:?}"
    );
    // The check's media connections end with it.
    for browser in [&call.anna, &call.ben] {
        let open = browser
            .eval("return window.__testPeerConnections.filter(pc => pc.connectionState !== 'closed').length")
            .await?;
        ensure!(open == 0, "a check left a peer connection open: {open}");
    }
    Ok(())
}

/// A family whose network lets no media through is admitted, then told once, in plain words,
/// why it cannot work, instead of reconnecting for ever; the counselor is told once, by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_whose_network_blocks_media_is_told_and_so_is_the_counselor() -> Result<()> {
    use anyhow::Context;
    let call = TwoHosts::ready(None).await?;
    call.ben_host.only_web_to(call.http_port)?;
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    let line = call.relay.admin(&["room", "host-link", ROOM])?;
    let (_, fragment) = line.trim().split_once('#').context("no fragment")?;
    call.anna
        .open_prejoin(&format!("{base}/r/{ROOM}#{fragment}"), "Frau Berger")
        .await?;
    call.anna.press_join().await?;
    call.ben
        .open_prejoin(&format!("{base}/r/{ROOM}"), "Ben")
        .await?;
    call.ben.button("Beitreten").await?.click().await?;
    call.anna
        .until_true(
            "the counselor to see Ben knock",
            Duration::from_secs(20),
            "const n = document.getElementById('waiting-notice'); return !!n && n.textContent.includes('Ben');",
        )
        .await?;
    call.anna.click("#waiting-notice button.admit").await?;
    // The relay gives a media path 30 s after admission.
    call.ben
        .until_true(
            "Ben to be told his network blocks media",
            Duration::from_secs(60),
            "return document.body.innerText.includes('Ihr Netzwerk lässt sie nicht durch');",
        )
        .await?;
    call.anna
        .until_true(
            "the counselor to be told, with Ben's name",
            Duration::from_secs(10),
            "const n = [...document.querySelectorAll('.notice.unreachable')]; return n.length === 1 && n[0].textContent.includes('Ben') && n[0].textContent.includes('Netzwerk');",
        )
        .await?;
    // Told once: no loop of rejoining and failing afterwards.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let notices = call
        .anna
        .eval("return document.querySelectorAll('.notice.unreachable').length")
        .await?;
    ensure!(notices == 1, "the counselor was told {notices} times");
    ensure!(
        call.ben
            .eval("return !document.querySelector('main.room')")
            .await?
            == serde_json::Value::Bool(true),
        "Ben's page still tries the room"
    );
    let open = call
        .ben
        .eval("return window.__testPeerConnections.filter(pc => pc.connectionState !== 'closed').length")
        .await?;
    ensure!(open == 0, "Ben's page keeps {open} peer connection(s) open");
    Ok(())
}

/// `name`'s camera moves again in a fresh stream (a rejoin): one not marked before the restart.
async fn moving_again(browser: &Browser, name: &str) -> Result<()> {
    let fresh_frames = |s: &sprechstunde_tests::browser::MediaStats| {
        s.tile(name, "camera")
            .filter(|t| !t.marked && t.video_width > 0)
            .map(|t| t.frames_shown)
    };
    let fresh = browser
        .until_stats(&format!("a new tile of {name}"), MEDIA_TIMEOUT, |s| {
            fresh_frames(s).is_some()
        })
        .await?;
    let start = fresh_frames(&fresh).unwrap_or(0);
    browser
        .until_stats(
            &format!("{name}'s new picture to move"),
            MEDIA_TIMEOUT,
            |s| fresh_frames(s).is_some_and(|frames| frames > start + 30),
        )
        .await?;
    Ok(())
}

/// Frames shown of `name`'s camera and the tile's participant, once there are some.
async fn camera_now(browser: &Browser, name: &str) -> Result<(String, u64)> {
    use anyhow::Context;
    camera_of(&browser.stats().await?, name).with_context(|| format!("no camera tile of {name}"))
}

/// With UDP blocked, the call over the web port survives a path flap (the web port silent
/// for 10 s; the client may ask for an ICE restart meanwhile) and a relay restart (everyone
/// joins afresh, again over TCP).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_udp_blocked_a_path_flap_and_a_relay_restart_are_survived() -> Result<()> {
    survives_flap_and_restart(|host, _| host.block_udp()).await
}

/// The same where nothing but the web port is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_only_the_web_port_a_path_flap_and_a_relay_restart_are_survived() -> Result<()> {
    survives_flap_and_restart(|host, port| host.only_tcp_to(port)).await
}

async fn survives_flap_and_restart(narrow: impl Fn(&Host, u16) -> Result<()>) -> Result<()> {
    let mut call = TwoHosts::ready(None).await?;
    narrow(&call.anna_host, call.http_port)?;
    narrow(&call.ben_host, call.http_port)?;
    call.join().await?;

    let (anna_id, stalled) = camera_now(&call.ben, "Anna").await?;
    call.ben.mark_streams().await?;
    call.anna_host.cut_tcp(call.http_port)?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    call.anna_host.heal()?;
    narrow(&call.anna_host, call.http_port)?;
    let healed = std::time::Instant::now();
    // Anna's session goes on (resumed, media restarted), or, where the relay gave her media up
    // during the 10 s, she is back by the automatic rejoin as a new participant: both keep
    // the call, the first is what usually happens.
    let back = call
        .ben
        .until_stats("Anna's video to move again at Ben", MEDIA_TIMEOUT, |s| {
            let resumed = camera_of(s, "Anna")
                .is_some_and(|(id, frames)| id == anna_id && frames > stalled + 30);
            let rejoined = s
                .tile("Anna", "camera")
                .is_some_and(|t| !t.marked && t.participant != anna_id && t.frames_shown > 30);
            resumed || rejoined
        })
        .await?;
    let resumed = camera_of(&back, "Anna").is_some_and(|(id, _)| id == anna_id);
    println!(
        "media back {:?} after the web port healed ({})",
        healed.elapsed(),
        if resumed {
            "session resumed"
        } else {
            "rejoined afresh"
        }
    );
    ensure!(
        path_of(&call.anna).await? == "tcp",
        "Anna left the web port"
    );
    println!(
        "ICE restart requested: {}",
        call.relay.log().contains("ICE restart requested")
    );

    // Participant ids start afresh with the relay, so the new session is told by its fresh
    // stream.
    call.ben.mark_streams().await?;
    call.anna.mark_streams().await?;
    call.relay.restart()?;
    let restarted = std::time::Instant::now();
    moving_again(&call.ben, "Anna").await?;
    moving_again(&call.anna, "Ben").await?;
    println!(
        "both back {:?} after the relay restarted",
        restarted.elapsed()
    );
    for browser in [&call.anna, &call.ben] {
        let path = path_of(browser).await?;
        ensure!(path == "tcp", "after the restart media went over {path}");
    }
    Ok(())
}

/// A network that lets media reach neither the relay's UDP port nor its web port, but allows
/// TCP to the operator's TURN server (coturn, with the relay's shared secret): admitted
/// participants get credentials in `welcome`, and the call goes through the TURN server. The
/// pre-join check, which gets no credentials, says a detour will be tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_only_the_operators_turn_server_is_reachable_the_call_goes_through_it() -> Result<()>
{
    use sprechstunde_tests::turn::{Coturn, SECRET, TURN_PORT};
    sprechstunde_tests::ensure_isolated_network()?;
    let turn_url = format!(
        "turn:{}:{TURN_PORT}?transport=tcp",
        sprechstunde_tests::netns::PROXY_IP
    );
    let call =
        TwoHosts::ready_with(None, &["--turn-urls", &turn_url, "--turn-secret", SECRET]).await?;
    let _coturn = Coturn::start()?;
    call.ben_host
        .only_web_and_turn_over_tcp(call.http_port, TURN_PORT)?;
    let (verdict, text) = check_from(&call.ben, &call, "Ben").await?;
    ensure!(
        verdict == "blocked-turn" && text.contains("Umweg"),
        "the check behind the TURN-only network: {verdict} {text:?}"
    );
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    call.anna.join(&base, ROOM, "Anna").await?;
    call.ben.press_join().await?;
    sprechstunde_tests::two_hosts::both_see_each_other(&call.anna, &call.ben, MEDIA_TIMEOUT)
        .await?;
    call.ben
        .until_true(
            "Ben's status line to name the TURN server",
            Duration::from_secs(10),
            "const p = document.getElementById('media-path'); return !!p && p.dataset.transport === 'turn';",
        )
        .await?;
    ensure!(
        path_of(&call.anna).await? == "udp",
        "Anna's open network left UDP"
    );
    Ok(())
}
