//! Which screen a URL path shows.

use sprechstunde_shared::RoomName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Start,
    /// `/datenschutz`: the office's privacy notice.
    Privacy,
    /// `/meine-daten`: what this browser stores, and one button to delete it.
    MyData,
    /// `/desk`: the counselors' desk.
    Desk,
    /// `/r/{room}`: pre-join, then the room.
    Room(RoomName),
    /// `/kiosk/{room}`: the same room on a shared tablet that keeps nothing.
    Kiosk(RoomName),
    /// `/r/{something invalid}`: start page with an explanation.
    InvalidRoom,
    NotFound,
}

pub fn parse(path: &str) -> Route {
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return Route::Start;
    }
    if path == "/datenschutz" {
        return Route::Privacy;
    }
    if path == "/meine-daten" {
        return Route::MyData;
    }
    if path == "/desk" {
        return Route::Desk;
    }
    if path == "/r" {
        return Route::InvalidRoom;
    }
    if let Some(raw) = path.strip_prefix("/kiosk/") {
        return match RoomName::parse(raw) {
            Ok(room) => Route::Kiosk(room),
            Err(_) => Route::InvalidRoom,
        };
    }
    match path.strip_prefix("/r/") {
        Some(raw) => match RoomName::parse(raw) {
            Ok(room) => Route::Room(room),
            Err(_) => Route::InvalidRoom,
        },
        None => Route::NotFound,
    }
}

/// Longest token accepted from a link (the relay refuses longer ones too).
const LINK_TOKEN_MAX: usize = 300;

/// The token of a host link (`#host=...`) or invitation (`#invite=...`). It travels in the
/// fragment, which browsers never send to a server, so it appears in no request log.
pub fn link_token(fragment: &str) -> Option<String> {
    fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|part| {
            part.strip_prefix("host=")
                .or_else(|| part.strip_prefix("invite="))
                .or_else(|| part.strip_prefix("interpret="))
        })
        .filter(|token| !token.is_empty() && token.len() <= LINK_TOKEN_MAX)
        .map(str::to_string)
}

/// What the desk put in a host link for its meeting (`&topic=…&description=…&password=…`).
/// The counselor's browser sets it once it is host; it never reaches the relay otherwise and
/// is kept in this page's memory only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingSetup {
    pub topic: Option<String>,
    pub description: Option<String>,
    pub password: Option<String>,
}

thread_local! {
    static MEETING_SETUP: std::cell::RefCell<Option<MeetingSetup>> =
        const { std::cell::RefCell::new(None) };
}

fn meeting_setup_of(fragment: &str) -> Option<MeetingSetup> {
    let params = web_sys::UrlSearchParams::new_with_str(fragment.trim_start_matches('#')).ok()?;
    let field = |key: &str| params.get(key).filter(|value| !value.trim().is_empty());
    let setup = MeetingSetup {
        topic: field("topic"),
        description: field("description"),
        password: field("password"),
    };
    (setup != MeetingSetup::default()).then_some(setup)
}

/// The meeting setup the host link brought, once.
pub fn take_meeting_setup() -> Option<MeetingSetup> {
    MEETING_SETUP.with(|setup| setup.borrow_mut().take())
}

/// `host_link` with `setup` added to its fragment.
pub fn host_link_with(host_link: &str, setup: &MeetingSetup) -> String {
    let Ok(params) = web_sys::UrlSearchParams::new() else {
        return host_link.to_string();
    };
    for (key, value) in [
        ("topic", &setup.topic),
        ("description", &setup.description),
        ("password", &setup.password),
    ] {
        if let Some(value) = value {
            params.append(key, value);
        }
    }
    let added = String::from(params.to_string());
    if added.is_empty() {
        host_link.to_string()
    } else {
        format!("{host_link}&{added}")
    }
}

/// The link token of this tab for the room at `path`: taken from the address once, then
/// removed from the address bar and the browser's history (nobody looking over a shoulder,
/// or at the history later, sees it) and kept for this tab only, so a reload still has it.
pub fn link_token_from_location() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let path = location.pathname().ok()?;
    let key = format!("sprechstunde.link-token:{path}");
    let storage = window.session_storage().ok().flatten();
    let fragment = location.hash().ok().unwrap_or_default();
    let Some(token) = link_token(&fragment) else {
        return storage?.get_item(&key).ok().flatten();
    };
    if let Some(storage) = &storage {
        let _ = storage.set_item(&key, &token);
    }
    if let Some(setup) = meeting_setup_of(&fragment) {
        MEETING_SETUP.with(|kept| *kept.borrow_mut() = Some(setup));
    }
    let without_token = format!("{path}{}", location.search().unwrap_or_default());
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&without_token));
    }
    Some(token)
}

/// This page's link to open in another browser: with the link token this tab holds, so an
/// invitation still lets the family in there.
pub fn shareable_link() -> Option<String> {
    let location = web_sys::window()?.location();
    let base = format!("{}{}", location.origin().ok()?, location.pathname().ok()?);
    Some(match link_token_from_location() {
        // The relay reads the role from the token itself, whichever name it goes under.
        Some(token) => format!("{base}#invite={token}"),
        None => base,
    })
}

pub fn room_path(room: &RoomName) -> String {
    format!("/r/{}", room.as_str())
}

pub fn kiosk_path(room: &RoomName) -> String {
    format!("/kiosk/{}", room.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_come_from_the_fragment() {
        assert_eq!(link_token("#host=v1.a.b"), Some("v1.a.b".into()));
        assert_eq!(link_token("#invite=v1.c.d"), Some("v1.c.d".into()));
        assert_eq!(link_token("#x=1&host=v1.e.f"), Some("v1.e.f".into()));
        assert_eq!(link_token(""), None);
        assert_eq!(link_token("#host="), None);
        assert_eq!(link_token(&format!("#host={}", "a".repeat(301))), None);
    }

    #[test]
    fn paths_map_to_screens() {
        assert_eq!(parse("/"), Route::Start);
        assert_eq!(parse(""), Route::Start);
        assert_eq!(
            parse("/r/Beratung-1"),
            Route::Room(RoomName::parse("beratung-1").expect("valid"))
        );
        assert_eq!(parse("/r/beratung-1/"), parse("/r/beratung-1"));
        assert_eq!(parse("/r/a%20b"), Route::InvalidRoom);
        assert_eq!(parse("/r/"), Route::InvalidRoom);
        assert_eq!(parse("/admin"), Route::NotFound);
        assert_eq!(parse("/datenschutz"), Route::Privacy);
        assert_eq!(parse("/meine-daten"), Route::MyData);
        assert_eq!(parse("/desk"), Route::Desk);
        assert_eq!(
            parse("/kiosk/Empfang"),
            Route::Kiosk(RoomName::parse("empfang").expect("valid"))
        );
    }
}
