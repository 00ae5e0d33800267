//! Configuration: defaults that need no file, overridden by a TOML file, then by environment
//! variables, then by command-line flags.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;

use crate::access::AccessPolicy;
use crate::accesslog::client_ip::{ClientIp, IpMode};
use crate::sfu::meeting::MeetingInfo;
use serde::Deserialize;
use sprechstunde_shared::RoomName;

/// Settings given on the command line or in the environment. `None` means "not given here".
#[derive(Debug, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "SPRECHSTUNDE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address for HTTP and WebSocket signaling [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "SPRECHSTUNDE_HTTP")]
    pub http: Option<SocketAddr>,
    /// UDP port for all media [default: 10000; 0 picks a free one].
    #[arg(long, global = true, env = "SPRECHSTUNDE_MEDIA_PORT")]
    pub media_port: Option<u16>,
    /// IP addresses to bind the media port on [default: this machine's interface addresses].
    #[arg(
        long = "media-ip",
        global = true,
        env = "SPRECHSTUNDE_MEDIA_IPS",
        value_delimiter = ','
    )]
    pub media_ips: Option<Vec<IpAddr>>,
    /// Addresses announced to browsers as ICE candidates, one per media IP, in the same order
    /// (for 1:1 NAT) [default: the media IPs].
    #[arg(
        long = "media-advertise",
        global = true,
        env = "SPRECHSTUNDE_MEDIA_ADVERTISE",
        value_delimiter = ','
    )]
    pub media_advertise: Option<Vec<IpAddr>>,
    /// Directory for the relay's files [default: ./data].
    #[arg(long, global = true, env = "SPRECHSTUNDE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log filter in tracing's syntax [default: info].
    #[arg(long, global = true, env = "SPRECHSTUNDE_LOG")]
    pub log: Option<String>,
    /// Days the access log is kept, 1 to 30 [default: 30].
    #[arg(long, global = true, env = "SPRECHSTUNDE_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Proxies whose X-Forwarded-For is believed (comma-separated) [default: none].
    #[arg(
        long = "trusted-proxy",
        global = true,
        env = "SPRECHSTUNDE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<IpAddr>>,
    /// How client addresses are logged [default: full].
    #[arg(long, global = true, env = "SPRECHSTUNDE_LOG_IP", value_enum)]
    pub log_ip: Option<IpMode>,
    /// Token for the admin HTTP endpoints (`Authorization: Bearer ...`); without one they
    /// do not exist [default: none].
    #[arg(
        long,
        global = true,
        env = "SPRECHSTUNDE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// The office's privacy notice in German (plain text; `# ` starts a heading)
    /// [default: the neutral template].
    #[arg(long, global = true, env = "SPRECHSTUNDE_PRIVACY_NOTICE_DE")]
    pub privacy_notice_de: Option<PathBuf>,
    /// Most participants in one room [default: 20].
    #[arg(long, global = true, env = "SPRECHSTUNDE_ROOM_CAPACITY")]
    pub room_capacity: Option<usize>,
    /// The same in English [default: the neutral template].
    #[arg(long, global = true, env = "SPRECHSTUNDE_PRIVACY_NOTICE_EN")]
    pub privacy_notice_en: Option<PathBuf>,
    /// Whether any valid room name opens a room (`true`) or only rooms added with
    /// `room add` [default: true].
    #[arg(long, global = true, env = "SPRECHSTUNDE_OPEN_ROOMS")]
    pub open_rooms: Option<bool>,
    /// Also write the access log as daily JSON-lines files in DATA_DIR/access-log, for a
    /// log shipper [default: false].
    #[arg(long, global = true, env = "SPRECHSTUNDE_ACCESS_LOG_JSONL")]
    pub access_log_jsonl: Option<bool>,
    /// Whether guests wait in the waiting room until a host is there [default: false].
    #[arg(long, global = true, env = "SPRECHSTUNDE_GUESTS_WAIT_FOR_HOST")]
    pub guests_wait_for_host: Option<bool>,
    /// Secret that signs host links and invitations, at least 32 characters
    /// [default: generated once into the data directory].
    #[arg(
        long,
        global = true,
        env = "SPRECHSTUNDE_TOKEN_SECRET",
        hide_env_values = true
    )]
    pub token_secret: Option<String>,
    /// The address people use to reach the relay, for printed links
    /// [default: http:// and the HTTP address].
    #[arg(long, global = true, env = "SPRECHSTUNDE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// TLS certificate chain (PEM). With `tls-key`, the relay serves HTTPS and the HTTP
    /// address only redirects there [default: none].
    #[arg(long, global = true, env = "SPRECHSTUNDE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) [default: none].
    #[arg(long, global = true, env = "SPRECHSTUNDE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Address for HTTPS [default: the HTTP address's IP, port 8443].
    #[arg(long, global = true, env = "SPRECHSTUNDE_HTTPS")]
    pub https: Option<SocketAddr>,
    /// Serve plain HTTP on an address other than localhost: only behind a reverse proxy
    /// that terminates TLS, or on a closed test network [default: false].
    #[arg(long, global = true, env = "SPRECHSTUNDE_ALLOW_PLAIN_HTTP")]
    pub allow_plain_http: Option<bool>,
    /// An external TURN server's URLs (`turn:` / `turns:`, comma-separated), for networks
    /// that let neither UDP nor ICE-TCP through; needs `turn-secret` [default: none].
    #[arg(
        long,
        global = true,
        env = "SPRECHSTUNDE_TURN_URLS",
        value_delimiter = ','
    )]
    pub turn_urls: Option<Vec<String>>,
    /// The TURN server's shared secret (coturn's `static-auth-secret`) [default: none].
    #[arg(
        long,
        global = true,
        env = "SPRECHSTUNDE_TURN_SECRET",
        hide_env_values = true
    )]
    pub turn_secret: Option<String>,
    /// How long a TURN credential minted for a participant lasts, in seconds [default: 10800].
    #[arg(long, global = true, env = "SPRECHSTUNDE_TURN_TTL_SECONDS")]
    pub turn_ttl_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    http: Option<SocketAddr>,
    media_port: Option<u16>,
    media_ips: Option<Vec<IpAddr>>,
    media_advertise: Option<Vec<IpAddr>>,
    data_dir: Option<PathBuf>,
    log: Option<String>,
    retention_days: Option<u32>,
    trusted_proxies: Option<Vec<IpAddr>>,
    log_ip: Option<IpMode>,
    admin_token: Option<String>,
    privacy_notice_de: Option<PathBuf>,
    privacy_notice_en: Option<PathBuf>,
    room_capacity: Option<usize>,
    open_rooms: Option<bool>,
    guests_wait_for_host: Option<bool>,
    access_log_jsonl: Option<bool>,
    token_secret: Option<String>,
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    https: Option<SocketAddr>,
    allow_plain_http: Option<bool>,
    turn_urls: Option<Vec<String>>,
    turn_secret: Option<String>,
    turn_ttl_seconds: Option<u64>,
    /// The privacy notice in further languages, by language code (`ar = "/etc/…/ar.txt"`).
    privacy_notices: Option<BTreeMap<String, PathBuf>>,
    /// Topic and description per room, shown in the room's header.
    rooms: Option<BTreeMap<String, RoomFile>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoomFile {
    topic: Option<String>,
    description: Option<String>,
}

fn room_infos(
    rooms: Option<BTreeMap<String, RoomFile>>,
) -> anyhow::Result<HashMap<RoomName, MeetingInfo>> {
    let mut infos = HashMap::new();
    for (name, room) in rooms.unwrap_or_default() {
        let Ok(room_name) = RoomName::parse(&name) else {
            bail!("rooms.{name}: room names have 1-64 letters, digits, '-' or '_'");
        };
        let info = MeetingInfo::cleaned(room.topic.as_deref(), room.description.as_deref())
            .map_err(|e| anyhow::anyhow!("rooms.{name}: {e}"))?;
        infos.insert(room_name, info);
    }
    Ok(infos)
}

/// The privacy notice shown at `/datenschutz`, per language.
#[derive(Debug, Clone)]
pub struct PrivacyNotice {
    pub de: String,
    pub en: String,
    /// Further languages the operator has a notice in, by code.
    pub more: HashMap<String, String>,
}

impl PrivacyNotice {
    /// The notice in `lang` and the language it is really in: German where the operator
    /// has none in `lang`. `None` for a code that is no language code.
    pub fn in_language(&self, lang: &str) -> Option<(&str, &str)> {
        if !is_language_code(lang) {
            return None;
        }
        Some(match lang {
            "de" => (self.de.as_str(), "de"),
            "en" => (self.en.as_str(), "en"),
            _ => match self.more.get_key_value(lang) {
                Some((code, text)) => (text.as_str(), code.as_str()),
                None => (self.de.as_str(), "de"),
            },
        })
    }
}

/// Two or three lowercase letters, as ISO 639 codes are.
fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

fn read_more_notices(
    paths: Option<BTreeMap<String, PathBuf>>,
) -> anyhow::Result<HashMap<String, String>> {
    let mut notices = HashMap::new();
    for (lang, path) in paths.unwrap_or_default() {
        if !is_language_code(&lang) || lang == "de" || lang == "en" {
            bail!("privacy_notices.{lang}: use a language code other than de and en (those have privacy_notice_de and privacy_notice_en)");
        }
        let text = read_notice(Some(path), "")?;
        notices.insert(lang, text);
    }
    Ok(notices)
}

const NOTICE_TEMPLATE_DE: &str = include_str!("../templates/privacy-notice.de.txt");
const NOTICE_TEMPLATE_EN: &str = include_str!("../templates/privacy-notice.en.txt");

fn read_notice(path: Option<PathBuf>, template: &str) -> anyhow::Result<String> {
    match path {
        None => Ok(template.to_string()),
        Some(path) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the privacy notice {}", path.display())),
    }
}

#[derive(Clone)]
pub struct Config {
    pub http: SocketAddr,
    pub media_port: u16,
    /// (bind address, advertised address) per media socket.
    pub media_addresses: Vec<(IpAddr, IpAddr)>,
    pub data_dir: PathBuf,
    pub log: String,
    pub retention_days: u32,
    pub client_ip: ClientIp,
    pub admin_token: Option<String>,
    pub privacy_notice: PrivacyNotice,
    pub room_capacity: usize,
    pub room_infos: HashMap<RoomName, MeetingInfo>,
    pub access: AccessPolicy,
    pub access_log_jsonl: bool,
    pub token_secret: Option<String>,
    pub public_url: String,
    /// The public URL was configured (not derived from the listen address): browsers must
    /// come from its origin.
    pub public_url_configured: bool,
    pub tls: Option<TlsFiles>,
    /// An external TURN server admitted participants get credentials for.
    pub turn: Option<crate::turn::TurnServers>,
}

/// HTTPS on `https` with this certificate and key; the HTTP address then only redirects.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub https: SocketAddr,
}

pub const DEFAULT_ROOM_CAPACITY: usize = 20;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("http", &self.http)
            .field("media_port", &self.media_port)
            .field("media_addresses", &self.media_addresses)
            .field("data_dir", &self.data_dir)
            .field("log", &self.log)
            .field("retention_days", &self.retention_days)
            .field("room_capacity", &self.room_capacity)
            .field("client_ip", &self.client_ip)
            // The token itself is never printed.
            .field("admin_token", &self.admin_token.as_ref().map(|_| "(set)"))
            .field("access", &self.access)
            .field("access_log_jsonl", &self.access_log_jsonl)
            .field("token_secret", &self.token_secret.as_ref().map(|_| "(set)"))
            .field("public_url", &self.public_url)
            .field("tls", &self.tls)
            .field("turn", &self.turn)
            .finish()
    }
}

/// Admin tokens shorter than this are refused: they would be guessable.
pub const MIN_ADMIN_TOKEN: usize = 24;

/// The privacy notice promises at most 30 days.
pub const MAX_RETENTION_DAYS: u32 = 30;

pub const DEFAULT_HTTP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
pub const DEFAULT_MEDIA_PORT: u16 = 10000;

/// Where media is offered when no `media_ips` are given: on the address the web port listens
/// on, so a relay for this machine only (the default, 127.0.0.1) offers loopback only; with
/// the web port on all interfaces, the one address of the default route. Never every
/// interface: docker, VPN and internal addresses would go out in every SDP.
fn default_media_ips(http: IpAddr) -> Vec<IpAddr> {
    if !http.is_unspecified() {
        return vec![http];
    }
    vec![default_route_address(http).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))]
}

/// The local address the system would send from to reach the internet. A UDP `connect` to a
/// documentation address only looks up the route; nothing is sent.
fn default_route_address(family: IpAddr) -> Option<IpAddr> {
    let (bind, probe) = match family {
        IpAddr::V4(_) => ("0.0.0.0:0", "192.0.2.1:9"),
        IpAddr::V6(_) => ("[::]:0", "[2001:db8::1]:9"),
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(probe).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

impl Config {
    pub fn load(args: ConfigArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let http_ip = args.http.or(file.http).unwrap_or(DEFAULT_HTTP).ip();
        let media_ips = args
            .media_ips
            .or(file.media_ips)
            .unwrap_or_else(|| default_media_ips(http_ip));
        if media_ips.is_empty() {
            bail!("media-ip: give at least one address");
        }
        if let Some(ip) = media_ips.iter().find(|ip| ip.is_unspecified()) {
            bail!("media-ip {ip}: bind the media port on concrete addresses (ICE needs to know which one a packet arrived on)");
        }
        let advertised = args.media_advertise.or(file.media_advertise);
        let media_addresses = match advertised {
            None => media_ips.iter().map(|ip| (*ip, *ip)).collect(),
            Some(advertised) if advertised.len() == media_ips.len() => {
                media_ips.into_iter().zip(advertised).collect()
            }
            Some(advertised) => bail!(
                "media-advertise has {} addresses but media-ip has {}: give one per media IP",
                advertised.len(),
                media_ips.len()
            ),
        };
        let retention_days = args
            .retention_days
            .or(file.retention_days)
            .unwrap_or(MAX_RETENTION_DAYS);
        if !(1..=MAX_RETENTION_DAYS).contains(&retention_days) {
            bail!(
                "retention-days {retention_days}: the access log is kept 1 to {MAX_RETENTION_DAYS} days (the privacy notice promises at most {MAX_RETENTION_DAYS})"
            );
        }
        let client_ip = ClientIp {
            trusted_proxies: args
                .trusted_proxies
                .or(file.trusted_proxies)
                .unwrap_or_default(),
            mode: args.log_ip.or(file.log_ip).unwrap_or_default(),
        };
        let admin_token = args.admin_token.or(file.admin_token);
        if admin_token
            .as_ref()
            .is_some_and(|t| t.len() < MIN_ADMIN_TOKEN)
        {
            bail!("admin-token: use at least {MIN_ADMIN_TOKEN} random characters");
        }
        let privacy_notice = PrivacyNotice {
            de: read_notice(
                args.privacy_notice_de.or(file.privacy_notice_de),
                NOTICE_TEMPLATE_DE,
            )?,
            en: read_notice(
                args.privacy_notice_en.or(file.privacy_notice_en),
                NOTICE_TEMPLATE_EN,
            )?,
            more: read_more_notices(file.privacy_notices)?,
        };
        let room_capacity = args
            .room_capacity
            .or(file.room_capacity)
            .unwrap_or(DEFAULT_ROOM_CAPACITY);
        if room_capacity < 2 {
            bail!("room-capacity {room_capacity}: a conversation needs at least 2 people");
        }
        let token_secret = args.token_secret.or(file.token_secret);
        if token_secret
            .as_ref()
            .is_some_and(|t| t.len() < crate::access::token::SECRET_MIN_BYTES)
        {
            bail!(
                "token-secret: use at least {} random characters",
                crate::access::token::SECRET_MIN_BYTES
            );
        }
        let http = args.http.or(file.http).unwrap_or(DEFAULT_HTTP);
        let tls = match (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                https: args
                    .https
                    .or(file.https)
                    .unwrap_or_else(|| crate::tls::default_https(http)),
            }),
            (None, None) => None,
            _ => bail!("tls-cert and tls-key: give both, or neither for plain HTTP"),
        };
        let allow_plain_http = args
            .allow_plain_http
            .or(file.allow_plain_http)
            .unwrap_or(false);
        if tls.is_none() && !http.ip().is_loopback() && !allow_plain_http {
            bail!(
                "http {http}: plain HTTP is served on localhost only. Give tls-cert and tls-key \
                 (`sprechstunde-relay tls self-signed --host NAME` makes a pair for a LAN test), \
                 or set allow-plain-http = true behind a reverse proxy that terminates TLS"
            );
        }
        let configured_url = args.public_url.or(file.public_url);
        let public_url_configured = configured_url.is_some();
        let public_url = configured_url.unwrap_or_else(|| match &tls {
            Some(tls) => format!("https://{}", tls.https),
            None => format!("http://{http}"),
        });
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("public-url {public_url}: give it with http:// or https://");
        }
        let turn = match (
            args.turn_urls.or(file.turn_urls),
            args.turn_secret.or(file.turn_secret),
        ) {
            (Some(urls), Some(secret)) => Some(crate::turn::TurnServers::new(
                urls,
                secret,
                std::time::Duration::from_secs(
                    args.turn_ttl_seconds
                        .or(file.turn_ttl_seconds)
                        .unwrap_or(crate::turn::DEFAULT_TTL.as_secs()),
                ),
            )?),
            (None, None) => None,
            _ => bail!("turn-urls and turn-secret: give both, or neither"),
        };
        let defaults = AccessPolicy::default();
        let access = AccessPolicy {
            open_rooms: args
                .open_rooms
                .or(file.open_rooms)
                .unwrap_or(defaults.open_rooms),
            guests_wait_for_host: args
                .guests_wait_for_host
                .or(file.guests_wait_for_host)
                .unwrap_or(defaults.guests_wait_for_host),
        };
        Ok(Config {
            turn,
            access,
            access_log_jsonl: args
                .access_log_jsonl
                .or(file.access_log_jsonl)
                .unwrap_or(false),
            token_secret,
            public_url,
            public_url_configured,
            tls,
            room_infos: room_infos(file.rooms)?,
            room_capacity,
            privacy_notice,
            admin_token,
            retention_days,
            client_ip,
            http,
            media_port: args
                .media_port
                .or(file.media_port)
                .unwrap_or(DEFAULT_MEDIA_PORT),
            media_addresses,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("data")),
            log: args.log.or(file.log).unwrap_or_else(|| "info".to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let config = Config::load(ConfigArgs {
            media_ips: Some(vec!["127.0.0.1".parse().expect("ip")]),
            ..Default::default()
        })
        .expect("defaults load");
        assert_eq!(config.http, DEFAULT_HTTP);
        assert_eq!(config.media_port, DEFAULT_MEDIA_PORT);
        assert_eq!(config.log, "info");
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("sprechstunde-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("relay.toml");
        std::fs::write(
            &path,
            "http = \"127.0.0.1:9000\"\nmedia_port = 4000\nmedia_ips = [\"127.0.0.1\"]\n",
        )
        .expect("write");
        let config = Config::load(ConfigArgs {
            config: Some(path.clone()),
            media_port: Some(5000),
            ..Default::default()
        })
        .expect("load");
        assert_eq!(config.http, "127.0.0.1:9000".parse().expect("addr"));
        assert_eq!(config.media_port, 5000);
        std::fs::write(&path, "htttp = \"x\"\n").expect("write");
        let err = Config::load(ConfigArgs {
            config: Some(path),
            ..Default::default()
        });
        assert!(
            err.is_err(),
            "a misspelled key is an error, not silently ignored"
        );
    }

    #[test]
    fn a_notice_per_language_with_german_where_there_is_none() {
        let dir = std::env::temp_dir().join(format!("sprechstunde-notices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let arabic = dir.join("ar.txt");
        std::fs::write(&arabic, "# معلومات").expect("write");
        let path = dir.join("relay.toml");
        std::fs::write(
            &path,
            format!(
                "media_ips = [\"127.0.0.1\"]\n[privacy_notices]\nar = {:?}\n",
                arabic.display().to_string()
            ),
        )
        .expect("write");
        let config = Config::load(ConfigArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .expect("load");
        let notice = &config.privacy_notice;
        assert_eq!(notice.in_language("ar"), Some(("# معلومات", "ar")));
        assert_eq!(notice.in_language("tr"), Some((notice.de.as_str(), "de")));
        assert_eq!(notice.in_language("en"), Some((notice.en.as_str(), "en")));
        assert_eq!(notice.in_language("../x"), None);
        std::fs::write(
            &path,
            "media_ips = [\"127.0.0.1\"]\n[privacy_notices]\nDE = \"x\"\n",
        )
        .expect("write");
        assert!(Config::load(ConfigArgs {
            config: Some(path),
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn plain_http_off_localhost_needs_tls_or_an_explicit_yes() {
        let lan = |allow: Option<bool>, tls: bool| {
            Config::load(ConfigArgs {
                http: Some("192.168.1.10:80".parse().expect("addr")),
                media_ips: Some(vec!["127.0.0.1".parse().expect("ip")]),
                allow_plain_http: allow,
                tls_cert: tls.then(|| PathBuf::from("cert.pem")),
                tls_key: tls.then(|| PathBuf::from("key.pem")),
                ..Default::default()
            })
        };
        let refused = lan(None, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("localhost only"), "{refused}");
        assert!(lan(Some(true), false).is_ok());
        let with_tls = lan(None, true).expect("TLS");
        let tls = with_tls.tls.expect("tls");
        assert_eq!(tls.https, "192.168.1.10:8443".parse().expect("addr"));
        assert_eq!(with_tls.public_url, "https://192.168.1.10:8443");
        let half = Config::load(ConfigArgs {
            media_ips: Some(vec!["127.0.0.1".parse().expect("ip")]),
            tls_cert: Some(PathBuf::from("cert.pem")),
            ..Default::default()
        });
        assert!(half.is_err(), "a certificate without a key is an error");
    }

    #[test]
    fn room_topics_come_from_the_file_and_are_checked() {
        let dir = std::env::temp_dir().join(format!("sprechstunde-rooms-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("relay.toml");
        std::fs::write(
            &path,
            "media_ips = [\"127.0.0.1\"]\n[rooms.Beratung-1]\ntopic = \" Schulwahl \"\ndescription = \"Erstgespräch\"\n",
        )
        .expect("write");
        let config = Config::load(ConfigArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .expect("loads");
        let room = RoomName::parse("beratung-1").expect("valid");
        let info = config.room_infos.get(&room).expect("configured room");
        assert_eq!(info.topic.as_deref(), Some("Schulwahl"));
        assert_eq!(info.description.as_deref(), Some("Erstgespräch"));

        std::fs::write(&path, "[rooms.\"a b\"]\ntopic = \"x\"\n").expect("write");
        let error = Config::load(ConfigArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .err()
        .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("rooms.a b")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn retention_above_thirty_days_is_refused() {
        let with = |days| {
            Config::load(ConfigArgs {
                media_ips: Some(vec!["127.0.0.1".parse().expect("ip")]),
                retention_days: Some(days),
                ..Default::default()
            })
        };
        assert_eq!(with(7).expect("7 days").retention_days, 7);
        assert_eq!(with(30).expect("30 days").retention_days, 30);
        let error = with(31).expect_err("31 days refused");
        assert!(error.to_string().contains("at most 30"), "{error}");
        assert!(with(0).is_err());
    }

    #[test]
    fn unspecified_and_mismatched_media_addresses_are_refused() {
        let err = Config::load(ConfigArgs {
            media_ips: Some(vec!["0.0.0.0".parse().expect("ip")]),
            ..Default::default()
        });
        assert!(err.is_err());
        let err = Config::load(ConfigArgs {
            media_ips: Some(vec!["127.0.0.1".parse().expect("ip")]),
            media_advertise: Some(vec![]),
            ..Default::default()
        });
        assert!(err.is_err());
    }

    #[test]
    fn media_is_offered_where_the_web_port_listens_not_on_every_interface() {
        let default = Config::load(ConfigArgs::default()).expect("defaults");
        assert_eq!(
            default.media_addresses,
            [(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            )],
            "a relay for this machine offers loopback only"
        );
        let lan: IpAddr = "192.168.10.5".parse().expect("ip");
        assert_eq!(default_media_ips(lan), [lan]);
        let everywhere = default_media_ips("0.0.0.0".parse().expect("ip"));
        assert_eq!(everywhere.len(), 1, "one address, not every interface");
        assert!(!everywhere[0].is_unspecified());
    }
}
