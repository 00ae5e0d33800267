//! `cargo xtask run | test | build`: install what is missing, build, run.
//!
//! Every step checks first and installs only what is absent or at the wrong version, so a
//! second run installs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod dist_sync;
mod precompress;

const TRUNK_VERSION: &str = "0.21.14";
const CARGO_DENY_VERSION: &str = "0.20.2";
/// Drives Firefox in the end-to-end tests (WebDriver; the version its tests pass with).
const GECKODRIVER_VERSION: &str = "0.37.1";
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const FUZZ_TARGETS: [&str; 4] = [
    "protocol_decode",
    "text_inputs",
    "room_state",
    "media_input",
];
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run     install the build tools if missing, build the client and the relay (a quick
          build that still forwards media smoothly), start it at http://127.0.0.1:8080
          (extra arguments go to the relay)
  test    install the build and browser tools if missing, check formatting and
          lints, build everything and run every test, browser tests included
  build   install the build tools if missing and build the client and the relay for
          production (fully optimised)
  fuzz    run every cargo fuzz target (protocol decoding, text inputs, the room
          state machine) for SECONDS each (default 60)
  bench   build the release relay and measure it (footprint, payload, join time,
          churn); writes BENCHMARKS.md. `--quick` for a short run; `--only SECTION`
          (footprint, payload, join, blur, churn, media, load) prints one section
          and writes nothing";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("build") => build_all(Profile::Release).map(|_| ()),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// Run a command in the workspace root; fail with its name if it fails.
fn sh(program: &str, args: &[&str]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                return Ok(version.trim_matches('"').to_string());
            }
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

/// trunk and wasm-bindgen at the wanted versions are there.
fn build_tools_present() -> bool {
    let trunk = output_of("trunk", &["--version"]).unwrap_or_default();
    let bindgen = output_of("wasm-bindgen", &["--version"]).unwrap_or_default();
    let wanted = locked_wasm_bindgen_version().unwrap_or_default();
    trunk == format!("trunk {TRUNK_VERSION}") && bindgen == format!("wasm-bindgen {wanted}")
}

fn ensure_build_tools() -> Result<()> {
    step("checking build tools");
    let targets = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == WASM_TARGET) {
        step(&format!("installing the {WASM_TARGET} target"));
        sh("rustup", &["target", "add", WASM_TARGET])?;
    }
    let trunk = output_of("trunk", &["--version"]).unwrap_or_default();
    if trunk != format!("trunk {TRUNK_VERSION}") {
        step(&format!(
            "installing trunk {TRUNK_VERSION} (takes several minutes once)"
        ));
        // Unoptimised (`--debug`): it builds in about half the time, and what trunk does
        // itself (copying, hashing, starting cargo and wasm-bindgen) is light.
        sh(
            &cargo(),
            &[
                "install",
                "trunk",
                "--version",
                TRUNK_VERSION,
                "--locked",
                "--debug",
            ],
        )?;
    }
    let wanted = locked_wasm_bindgen_version()?;
    let bindgen = output_of("wasm-bindgen", &["--version"]).unwrap_or_default();
    if bindgen != format!("wasm-bindgen {wanted}") {
        step(&format!(
            "installing wasm-bindgen-cli {wanted} (takes a few minutes once)"
        ));
        // Not --locked: the 0.2.130 lock file names a yanked crate.
        // Unoptimised like trunk: installs in 1 instead of 3 minutes, and binds our wasm in
        // about a second.
        sh(
            &cargo(),
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &wanted,
                "--debug",
            ],
        )?;
    }
    Ok(())
}

/// cargo-deny checks the dependencies' licenses, bans and sources (`deny.toml`).
fn ensure_cargo_deny() -> Result<()> {
    let installed = output_of("cargo-deny", &["--version"]).unwrap_or_default();
    if installed != format!("cargo-deny {CARGO_DENY_VERSION}") {
        step(&format!(
            "installing cargo-deny {CARGO_DENY_VERSION} (takes several minutes once)"
        ));
        sh(
            &cargo(),
            &[
                "install",
                "cargo-deny",
                "--version",
                CARGO_DENY_VERSION,
                "--locked",
            ],
        )?;
    }
    Ok(())
}

/// nftables drops packets in the reliability tests' network namespaces (this kernel has no
/// netem); `ip` (iproute2) makes the namespaces and veth pairs.
const NFT: &str = "/usr/sbin/nft";

const JANUS: &str = "/usr/bin/janus";
/// Janus's stock VideoRoom demo page (`janus-demos`), served by Python's file server, for the
/// join comparison.
const JANUS_DEMO: &str = "/usr/share/janus/demos/videoroomtest.html";
const PYTHON: &str = "/usr/bin/python3";

/// coturn stands in for an operator's own TURN server in the firewall tests.
const TURNSERVER: &str = "/usr/bin/turnserver";

/// The second browser of the end-to-end tests.
const FIREFOX: &str = "/usr/bin/firefox-esr";

/// WebKitGTK's WebDriver and the X server its MiniBrowser needs (it has no headless mode);
/// Debian builds it without WebRTC, so it stands in for a browser that cannot call.
const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
const XVFB: &str = "/usr/bin/Xvfb";

fn ensure_browser() -> Result<()> {
    step("checking chromium, chromedriver, firefox-esr, webkit2gtk-driver, xvfb, nftables and coturn");
    if ![
        CHROMIUM,
        CHROMEDRIVER,
        FIREFOX,
        WEBKIT_DRIVER,
        XVFB,
        NFT,
        TURNSERVER,
    ]
    .iter()
    .all(|path| Path::new(path).exists())
    {
        step("installing Debian's chromium, chromium-driver, firefox-esr, webkit2gtk-driver, xvfb, nftables and coturn");
        apt_install(&[
            "chromium",
            "chromium-driver",
            "firefox-esr",
            "webkit2gtk-driver",
            "xvfb",
            "nftables",
            "iproute2",
            "coturn",
        ])?;
    }
    let installed = output_of("geckodriver", &["--version"]).unwrap_or_default();
    if !installed.starts_with(&format!("geckodriver {GECKODRIVER_VERSION}")) {
        step(&format!(
            "installing geckodriver {GECKODRIVER_VERSION} (takes a few minutes once)"
        ));
        sh(
            &cargo(),
            &[
                "install",
                "geckodriver",
                "--version",
                GECKODRIVER_VERSION,
                "--locked",
            ],
        )?;
    }
    Ok(())
}

/// The bench's comparison: Debian's Janus with its VideoRoom plugin, and its demo page.
fn ensure_janus() -> Result<()> {
    step("checking janus and its demo page (the bench's comparison)");
    if [JANUS, JANUS_DEMO, PYTHON]
        .iter()
        .all(|path| Path::new(path).exists())
    {
        return Ok(());
    }
    step("installing Debian's janus, janus-demos and python3");
    apt_install(&["janus", "janus-demos", "python3"])
}

/// Debian packages, installed without questions (CI has no terminal).
fn apt_install(packages: &[&str]) -> Result<()> {
    let root_user = output_of("id", &["-u"]).as_deref() == Some("0");
    std::env::set_var("DEBIAN_FRONTEND", "noninteractive");
    let apt = |args: &[&str]| -> Result<()> {
        if root_user {
            sh("apt-get", args)
        } else {
            let mut with_sudo = vec!["-E", "apt-get"];
            with_sudo.extend_from_slice(args);
            sh("sudo", &with_sudo)
        }
    };
    apt(&["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

/// The background-blur runtime and model (npm package `@mediapipe/selfie_segmentation`,
/// Apache-2.0), pinned with its integrity hash in `client/vendor/package-lock.json`.
const BLUR_PACKAGE: &str = "client/vendor/node_modules/@mediapipe/selfie_segmentation";
/// What the page loads: the loader, the graph, the landscape model (the one `modelSelection:
/// 1` picks) and the SIMD build of the runtime. Every browser we support has wasm SIMD
/// (Chrome 91, Firefox 89, Safari 16.4); the non-SIMD build would add 5.6 MB to the relay.
const BLUR_FILES: [&str; 5] = [
    "selfie_segmentation.js",
    "selfie_segmentation.binarypb",
    "selfie_segmentation_landscape.tflite",
    "selfie_segmentation_solution_simd_wasm_bin.js",
    "selfie_segmentation_solution_simd_wasm_bin.wasm",
];
const BLUR_DIST: &str = "client/vendor/selfie_segmentation";

/// Fetch the blur runtime from the npm registry (only when missing) and stage the files
/// trunk copies into `dist/vendor/selfie_segmentation/`.
fn vendor_blur() -> Result<()> {
    step("vendoring the background-blur runtime (npm ci, once)");
    let root = root();
    if !root.join(BLUR_PACKAGE).join("package.json").exists() {
        npm_ci("client/vendor")?;
    }
    let staged = root.join(BLUR_DIST);
    std::fs::create_dir_all(&staged)?;
    for file in BLUR_FILES {
        std::fs::copy(root.join(BLUR_PACKAGE).join(file), staged.join(file))
            .with_context(|| format!("cannot copy {file} of the blur runtime"))?;
    }
    std::fs::copy(
        root.join("client/vendor/LICENSES.md"),
        staged.join("LICENSES.md"),
    )?;
    Ok(())
}

/// Install the exact packages of `dir`'s package-lock.json (integrity-checked), no scripts.
fn npm_ci(dir: &str) -> Result<()> {
    if output_of("npm", &["--version"]).is_none() {
        apt_install(&["npm"])?;
    }
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(root().join(dir))
        .status()
        .context("cannot start npm")?;
    if !status.success() {
        bail!("npm ci in {dir} failed ({status})");
    }
    Ok(())
}

/// axe-core, the accessibility checker the browser tests inject into pages (pinned in
/// `tests/vendor/package-lock.json`); never part of the app.
fn vendor_axe() -> Result<()> {
    if !root()
        .join("tests/vendor/node_modules/axe-core/axe.min.js")
        .exists()
    {
        step("installing axe-core for the accessibility tests (npm ci, once)");
        npm_ci("tests/vendor")?;
    }
    Ok(())
}

/// trunk builds into this folder under the target directory; `dist/` gets what changed.
const TRUNK_STAGING: &str = "trunk-dist";
/// … and the desk's build into this one, before both go into `dist/`.
const DESK_STAGING: &str = "trunk-dist-desk";

fn build_client() -> Result<()> {
    vendor_blur()?;
    step("building the client (trunk, release, offline)");
    let staging = target_dir()?.join(TRUNK_STAGING);
    let staging_arg = staging.to_string_lossy().into_owned();
    sh(
        "trunk",
        &["build", "--release", "--offline", "--dist", &staging_arg],
    )?;
    step("building the counselors' desk (its own build: families never download it)");
    let desk = target_dir()?.join(DESK_STAGING);
    let desk_arg = desk.to_string_lossy().into_owned();
    sh(
        "trunk",
        &[
            "build",
            "desk.html",
            "--release",
            "--offline",
            "--dist",
            &desk_arg,
        ],
    )?;
    dist_sync::add_build(&desk, "desk.html", &staging)?;
    step("updating dist/ (changed files only, with brotli 11 and gzip 9 copies)");
    let synced = dist_sync::sync(&staging, &root().join("dist"))?;
    eprintln!(
        "{} files new or changed, {} removed",
        synced.changed, synced.removed
    );
    Ok(())
}

/// How the relay is built: `Dev` shares its build with the tests and forwards media
/// smoothly (the media crates are optimised in the dev profile too); `Release` is the fully
/// optimised production build (fat LTO), for `build` and `bench`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    Dev,
    Release,
}

/// Build client and relay; returns the relay binary.
fn build_all(profile: Profile) -> Result<PathBuf> {
    let mut args = vec!["build", "-p", "sprechstunde-relay"];
    if profile == Profile::Release {
        args.push("--release");
    }
    // On a machine without the tools, the relay's dependencies build while they install:
    // the two share the cores better than one after the other. Only the relay itself is
    // built again once the client is there.
    let early = (!build_tools_present())
        .then(|| {
            step("building the relay's dependencies meanwhile (quietly)");
            Command::new(cargo())
                .args(&args)
                .arg("--quiet")
                .current_dir(root())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()
        })
        .flatten();
    let built = ensure_build_tools().and_then(|()| build_client());
    if let Some(mut early) = early {
        // Its outcome does not matter: the build below reports any error.
        let _ = early.wait();
    }
    built?;
    step("building the relay");
    sh(&cargo(), &args)?;
    Ok(target_dir()?
        .join(match profile {
            Profile::Dev => "debug",
            Profile::Release => "release",
        })
        .join("sprechstunde-relay"))
}

fn target_dir() -> Result<PathBuf> {
    let metadata = output_of(
        &cargo(),
        &["metadata", "--format-version", "1", "--no-deps"],
    )
    .context("cargo metadata failed")?;
    let key = "\"target_directory\":\"";
    let start = metadata.find(key).context("no target_directory")? + key.len();
    let end = metadata[start..].find('"').context("bad metadata")? + start;
    Ok(PathBuf::from(&metadata[start..end]))
}

fn run(args: &[String]) -> Result<()> {
    // `cargo xtask run -- --http …`: the `--` is cargo's habit, not the relay's.
    let relay_args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let relay = build_all(Profile::Dev)?;
    step("starting the relay (http://127.0.0.1:8080 unless told otherwise; Ctrl-C stops it)");
    let status = Command::new(relay)
        .args(relay_args)
        .current_dir(root())
        .status()
        .context("cannot start the relay")?;
    if !status.success() {
        bail!("the relay stopped with {status}");
    }
    Ok(())
}

/// `unshare --net` with loopback up: browsers and clients see no other interface.
fn loopback_only(program: &str) -> Command {
    let mut command = Command::new("unshare");
    command.arg("--net");
    if output_of("id", &["-u"]).as_deref() != Some("0") {
        command.arg("--map-root-user");
    }
    command
        .args(["--", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh"])
        .arg(program)
        .current_dir(root());
    command
}

/// libFuzzer through cargo-fuzz. It needs nightly compiler flags; the one toolchain here is
/// stable, so RUSTC_BOOTSTRAP allows them for this build only.
fn fuzz(args: &[String]) -> Result<()> {
    let seconds: u32 = match args.first() {
        Some(value) => value.parse().context("fuzz SECONDS: a whole number")?,
        None => 60,
    };
    let installed = output_of("cargo-fuzz", &["--version"]).unwrap_or_default();
    if installed != format!("cargo-fuzz {CARGO_FUZZ_VERSION}") {
        step(&format!("installing cargo-fuzz {CARGO_FUZZ_VERSION}"));
        sh(
            &cargo(),
            &[
                "install",
                "cargo-fuzz",
                "--version",
                CARGO_FUZZ_VERSION,
                "--locked",
            ],
        )?;
    }
    for target in FUZZ_TARGETS {
        step(&format!("fuzzing {target} for {seconds} s"));
        let mut command = Command::new(cargo());
        command
            .args(["fuzz", "run", "-O", target, "--"])
            .arg(format!("-max_total_time={seconds}"));
        if target == "room_state" {
            // Four bytes a step: let sequences grow to a few hundred steps.
            // libFuzzer grows inputs slowly by default (21 bytes after a minute): start long.
            command.args(["-max_len=1600", "-len_control=0"]);
        }
        let status = command
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(root().join("fuzz"))
            .status()
            .context("cannot start cargo fuzz")?;
        if !status.success() {
            bail!("{target} found a failing input (see fuzz/artifacts/{target}/)");
        }
    }
    Ok(())
}

fn bench(extra: &[String]) -> Result<()> {
    ensure_browser()?;
    ensure_janus()?;
    let relay = build_all(Profile::Release)?;
    step("measuring (see BENCHMARKS.md)");
    let out = root().join("BENCHMARKS.md");
    let dist = root().join("dist");
    let mut command = loopback_only(&cargo());
    command
        .args([
            "run",
            "-q",
            "-p",
            "sprechstunde-tests",
            "--bin",
            "sprechstunde-bench",
            "--",
        ])
        .arg("--relay")
        .arg(&relay)
        .arg("--dist")
        .arg(&dist)
        .arg("--out")
        .arg(&out)
        .args(extra);
    let status = command
        .status()
        .context("cannot start unshare (util-linux)")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}

fn test(extra: &[String]) -> Result<()> {
    ensure_browser()?;
    vendor_axe()?;
    let relay = build_all(Profile::Dev)?;
    step("formatting");
    sh(&cargo(), &["fmt", "--all", "--", "--check"])?;
    step("lints");
    sh(
        &cargo(),
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    sh(
        &cargo(),
        &[
            "clippy",
            "-p",
            "sprechstunde-client",
            "--target",
            WASM_TARGET,
            "--",
            "-D",
            "warnings",
        ],
    )?;
    ensure_cargo_deny()?;
    step("dependencies: licenses, bans, sources (advisories need the internet: not here)");
    sh(
        &cargo(),
        &["deny", "--offline", "check", "licenses", "bans", "sources"],
    )?;
    step("unit and protocol tests");
    sh(
        &cargo(),
        &["test", "--workspace", "--exclude", "sprechstunde-tests"],
    )?;
    step("end-to-end tests: real relay, headless Chromium, webrtc-rs client");
    // In a fresh network namespace with only loopback: no test traffic can reach this
    // machine's LAN address, whatever the browsers gather. The namespace dies with the tests.
    let mut command = loopback_only(&cargo());
    command
        .args(["test", "-p", "sprechstunde-tests", "--"])
        .arg("--test-threads=1")
        .args(extra)
        .env("SPRECHSTUNDE_RELAY_BIN", relay);
    let status = command
        .status()
        .context("cannot start unshare (util-linux)")?;
    if !status.success() {
        bail!("end-to-end tests failed ({status})");
    }
    Ok(())
}
