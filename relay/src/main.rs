//! Sprechstunde relay: serves the app, carries WebSocket signaling and forwards media.
//! The command line and the server's start-up; everything else is in the library.

use sprechstunde_relay::{
    access, accesslog, admin, config, desk, http_server, limits, room_admin, sfu, store, tls, web,
};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use str0m::Candidate;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tracing::{info, warn};

use sprechstunde_relay::config::{Config, ConfigArgs};
use sprechstunde_relay::metrics::Metrics;
use sprechstunde_relay::sfu::io::{Inbox, MediaSocket, INBOX_CAPACITY};
use sprechstunde_relay::sfu::{Command, Sfu};

#[derive(Parser)]
#[command(
    name = "sprechstunde-relay",
    version,
    about = "Sprechstunde relay: app, signaling and media forwarding"
)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Run the relay (the default).
    Serve,
    /// Print the effective configuration and exit.
    CheckConfig,
    /// Rooms, host links and guest invitations.
    #[command(subcommand)]
    Room(room_admin::RoomCommand),
    /// Staff accounts for the desk (/desk): add, list, remove, reset passwords, assign rooms.
    #[command(subcommand)]
    Staff(desk::staff::StaffCommand),
    /// Data-subject requests and retention on the access log.
    #[command(subcommand)]
    Log(admin::LogCommand),
    /// Legal holds: keep entries needed as evidence beyond retention.
    #[command(subcommand)]
    Hold(admin::HoldCommand),
    /// TLS certificates.
    #[command(subcommand)]
    Tls(tls::TlsCommand),
    /// Anonymous statistics per day (no IP, no user agent, no names; small counts as "<5").
    Stats {
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("sprechstunde-relay: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    init_tracing(&config.log);
    let result = match cli.command.unwrap_or(Action::Serve) {
        Action::CheckConfig => {
            println!("{config:#?}");
            Ok(())
        }
        Action::Serve => serve(config),
        Action::Room(command) => room_admin::room(&config, command, &mut std::io::stdout()),
        Action::Staff(command) => desk::staff::staff(&config, command, &mut std::io::stdout()),
        Action::Log(command) => admin::log(&config, command, &mut std::io::stdout()),
        Action::Hold(command) => admin::hold(&config, command, &mut std::io::stdout()),
        Action::Tls(command) => tls::command(command),
        Action::Stats { days, json } => admin::stats(&config, days, json, &mut std::io::stdout()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sprechstunde-relay: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    str0m::crypto::from_feature_flags().install_process_default();
    let metrics = Arc::new(Metrics::default());
    let audit = accesslog::writer::start(
        config.data_dir.clone(),
        config.retention_days,
        config.access_log_jsonl,
        metrics.clone(),
    )?;

    let doorkeeper = access::Doorkeeper {
        secret: access::load_secret(config.token_secret.as_deref(), &config.data_dir)?,
        policy: config.access,
        passwords: access::PasswordGuard::default(),
        store: Arc::new(std::sync::Mutex::new(store::Store::open(&config.data_dir)?)),
    };
    let media = bind_media(&config).await?;
    let listener = TcpListener::bind(config.http)
        .await
        .with_context(|| format!("cannot listen on {}", config.http))?;
    let http = listener.local_addr()?;
    // The page's own port carries media too (ICE over TCP) for networks that block UDP.
    let web_port = match &config.tls {
        Some(files) => files.https.port(),
        None => http.port(),
    };
    let tcp_candidates: Vec<SocketAddr> = media
        .iter()
        .map(|m| SocketAddr::new(m.advertised.ip(), web_port))
        .filter(|_| web_port != 0)
        .collect();
    let candidates = media_candidates(&media, &tcp_candidates)?;

    let (inbox_tx, inbox_rx) = mpsc::channel(INBOX_CAPACITY);
    let mut sfu = Sfu::new(
        candidates,
        config.room_capacity,
        config.room_infos.clone(),
        config.access,
        metrics.clone(),
    );
    sfu.set_turn(config.turn.clone());
    let advertised: Vec<String> = media.iter().map(|m| m.advertised.to_string()).collect();
    let liveness = sprechstunde_relay::health::Liveness::default();
    let sfu_task = tokio::spawn(sfu::io::run(
        media,
        sfu,
        inbox_rx,
        metrics.clone(),
        audit.clone(),
        liveness.clone(),
    ));

    let app = web::router(web::AppState {
        inbox: inbox_tx.clone(),
        metrics,
        audit,
        client_ip: Arc::new(config.client_ip.clone()),
        admin_token: config.admin_token.as_deref().map(Arc::from),
        data_dir: Arc::from(config.data_dir.as_path()),
        privacy_notice: Arc::new(config.privacy_notice.clone()),
        connections: limits::ConnectionCounter::default(),
        public_origin: config
            .public_url_configured
            .then(|| limits::origin_of(&config.public_url))
            .flatten()
            .map(Arc::from),
        doorkeeper,
        liveness,
        desk: sprechstunde_relay::desk::Desk {
            sessions: Default::default(),
            secure_cookies: config.tls.is_some() || config.public_url.starts_with("https://"),
        },
    });
    let shutdown_inbox = inbox_tx.clone();
    let stopping = async move {
        shutdown_signal().await;
        info!("shutting down: telling clients");
        let _ = shutdown_inbox.send(Inbox::Command(Command::Shutdown)).await;
        // Give connections a moment to deliver the close, then stop regardless.
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    match &config.tls {
        None => {
            info!(%http, media = ?advertised, "relay ready");
            // Machine-readable line for scripts and tests that start the relay on port 0.
            println!("listening http://{http} media {}", advertised.join(","));
            let ice_tcp = http_server::IceTcp {
                inbox: inbox_tx.clone(),
                candidates: tcp_candidates,
            };
            http_server::serve(listener, app, None, Some(ice_tcp), stopping).await;
        }
        Some(files) => {
            let ice_tcp = http_server::IceTcp {
                inbox: inbox_tx.clone(),
                candidates: tcp_candidates,
            };
            serve_tls(files, listener, app, stopping, &advertised, ice_tcp).await?
        }
    }
    drop(inbox_tx);
    if tokio::time::timeout(Duration::from_secs(2), sfu_task)
        .await
        .is_err()
    {
        warn!("media loop did not stop in time");
    }
    info!("stopped");
    Ok(())
}

/// HTTPS with the app; the HTTP listener only redirects there. Both stop together.
async fn serve_tls(
    files: &config::TlsFiles,
    http_listener: TcpListener,
    app: axum::Router,
    stopping: impl std::future::Future<Output = ()> + Send + 'static,
    advertised: &[String],
    ice_tcp: http_server::IceTcp,
) -> anyhow::Result<()> {
    let tls_config = tls::server_config(&files.cert, &files.key)?;
    let https_listener = TcpListener::bind(files.https)
        .await
        .with_context(|| format!("cannot listen on {}", files.https))?;
    let https = https_listener.local_addr()?;
    let http = http_listener.local_addr()?;
    let app = app.layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static(tls::HSTS),
    ));
    let redirect = axum::Router::new()
        .fallback(move |request: axum::extract::Request| tls::redirect(https.port(), request));
    info!(%https, %http, media = ?advertised, "relay ready (TLS)");
    println!(
        "listening https://{https} media {} redirect http://{http}",
        advertised.join(",")
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stopping.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let redirects = tokio::spawn(http_server::serve(
        http_listener,
        redirect,
        None,
        None,
        stopped(stop_rx.clone()),
    ));
    http_server::serve(
        https_listener,
        app,
        Some(tokio_rustls::TlsAcceptor::from(tls_config)),
        Some(ice_tcp),
        stopped(stop_rx),
    )
    .await;
    let _ = redirects.await;
    Ok(())
}

/// The relay's ICE candidates: UDP on every media address first, then passive TCP on the
/// web port (lower priority: used only where UDP does not get through).
fn media_candidates(media: &[MediaSocket], tcp: &[SocketAddr]) -> anyhow::Result<Vec<Candidate>> {
    let mut candidates = Vec::new();
    for m in media {
        candidates.push(
            Candidate::host(m.advertised, "udp")
                .context("media address is not usable as an ICE candidate")?,
        );
    }
    for address in tcp {
        candidates.push(
            Candidate::builder()
                .tcp()
                .host(*address)
                .tcptype(str0m::net::TcpType::Passive)
                .build()
                .context("web port is not usable as an ICE-TCP candidate")?,
        );
    }
    Ok(candidates)
}

async fn bind_media(config: &Config) -> anyhow::Result<Vec<MediaSocket>> {
    let mut port = config.media_port;
    let mut sockets = Vec::new();
    for (bind, advertise) in &config.media_addresses {
        let address = SocketAddr::new(*bind, port);
        let socket = UdpSocket::bind(address)
            .await
            .with_context(|| format!("cannot bind media port {address}"))?;
        enlarge_buffers(&socket);
        // With port 0 the first socket picks; the others use the same port.
        port = socket.local_addr()?.port();
        sockets.push(MediaSocket {
            socket,
            advertised: SocketAddr::new(*advertise, port),
        });
    }
    Ok(sockets)
}

/// Room for bursts on the media socket: keyframes of many senders arrive together, and the
/// SFU loop may be off the CPU for a few milliseconds. The kernel caps the request at
/// `net.core.rmem_max` / `wmem_max`; what it granted is logged.
fn enlarge_buffers(socket: &UdpSocket) {
    const MEDIA_SOCKET_BUFFER: usize = 4 << 20;
    let socket = socket2::SockRef::from(socket);
    let _ = socket.set_recv_buffer_size(MEDIA_SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(MEDIA_SOCKET_BUFFER);
    tracing::debug!(
        receive = socket.recv_buffer_size().unwrap_or_default(),
        send = socket.send_buffer_size().unwrap_or_default(),
        "media socket buffers"
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
