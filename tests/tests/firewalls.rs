//! Every family gets through: where UDP is blocked, or only the web port is open, media goes
//! over TCP to the relay's web port (ICE-TCP), and on an open network it stays on UDP. Real
//! relay, real Chromium on hosts of their own whose paths nftables narrows.

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::two_hosts::TwoHosts;

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
/// the connection closed within seconds; the web still works.
#[tokio::test]
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
    Ok(())
}
