//! HTTP: the embedded app, the WebSocket endpoint, health and metrics.

use std::sync::Arc;

use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sprechstunde_shared::MAX_MESSAGE_BYTES;
use tokio::sync::mpsc;

use crate::assets::{Assets, NO_CLIENT_PAGE};
use crate::metrics::Metrics;
use crate::sfu::io::Inbox;
use crate::signaling;

#[derive(Clone)]
pub struct AppState {
    pub inbox: mpsc::Sender<Inbox>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(app_page))
        .route("/r/{room}", get(room_page))
        .route("/ws", get(websocket))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .fallback(get(asset))
        .with_state(state)
}

fn index() -> Response {
    match Assets::get("index.html") {
        Some(file) => (
            [(header::CACHE_CONTROL, "no-cache")],
            Html(file.data.into_owned()),
        )
            .into_response(),
        None => Html(NO_CLIENT_PAGE).into_response(),
    }
}

async fn app_page() -> Response {
    index()
}

/// The client validates the room name itself and explains what is wrong.
async fn room_page(Path(_room): Path<String>) -> Response {
    index()
}

async fn websocket(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| signaling::serve_connection(socket, state.inbox, state.metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    match Assets::get(path) {
        Some(file) => {
            let mime = file.metadata.mimetype().to_string();
            (
                [
                    (header::CONTENT_TYPE, mime),
                    // Trunk puts a content hash in every asset name.
                    (
                        header::CACHE_CONTROL,
                        "public, max-age=31536000, immutable".to_string(),
                    ),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "Nicht gefunden / Not found").into_response(),
    }
}
