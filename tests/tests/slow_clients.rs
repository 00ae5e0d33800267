//! Slow HTTP clients (slowloris) cannot take the relay's file descriptors: 2,000 sockets from
//! sixteen addresses that send the start of a request and then a header line now and then
//! are closed by the relay, while the app keeps loading for everyone else.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use sprechstunde_tests::relay::Relay;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SOCKETS: usize = 2_000;
const ADDRESSES: u8 = 16;
/// The bound: every slow socket gone within this time.
const LET_GO_WITHIN: Duration = Duration::from_secs(60);

async fn connect_from(source: IpAddr, to: SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    Ok(socket.connect(to).await?)
}

/// Sends the start of a request and a header line every 2 s until the relay closes the
/// socket; returns how long that took (`None`: still open at the end).
async fn slowloris(mut stream: TcpStream) -> Option<Duration> {
    let start = Instant::now();
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .is_err()
    {
        return Some(start.elapsed());
    }
    let mut byte = [0u8; 1];
    while start.elapsed() < LET_GO_WITHIN {
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => {
                if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    return Some(start.elapsed());
                }
            }
        }
    }
    None
}

async fn app_loads(relay: &Relay, source: IpAddr) -> Result<Duration> {
    let start = Instant::now();
    let mut stream = connect_from(source, relay.http).await?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await??;
    let text = String::from_utf8_lossy(&reply);
    ensure!(
        text.starts_with("HTTP/1.1 200"),
        "the app did not load: {}",
        &text[..text.len().min(80)]
    );
    Ok(start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_let_go_and_the_app_loads_meanwhile() -> Result<()> {
    sprechstunde_tests::ensure_isolated_network()?;
    let relay = Relay::start()?;
    let http = relay.http;
    let mut attackers = Vec::with_capacity(SOCKETS);
    for n in 0..SOCKETS {
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + (n % ADDRESSES as usize) as u8));
        attackers.push(tokio::spawn(async move {
            match connect_from(source, http).await {
                Ok(stream) => slowloris(stream).await,
                // Refused outright is let go too.
                Err(_) => Some(Duration::ZERO),
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let family = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1));
    let load_time = app_loads(&relay, family).await?;

    let mut let_go = Vec::new();
    for attacker in attackers {
        let_go.push(attacker.await?);
    }
    let still_open = let_go.iter().filter(|t| t.is_none()).count();
    let slowest = let_go.iter().flatten().max().copied().unwrap_or_default();
    eprintln!(
        "app loaded in {load_time:?} under attack; slowest slow socket let go after {slowest:?}"
    );
    ensure!(
        still_open == 0,
        "{still_open} of {SOCKETS} slow sockets still open after {LET_GO_WITHIN:?}"
    );
    app_loads(&relay, family).await?;
    Ok(())
}
