//! Janus (Debian's `janus` package) with its VideoRoom plugin, as the comparison for our
//! relay: started in a network namespace of its own (libnice does not gather loopback
//! candidates, so it gets a veth pair), driven by the same synthetic participants. A Janus
//! participant has two connections: one publishes, one receives every other publisher.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::leg::{self, LegHandle, MediaProfile, SignalIn, SignalOut};
use super::Participant;
use crate::netns::{Host, Network};

const LIBRARIES: &str = "/usr/lib/x86_64-linux-gnu/janus";
const WS_PORT: u16 = 8188;
/// Janus keeps a video room after its last participant left: every load gets new numbers.
static ROOMS_MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);

pub fn installed() -> bool {
    Path::new("/usr/bin/janus").exists() && Path::new(LIBRARIES).join("plugins").exists()
}

/// A running Janus in its own namespace; stopped on drop.
pub struct Janus {
    child: Child,
    /// The file server of the demo pages, if asked for.
    demo_pages: Option<Child>,
    /// The address our participants bind to (the test side of the veth pair).
    pub client_ip: IpAddr,
    pub ws_url: String,
    pub log: PathBuf,
    dir: PathBuf,
    host: Host,
    _network: Network,
}

/// Every library in `kind` but those in `keep`, comma-separated, for Janus's `disable` setting.
fn all_but(kind: &str, keep: &[&str]) -> Result<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(Path::new(LIBRARIES).join(kind))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".so") && !keep.contains(&name.as_str()) {
            names.push(name);
        }
    }
    Ok(names.join(","))
}

/// Debian's `janus-demos`: Janus's stock demo pages, with local copies of their libraries.
const DEMOS: &str = "/usr/share/janus/demos";
/// The port the demo pages are served on, beside Janus's HTTP API on 8088 (where the stock
/// `settings.js` looks for it).
const DEMO_PORT: u16 = 8000;
const HTTP_API_PORT: u16 = 8088;
/// The stock VideoRoom demo's room, set up as Debian's sample configuration sets it up.
pub const DEMO_ROOM: u64 = 1234;

pub fn demos_installed() -> bool {
    Path::new(DEMOS).join("videoroomtest.html").exists()
}

/// The demo files as shipped, but for Debian's `settings.js`, which lacks two settings its
/// pages read (`token`, `apisecret`: "ReferenceError: token is not defined" on "Start").
fn demo_pages(dir: &Path) -> Result<PathBuf> {
    let pages = dir.join("demos");
    std::fs::create_dir_all(&pages)?;
    for entry in std::fs::read_dir(DEMOS)? {
        let entry = entry?;
        if entry.file_name() != "settings.js" {
            std::os::unix::fs::symlink(entry.path(), pages.join(entry.file_name()))?;
        }
    }
    let settings = std::fs::read_to_string(Path::new(DEMOS).join("settings.js"))?;
    std::fs::write(
        pages.join("settings.js"),
        format!("{settings}\nvar token = null;\nvar apisecret = null;\n"),
    )?;
    Ok(pages)
}

fn write_config(dir: &Path, ip: Ipv4Addr, demo: bool) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let plugins = all_but("plugins", &["libjanus_videoroom.so"])?;
    // The demo pages talk to Janus over its HTTP API (long polling), as shipped.
    let transports = if demo {
        all_but(
            "transports",
            &["libjanus_websockets.so", "libjanus_http.so"],
        )?
    } else {
        all_but("transports", &["libjanus_websockets.so"])?
    };
    std::fs::write(
        dir.join("janus.jcfg"),
        format!(
            r#"general: {{
    configs_folder = "{configs}"
    plugins_folder = "{LIBRARIES}/plugins"
    transports_folder = "{LIBRARIES}/transports"
    events_folder = "{LIBRARIES}/events"
    loggers_folder = "{LIBRARIES}/loggers"
    debug_level = 3
    session_timeout = 0
    hide_dependencies = true
}}
plugins: {{ disable = "{plugins}" }}
transports: {{ disable = "{transports}" }}
events: {{ broadcast = false }}
loggers: {{ disable = "{loggers}" }}
media: {{ rtp_port_range = "20000-40000" }}
nat: {{
    ice_enforce_list = "{ip}"
    ignore_mdns = true
    nice_debug = false
    full_trickle = false
}}
"#,
            configs = dir.display(),
            loggers = all_but("loggers", &[])?,
        ),
    )?;
    let demo_room = if demo {
        format!(
            "room-{DEMO_ROOM}: {{\n    description = \"Demo Room\"\n    publishers = 6\n    bitrate = 128000\n    fir_freq = 10\n    record = false\n}}\n"
        )
    } else {
        String::new()
    };
    std::fs::write(
        dir.join("janus.plugin.videoroom.jcfg"),
        format!("general: {{\n    string_ids = false\n}}\n{demo_room}"),
    )?;
    if demo {
        std::fs::write(
            dir.join("janus.transport.http.jcfg"),
            format!(
                "general: {{\n    json = \"indented\"\n    base_path = \"/janus\"\n    http = true\n    port = {HTTP_API_PORT}\n    ip = \"{ip}\"\n    https = false\n}}\nadmin: {{\n    admin_http = false\n    admin_https = false\n}}\n"
            ),
        )?;
    }
    std::fs::write(
        dir.join("janus.transport.websockets.jcfg"),
        format!(
            "general: {{\n    json = \"compact\"\n    ws = true\n    ws_port = {WS_PORT}\n    ws_ip = \"{ip}\"\n    wss = false\n}}\nadmin: {{\n    admin_ws = false\n    admin_wss = false\n}}\n"
        ),
    )?;
    Ok(())
}

impl Janus {
    pub async fn start() -> Result<Janus> {
        Self::start_serving(false).await
    }

    /// Janus with its stock VideoRoom demo page served beside it ([`Janus::demo_url`]).
    pub async fn start_with_demo_page() -> Result<Janus> {
        if !demos_installed() {
            bail!("Janus's demo pages are not installed (Debian package `janus-demos`)");
        }
        Self::start_serving(true).await
    }

    /// Where the demo pages are served (to be treated as a secure origin).
    pub fn demo_origin(&self) -> Option<String> {
        self.demo_pages
            .as_ref()
            .map(|_| format!("http://{}:{DEMO_PORT}", self.host.address))
    }

    /// The stock VideoRoom demo page, in the demo room.
    pub fn demo_url(&self) -> Option<String> {
        self.demo_origin()
            .map(|origin| format!("{origin}/videoroomtest.html?room={DEMO_ROOM}"))
    }

    async fn start_serving(demo: bool) -> Result<Janus> {
        if !installed() {
            bail!("Janus is not installed (Debian package `janus`)");
        }
        let network = Network::new()?;
        let host = network.host(60)?;
        let dir = std::env::temp_dir().join(format!("sprechstunde-janus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_config(&dir, host.address, demo)?;
        let log = dir.join("janus.log");
        let child = host
            .command("/usr/bin/janus")
            .arg("--config")
            .arg(dir.join("janus.jcfg"))
            .arg("--configs-folder")
            .arg(&dir)
            .arg("--log-file")
            .arg(&log)
            .arg("--disable-colors")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start janus")?;
        let mut janus = Janus {
            child,
            demo_pages: None,
            client_ip: IpAddr::V4(host.gateway),
            ws_url: format!("ws://{}:{WS_PORT}/", host.address),
            log,
            dir,
            host,
            _network: network,
        };
        // A plain static file server for the demo files, in Janus's namespace so that the
        // page's own origin is Janus's address, as its `settings.js` expects.
        if demo {
            janus.demo_pages = Some(
                janus
                    .host
                    .command("/usr/bin/python3")
                    .args(["-m", "http.server", "--bind"])
                    .arg(janus.host.address.to_string())
                    .arg("--directory")
                    .arg(demo_pages(&janus.dir)?)
                    .arg(DEMO_PORT.to_string())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .context("cannot start a file server for the demo pages (python3)")?,
            );
        }
        let mut addresses = vec![SocketAddr::new(IpAddr::V4(janus.host.address), WS_PORT)];
        if demo {
            addresses.push(SocketAddr::new(
                IpAddr::V4(janus.host.address),
                HTTP_API_PORT,
            ));
            addresses.push(SocketAddr::new(IpAddr::V4(janus.host.address), DEMO_PORT));
        }
        for address in addresses {
            janus.until_listening(address).await?;
        }
        Ok(janus)
    }

    async fn until_listening(&mut self, address: SocketAddr) -> Result<()> {
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("janus exited ({status}); see {}", self.log.display());
            }
            if TcpStream::connect(address).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "janus did not listen on {address}; see {}",
            self.log.display()
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        if let Some(mut pages) = self.demo_pages.take() {
            let _ = pages.kill();
            let _ = pages.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
type Stream = SplitStream<WebSocketStream<MaybeTlsStream<TcpStream>>>;

/// One WebSocket connection to Janus with one session on it.
struct Session {
    sink: Sink,
    stream: Stream,
    id: u64,
    transactions: u64,
    /// Janus said a PeerConnection of this session is up (`webrtcup`).
    webrtc_up: bool,
}

impl Session {
    async fn open(url: &str) -> Result<Session> {
        let mut request = url.into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("janus-protocol"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("WebSocket to janus")?;
        let (sink, stream) = socket.split();
        let mut session = Session {
            sink,
            stream,
            id: 0,
            transactions: 0,
            webrtc_up: false,
        };
        let created = session.call(json!({ "janus": "create" })).await?;
        session.id = created["data"]["id"].as_u64().context("no session id")?;
        Ok(session)
    }

    async fn next(&mut self) -> Result<Value> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .context("janus said nothing for 10 s")?
                .context("janus closed the connection")??;
            if let Message::Text(text) = message {
                let event: Value = serde_json::from_str(text.as_str())?;
                if event["janus"] == "webrtcup" {
                    self.webrtc_up = true;
                }
                return Ok(event);
            }
        }
    }

    /// Until the publishing PeerConnection is up: only then may others subscribe to it.
    async fn until_webrtc_up(&mut self) -> Result<()> {
        while !self.webrtc_up {
            self.next().await?;
        }
        Ok(())
    }

    /// Send a request and wait for its answer (skipping acks and unrelated events).
    async fn call(&mut self, mut request: Value) -> Result<Value> {
        self.transactions += 1;
        let transaction = format!("t{}", self.transactions);
        request["transaction"] = json!(transaction);
        if self.id != 0 {
            request["session_id"] = json!(self.id);
        }
        self.sink.send(Message::text(request.to_string())).await?;
        loop {
            let answer = self.next().await?;
            if answer["transaction"] != json!(transaction) || answer["janus"] == "ack" {
                continue;
            }
            if answer["janus"] == "error" {
                bail!("janus refused {request}: {answer}");
            }
            if let Some(error) = answer["plugindata"]["data"].get("error") {
                bail!("the video room refused {request}: {error}");
            }
            return Ok(answer);
        }
    }

    async fn attach(&mut self) -> Result<u64> {
        let attached = self
            .call(json!({ "janus": "attach", "plugin": "janus.plugin.videoroom" }))
            .await?;
        attached["data"]["id"].as_u64().context("no handle id")
    }

    async fn message(&mut self, handle: u64, body: Value, jsep: Option<Value>) -> Result<Value> {
        let mut request = json!({ "janus": "message", "handle_id": handle, "body": body });
        if let Some(jsep) = jsep {
            request["jsep"] = jsep;
        }
        self.call(request).await
    }
}

fn jsep_sdp(answer: &Value, kind: &str) -> Result<String> {
    let jsep = &answer["jsep"];
    if jsep["type"] != kind {
        bail!("expected a JSEP {kind} from janus, got {answer}");
    }
    Ok(jsep["sdp"]
        .as_str()
        .context("JSEP without SDP")?
        .to_string())
}

/// What one participant set up before the others subscribe.
struct Publisher {
    session: Session,
    feed: u64,
    leg: LegHandle,
}

async fn publish(
    janus: &Janus,
    room: u64,
    index: u32,
    profile: MediaProfile,
    create_room: bool,
) -> Result<Publisher> {
    let mut session = Session::open(&janus.ws_url).await?;
    let handle = session.attach().await?;
    if create_room {
        session
            .message(
                handle,
                json!({ "request": "create", "room": room, "publishers": 6, "bitrate": 0,
                        "audiocodec": "opus", "videocodec": "vp8", "permanent": false }),
                None,
            )
            .await?;
    }
    let joined = session
        .message(
            handle,
            json!({ "request": "join", "ptype": "publisher", "room": room,
                    "display": format!("Last {index}") }),
            None,
        )
        .await?;
    let feed = joined["plugindata"]["data"]["id"]
        .as_u64()
        .context("no publisher id")?;
    let (leg, mut from_leg) = leg::start(janus.client_ip, Some((index, profile))).await?;
    let Some(SignalOut::Offer(offer)) = from_leg.recv().await else {
        bail!("the publishing leg made no offer");
    };
    let configured = session
        .message(
            handle,
            json!({ "request": "publish" }),
            Some(json!({ "type": "offer", "sdp": offer })),
        )
        .await?;
    leg.to_leg
        .send(SignalIn::Answer(jsep_sdp(&configured, "answer")?))
        .ok()
        .context("the publishing leg stopped")?;
    Ok(Publisher { session, feed, leg })
}

async fn subscribe(
    janus: &Janus,
    publisher: Publisher,
    room: u64,
    feeds: Vec<u64>,
) -> Result<Participant> {
    let Publisher {
        mut session,
        leg: publishing,
        ..
    } = publisher;
    let handle = session.attach().await?;
    let streams: Vec<Value> = feeds.iter().map(|feed| json!({ "feed": feed })).collect();
    let attached = session
        .message(
            handle,
            json!({ "request": "join", "ptype": "subscriber", "room": room, "streams": streams }),
            None,
        )
        .await?;
    let (receiving, mut from_leg) = leg::start(janus.client_ip, None).await?;
    receiving
        .to_leg
        .send(SignalIn::Offer(jsep_sdp(&attached, "offer")?))
        .ok()
        .context("the receiving leg stopped")?;
    let Some(SignalOut::Answer(answer)) = from_leg.recv().await else {
        bail!("the receiving leg gave no answer");
    };
    session
        .message(
            handle,
            json!({ "request": "start" }),
            Some(json!({ "type": "answer", "sdp": answer })),
        )
        .await?;
    // Keep reading (Janus's events) until told to leave; then end the session.
    let (farewell, mut leave) = mpsc::unbounded_channel::<()>();
    let keeper = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = leave.recv() => break,
                message = session.stream.next() => if !matches!(message, Some(Ok(_))) { return },
            }
        }
        let destroy = json!({ "janus": "destroy", "session_id": session.id, "transaction": "bye" });
        let _ = session.sink.send(Message::text(destroy.to_string())).await;
        let _ = session.sink.close().await;
    });
    Ok(Participant {
        legs: vec![publishing, receiving],
        tasks: Vec::new(),
        farewell: Some(Box::new(move || {
            let _ = farewell.send(());
        })),
        writer: Some(keeper),
        pauses: None,
    })
}

/// A new room of `indices.len()` participants: all publish, then each receives the others.
pub async fn join_room(
    janus: &Janus,
    indices: &[u32],
    profile: MediaProfile,
) -> Result<Vec<Participant>> {
    let room = ROOMS_MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut publishers = Vec::new();
    for (n, index) in indices.iter().enumerate() {
        publishers.push(publish(janus, room, *index, profile, n == 0).await?);
    }
    for publisher in &mut publishers {
        publisher.session.until_webrtc_up().await?;
    }
    let feeds: Vec<u64> = publishers.iter().map(|p| p.feed).collect();
    let mut participants = Vec::new();
    for publisher in publishers {
        let others = feeds
            .iter()
            .copied()
            .filter(|f| *f != publisher.feed)
            .collect();
        participants.push(subscribe(janus, publisher, room, others).await?);
    }
    Ok(participants)
}
