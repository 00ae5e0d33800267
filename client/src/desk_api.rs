//! The desk's HTTP API (`/desk/api`): same-origin requests, so the session cookie goes along
//! and the browser sends the `Origin` the relay checks.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

/// Why a desk request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskError {
    SignedOut,
    WrongPassword,
    TooManyAttempts,
    Refused,
    Unreachable,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoomStatus {
    pub room: String,
    pub waiting: Vec<String>,
    pub hosts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Overview {
    pub login: String,
    pub may_create_rooms: bool,
    pub rooms: Vec<RoomStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeetingRequest {
    pub room: String,
    pub starts_at_ms: i64,
    pub minutes: u32,
    pub lang: Option<String>,
    pub with_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Meeting {
    pub room: String,
    pub host_link: String,
    pub invite_link: String,
    pub interpreter_link: String,
    pub invite_qr_svg: String,
    pub starts_at_ms: i64,
    pub opens_at_ms: i64,
    pub expires_at_ms: i64,
}

async fn request(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String), DeskError> {
    let window = web_sys::window().ok_or(DeskError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = web_sys::Headers::new().map_err(|_| DeskError::Unreachable)?;
        headers
            .set("Content-Type", "application/json")
            .map_err(|_| DeskError::Unreachable)?;
        init.set_headers(&headers);
        init.set_body(&body.into());
    }
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| DeskError::Unreachable)?
        .dyn_into()
        .map_err(|_| DeskError::Unreachable)?;
    let text = JsFuture::from(response.text().map_err(|_| DeskError::Unreachable)?)
        .await
        .map_err(|_| DeskError::Unreachable)?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

fn answer<T: DeserializeOwned>((status, text): (u16, String)) -> Result<T, DeskError> {
    match status {
        200 => serde_json::from_str(&text).map_err(|_| DeskError::Unreachable),
        _ => Err(error_of(status)),
    }
}

fn error_of(status: u16) -> DeskError {
    match status {
        401 => DeskError::SignedOut,
        429 => DeskError::TooManyAttempts,
        400 | 403 | 409 => DeskError::Refused,
        _ => DeskError::Unreachable,
    }
}

pub async fn sign_in(login: &str, password: &str) -> Result<(), DeskError> {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    match request("POST", "/desk/api/sign-in", Some(body)).await? {
        (204, _) => Ok(()),
        (401, _) => Err(DeskError::WrongPassword),
        (status, _) => Err(error_of(status)),
    }
}

pub async fn sign_out() -> Result<(), DeskError> {
    request("POST", "/desk/api/sign-out", None)
        .await
        .map(|_| ())
}

pub async fn overview() -> Result<Overview, DeskError> {
    answer(request("GET", "/desk/api/overview", None).await?)
}

pub async fn make_meeting(meeting: &MeetingRequest) -> Result<Meeting, DeskError> {
    let body = serde_json::to_string(meeting).map_err(|_| DeskError::Refused)?;
    answer(request("POST", "/desk/api/meetings", Some(body)).await?)
}

/// Makes a room the signed-in member then runs (only for members who may create rooms).
pub async fn make_room(room: &str) -> Result<(), DeskError> {
    let body = serde_json::json!({ "room": room }).to_string();
    match request("POST", "/desk/api/rooms", Some(body)).await? {
        (204, _) => Ok(()),
        (status, _) => Err(error_of(status)),
    }
}
