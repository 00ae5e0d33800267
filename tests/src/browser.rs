//! Headless Chromium with a fake camera and microphone, driven over WebDriver. Tests act
//! through the UI as a person would (labels, buttons) and read media statistics from the
//! browser's own `RTCPeerConnection.getStats()`.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Firefox ESR.
pub const FIREFOX: &str = "/usr/bin/firefox-esr";
/// From crates.io (`cargo install geckodriver`), on PATH.
pub const GECKODRIVER: &str = "geckodriver";
/// Debian's WebKitGTK (built without WebRTC): its WebDriver, its small browser, and the X
/// server the browser needs (it has no headless mode).
pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
pub const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
pub const XVFB: &str = "/usr/bin/Xvfb";

/// Which browser a driver starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

/// One chromedriver (each [`Browser`] a separate Chromium with its own profile), or one
/// geckodriver (one Firefox at a time).
pub struct Driver {
    child: Child,
    url: String,
    engine: Engine,
    /// The relay's origin when it is not on loopback: treated as secure, as HTTPS would be
    /// in production (camera and microphone need a secure context).
    relay_origin: Option<String>,
    /// The X server a WebKit browser draws on.
    display: Option<Child>,
}

impl Driver {
    pub async fn start() -> Result<Driver> {
        crate::ensure_isolated_network()?;
        let port = crate::free_port()?;
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}"));
        Driver::spawn(command, std::net::Ipv4Addr::LOCALHOST, port).await
    }

    /// A chromedriver (and the Chromium it starts) inside a test network host, for a relay
    /// at `relay_origin` (`http://10.77.0.1:PORT`).
    pub async fn start_in(host: &crate::netns::Host, relay_origin: &str) -> Result<Driver> {
        let port = crate::free_port()?;
        let mut command = host.command(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--allowed-ips={}", host.gateway));
        let mut driver = Driver::spawn(command, host.address, port).await?;
        driver.relay_origin = Some(relay_origin.to_string());
        Ok(driver)
    }

    /// A geckodriver (and the Firefox it starts) inside a test network host. Firefox offers
    /// the address of its default route for ICE, whatever its settings say: on a host of its
    /// own that is the test network's, never the machine's LAN.
    pub async fn start_firefox_in(host: &crate::netns::Host, relay_origin: &str) -> Result<Driver> {
        let port = crate::free_port()?;
        let address = host.address.to_string();
        let mut command = host.command(GECKODRIVER);
        command
            .args(["--host", &address, "--allow-hosts", &address])
            .args(["--port", &port.to_string()])
            .args(["--binary", FIREFOX]);
        let mut driver = Driver::spawn(command, host.address, port).await?;
        driver.engine = Engine::Firefox;
        driver.relay_origin = Some(relay_origin.to_string());
        Ok(driver)
    }

    /// WebKitWebDriver (one MiniBrowser at a time) on an X server of its own, on loopback.
    pub async fn start_webkit() -> Result<Driver> {
        crate::ensure_isolated_network()?;
        // Xvfb picks a free display and writes its number to the pipe.
        let mut xvfb = Command::new(XVFB)
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ])
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start Xvfb (cargo xtask test installs it)")?;
        let mut number = String::new();
        if let Some(out) = xvfb.stdout.as_mut() {
            use std::io::BufRead;
            std::io::BufReader::new(out).read_line(&mut number)?;
        }
        let number = number.trim().to_string();
        if number.is_empty() {
            let _ = xvfb.kill();
            bail!("Xvfb did not say which display it took");
        }
        let port = crate::free_port()?;
        let mut command = Command::new(WEBKIT_DRIVER);
        command
            .arg(format!("--port={port}"))
            .arg("--host=local")
            .env("DISPLAY", format!(":{number}"));
        let mut driver = Driver::spawn(command, std::net::Ipv4Addr::LOCALHOST, port).await?;
        driver.engine = Engine::WebKit;
        driver.display = Some(xvfb);
        Ok(driver)
    }

    async fn spawn(mut command: Command, ip: std::net::Ipv4Addr, port: u16) -> Result<Driver> {
        // A process group of its own: dropping the driver ends every Chromium it started,
        // also when a test fails before closing its browsers.
        let child = command
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the WebDriver (cargo xtask test installs chromedriver and geckodriver)")?;
        let url = format!("http://{ip}:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect((ip, port)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                bail!("the WebDriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Driver {
            child,
            url,
            engine: Engine::Chromium,
            relay_origin: None,
            display: None,
        })
    }

    /// Pages from `origin` (neither loopback nor HTTPS) may use camera and microphone, as
    /// they could over HTTPS.
    pub fn treat_as_secure(&mut self, origin: &str) {
        self.relay_origin = Some(origin.to_string());
    }

    pub async fn browser(&self) -> Result<Browser> {
        self.launch(Launch::default()).await
    }

    /// A Chromium that plays sound only after a tap on the page (as Safari on an iPhone
    /// that captures nothing): trusted clicks and key presses count, script clicks do not.
    pub async fn browser_needing_a_tap(&self) -> Result<Browser> {
        self.launch(Launch {
            autoplay_policy: "document-user-activation-required",
            ..Launch::default()
        })
        .await
    }

    /// A browser that saves downloads into `downloads` without asking.
    pub async fn browser_with_downloads(
        &self,
        downloads: Option<&std::path::Path>,
    ) -> Result<Browser> {
        self.launch(Launch {
            downloads,
            ..Launch::default()
        })
        .await
    }

    /// A browser whose fake camera plays this Y4M file (looped) instead of the test pattern.
    pub async fn browser_with_camera_file(&self, y4m: &std::path::Path) -> Result<Browser> {
        self.launch(Launch {
            camera_file: Some(y4m),
            ..Launch::default()
        })
        .await
    }

    /// A Chromium emulating a phone or tablet: its screen size, touch, and a mobile
    /// browser's User-Agent.
    pub async fn browser_on(&self, device: Device) -> Result<Browser> {
        self.launch(Launch {
            device: Some(device),
            ..Launch::default()
        })
        .await
    }

    async fn launch(&self, launch: Launch<'_>) -> Result<Browser> {
        let Launch {
            downloads,
            camera_file,
            autoplay_policy,
            device,
        } = launch;
        match self.engine {
            Engine::Firefox => return self.launch_firefox().await,
            Engine::WebKit => return self.launch_webkit().await,
            Engine::Chromium => {}
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            // Three fake cameras: 0 is I420, 1 is Y16 (a depth format WebRTC does not
            // encode), 2 is MJPEG. Switching is tested from 0 to 2.
            "--use-fake-device-for-media-stream=device-count=3",
            "--allow-loopback-in-peer-connection",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--window-size=1280,800",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--autoplay-policy={autoplay_policy}"));
        if let Some(file) = camera_file {
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                file.display()
            ));
        }
        if let Some(origin) = &self.relay_origin {
            args.push(format!(
                "--unsafely-treat-insecure-origin-as-secure={origin}"
            ));
        }
        let mut caps = serde_json::Map::new();
        let mut options = json!({ "binary": CHROMIUM, "args": args });
        if let Some(dir) = downloads {
            options["prefs"] = json!({
                "download.default_directory": dir,
                "download.prompt_for_download": false,
            });
        }
        if let Some(device) = device {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": device.width,
                    "height": device.height,
                    "pixelRatio": device.pixel_ratio,
                    "touch": true,
                    "mobile": true,
                },
                "userAgent": device.user_agent,
            });
        }
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("cannot open a Chromium session")?;
        Ok(Browser { client })
    }
}

impl Driver {
    /// Headless Firefox with fake camera and microphone, camera and microphone allowed
    /// without asking, host candidates not hidden behind mDNS names, and nothing of its own
    /// phoning home.
    async fn launch_firefox(&self) -> Result<Browser> {
        let relay_host = self
            .relay_origin
            .as_deref()
            .and_then(|origin| origin.split("://").nth(1))
            .and_then(|rest| rest.split(':').next())
            .unwrap_or("127.0.0.1");
        let prefs = json!({
            "media.navigator.streams.fake": true,
            "media.navigator.permission.disabled": true,
            "permissions.default.camera": 1,
            "permissions.default.microphone": 1,
            "media.peerconnection.ice.loopback": true,
            "media.peerconnection.ice.obfuscate_host_addresses": false,
            "media.autoplay.default": 0,
            // The test relay is plain HTTP on the test network, as HTTPS is in production.
            "dom.securecontext.allowlist": relay_host,
            "media.devices.insecure.enabled": true,
            "media.getusermedia.insecure.enabled": true,
            "app.update.enabled": false,
            "app.normandy.enabled": false,
            "browser.safebrowsing.malware.enabled": false,
            "browser.safebrowsing.phishing.enabled": false,
            "datareporting.policy.dataSubmissionEnabled": false,
            "extensions.update.enabled": false,
            "network.captive-portal-service.enabled": false,
            "network.connectivity-service.enabled": false,
            "toolkit.telemetry.enabled": false,
        });
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("firefox"));
        caps.insert(
            "moz:firefoxOptions".into(),
            json!({
                "binary": FIREFOX,
                "args": ["-headless", "--width=1280", "--height=800"],
                "prefs": prefs,
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("cannot open a Firefox session")?;
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(5)),
                None,
                None,
            ))
            .await?;
        Ok(Browser { client })
    }
}

impl Driver {
    /// MiniBrowser with mock camera and microphone (allowed without asking under automation).
    async fn launch_webkit(&self) -> Result<Browser> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("MiniBrowser"));
        caps.insert(
            "webkitgtk:browserOptions".into(),
            json!({
                "binary": MINIBROWSER,
                "args": ["--automation", "--enable-mock-capture-devices=true"],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("cannot open a WebKit session")?;
        Ok(Browser { client })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(mut display) = self.display.take() {
            let _ = display.kill();
            let _ = display.wait();
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a Chromium is started.
struct Launch<'a> {
    downloads: Option<&'a std::path::Path>,
    camera_file: Option<&'a std::path::Path>,
    autoplay_policy: &'static str,
    device: Option<Device>,
}

impl Default for Launch<'_> {
    fn default() -> Self {
        Launch {
            downloads: None,
            camera_file: None,
            autoplay_policy: "no-user-gesture-required",
            device: None,
        }
    }
}

/// A phone or tablet for Chromium's device emulation.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    pub width: u32,
    pub height: u32,
    pub pixel_ratio: f64,
    pub user_agent: &'static str,
}

impl Device {
    /// A 390x844 phone held upright (the size of today's common iPhones and Androids).
    pub const PHONE: Device = Device {
        width: 390,
        height: 844,
        pixel_ratio: 3.0,
        user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    };
    /// A 1024x768 tablet held sideways, as the office's kiosks are.
    pub const TABLET: Device = Device {
        width: 1024,
        height: 768,
        pixel_ratio: 2.0,
        user_agent: "Mozilla/5.0 (Linux; Android 14; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    };
}

pub struct Browser {
    pub client: Client,
}

/// A Chrome DevTools Protocol command, sent through chromedriver
/// (`/session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Media statistics of one browser, from `getStats()` of its peer connections and from
/// the video elements on its stage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStats {
    pub video: Vec<Inbound>,
    pub audio: Vec<Inbound>,
    /// Tiles of other participants.
    pub tiles: Vec<Tile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inbound {
    pub track_identifier: String,
    pub frames_decoded: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub frame_width: u64,
    pub frame_height: u64,
    #[serde(default)]
    pub packets_lost: i64,
    /// Audio: samples the decoder had to make up (lost and not recovered).
    #[serde(default)]
    pub concealed_samples: u64,
    #[serde(default)]
    pub total_samples_received: u64,
    #[serde(default)]
    pub nack_count: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tile {
    pub participant: String,
    pub name: String,
    /// `camera` or `screen`.
    pub source: String,
    /// The tile shows the placeholder because the camera is off.
    pub camera_off: bool,
    pub video_width: u64,
    pub video_height: u64,
    /// Frames the video element has shown so far.
    pub frames_shown: u64,
    /// The tile's stream was shown when `mark_streams` ran (not a fresh one since).
    #[serde(default)]
    pub marked: bool,
}

/// Sizes of a browser's session with the relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Session {
    pub offer_bytes: u64,
    pub answer_bytes: u64,
    pub media_lines: u64,
}

impl Session {
    /// (offer bytes, media lines), for comparing sessions by size.
    pub fn lines_and_offer(self) -> (u64, u64) {
        (self.offer_bytes, self.media_lines)
    }
}

impl MediaStats {
    pub fn tile(&self, participant_name: &str, source: &str) -> Option<&Tile> {
        self.tiles
            .iter()
            .find(|t| t.name.ends_with(participant_name) && t.source == source)
    }

    /// Remote videos that have decoded frames and show a picture.
    pub fn live_videos(&self) -> usize {
        self.tiles.iter().filter(|t| t.video_width > 0).count()
    }

    pub fn frames_decoded(&self) -> u64 {
        self.video.iter().map(|v| v.frames_decoded).sum()
    }

    pub fn audio_packets(&self) -> u64 {
        self.audio.iter().map(|a| a.packets_received).sum()
    }

    pub fn bytes_received(&self) -> u64 {
        self.video
            .iter()
            .chain(self.audio.iter())
            .map(|s| s.bytes_received)
            .sum()
    }
}

/// Keeps every peer connection the page creates reachable for `getStats()`. Installed before
/// the join click; it only observes, the app is driven through its UI.
pub const OBSERVE_PEER_CONNECTIONS: &str = r#"
if (!window.__testPeerConnections) {
  window.__testPeerConnections = [];
  const Original = window.RTCPeerConnection;
  const Observed = function (...args) {
    const pc = new Original(...args);
    window.__testPeerConnections.push(pc);
    return pc;
  };
  Observed.prototype = Original.prototype;
  window.RTCPeerConnection = Observed;
}
"#;

pub const READ_STATS: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  const out = { video: [], audio: [], tiles: [] };
  for (const pc of (window.__testPeerConnections || [])) {
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      const entry = {
        trackIdentifier: r.trackIdentifier || '',
        framesDecoded: r.framesDecoded || 0,
        packetsReceived: r.packetsReceived || 0,
        bytesReceived: r.bytesReceived || 0,
        frameWidth: r.frameWidth || 0,
        frameHeight: r.frameHeight || 0,
        packetsLost: r.packetsLost || 0,
        concealedSamples: r.concealedSamples || 0,
        totalSamplesReceived: r.totalSamplesReceived || 0,
        nackCount: r.nackCount || 0,
      };
      (r.kind === 'video' ? out.video : out.audio).push(entry);
    });
  }
  for (const tile of document.querySelectorAll('figure.tile[data-participant]:not(.own)')) {
    const video = tile.querySelector('video:not(.audio-only)');
    const caption = tile.querySelector('figcaption');
    out.tiles.push({
      participant: tile.dataset.participant,
      name: caption ? caption.textContent : '',
      source: tile.dataset.source || '',
      cameraOff: tile.dataset.cameraOff === 'true',
      // Firefox counts no playback quality for a MediaStream: its painted frames instead.
      framesShown: video ? ((video.getVideoPlaybackQuality && video.getVideoPlaybackQuality().totalVideoFrames) || video.mozPaintedFrames || 0) : 0,
      videoWidth: video ? video.videoWidth : 0,
      videoHeight: video ? video.videoHeight : 0,
      marked: !!(video && video.srcObject && video.srcObject.__testMarked),
    });
  }
  return out;
})().then(done, (e) => done({ error: String(e) }));
"#;

impl Browser {
    /// Open the room link, type the name, press "Beitreten". Returns when the room shows.
    pub async fn join(&self, base: &str, room: &str, name: &str) -> Result<()> {
        self.open_prejoin(&format!("{base}/r/{room}"), name).await?;
        self.press_join().await
    }

    /// Agree to the privacy notice and press "Kamera und Mikrofon testen" in pre-join.
    pub async fn start_preview(&self) -> Result<()> {
        self.agree_to_privacy_notice().await?;
        self.button("Kamera und Mikrofon testen")
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Send a chat message in the room (to everyone, or privately to the participant shown
    /// as `to`). The text is set as if pasted: 10,000 characters typed key by key would take
    /// minutes.
    pub async fn send_chat(&self, text: &str, to: Option<&str>) -> Result<()> {
        if self
            .eval("return !!document.getElementById('chat-input');")
            .await?
            != Value::Bool(true)
        {
            self.click("#open-chat").await?;
        }
        self.client
            .execute(
                r#"
            const [text, target] = arguments;
            const select = document.getElementById('chat-target');
            const option = [...select.options].find(o => target === '' ? o.value === '' : o.textContent === target);
            select.value = option.value;
            document.getElementById('chat-input').value = text;
            document.getElementById('chat-send').click();
            "#,
                vec![Value::from(text), Value::from(to.unwrap_or(""))],
            )
            .await?;
        Ok(())
    }

    /// Open a room link (with a `#host=` or `#invite=` fragment if given), type the name and
    /// agree to the privacy notice, ready for "Beitreten".
    pub async fn open_prejoin(&self, url: &str, name: &str) -> Result<()> {
        self.client.goto(url).await?;
        self.client
            .execute(OBSERVE_PEER_CONNECTIONS, vec![])
            .await?;
        let field = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("label[for='display-name']"))
            .await
            .context("pre-join page did not appear")?;
        let label = field.text().await?;
        if label.trim() != "Ihr Name" {
            bail!("pre-join name label is {label:?}, expected the German default");
        }
        let input = self.client.find(Locator::Id("display-name")).await?;
        input.send_keys(name).await?;
        self.agree_to_privacy_notice().await
    }

    /// Press "Beitreten" and wait until the room shows.
    pub async fn press_join(&self) -> Result<()> {
        // Again right before the click (it is idempotent): the peer connection is made after
        // it, and the page must be the one that observes it.
        self.client
            .execute(OBSERVE_PEER_CONNECTIONS, vec![])
            .await?;
        self.button("Beitreten").await?.click().await?;
        if let Err(e) = self.wait_for(Locator::Css("main.room")).await {
            let page = self
                .eval("return location.href + ' | ' + document.body.innerText")
                .await
                .unwrap_or_default();
            return Err(e.context(format!(
                "room did not appear after joining; the page: {page}"
            )));
        }
        Ok(())
    }

    /// Tick the consent box on the pre-join page, found by its label.
    pub async fn agree_to_privacy_notice(&self) -> Result<()> {
        let label = self
            .client
            .find(Locator::Css("label[for='consent']"))
            .await?;
        let text = label.text().await?;
        if !text.contains("stimme zu") {
            bail!("consent label reads {text:?}");
        }
        label.click().await?;
        Ok(())
    }

    /// Wait (up to 20 s: pages load wasm on a busy machine) for an element to appear.
    pub async fn wait_for(&self, locator: Locator<'_>) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(locator)
            .await
            .with_context(|| format!("waiting for {locator:?}"))
    }

    /// A button found by its visible text, as a person finds it.
    pub async fn button(&self, text: &str) -> Result<fantoccini::elements::Element> {
        let xpath = format!("//button[normalize-space(.)='{text}']");
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("no button {text:?}"))
    }

    /// Until `check` holds for this browser's media statistics; the last ones on time-out.
    pub async fn until_stats<F>(
        &self,
        what: &str,
        timeout: Duration,
        check: F,
    ) -> Result<MediaStats>
    where
        F: Fn(&MediaStats) -> bool,
    {
        crate::eventually(what, timeout, || async {
            let stats = self.stats().await?;
            Ok(if check(&stats) { Ok(stats) } else { Err(stats) })
        })
        .await
    }

    /// Until `name`'s camera shows a picture here and packets of their microphone arrive.
    pub async fn until_sees_and_hears(&self, name: &str, timeout: Duration) -> Result<MediaStats> {
        crate::eventually(&format!("to see and hear {name}"), timeout, || async {
            let stats = self.stats().await?;
            let seen = stats
                .tile(name, "camera")
                .is_some_and(|t| t.video_width > 0 && t.frames_shown > 0);
            let (_, audio) = self.received_from(name).await?;
            Ok(if seen && audio > 0 {
                Ok(stats)
            } else {
                Err(stats)
            })
        })
        .await
    }

    /// Until `script` returns `true` in the page.
    pub async fn until_true(&self, what: &str, timeout: Duration, script: &str) -> Result<()> {
        crate::eventually(what, timeout, || async {
            let value = self.eval(script).await?;
            Ok(if value == Value::Bool(true) {
                Ok(())
            } else {
                Err(value)
            })
        })
        .await
    }

    pub async fn stats(&self) -> Result<MediaStats> {
        let value: Value = match self.client.execute_async(READ_STATS, vec![]).await {
            Ok(value) => value,
            // Firefox's getStats now and then never settles while a connection is being set
            // up; the script times out (5 s there) and the next reading is taken.
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::ScriptTimeout =>
            {
                return Ok(MediaStats::default());
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(error) = value.get("error") {
            bail!("getStats failed: {error}");
        }
        serde_json::from_value(value).context("unexpected stats shape")
    }

    /// Mark the streams every remote tile shows now, so that a later reading tells a fresh
    /// stream (a rejoin) from these by `Tile::marked` — frame counts cannot, as a fresh
    /// tile may have shown more frames than the old one by the time it is read.
    pub async fn mark_streams(&self) -> Result<()> {
        self.eval(
            "for (const v of document.querySelectorAll('figure.tile video')) { if (v.srcObject) v.srcObject.__testMarked = true; } return null;",
        )
        .await?;
        Ok(())
    }

    /// Run a script in the page and return its value.
    /// RTP packets received on the camera and microphone shown in `name`'s camera tile:
    /// (video, audio). Counts what arrived, whether or not it could be decoded.
    pub async fn received_from(&self, name: &str) -> Result<(u64, u64)> {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             (async () => {{
               const tile = [...document.querySelectorAll('figure.tile[data-participant]:not(.own)')]
                 .find(t => t.dataset.source === 'camera'
                   && (t.querySelector('figcaption') || {{ textContent: '' }}).textContent.endsWith({name:?}));
               const video = tile && tile.querySelector('video');
               const stream = video && video.srcObject;
               if (!stream) return [0, 0];
               const ids = stream.getTracks().filter(t => t.readyState === 'live').map(t => t.id);
               const counts = [0, 0];
               for (const pc of (window.__testPeerConnections || [])) {{
                 if (pc.connectionState === 'closed') continue;
                 (await pc.getStats()).forEach(s => {{
                   if (s.type === 'inbound-rtp' && ids.includes(s.trackIdentifier)) {{
                     counts[s.kind === 'video' ? 0 : 1] += s.packetsReceived;
                   }}
                 }});
               }}
               return counts;
             }})().then(done, e => done([0, 0]));"
        );
        let value = self.client.execute_async(&script, vec![]).await?;
        let count = |i: usize| value.get(i).and_then(Value::as_u64).unwrap_or(0);
        Ok((count(0), count(1)))
    }

    /// The verdict of the pre-join connection check once it has one ("udp", "tcp",
    /// "blocked", "no-server", "busy"), and the text it shows.
    pub async fn connection_check(&self) -> Result<(String, String)> {
        self.until_true(
            "the connection check to finish",
            Duration::from_secs(30),
            "const c = document.getElementById('connection-check'); return !!c && c.dataset.verdict !== 'running';",
        )
        .await?;
        let value = self
            .eval("const c = document.getElementById('connection-check'); return [c.dataset.verdict, c.textContent.trim()];")
            .await?;
        let part = |i: usize| {
            value
                .get(i)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok((part(0), part(1)))
    }

    /// The transport of the media path in use: "udp" or "tcp" (the local candidate of the
    /// selected pair), `None` while there is none.
    pub async fn media_path(&self) -> Result<Option<String>> {
        let script = "const done = arguments[arguments.length - 1];
             (async () => {
               const pc = (window.__testPeerConnections || []).filter(p => p.connectionState !== 'closed').pop();
               if (!pc) return null;
               const stats = await pc.getStats();
               let pair = null;
               stats.forEach(r => {
                 if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
               });
               if (!pair || pair.state !== 'succeeded') return null;
               const local = stats.get(pair.localCandidateId);
               return local ? local.protocol : null;
             })().then(done, e => done(null));";
        let value = self.client.execute_async(script, vec![]).await?;
        Ok(value.as_str().map(str::to_string))
    }

    /// The open peer connection's session: the relay's last offer and this browser's
    /// answer as the browser holds them.
    pub async fn session(&self) -> Result<Session> {
        let value = self
            .eval(
                "const pc = (window.__testPeerConnections || []).filter(p => p.connectionState !== 'closed').pop();
                 const remote = pc && pc.remoteDescription ? pc.remoteDescription.sdp : '';
                 const local = pc && pc.localDescription ? pc.localDescription.sdp : '';
                 return [remote.length, local.length, remote.split('\\r\\nm=').length - 1];",
            )
            .await?;
        let count = |i: usize| value.get(i).and_then(Value::as_u64).unwrap_or(0);
        Ok(Session {
            offer_bytes: count(0),
            answer_bytes: count(1),
            media_lines: count(2),
        })
    }

    /// Saves a screenshot as `<name>.png` into the folder `SPRECHSTUNDE_SCREENSHOTS` names,
    /// if it is set: for a person to look at what a test saw.
    pub async fn screenshot_if_asked(&self, name: &str) -> Result<()> {
        let Some(dir) = std::env::var_os("SPRECHSTUNDE_SCREENSHOTS") else {
            return Ok(());
        };
        let png = self.client.screenshot().await?;
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png)?;
        Ok(())
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        Ok(self.client.goto(url).await?)
    }

    /// A PNG of the element `css` as the page draws it.
    pub async fn screenshot_of(&self, css: &str) -> Result<Vec<u8>> {
        Ok(self.wait_for(Locator::Css(css)).await?.screenshot().await?)
    }

    /// Runs `script` in every page this Chromium opens from now on, before the page's own
    /// scripts (to take a feature away, as an older browser lacks it).
    pub async fn before_every_page(&self, script: &str) -> Result<()> {
        self.client
            .issue_cmd(DevTools {
                command: "Page.addScriptToEvaluateOnNewDocument",
                params: json!({ "source": script }),
            })
            .await?;
        Ok(())
    }

    pub async fn eval(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.wait_for(Locator::Css(css)).await?.click().await?;
        Ok(())
    }

    /// Type into the field with this id, key by key as a person does.
    pub async fn type_into(&self, id: &str, text: &str) -> Result<()> {
        self.wait_for(Locator::Id(id))
            .await?
            .send_keys(text)
            .await?;
        Ok(())
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    pub async fn close(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}
