//! End-to-end test harness: the real relay binary, headless Chromium driven over WebDriver,
//! and an independent WebRTC client built on webrtc-rs. Everything talks over loopback only.

pub mod axe;
pub mod bench;
pub mod browser;
pub mod delay;
pub mod desk;
pub mod garbage;
pub mod http;
pub mod load;
pub mod netns;
pub mod raw_ws;
pub mod receiving;
pub mod relay;
pub mod synthetic;
pub mod turn;
pub mod two_hosts;
pub mod vp8;
pub mod ws;
pub mod y4m;

use std::future::Future;
use std::time::{Duration, Instant};

/// Poll `check` until it returns `Some`, or fail after `timeout` with the last state seen.
pub async fn eventually<T, S, F, Fut>(
    what: &str,
    timeout: Duration,
    mut check: F,
) -> anyhow::Result<T>
where
    S: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Result<T, S>>>,
{
    let start = Instant::now();
    loop {
        let state = check().await?;
        match state {
            Ok(value) => return Ok(value),
            Err(last) if start.elapsed() > timeout => {
                anyhow::bail!(
                    "timed out after {timeout:?} waiting for {what}; last state: {last:?}"
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Browsers gather candidates on every interface they see, and a STUN check from the LAN
/// address to 127.0.0.1 is traffic on that address. So WebRTC tests run only where loopback
/// is the only interface: a network namespace that `cargo xtask test` creates for them.
pub fn ensure_isolated_network() -> anyhow::Result<()> {
    let outside: Vec<String> = if_addrs::get_if_addrs()?
        .into_iter()
        .filter(|interface| !interface.ip().is_loopback())
        // The test network of `netns.rs`: made by the tests, inside this namespace.
        .filter(|interface| !matches!(interface.ip(), std::net::IpAddr::V4(v4) if v4.octets()[..2] == [10, 77]))
        .map(|interface| format!("{} {}", interface.name, interface.ip()))
        .collect();
    if !outside.is_empty() {
        anyhow::bail!(
            "WebRTC tests need a network namespace with only loopback (found {}); run them with \
             `cargo xtask test`, or as `unshare --net --map-root-user -- sh -c 'ip link set lo up \
             && cargo test -p sprechstunde-tests'`",
            outside.join(", ")
        );
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1 (for chromedriver).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A free UDP port on 127.0.0.1 (for the relay's media port).
pub fn free_udp_port() -> anyhow::Result<u16> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    Ok(socket.local_addr()?.port())
}

pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}
