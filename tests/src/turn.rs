//! Debian's coturn as the operator's external TURN server, on 10.77.0.2 in the test network,
//! configured as the README asks: shared-secret credentials, and relaying to the relay's
//! media address only (never an open relay).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::netns::{PROXY_IP, RELAY_IP};

pub const TURNSERVER: &str = "/usr/bin/turnserver";
pub const TURN_PORT: u16 = 3478;
/// coturn's `static-auth-secret`, shared with the relay.
pub const SECRET: &str = "geteiltes-geheimnis-fuer-coturn";

pub struct Coturn {
    child: Child,
    pub address: SocketAddr,
    log: std::path::PathBuf,
}

impl Coturn {
    pub fn start() -> Result<Coturn> {
        let log = std::env::temp_dir().join(format!("coturn-{}.log", std::process::id()));
        let address = SocketAddr::from((PROXY_IP, TURN_PORT));
        let child = Command::new(TURNSERVER)
            .args([
                "-n",
                "--listening-ip",
                &PROXY_IP.to_string(),
                "--listening-port",
                &TURN_PORT.to_string(),
                "--relay-ip",
                &PROXY_IP.to_string(),
                "--min-port",
                "49160",
                "--max-port",
                "49200",
                "--use-auth-secret",
                "--static-auth-secret",
                SECRET,
                "--realm",
                "sprechstunde.test",
                // Only the relay's media address may be a peer.
                "--denied-peer-ip=0.0.0.0-255.255.255.255",
                &format!("--allowed-peer-ip={RELAY_IP}"),
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "--no-stdout-log",
                "--simple-log",
                "--log-file",
            ])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {TURNSERVER} (Debian's coturn)"))?;
        let coturn = Coturn {
            child,
            address,
            log,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                bail!(
                    "coturn did not listen on {address} (its log: {})",
                    coturn.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(coturn)
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
