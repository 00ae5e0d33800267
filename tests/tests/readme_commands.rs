//! The README's `cargo xtask run` commands work as written: each is run as shown (with a
//! data folder and media port of the test's own), and the relay answers on the address the
//! command names. A second run with nothing changed must not rebuild anything, which keeps
//! it quick.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sprechstunde_tests::{free_port, http, workspace_root};

/// The `cargo xtask run` command lines in the README's shell blocks and inline code.
fn readme_run_commands() -> Result<Vec<String>> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md"))?;
    let mut commands: Vec<String> = readme
        .split(['`', '\n'])
        .map(|piece| piece.split('#').next().unwrap_or("").trim())
        .filter(|piece| *piece == "cargo xtask run" || piece.starts_with("cargo xtask run -- "))
        .map(str::to_string)
        .collect();
    commands.sort();
    commands.dedup();
    Ok(commands)
}

/// Where the relay of this command line listens.
fn address_of(command: &str) -> Result<SocketAddr> {
    let mut words = command.split_whitespace();
    while let Some(word) = words.next() {
        if word == "--http" {
            return words
                .next()
                .context("--http without an address")?
                .parse()
                .context("address");
        }
    }
    Ok("127.0.0.1:8080".parse()?)
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        // cargo, xtask and the relay share a process group: stop all of them.
        let group = -(self.0.id() as i32);
        let _ = Command::new("kill")
            .arg("--")
            .arg(group.to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn start(command: &str, data: &std::path::Path) -> Result<Running> {
    let mut words = command.split_whitespace();
    let (Some("cargo"), Some("xtask")) = (words.next(), words.next()) else {
        bail!("not a cargo xtask command: {command}");
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let child = Command::new(cargo)
        .arg("xtask")
        .args(words)
        .current_dir(workspace_root())
        .env("SPRECHSTUNDE_DATA_DIR", data)
        .env("SPRECHSTUNDE_MEDIA_PORT", free_port()?.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .context("cannot start cargo")?;
    Ok(Running(child))
}

/// Wait until `/healthz` answers at `address`.
fn until_healthy(address: SocketAddr, running: &mut Running, timeout: Duration) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Ok(reply) = http::get(address, "/healthz", "") {
            if reply.status == 200 {
                return Ok(());
            }
        }
        if let Some(status) = running.0.try_wait()? {
            bail!("the command ended with {status} before the relay answered");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("no answer on {address} within {timeout:?}")
}

#[test]
fn every_cargo_xtask_run_command_of_the_readme_starts_the_relay_where_it_says() -> Result<()> {
    sprechstunde_tests::ensure_isolated_network()?;
    let commands = readme_run_commands()?;
    anyhow::ensure!(
        commands.iter().any(|c| c.contains("--")),
        "the README shows no run command with relay arguments: {commands:?}"
    );
    let relay = sprechstunde_tests::relay::relay_binary();
    let built = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    for (round, command) in commands.iter().enumerate() {
        let before = (
            built(&relay),
            built(&workspace_root().join("dist/index.html")),
        );
        let data = tempfile_dir(command)?;
        let address = address_of(command)?;
        let started = Instant::now();
        let mut running = start(command, &data)?;
        // The first run may build the client and relay; the suite has built both already.
        until_healthy(address, &mut running, Duration::from_secs(600))
            .with_context(|| format!("`{command}`"))?;
        println!(
            "`{command}`: answering after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        drop(running);
        std::fs::remove_dir_all(&data)?;
        let after = (
            built(&relay),
            built(&workspace_root().join("dist/index.html")),
        );
        // Everything was built by the first command at the latest: later ones rebuild
        // nothing, neither the relay nor the client's files.
        anyhow::ensure!(
            round == 0 || before == after,
            "`{command}` rebuilt with nothing changed: {before:?} -> {after:?}"
        );
    }
    Ok(())
}

fn tempfile_dir(command: &str) -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "sprechstunde-readme-{}-{}",
        std::process::id(),
        command.len()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
