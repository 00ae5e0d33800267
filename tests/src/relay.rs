//! Start the real relay binary on loopback with ephemeral ports, read its counters.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

pub struct Relay {
    child: Child,
    pub http: SocketAddr,
    /// The first media address it announced.
    pub media: SocketAddr,
    pub data_dir: PathBuf,
    pub log_file: PathBuf,
    extra: Vec<String>,
}

pub fn relay_binary() -> PathBuf {
    if let Ok(path) = std::env::var("SPRECHSTUNDE_RELAY_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate::workspace_root().join("target"));
    target.join("debug").join("sprechstunde-relay")
}

impl Relay {
    pub fn start() -> Result<Relay> {
        Relay::start_with(&[])
    }

    /// Start with extra command-line arguments.
    /// Start on fixed ports (so that clients find it again after `restart`).
    pub fn start_fixed(extra: &[&str]) -> Result<Relay> {
        let http = format!("127.0.0.1:{}", crate::free_port()?);
        let media = crate::free_udp_port()?.to_string();
        let mut args = vec!["--http", http.as_str(), "--media-port", media.as_str()];
        args.extend_from_slice(extra);
        Relay::start_with(&args)
    }

    pub fn start_with(extra: &[&str]) -> Result<Relay> {
        let data_dir = std::env::temp_dir().join(format!(
            "sprechstunde-test-{}-{}",
            std::process::id(),
            crate::free_port()?
        ));
        std::fs::create_dir_all(&data_dir)?;
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, http, media, log_file) = spawn(&data_dir, &extra)?;
        Ok(Relay {
            child,
            http,
            media,
            data_dir,
            log_file,
            extra,
        })
    }

    /// Stop (SIGTERM) and start again on the same data directory with the same arguments
    /// (a port given as 0 changes).
    pub fn restart(&mut self) -> Result<()> {
        if !self.terminate(Duration::from_secs(10))? {
            let _ = self.child.kill();
        }
        self.start_again()
    }

    /// Kill (SIGKILL: no goodbye to anyone) and start again, as after a crash.
    pub fn crash_and_restart(&mut self) -> Result<()> {
        let _ = self.child.kill();
        self.start_again()
    }

    fn start_again(&mut self) -> Result<()> {
        let _ = self.child.wait();
        let (child, http, media, log_file) = spawn(&self.data_dir, &self.extra)?;
        self.media = media;
        self.child = child;
        self.http = http;
        self.log_file = log_file;
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.http)
    }

    /// A plain HTTP/1.0 GET: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        self.get_with(path, &[])
    }

    /// A GET with a given User-Agent.
    pub fn get_as(&self, path: &str, user_agent: &str) -> Result<(u16, String)> {
        self.get_with(path, &[("User-Agent", user_agent)])
    }

    /// A GET with the given headers: status and body.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Result<(u16, String)> {
        let extra: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        let reply = crate::http::get(self.http, path, &extra)?;
        Ok((
            reply.status,
            String::from_utf8_lossy(&reply.body).into_owned(),
        ))
    }

    /// The relay's own counters from `/metrics`, without the `sprechstunde_` prefix.
    pub fn metrics(&self) -> Result<HashMap<String, f64>> {
        let (status, body) = self.get("/metrics")?;
        if status != 200 {
            bail!("/metrics answered {status}");
        }
        Ok(body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (name, value) = l.split_once(' ')?;
                Some((
                    name.strip_prefix("sprechstunde_")?.to_string(),
                    value.parse().ok()?,
                ))
            })
            .collect())
    }

    /// The relay process's id (for /proc readings in benchmarks).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn metric(&self, name: &str) -> Result<f64> {
        self.metrics()?
            .get(name)
            .copied()
            .with_context(|| format!("no metric {name}"))
    }

    /// Files in the relay's data directory (its log included) that contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.data_dir)? {
            let path = entry?.path();
            if path.is_file()
                && std::fs::read(&path)?
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
        Ok(found)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// Run an operator sub-command (`log export ...`) on this relay's data directory, with
    /// the relay's own extra arguments.
    pub fn admin(&self, args: &[&str]) -> Result<String> {
        let output = Command::new(relay_binary())
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.extra)
            .output()?;
        if !output.status.success() {
            bail!(
                "`{}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8(output.stdout)?)
    }

    /// Stop with SIGTERM and wait; returns whether it exited by itself within the timeout.
    pub fn terminate(&mut self, timeout: Duration) -> Result<bool> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let start = std::time::Instant::now();
        while start.elapsed() < timeout {
            if self.child.try_wait()?.is_some() {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(false)
    }
}

fn spawn(
    data_dir: &std::path::Path,
    extra: &[String],
) -> Result<(Child, SocketAddr, SocketAddr, PathBuf)> {
    let log_file = data_dir.join(format!("relay-{}.log", crate::free_port()?));
    let log = std::fs::File::create(&log_file)?;
    let binary = relay_binary();
    let given = |flag: &str| extra.iter().any(|arg| arg == flag);
    let mut command = Command::new(&binary);
    // Loopback (or the tests' own network) only: tests never use the machine's LAN address.
    for (flag, default) in [
        ("--http", "127.0.0.1:0"),
        ("--media-port", "0"),
        ("--media-ip", "127.0.0.1"),
    ] {
        if !given(flag) {
            command.args([flag, default]);
        }
    }
    let mut child = command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--log")
        // More detail for one investigation, e.g. `str0m::pacer=trace`.
        .arg(
            std::env::var("SPRECHSTUNDE_TEST_RELAY_LOG")
                .unwrap_or_else(|_| "info,sprechstunde_relay=debug".into()),
        )
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("cannot start the relay at {}", binary.display()))?;
    let stdout = child.stdout.take().context("relay stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let Some(address) = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
    else {
        let _ = child.kill();
        bail!("relay did not start: {line:?}; see {}", log_file.display());
    };
    let http = address.parse().context("relay address")?;
    // "listening http://A media M1,M2"
    let media = line
        .split_whitespace()
        .skip_while(|word| *word != "media")
        .nth(1)
        .and_then(|list| list.split(',').next())
        .context("no media address in the relay's first line")?
        .parse()
        .context("relay media address")?;
    Ok((child, http, media, log_file))
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("SPRECHSTUNDE_KEEP_TEST_DATA").is_none() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}
