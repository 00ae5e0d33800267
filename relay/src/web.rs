//! HTTP: the embedded app, the WebSocket endpoint, health and metrics.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::HttpBody;
use axum::extract::{ConnectInfo, Path, Query, Request, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use sprechstunde_shared::{MAX_MESSAGE_BYTES, MAX_SDP_MESSAGE_BYTES};
use tokio::sync::mpsc;

use crate::accesslog::client_ip::ClientIp;
use crate::accesslog::{self, repo, user_agent, AccessEntry, AuditSink};
use crate::assets::{self, NO_CLIENT_PAGE};
use crate::config::PrivacyNotice;
use crate::limits::{self, ConnectionCounter};
use crate::metrics::Metrics;
use crate::security_headers;
use crate::sfu::io::Inbox;
use crate::signaling;
use crate::store::Store;
use subtle::ConstantTimeEq;
use tower_http::compression::CompressionLayer;

#[derive(Clone)]
pub struct AppState {
    pub inbox: mpsc::Sender<Inbox>,
    pub metrics: Arc<Metrics>,
    pub audit: AuditSink,
    pub client_ip: Arc<ClientIp>,
    /// Off (no admin endpoints) when `None`.
    pub admin_token: Option<Arc<str>>,
    pub data_dir: Arc<std::path::Path>,
    pub privacy_notice: Arc<PrivacyNotice>,
    pub connections: ConnectionCounter,
    /// Origin of the configured public URL; `None`: compare with `Host`.
    pub public_origin: Option<Arc<str>>,
    pub doorkeeper: crate::access::Doorkeeper,
    /// Whether the media loop turns.
    pub liveness: crate::health::Liveness,
    pub desk: crate::desk::Desk,
}

/// Ok only while the media loop turns: a relay that serves pages but forwards no media is
/// not healthy.
async fn healthz(State(state): State<AppState>) -> Response {
    if state.liveness.alive(std::time::Instant::now()) {
        "ok".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "media loop not running").into_response()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(app_page))
        // The client validates the room name itself and explains what is wrong.
        .route("/r/{room}", get(app_page))
        .route("/kiosk/{room}", get(app_page))
        .route("/datenschutz", get(app_page))
        .route("/meine-daten", get(app_page))
        .route("/desk", get(desk_page))
        .merge(crate::desk::api::router())
        .route("/privacy-notice/{lang}", get(privacy_notice))
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/admin/stats", get(admin_stats))
        .route(
            security_headers::CSP_REPORT_PATH,
            post(security_headers::report),
        )
        .fallback(get(asset))
        .layer(middleware::from_fn(security_headers::add))
        .layer(middleware::from_fn_with_state(state.clone(), access_log))
        // Outermost: the access log counts the bytes of the content, compressed or not.
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Log every request with exactly the notice's fields. The path is logged without its query
/// string, so no token in a link ever reaches the log.
async fn access_log(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let time_ms = accesslog::now_ms();
    let path = request.uri().path().to_string();
    let ip = state.client_ip.resolve(peer.ip(), request.headers());
    let software = user_agent::parse(
        request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    );
    let response = next.run(request).await;
    let bytes = response.body().size_hint().exact().unwrap_or(0);
    state.audit.record_request(
        limits::address_key(ip),
        AccessEntry {
            time_ms,
            ip: ip.to_string(),
            path,
            status: response.status().as_u16(),
            bytes,
            os: software.os,
            browser: software.browser,
            browser_version: software.browser_version,
        },
    );
    response
}

fn page(page: assets::Page) -> Response {
    match assets::shell(page) {
        Some(shell) => (
            [(header::CACHE_CONTROL, "no-cache")],
            Html(shell.index_html.clone()),
        )
            .into_response(),
        None => Html(NO_CLIENT_PAGE).into_response(),
    }
}

async fn app_page() -> Response {
    page(assets::Page::App)
}

async fn desk_page() -> Response {
    page(assets::Page::Desk)
}

/// The operator's privacy notice as plain text; the client renders it as text only.
/// `Content-Language` says which language it is in: German where the operator has none in
/// the language asked for, and the client says so.
async fn privacy_notice(State(state): State<AppState>, Path(lang): Path<String>) -> Response {
    let Some((text, language)) = state.privacy_notice.in_language(&lang) else {
        return not_found();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_LANGUAGE, language.to_string()),
        ],
        text.to_string(),
    )
        .into_response()
}

/// Unsent bytes one signaling connection may pile up (a few full-size messages).
const WRITE_BUFFER_LIMIT: usize = 16 * MAX_MESSAGE_BYTES;
/// Largest WebSocket frame read before the connection is dropped outright.
const FRAME_READ_LIMIT: usize = 4 * MAX_SDP_MESSAGE_BYTES;
/// Read buffer and write batching of a signaling connection.
const SIGNALING_BUFFER: usize = 8 * 1024;

async fn websocket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !limits::origin_allowed(
        headers.get(header::ORIGIN),
        headers.get(header::HOST),
        state.public_origin.as_deref(),
    ) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let ip = state.client_ip.resolve(peer.ip(), &headers);
    let Some(slot) = state.connections.acquire(ip) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from this address",
        )
            .into_response();
    };
    upgrade
        // The largest message allowed at all (SDP); `signaling` holds the others to
        // MAX_MESSAGE_BYTES and answers `too_large` either way. A frame up to
        // FRAME_READ_LIMIT is read whole even when its message is too large, so that the
        // close frame after `too_large` is not lost to a reset of a socket with unread data.
        .max_message_size(MAX_SDP_MESSAGE_BYTES)
        .max_frame_size(FRAME_READ_LIMIT)
        // A client that stops reading cannot make the relay buffer without end: past this
        // the connection fails and is closed.
        .max_write_buffer_size(WRITE_BUFFER_LIMIT)
        // Signaling messages are a few KiB: tungstenite's 128 KiB read and write buffers
        // would be a quarter of a participant's memory.
        .read_buffer_size(SIGNALING_BUFFER)
        .write_buffer_size(SIGNALING_BUFFER)
        .on_upgrade(move |socket| async move {
            signaling::serve_connection(
                socket,
                ip,
                state.inbox,
                state.metrics,
                state.audit,
                state.doorkeeper,
            )
            .await;
            drop(slot);
        })
}

/// Anonymous statistics of the last `days` (default 30), for the operator's dashboard.
async fn admin_stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Response {
    let Some(expected) = state.admin_token.clone() else {
        return not_found();
    };
    if !bearer_matches(&headers, &expected) {
        return (StatusCode::UNAUTHORIZED, "admin token required").into_response();
    }
    let days = query.days.unwrap_or(30).min(366);
    let data_dir = state.data_dir.clone();
    let result =
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<repo::DayStatistics>> {
            let store = Store::open(&data_dir)?;
            let now = accesslog::now_ms();
            Ok(repo::statistics(
                &store.connection,
                now - i64::from(days) * accesslog::DAY_MS,
                now,
            )?)
        })
        .await;
    match result {
        Ok(Ok(statistics)) => Json(statistics).into_response(),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "statistics unavailable").into_response(),
    }
}

#[derive(serde::Deserialize)]
struct StatsQuery {
    days: Option<u32>,
}

/// Whether the request carries `Authorization: Bearer <expected>` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// The counters, for the operator only: with the admin token when one is configured,
/// otherwise only to a client on this machine that did not come through a proxy.
async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    local: Option<axum::Extension<crate::http_server::LocalAddress>>,
    headers: HeaderMap,
) -> Response {
    let peer_ip = peer.ip().to_canonical();
    let this_machine = peer_ip.is_loopback()
        || local
            .and_then(|l| l.0 .0)
            .is_some_and(|l| l.ip().to_canonical() == peer_ip);
    let allowed = match &state.admin_token {
        Some(expected) => bearer_matches(&headers, expected),
        None => this_machine && !headers.contains_key("x-forwarded-for"),
    };
    if !allowed {
        return (StatusCode::UNAUTHORIZED, "admin token required").into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    if let Some(loader) = assets::loader(uri.path()) {
        return immutable("text/javascript".to_string(), loader.as_bytes().to_vec());
    }
    let requested = uri.path().trim_start_matches('/');
    // A language file is asked for by its hashed name and found under its plain one.
    let language_file = crate::languages::resolve(requested);
    let path = language_file.as_deref().unwrap_or(requested);
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let Some(file) = assets::find(path, header_text(header::ACCEPT_ENCODING)) else {
        return not_found();
    };
    // Hashed names never change; the rest (the vendored blur runtime) is revalidated.
    let cache = if assets::content_addressed(requested) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if header_text(header::IF_NONE_MATCH) == file.etag {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, file.content_type)],
            // Embedded files are served from the binary as they are, without a copy per request.
            match file.body {
                std::borrow::Cow::Borrowed(bytes) => axum::body::Bytes::from_static(bytes),
                std::borrow::Cow::Owned(bytes) => axum::body::Bytes::from(bytes),
            },
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    let mut set = |name, value: &str| {
        if let Ok(value) = header::HeaderValue::from_str(value) {
            response_headers.insert(name, value);
        }
    };
    set(header::CACHE_CONTROL, cache);
    set(header::ETAG, &file.etag);
    set(header::VARY, "accept-encoding");
    if let Some(coding) = file.encoding {
        set(header::CONTENT_ENCODING, coding);
    }
    response
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Nicht gefunden / Not found").into_response()
}

/// A file whose name carries its content hash (trunk's assets, the loader): cache forever.
fn immutable(content_type: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_string(),
            ),
        ],
        body,
    )
        .into_response()
}
