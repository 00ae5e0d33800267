//! The desk's HTTP API under `/desk/api`. JSON in and out; errors as `{"error": "<code>"}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use cookie::{Cookie, SameSite};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use sprechstunde_shared::RoomName;
use tokio::sync::oneshot;

use super::sessions::{SessionOf, COOKIE, IDLE};
use super::staff::{self, StaffMember};
use crate::access::token::{self, LinkTerms};
use crate::access::{self, CheckError, LinkRole, PasswordDigest};
use crate::accesslog::{self, AuditRecord, EventKind, EventRecord};
use crate::limits;
use crate::sfu::engine::RoomStatus;
use crate::sfu::io::Inbox;
use crate::store::Store;
use crate::web::AppState;

/// Longest appointment.
const MAX_MINUTES: u32 = 8 * 60;
/// Links stay valid this long after the appointment's planned end.
const GRACE_AFTER_END_SECS: u64 = 30 * 60;
/// Appointments may be made up to a year ahead.
const MAX_DAYS_AHEAD: i64 = 366;
/// How often the live view looks for changes.
const LIVE_INTERVAL: Duration = Duration::from_millis(700);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/desk/api/sign-in", post(sign_in))
        .route("/desk/api/sign-out", post(sign_out))
        .route("/desk/api/overview", get(overview))
        .route("/desk/api/live", get(live))
        .route("/desk/api/meetings", post(make_meeting))
        .route("/desk/api/rooms", post(make_room))
}

fn refuse(status: StatusCode, error: &'static str) -> Response {
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}

/// A refusal from a helper, answered as [`refuse`] does.
struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.0, self.1)
    }
}

/// State changes need an `Origin` naming this relay (the cookie is `SameSite=Strict` too).
fn origin_checked(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    let origin = headers.get(header::ORIGIN);
    if origin.is_some()
        && limits::origin_allowed(
            origin,
            headers.get(header::HOST),
            state.public_origin.as_deref(),
        )
    {
        Ok(())
    } else {
        Err(Refusal(StatusCode::FORBIDDEN, "origin"))
    }
}

fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string())
}

fn session_cookie(state: &AppState, value: String, max_age: Duration) -> String {
    Cookie::build((COOKIE, value))
        .path("/desk")
        .http_only(true)
        .secure(state.desk.secure_cookies)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(0),
        ))
        .build()
        .to_string()
}

async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Store) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, Refusal> {
    let store = state.doorkeeper.store.clone();
    let done = tokio::task::spawn_blocking(move || {
        let store = store
            .lock()
            .map_err(|_| anyhow::anyhow!("store unavailable"))?;
        work(&store)
    })
    .await;
    match done {
        Ok(Ok(value)) => Ok(value),
        _ => Err(Refusal(StatusCode::SERVICE_UNAVAILABLE, "busy")),
    }
}

/// The signed-in staff member, read afresh: a removed account or a reset password ends the
/// session here. `touch`: the request is the member's own activity.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    touch: bool,
) -> Result<StaffMember, Refusal> {
    let secret = session_secret(headers).ok_or(Refusal(StatusCode::UNAUTHORIZED, "signed_out"))?;
    let session = state
        .desk
        .sessions
        .find(&secret, Instant::now(), touch)
        .ok_or(Refusal(StatusCode::UNAUTHORIZED, "signed_out"))?;
    let login = session.login.clone();
    let member = blocking(state, move |s| staff::member(&s.connection, &login)).await?;
    match member {
        Some(member) if member.credential_version == session.credential_version => Ok(member),
        _ => {
            state.desk.sessions.end(&secret);
            Err(Refusal(StatusCode::UNAUTHORIZED, "signed_out"))
        }
    }
}

fn record(state: &AppState, ip: std::net::IpAddr, kind: EventKind, detail: &'static str) {
    state.audit.record(AuditRecord::Event(EventRecord {
        time_ms: accesslog::now_ms(),
        kind,
        room: None,
        ip: ip.to_string(),
        detail,
    }));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    login: String,
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Err(refused) = origin_checked(&state, &headers) {
        return refused.into_response();
    }
    let Ok(Json(SignIn { login, password })) = body else {
        return refuse(StatusCode::BAD_REQUEST, "invalid");
    };
    if password.chars().count() > access::password::PASSWORD_MAX_CHARS {
        return refuse(StatusCode::UNAUTHORIZED, "wrong");
    }
    let ip = state.client_ip.resolve(peer.ip(), &headers);
    let login = staff::parse_login(&login).unwrap_or_default();
    let lookup = login.clone();
    let credentials =
        match blocking(&state, move |s| staff::credentials(&s.connection, &lookup)).await {
            Ok(credentials) => credentials,
            Err(refused) => return refused.into_response(),
        };
    // An unknown login costs the same hash as a known one, so timing does not tell them apart.
    let (digest, version) = credentials.unwrap_or_else(|| (unknown_login_digest(), -1));
    let checked = state
        .doorkeeper
        .passwords
        .check_staff(ip, &login, &digest, password)
        .await;
    match checked {
        Ok(()) if version >= 0 => {}
        Ok(()) | Err(CheckError::Wrong) => {
            record(
                &state,
                ip,
                EventKind::StaffSignInFailed,
                "wrong staff password",
            );
            return refuse(StatusCode::UNAUTHORIZED, "wrong");
        }
        Err(CheckError::TooManyAttempts) => {
            record(
                &state,
                ip,
                EventKind::StaffSignInFailed,
                "too many staff sign-in attempts",
            );
            return refuse(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
        }
        Err(CheckError::Busy) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "busy"),
    }
    let of = SessionOf {
        login: login.clone(),
        credential_version: version,
    };
    let Some(secret) = state.desk.sessions.start(of, Instant::now()) else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "busy");
    };
    let now = accesslog::now_ms();
    if let Err(refused) = blocking(&state, move |s| {
        staff::signed_in(&s.connection, &login, now)
    })
    .await
    {
        return refused.into_response();
    }
    record(&state, ip, EventKind::StaffSignIn, "staff signed in");
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie(&state, secret, IDLE))],
    )
        .into_response()
}

/// A hash no password matches in practice, made once.
fn unknown_login_digest() -> PasswordDigest {
    static DIGEST: std::sync::OnceLock<Option<PasswordDigest>> = std::sync::OnceLock::new();
    DIGEST
        .get_or_init(|| {
            let mut bytes = [0u8; 32];
            getrandom::getrandom(&mut bytes).ok()?;
            PasswordDigest::of(&format!("{bytes:?}")).ok()
        })
        .clone()
        .unwrap_or_else(|| PasswordDigest::stored(String::new()))
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = origin_checked(&state, &headers) {
        return refused.into_response();
    }
    if let Some(secret) = session_secret(&headers) {
        state.desk.sessions.end(&secret);
    }
    (
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session_cookie(&state, String::new(), Duration::ZERO),
        )],
    )
        .into_response()
}

#[derive(Serialize)]
struct Overview {
    login: String,
    may_create_rooms: bool,
    rooms: Vec<RoomStatus>,
}

async fn room_status(state: &AppState, rooms: Vec<RoomName>) -> Result<Vec<RoomStatus>, Refusal> {
    let (reply, answer) = oneshot::channel();
    state
        .inbox
        .send(Inbox::RoomStatus { rooms, reply })
        .await
        .map_err(|_| Refusal(StatusCode::SERVICE_UNAVAILABLE, "busy"))?;
    answer
        .await
        .map_err(|_| Refusal(StatusCode::SERVICE_UNAVAILABLE, "busy"))
}

async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let member = match signed_in(&state, &headers, true).await {
        Ok(member) => member,
        Err(refused) => return refused.into_response(),
    };
    match room_status(&state, member.rooms).await {
        Ok(rooms) => Json(Overview {
            login: member.login,
            may_create_rooms: member.may_create_rooms,
            rooms,
        })
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// The member's rooms as server-sent events: one `status` event at once and one whenever
/// someone starts or stops waiting or a host comes or goes. Ends with the session.
async fn live(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = signed_in(&state, &headers, true).await {
        return refused.into_response();
    }
    let stream = futures_util::stream::unfold(
        (state, headers, None::<Vec<RoomStatus>>),
        |(state, headers, last)| async move {
            let mut first = last.is_none();
            loop {
                if !first {
                    tokio::time::sleep(LIVE_INTERVAL).await;
                }
                first = false;
                // Rooms and rights are read again: an unassigned room drops out at once.
                let member = signed_in(&state, &headers, false).await.ok()?;
                let rooms = room_status(&state, member.rooms).await.ok()?;
                if last.as_ref() != Some(&rooms) {
                    let event = Event::default().event("status").json_data(&rooms).ok()?;
                    return Some((Ok::<_, Infallible>(event), (state, headers, Some(rooms))));
                }
            }
        },
    );
    sse(stream)
}

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetingRequest {
    room: String,
    /// The appointment's start, ms since 1970.
    starts_at_ms: i64,
    minutes: u32,
    /// The family's language, suggested by the invitation (`?lang=`).
    #[serde(default)]
    lang: Option<String>,
    /// The counselor will set a password for the meeting (their browser carries it in the host
    /// link; it never comes here): the invitations then knock until it is set.
    #[serde(default)]
    with_password: bool,
}

#[derive(Serialize)]
struct Meeting {
    room: String,
    host_link: String,
    invite_link: String,
    interpreter_link: String,
    invite_qr_svg: String,
    starts_at_ms: i64,
    /// The invitation lets one in from then …
    opens_at_ms: i64,
    /// … until then.
    expires_at_ms: i64,
}

/// The page's origin, for links: the configured public URL, else the browser's own `Origin`
/// (already checked to name this relay).
fn base_url(state: &AppState, headers: &HeaderMap) -> Option<String> {
    state
        .public_origin
        .as_deref()
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(str::to_string)
        })
}

/// The signed-in member asking for a change, from one of this relay's own pages.
async fn changing_member(state: &AppState, headers: &HeaderMap) -> Result<StaffMember, Refusal> {
    origin_checked(state, headers)?;
    signed_in(state, headers, true).await
}

async fn make_meeting(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<MeetingRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let member = match changing_member(&state, &headers).await {
        Ok(member) => member,
        Err(refused) => return refused.into_response(),
    };
    let Ok(Json(request)) = body else {
        return refuse(StatusCode::BAD_REQUEST, "invalid");
    };
    let Ok(room) = RoomName::parse(&request.room) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid");
    };
    if !member.rooms.contains(&room) {
        return refuse(StatusCode::FORBIDDEN, "not_your_room");
    }
    let now_ms = accesslog::now_ms();
    let day_ms = 24 * 3600 * 1000;
    if !(1..=MAX_MINUTES).contains(&request.minutes)
        || request.starts_at_ms < now_ms - day_ms
        || request.starts_at_ms > now_ms + MAX_DAYS_AHEAD * day_ms
    {
        return refuse(StatusCode::BAD_REQUEST, "invalid_time");
    }
    let lang = match request.lang.as_deref() {
        None | Some("" | "de") => None,
        Some(code) if crate::languages::is_offered(code) => Some(code.to_string()),
        Some(_) => return refuse(StatusCode::BAD_REQUEST, "invalid_language"),
    };
    let Some(base) = base_url(&state, &headers) else {
        return refuse(StatusCode::FORBIDDEN, "origin");
    };
    let starts = u64::try_from(request.starts_at_ms / 1000).unwrap_or(0);
    let expires = starts + u64::from(request.minutes) * 60 + GRACE_AFTER_END_SECS;
    let secret = &state.doorkeeper.secret;
    let mut links = Vec::new();
    let invitation = LinkTerms {
        starts: Some(starts),
        needs_password: request.with_password,
    };
    for (role, terms, lang) in [
        (LinkRole::Host, LinkTerms::default(), None),
        (LinkRole::Invited, invitation, lang.as_deref()),
        (LinkRole::Interpreter, invitation, None),
    ] {
        let Ok(id) = token::new_token_id() else {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "busy");
        };
        let token = secret.issue_for(&room, role, expires, id, terms);
        links.push(access::link_url(&base, &room, role, &token, lang));
    }
    let [host_link, invite_link, interpreter_link] =
        <[String; 3]>::try_from(links).unwrap_or_else(|_| unreachable!("three links were made"));
    let Some(invite_qr_svg) = super::qr::svg_of(&invite_link) else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "qr");
    };
    let to_ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    Json(Meeting {
        room: room.to_string(),
        host_link,
        invite_link,
        interpreter_link,
        invite_qr_svg,
        starts_at_ms: request.starts_at_ms,
        opens_at_ms: to_ms(starts.saturating_sub(token::EARLY_ENTRY_SECS)),
        expires_at_ms: to_ms(expires),
    })
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoomRequest {
    room: String,
}

/// A member who may create rooms makes one and runs it.
async fn make_room(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<RoomRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let member = match changing_member(&state, &headers).await {
        Ok(member) => member,
        Err(refused) => return refused.into_response(),
    };
    if !member.may_create_rooms {
        return refuse(StatusCode::FORBIDDEN, "may_not_create_rooms");
    }
    let Some(room) = body
        .ok()
        .and_then(|Json(r)| RoomName::parse(r.room.trim()).ok())
    else {
        return refuse(StatusCode::BAD_REQUEST, "invalid");
    };
    let login = member.login;
    let made = blocking(&state, move |store| {
        // A room someone else already runs is theirs: taken, not shared.
        if staff::run_by_another(&store.connection, &login, &room)? {
            return Ok(false);
        }
        store.add_room(&room, accesslog::now_ms())?;
        staff::assign(&store.connection, &login, &room)?;
        Ok(true)
    })
    .await;
    match made {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => refuse(StatusCode::CONFLICT, "room_taken"),
        Err(refused) => refused.into_response(),
    }
}
