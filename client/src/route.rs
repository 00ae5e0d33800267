//! Which screen a URL path shows.

use sprechstunde_shared::RoomName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Start,
    /// `/datenschutz`: the office's privacy notice.
    Privacy,
    /// `/meine-daten`: what this browser stores, and one button to delete it.
    MyData,
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
        assert_eq!(
            parse("/kiosk/Empfang"),
            Route::Kiosk(RoomName::parse("empfang").expect("valid"))
        );
    }
}
