//! The access log the privacy notice describes: every HTTP request and WebSocket upgrade with
//! URL path, time, client IP, status, bytes, operating system and browser; sign-ins (joins),
//! leaves and errors as events; anonymous conference figures for statistics. Nothing else:
//! no name, e-mail, topic, password, token or chat text ever reaches it.
//!
//! Entries are written by one thread ([`writer`]) so request handling never waits for the
//! disk; retention, legal holds and the data-subject tools work on the same SQLite file.

pub mod client_ip;
pub mod flood;
pub mod jsonl;
pub mod records;
pub mod repo;
pub mod user_agent;
pub mod writer;

pub use records::{AccessEntry, AuditRecord, ConferenceRecord, EventKind, EventRecord};
pub use writer::AuditSink;

/// Unix time in milliseconds, the unit of every timestamp in the log.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// RFC 3339 in UTC, for exports and listings.
pub fn format_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// An RFC 3339 time, or a `YYYY-MM-DD` day (its start, or its end with `end_of_day`).
pub fn parse_time(text: &str, end_of_day: bool) -> anyhow::Result<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).map_err(|_| {
        anyhow::anyhow!("{text:?} is neither a date (2026-11-27) nor an RFC 3339 time")
    })?;
    let start = date.midnight().assume_utc().unix_timestamp() * 1000;
    Ok(if end_of_day {
        start + DAY_MS - 1
    } else {
        start
    })
}
