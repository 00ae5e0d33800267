//! What the access log holds, field by field as in the privacy notice.

/// One HTTP request or WebSocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessEntry {
    pub time_ms: i64,
    pub ip: String,
    /// The URL path only: query strings (and any token in them) are never logged.
    pub path: String,
    pub status: u16,
    pub bytes: u64,
    pub os: String,
    pub browser: String,
    pub browser_version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A sign-in to a room ("Anmeldung").
    Join,
    Leave,
    /// A wrong meeting password or an invalid link token.
    SignInFailed,
    Error,
    /// A staff member signed in to the desk (the detail names no one).
    StaffSignIn,
    /// A wrong staff password, or too many attempts.
    StaffSignInFailed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Join => "join",
            EventKind::Leave => "leave",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::Error => "error",
            EventKind::StaffSignIn => "staff_sign_in",
            EventKind::StaffSignInFailed => "staff_sign_in_failed",
        }
    }
}

/// A sign-in, leave or error: room, time and IP, never a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub time_ms: i64,
    pub kind: EventKind,
    pub room: Option<String>,
    pub ip: String,
    /// A fixed description from the relay's code, never user input.
    pub detail: &'static str,
}

/// A finished conference, anonymous by construction: no room, no person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConferenceRecord {
    pub ended_ms: i64,
    pub duration_ms: i64,
    pub peak_participants: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditRecord {
    Access(AccessEntry),
    Event(EventRecord),
    Conference(ConferenceRecord),
}
