//! `cargo xtask bench [--quick]` runs this inside a loopback-only network namespace against the
//! release relay: relay footprint, client payload, join time with headless Chromium,
//! signaling churn, and the SFU under synthetic load side by side with Janus. It writes the
//! figures to `BENCHMARKS.md` (and the plot beside it); nothing here asserts a target.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;
use sprechstunde_tests::bench::sfu_load::{self, Plan, Sweep};
use sprechstunde_tests::bench::{first_frame, payload, proc, stats};
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::load::janus::Janus;
use sprechstunde_tests::load::{MediaProfile, Target};
use sprechstunde_tests::relay::Relay;
use sprechstunde_tests::ws::WsClient;

struct Options {
    relay: PathBuf,
    dist: PathBuf,
    out: PathBuf,
    quick: bool,
    /// One section only (`--only join`), printed and not written to the file.
    only: Option<String>,
}

fn options() -> Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut relay = None;
    let mut dist = None;
    let mut out = None;
    let mut quick = false;
    let mut only = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--relay" => relay = args.next().map(PathBuf::from),
            "--dist" => dist = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            "--quick" => quick = true,
            "--only" => only = args.next(),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Options {
        relay: relay.context("--relay PATH")?,
        dist: dist.context("--dist DIR")?,
        out: out.context("--out FILE")?,
        quick,
        only,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Start-up time (spawn to "listening" on stdout) and idle memory of the relay.
fn footprint(options: &Options, runs: usize, report: &mut String) -> Result<()> {
    let binary_size = std::fs::metadata(&options.relay)?.len();
    let mut startups = Vec::new();
    let mut idle_rss = Vec::new();
    for _ in 0..runs {
        let dir = std::env::temp_dir().join(format!("sprechstunde-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let start = Instant::now();
        let mut child = Command::new(&options.relay)
            .args([
                "--http",
                "127.0.0.1:0",
                "--media-port",
                "0",
                "--media-ip",
                "127.0.0.1",
            ])
            .arg("--data-dir")
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        startups.push(ms(start.elapsed()));
        std::thread::sleep(Duration::from_secs(2));
        idle_rss.push(proc::rss_kib(child.id())? as f64);
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&dir);
    }
    writeln!(report, "## Relay footprint\n")?;
    writeln!(report, "| what | figure |\n|---|---|")?;
    writeln!(
        report,
        "| binary size (release, client embedded) | {:.1} MiB |",
        binary_size as f64 / 1_048_576.0
    )?;
    writeln!(
        report,
        "| start-up to listening (median of {runs}, first start creates the database) | {:.0} ms |",
        stats::median(&startups).unwrap_or_default()
    )?;
    writeln!(
        report,
        "| idle resident memory 2 s after start (median) | {:.1} MiB |",
        mib(stats::median(&idle_rss).unwrap_or_default() as u64)
    )?;
    writeln!(report, "\nTarget: idle relay under 20 MB.\n")?;
    Ok(())
}

/// Where the background-blur runtime lies in `dist/`; downloaded only when blur is switched on.
const BLUR_RUNTIME: &str = "vendor/";

fn payload_table(files: &[&payload::FileSize], report: &mut String) -> Result<()> {
    writeln!(
        report,
        "| file | raw | gzip | brotli |\n|---|---:|---:|---:|"
    )?;
    let kb = |b: u64| format!("{:.1} KB", b as f64 / 1000.0);
    for file in files {
        writeln!(
            report,
            "| `{}` | {} | {} | {} |",
            file.name,
            kb(file.raw),
            kb(file.gzip),
            kb(file.brotli)
        )?;
    }
    let total = |f: fn(&payload::FileSize) -> u64| files.iter().map(|x| f(x)).sum::<u64>();
    writeln!(
        report,
        "| **total** | {} | {} | {} |\n",
        kb(total(|f| f.raw)),
        kb(total(|f| f.gzip)),
        kb(total(|f| f.brotli))
    )?;
    Ok(())
}

fn client_payload(options: &Options, report: &mut String) -> Result<()> {
    let files = payload::sizes(&options.dist)?;
    let (blur, rest): (Vec<&payload::FileSize>, Vec<&payload::FileSize>) =
        files.iter().partition(|f| f.name.starts_with(BLUR_RUNTIME));
    // The desk's own build, and languages other than German: fetched only when used.
    let (desk, rest): (Vec<&payload::FileSize>, Vec<&payload::FileSize>) = rest
        .into_iter()
        .partition(|f| f.name == "desk.html" || f.name.starts_with("sprechstunde-desk-"));
    let app: Vec<&payload::FileSize> = rest
        .into_iter()
        .filter(|f| !f.name.starts_with("lang/"))
        .collect();
    writeln!(report, "## Client payload (`dist/`)\n")?;
    writeln!(report, "What every participant downloads to join:\n")?;
    payload_table(&app, report)?;
    writeln!(
        report,
        "Target: under 400 KB gzip. Compression levels: gzip 9, brotli 11; `cargo xtask` writes these copies at build time and the relay serves them as they are (brotli to browsers that take it).\n"
    )?;
    writeln!(
        report,
        "Background blur (MediaPipe selfie segmentation), downloaded only when someone switches blur on:\n"
    )?;
    payload_table(&blur, report)?;
    writeln!(
        report,
        "The counselors' desk (`/desk`), a build of its own that only staff download (the style sheet and languages are shared):\n"
    )?;
    payload_table(&desk, report)?;
    Ok(())
}

/// Frames per second and time per person mask of background blur at 640x360 (the fake
/// camera plays the blur test's fixture), in the pre-join preview of one headless Chromium.
async fn blur_speed(relay: &Relay, seconds: usize, report: &mut String) -> Result<()> {
    let driver = Driver::start().await?;
    let fixture = sprechstunde_tests::workspace_root().join("tests/fixtures/blur-person.y4m");
    let browser = driver.browser_with_camera_file(&fixture).await?;
    browser.client.goto(&relay.url("/r/unschaerfe")).await?;
    browser.start_preview().await?;
    browser
        .until_true(
            "the preview",
            Duration::from_secs(20),
            "return !!document.querySelector('figure.own video') && document.querySelector('figure.own video').videoWidth > 0;",
        )
        .await?;
    let switched = Instant::now();
    browser.click("#background-blur").await?;
    browser
        .until_true(
            "blur runs",
            Duration::from_secs(60),
            "return document.getElementById('blur-status').dataset.running === 'true';",
        )
        .await?;
    let start_ms = ms(switched.elapsed());
    let (mut fps, mut mask_fps, mut ms_per_mask) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sample = browser
            .eval("const d = document.getElementById('blur-status').dataset; return [Number(d.fps), Number(d.maskFps), Number(d.msPerMask)];")
            .await?;
        let value = |i: usize| sample[i].as_f64().unwrap_or(0.0);
        if value(0) > 0.0 {
            fps.push(value(0));
            mask_fps.push(value(1));
            ms_per_mask.push(value(2));
        }
    }
    browser.close().await?;
    let median = |v: &[f64]| stats::median(v).unwrap_or_default();
    writeln!(report, "## Background blur\n")?;
    writeln!(
        report,
        "One headless Chromium (software WebGL, no GPU: `--disable-gpu`), camera 640x360 from the blur test's fixture, blur in the pre-join preview; medians of {} one-second samples.\n",
        fps.len()
    )?;
    writeln!(report, "| what | figure |\n|---|---|")?;
    writeln!(
        report,
        "| switched on → running (download from the relay, model start) | {start_ms:.0} ms |"
    )?;
    writeln!(
        report,
        "| frames drawn and sent | {:.1} per second |",
        median(&fps)
    )?;
    writeln!(
        report,
        "| person masks computed | {:.1} per second |",
        median(&mask_fps)
    )?;
    writeln!(report, "| time per mask | {:.0} ms |", median(&ms_per_mask))?;
    writeln!(
        report,
        "\nTarget: at least 20 frames per second. Every camera frame is drawn with the latest mask, so the video keeps its frame rate while a slow device renews the mask less often (the user is told).\n"
    )?;
    Ok(())
}

/// Joins and leaves by signaling-only clients: does the relay give memory back?
async fn churn(relay: &Relay, joins: usize, report: &mut String) -> Result<()> {
    let before = proc::rss_kib(relay.pid())?;
    let started = Instant::now();
    for round in 0..joins / 2 {
        let room = format!("churn-{}", round % 25);
        let a = WsClient::join(relay, &room, "Churn A").await?;
        let b = WsClient::join(relay, &room, "Churn B").await?;
        a.leave().await?;
        b.leave().await?;
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = proc::rss_kib(relay.pid())?;
    let participants = relay.metric("participants")?;
    writeln!(report, "## Churn\n")?;
    writeln!(
        report,
        "{joins} joins and leaves by signaling-only clients, two at a time in 25 rooms, in {:.1} s.\n",
        took.as_secs_f64()
    )?;
    writeln!(report, "| relay memory | figure |\n|---|---|")?;
    writeln!(report, "| before | {:.1} MiB |", mib(before))?;
    writeln!(report, "| after, 2 s later | {:.1} MiB |", mib(after))?;
    writeln!(report, "| participants left over | {participants} |\n")?;
    Ok(())
}

/// The page's state, read in one call: whether the room shows, the peer connection's state
/// and frames decoded from others.
const JOIN_PROGRESS: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  let frames = 0, bytes = 0, connected = false;
  // The newest peer connection is the call's (the pre-join check's came before).
  const pc = (window.__testPeerConnections || []).filter(p => p.connectionState !== 'closed').pop();
  if (pc) {
    if (pc.connectionState === 'connected') connected = true;
    const report = await pc.getStats();
    report.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') { frames += r.framesDecoded || 0; bytes += r.bytesReceived || 0; } });
  }
  return { room: !!document.querySelector('main.room'), connected, bytes, frames };
})().then(done, () => done({ room: false, connected: false, bytes: 0, frames: 0 }));
"#;

/// Marks (ms on the page's clock) of what the client does after the click: its WebSocket
/// and messages, its peer connection's steps, the first remote track. Installed before the
/// click; read after the first frame.
const OBSERVE_JOIN_STEPS: &str = r#"
window.__joinSteps = {};
const mark = (name) => { if (!(name in window.__joinSteps)) window.__joinSteps[name] = performance.now(); };
document.addEventListener('click', () => mark('click'), true);
// A message is {"name": {fields}}, or "name" alone (protocol 3).
const messageName = (text) => { const m = JSON.parse(text); return typeof m === 'string' ? m : Object.keys(m)[0]; };
const OriginalSocket = window.WebSocket;
window.WebSocket = function (...args) {
  mark('socket opened');
  const socket = new OriginalSocket(...args);
  socket.addEventListener('open', () => mark('socket open'));
  socket.addEventListener('message', (e) => {
    try { mark('got ' + messageName(e.data)); } catch (_) {}
  });
  const send = socket.send.bind(socket);
  socket.send = (data) => { try { mark('sent ' + messageName(data)); } catch (_) {} send(data); };
  return socket;
};
window.WebSocket.prototype = OriginalSocket.prototype;
Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
const proto = window.RTCPeerConnection.prototype;
for (const method of ['createOffer', 'setLocalDescription', 'setRemoteDescription', 'createAnswer']) {
  const original = proto[method];
  proto[method] = function (...args) {
    if (this.__inCall) {
      mark(method + ' called');
      return original.apply(this, args).then((r) => { mark(method + ' done'); return r; });
    }
    return original.apply(this, args);
  };
}
const OriginalPc = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new OriginalPc(...args);
  if ('click' in window.__joinSteps) {
    mark('peer created');
    pc.__inCall = true;
    pc.addEventListener('connectionstatechange', () => mark('peer ' + pc.connectionState));
    pc.addEventListener('track', (e) => mark('track ' + e.track.kind));
  }
  return pc;
};
window.RTCPeerConnection.prototype = proto;
"#;

const READ_JOIN_STEPS: &str = "return window.__joinSteps || {};";

struct JoinTiming {
    /// What the page did after the click, in ms from it.
    steps: Vec<(String, f64)>,
    page_load: f64,
    app_ready: f64,
    signaling: f64,
    media_connected: f64,
    first_video_bytes: f64,
    first_frame: f64,
}

async fn one_join(driver: &Driver, base: &str, room: &str) -> Result<JoinTiming> {
    let browser = driver.browser().await?;
    let start = Instant::now();
    browser.client.goto(&format!("{base}/r/{room}")).await?;
    let page_load = ms(start.elapsed());
    browser
        .wait_for(fantoccini::Locator::Css("label[for='display-name']"))
        .await?;
    let app_ready = ms(start.elapsed());
    browser
        .eval(sprechstunde_tests::browser::OBSERVE_PEER_CONNECTIONS)
        .await?;
    browser
        .client
        .find(fantoccini::Locator::Id("display-name"))
        .await?
        .send_keys("Messung")
        .await?;
    browser.agree_to_privacy_notice().await?;
    // A person reads the connection check's verdict before joining; it is not timed here.
    browser.connection_check().await?;
    browser.eval(OBSERVE_JOIN_STEPS).await?;
    let button = browser.button("Beitreten").await?;
    let clicked = Instant::now();
    button.click().await?;
    let (mut signaling, mut connected, mut video_bytes) = (None, None, None);
    let first_frame = loop {
        let state: Value = browser.client.execute_async(JOIN_PROGRESS, vec![]).await?;
        let now = ms(clicked.elapsed());
        if state["room"] == Value::Bool(true) {
            signaling.get_or_insert(now);
        }
        if state["connected"] == Value::Bool(true) {
            connected.get_or_insert(now);
        }
        if state["bytes"].as_u64().unwrap_or(0) > 0 {
            video_bytes.get_or_insert(now);
        }
        if state["frames"].as_u64().unwrap_or(0) > 0 {
            break now;
        }
        if clicked.elapsed() > Duration::from_secs(30) {
            bail!("no frame within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let marks: Value = browser.client.execute(READ_JOIN_STEPS, vec![]).await?;

    let mut steps = Vec::new();
    if let (Some(marks), Some(click)) = (marks.as_object(), marks["click"].as_f64()) {
        for (name, at) in marks {
            if let Some(at) = at.as_f64() {
                steps.push((name.clone(), at - click));
            }
        }
    }
    browser.close().await?;
    Ok(JoinTiming {
        steps,
        page_load,
        app_ready,
        signaling: signaling.unwrap_or(first_frame),
        media_connected: connected.unwrap_or(first_frame),
        first_video_bytes: video_bytes.unwrap_or(first_frame),
        first_frame,
    })
}

async fn join_time(relay: &Relay, joins: usize, report: &mut String) -> Result<()> {
    let base = relay.url("");
    let driver = Driver::start().await?;
    let host = driver.browser().await?;
    host.join(&base, "messung", "Beraterin").await?;
    let mut timings = Vec::new();
    for _ in 0..joins {
        timings.push(one_join(&driver, &base, "messung").await?);
    }
    let mut ours = Vec::new();
    for _ in 0..joins {
        ours.push(first_frame::ours(&driver, &format!("{base}/r/messung")).await?);
    }
    host.close().await?;
    let janus = janus_link_to_frame(joins).await;
    let row = |what: &str, f: fn(&JoinTiming) -> f64| -> String {
        let values: Vec<f64> = timings.iter().map(f).collect();
        format!(
            "| {what} | {:.0} ms | {:.0} ms |",
            stats::median(&values).unwrap_or_default(),
            stats::percentile(&values, 90.0).unwrap_or_default()
        )
    };
    writeln!(report, "## Join time\n")?;
    writeln!(
        report,
        "{joins} joins by a fresh headless Chromium into a room where one participant sends camera and microphone. Page times count from opening the link; the join times from the click on \"Beitreten\" (typing the name and ticking consent are the person's time, not ours).\n"
    )?;
    writeln!(report, "| step | median | p90 |\n|---|---:|---:|")?;
    for line in [
        row("page loaded (HTML, JS, wasm)", |t| t.page_load),
        row("app ready (pre-join shown)", |t| t.app_ready),
        row("click → in the room (signaling, `welcome`)", |t| {
            t.signaling
        }),
        row("click → media connected (ICE + DTLS)", |t| {
            t.media_connected
        }),
        row("click → first video bytes received", |t| {
            t.first_video_bytes
        }),
        row("**click → first remote frame decoded**", |t| {
            t.first_frame
        }),
    ] {
        writeln!(report, "{line}")?;
    }
    writeln!(report, "\nTarget: join under 1 s median on loopback.\n")?;
    join_steps(&timings, report)?;
    link_to_frame_table(&ours, janus, report)?;
    Ok(())
}

/// Janus's stock VideoRoom demo page, joined as [`first_frame::ours`] joins ours.
async fn janus_link_to_frame(joins: usize) -> Result<Vec<f64>> {
    let janus = Janus::start_with_demo_page().await?;
    let mut driver = Driver::start().await?;
    driver.treat_as_secure(&janus.demo_origin().context("no demo page")?);
    let (host, link) = first_frame::janus_host(&driver, &janus).await?;
    let mut times = Vec::new();
    for _ in 0..joins {
        times.push(first_frame::janus(&driver, &link).await?);
    }
    host.close().await?;
    Ok(times)
}

fn link_to_frame_table(ours: &[f64], janus: Result<Vec<f64>>, report: &mut String) -> Result<()> {
    writeln!(
        report,
        "### From opening the link to the first remote frame\n"
    )?;
    writeln!(
        report,
        "A person's steps done by the bench at once, each by WebDriver as soon as the page shows it: ours — open the link, type the name, tick consent, \"Beitreten\" (the connection check runs meanwhile); Janus's stock VideoRoom demo page (Debian's `janus-demos`, served as files beside Janus, its HTTP API as shipped, room settings as in Debian's sample) — open the link, \"Start\", type the name, \"Join the room\". Each page joins a room where one browser on the same page already sends camera and microphone, and publishes its own camera too. Janus runs in a network namespace of its own (libnice gathers no loopback candidates).\n"
    )?;
    writeln!(
        report,
        "| page | median | p90 | fastest | slowest |\n|---|---:|---:|---:|---:|"
    )?;
    let row = |report: &mut String, what: &str, values: &[f64]| -> Result<()> {
        let fastest = values.iter().copied().fold(f64::INFINITY, f64::min);
        let slowest = values.iter().copied().fold(0.0, f64::max);
        writeln!(
            report,
            "| {what} | {:.0} ms | {:.0} ms | {fastest:.0} ms | {slowest:.0} ms |",
            stats::median(values).unwrap_or_default(),
            stats::percentile(values, 90.0).unwrap_or_default()
        )?;
        Ok(())
    };
    row(report, "Sprechstunde", ours)?;
    match janus {
        Ok(values) => row(report, "Janus 1.1.2, VideoRoom demo", &values)?,
        Err(e) => writeln!(
            report,
            "| Janus 1.1.2, VideoRoom demo | not measured: {e:#} | | | |"
        )?,
    }
    writeln!(report, "\nTarget (#23): at most 500 ms median.\n")?;
    Ok(())
}

/// The page's own marks after the click, in the order they happen (by median).
fn join_steps(timings: &[JoinTiming], report: &mut String) -> Result<()> {
    let mut by_step: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for timing in timings {
        for (name, at) in &timing.steps {
            by_step.entry(name).or_default().push(*at);
        }
    }
    let mut rows: Vec<(&str, f64, f64)> = by_step
        .into_iter()
        .filter(|(name, _)| *name != "click")
        .map(|(name, values)| {
            let median = stats::median(&values).unwrap_or_default();
            (
                name,
                median,
                stats::percentile(&values, 90.0).unwrap_or_default(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.1.total_cmp(&b.1));
    writeln!(
        report,
        "Where the time after the click goes, as the page sees it (its WebSocket and messages, its peer connection's calls, from `performance.now()`):\n"
    )?;
    writeln!(report, "| step | median | p90 |\n|---|---:|---:|")?;
    for (name, median, p90) in rows {
        writeln!(report, "| {name} | {median:.0} ms | {p90:.0} ms |")?;
    }
    writeln!(report)?;
    Ok(())
}

/// A call over UDP and one over TCP on the web port (UDP blocked), `runs` times each.
async fn media_path(runs: usize, report: &mut String) -> Result<()> {
    writeln!(report, "## Media over the web port (TCP) and over UDP\n")?;
    writeln!(
        report,
        "Two headless Chromium browsers on hosts of their own (network namespaces joined by veth pairs), {runs} calls each: on an open network (UDP), and with UDP blocked by nftables, so that media goes over ICE-TCP to the relay's web port. Join time from the click on \"Beitreten\" to the first decoded frame (the pre-join check done before); the relay's CPU over {} s of the call, per packet it sends. The release relay; the browsers share the machine.\n",
        sprechstunde_tests::bench::media_path::COUNTED_SECONDS
    )?;
    writeln!(
        report,
        "| path | click → first frame, median | relay CPU per packet sent, median | packets sent per second |\n|---|---:|---:|---:|"
    )?;
    for (name, blocked) in [("UDP", false), ("TCP on the web port", true)] {
        let mut runs_done = Vec::new();
        for _ in 0..runs {
            runs_done.push(sprechstunde_tests::bench::media_path::one_call(blocked).await?);
        }
        let median = |f: fn(&sprechstunde_tests::bench::media_path::PathRun) -> f64| {
            stats::median(&runs_done.iter().map(f).collect::<Vec<_>>()).unwrap_or_default()
        };
        writeln!(
            report,
            "| {name} | {:.0} ms | {:.1} µs | {:.0} |",
            median(|r| r.first_frame_ms),
            median(|r| r.microseconds_per_packet),
            median(|r| r.packets_per_second)
        )?;
    }
    writeln!(report)?;
    Ok(())
}

/// Our relay, then Janus, under the same sweep; the plot goes beside the report.
async fn sfu_under_load(options: &Options, report: &mut String) -> Result<()> {
    let plan = if options.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let mut ours = Sweep::new("Sprechstunde");
    for size in [2, 3] {
        let relay = Relay::start()?;
        let target = Target::Sprechstunde {
            http: relay.http,
            pid: relay.pid(),
        };
        ours.run(&target, size, &plan, MediaProfile::default())
            .await?;
    }
    let mut simulcast = Sweep::new("Sprechstunde, simulcast");
    {
        let relay = Relay::start()?;
        let target = Target::Sprechstunde {
            http: relay.http,
            pid: relay.pid(),
        };
        let profile = MediaProfile {
            simulcast: true,
            ..MediaProfile::default()
        };
        simulcast.run(&target, 2, &plan, profile).await?;
    }
    let mut janus = Sweep::new("Janus");
    let mut janus_failed = None;
    for size in [2, 3] {
        let result = match Janus::start().await {
            Ok(server) => {
                janus
                    .run(
                        &Target::Janus(&server),
                        size,
                        &plan,
                        MediaProfile::default(),
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            janus_failed = Some(format!("{e:#}"));
            break;
        }
    }
    let janus = match janus_failed {
        None => Ok(&janus),
        Some(ref why) => Err(why.as_str()),
    };
    let plot_file = options.out.with_file_name("benchmarks-sfu-cpu.svg");
    sfu_load::write(&ours, &simulcast, janus, &plan, &plot_file, report)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let options = options()?;
    std::env::set_var("SPRECHSTUNDE_RELAY_BIN", &options.relay);
    let mut report = String::new();
    writeln!(
        report,
        "Written by `cargo xtask bench{}` on {} ({}). Everything runs on this one machine, in a network namespace with only loopback; the relay is the release build.\n",
        if options.quick { " --quick" } else { "" },
        time_now(),
        machine()
    )?;
    let wants = |section: &str| options.only.as_deref().is_none_or(|only| only == section);
    let quick = options.quick;
    if wants("footprint") {
        footprint(&options, if quick { 3 } else { 5 }, &mut report)?;
    }
    if wants("payload") {
        client_payload(&options, &mut report)?;
    }
    let relay = Relay::start()?;
    if wants("join") {
        join_time(&relay, if quick { 3 } else { 10 }, &mut report).await?;
    }
    if wants("blur") {
        blur_speed(&relay, if quick { 10 } else { 30 }, &mut report).await?;
    }
    if wants("churn") {
        churn(&relay, if quick { 100 } else { 500 }, &mut report).await?;
    }
    drop(relay);
    if wants("media") {
        media_path(if quick { 1 } else { 3 }, &mut report).await?;
    }
    if wants("load") {
        sfu_under_load(&options, &mut report).await?;
    }
    if options.only.is_none() {
        std::fs::write(&options.out, merge(&options.out, &report))?;
    }
    println!("{report}");
    Ok(())
}

const BEGIN: &str = "<!-- cargo xtask bench: begin -->";
const END: &str = "<!-- cargo xtask bench: end -->";

/// The file with the generated part replaced and everything written by hand kept.
fn merge(path: &std::path::Path, generated: &str) -> String {
    let block = format!("{BEGIN}\n{generated}{END}\n");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    match (old.find(BEGIN), old.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!(
                "{}{block}{}",
                &old[..begin],
                &old[end + END.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{block}\n{old}"),
    }
}

fn time_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_run_replaces_only_the_generated_part() {
        let path = std::env::temp_dir().join(format!("bench-merge-{}.md", std::process::id()));
        std::fs::write(&path, "# B\n\nintro\n").expect("write");
        let first = merge(&path, "run 1\n");
        assert!(first.contains("run 1") && first.contains("intro"));
        std::fs::write(
            &path,
            format!(
                "# B\n\n{}\nhand-written\n",
                first.trim_start_matches("# B\n\n")
            ),
        )
        .expect("write");
        let second = merge(&path, "run 2\n");
        assert!(second.contains("run 2") && !second.contains("run 1"));
        assert!(second.contains("hand-written") && second.contains("intro"));
        assert_eq!(second.matches(BEGIN).count(), 1);
        let _ = std::fs::remove_file(&path);
    }
}
