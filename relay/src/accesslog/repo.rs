//! Queries on the access log: writing, retention with legal holds, the data-subject tools
//! (export, erase, restrict) and anonymous statistics. Time is always passed in, so tests
//! run any day they like.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::records::{AccessEntry, AuditRecord};
use super::DAY_MS;

/// Which entries a data-subject request or a hold covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub ip: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// SQL that is true when row `t` of a log table is covered by an active hold.
fn held(table: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM holds h WHERE h.released_ms IS NULL \
         AND (h.ip IS NULL OR h.ip = {table}.ip) \
         AND (h.from_ms IS NULL OR {table}.time_ms >= h.from_ms) \
         AND (h.to_ms IS NULL OR {table}.time_ms <= h.to_ms))"
    )
}

/// SQL that is true when row `t` matches the selection (parameters ?1 ip, ?2 from, ?3 to).
fn selected(table: &str) -> String {
    format!(
        "(?1 IS NULL OR {table}.ip = ?1) AND (?2 IS NULL OR {table}.time_ms >= ?2) \
         AND (?3 IS NULL OR {table}.time_ms <= ?3)"
    )
}

const LOG_TABLES: [&str; 2] = ["access_log", "events"];

pub fn insert(connection: &mut Connection, records: &[AuditRecord]) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    for record in records {
        match record {
            AuditRecord::Access(e) => {
                transaction.execute(
                    "INSERT INTO access_log (time_ms, ip, path, status, bytes, os, browser, browser_version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![e.time_ms, e.ip, e.path, e.status, e.bytes as i64, e.os, e.browser, e.browser_version],
                )?;
            }
            AuditRecord::Event(e) => {
                transaction.execute(
                    "INSERT INTO events (time_ms, kind, room, ip, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![e.time_ms, e.kind.as_str(), e.room, e.ip, e.detail],
                )?;
            }
            AuditRecord::Conference(c) => {
                transaction.execute(
                    "INSERT INTO conferences (ended_ms, duration_ms, peak_participants) VALUES (?1, ?2, ?3)",
                    params![c.ended_ms, c.duration_ms, c.peak_participants],
                )?;
            }
        }
    }
    transaction.commit()
}

/// Delete everything older than the retention period, except held and restricted entries.
/// Idempotent; after downtime the first run catches up. Returns the number deleted.
pub fn purge_expired(
    connection: &Connection,
    now_ms: i64,
    retention_days: u32,
) -> rusqlite::Result<usize> {
    let cutoff = now_ms - i64::from(retention_days) * DAY_MS;
    let mut deleted = 0;
    for table in LOG_TABLES {
        deleted += connection.execute(
            &format!(
                "DELETE FROM {table} WHERE time_ms < ?1 AND restricted = 0 AND NOT {}",
                held(table)
            ),
            params![cutoff],
        )?;
    }
    deleted += connection.execute(
        "DELETE FROM conferences WHERE ended_ms < ?1",
        params![cutoff],
    )?;
    Ok(deleted)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub id: i64,
    pub ip: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub reason: String,
    pub created_ms: i64,
    pub released_ms: Option<i64>,
}

pub fn add_hold(
    connection: &Connection,
    selection: &Selection,
    reason: &str,
    now_ms: i64,
) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO holds (ip, from_ms, to_ms, reason, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            selection.ip,
            selection.from_ms,
            selection.to_ms,
            reason,
            now_ms
        ],
    )?;
    Ok(connection.last_insert_rowid())
}

pub fn release_hold(connection: &Connection, id: i64, now_ms: i64) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE holds SET released_ms = ?2 WHERE id = ?1 AND released_ms IS NULL",
        params![id, now_ms],
    )?;
    Ok(changed == 1)
}

pub fn holds(connection: &Connection) -> rusqlite::Result<Vec<Hold>> {
    let mut statement = connection.prepare(
        "SELECT id, ip, from_ms, to_ms, reason, created_ms, released_ms FROM holds ORDER BY id",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(Hold {
            id: row.get(0)?,
            ip: row.get(1)?,
            from_ms: row.get(2)?,
            to_ms: row.get(3)?,
            reason: row.get(4)?,
            created_ms: row.get(5)?,
            released_ms: row.get(6)?,
        })
    })?;
    rows.collect()
}

/// A logged request as exported: the entry itself plus its restriction and hold state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedAccess {
    #[serde(flatten)]
    pub entry: AccessEntry,
    pub restricted: bool,
    pub held: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedEvent {
    pub time_ms: i64,
    pub kind: String,
    pub room: Option<String>,
    pub ip: String,
    pub detail: String,
    pub restricted: bool,
    pub held: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Export {
    pub access: Vec<ExportedAccess>,
    pub events: Vec<ExportedEvent>,
}

/// Everything held about the selection (Art. 15).
pub fn export(connection: &Connection, selection: &Selection) -> rusqlite::Result<Export> {
    let args = params![selection.ip, selection.from_ms, selection.to_ms];
    let mut statement = connection.prepare(&format!(
        "SELECT time_ms, ip, path, status, bytes, os, browser, browser_version, restricted, {} \
         FROM access_log WHERE {} ORDER BY time_ms, id",
        held("access_log"),
        selected("access_log")
    ))?;
    let access = statement
        .query_map(args, |row| {
            Ok(ExportedAccess {
                entry: AccessEntry {
                    time_ms: row.get(0)?,
                    ip: row.get(1)?,
                    path: row.get(2)?,
                    status: row.get(3)?,
                    bytes: row.get::<_, i64>(4)? as u64,
                    os: row.get(5)?,
                    browser: row.get(6)?,
                    browser_version: row.get(7)?,
                },
                restricted: row.get(8)?,
                held: row.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = connection.prepare(&format!(
        "SELECT time_ms, kind, room, ip, detail, restricted, {} FROM events WHERE {} ORDER BY time_ms, id",
        held("events"),
        selected("events")
    ))?;
    let events = statement
        .query_map(args, |row| {
            Ok(ExportedEvent {
                time_ms: row.get(0)?,
                kind: row.get(1)?,
                room: row.get(2)?,
                ip: row.get(3)?,
                detail: row.get(4)?,
                restricted: row.get(5)?,
                held: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Export { access, events })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Erased {
    pub deleted: usize,
    /// Entries kept because a legal hold covers them.
    pub kept_on_hold: usize,
}

/// Erase the selection (Art. 17), except entries under a legal hold.
pub fn erase(connection: &Connection, selection: &Selection) -> rusqlite::Result<Erased> {
    let args = params![selection.ip, selection.from_ms, selection.to_ms];
    let mut result = Erased::default();
    for table in LOG_TABLES {
        result.kept_on_hold += connection.query_row(
            &format!(
                "SELECT count(*) FROM {table} WHERE {} AND {}",
                selected(table),
                held(table)
            ),
            args,
            |row| row.get::<_, i64>(0),
        )? as usize;
        result.deleted += connection.execute(
            &format!(
                "DELETE FROM {table} WHERE {} AND NOT {}",
                selected(table),
                held(table)
            ),
            args,
        )?;
    }
    Ok(result)
}

/// Restrict (Art. 18) or lift the restriction: restricted entries are kept and left out of
/// statistics. Returns how many entries changed.
pub fn set_restricted(
    connection: &Connection,
    selection: &Selection,
    restricted: bool,
) -> rusqlite::Result<usize> {
    let mut changed = 0;
    for table in LOG_TABLES {
        changed += connection.execute(
            &format!(
                "UPDATE {table} SET restricted = ?4 WHERE {}",
                selected(table)
            ),
            params![selection.ip, selection.from_ms, selection.to_ms, restricted],
        )?;
    }
    Ok(changed)
}

/// A count that hides small numbers, so no row points at a single family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Count {
    Exact(u64),
    Few(&'static str),
}

impl Count {
    pub fn of(n: u64) -> Count {
        if n > 0 && n < 5 {
            Count::Few("<5")
        } else {
            Count::Exact(n)
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::Few(text) => f.write_str(text),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayStatistics {
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub conferences: Count,
    pub total_minutes: i64,
    pub peak_participants: u32,
    pub bytes_served: u64,
    pub requests: Count,
    pub browsers: BTreeMap<String, Count>,
    pub operating_systems: BTreeMap<String, Count>,
}

/// Anonymous statistics per UTC day: no IP, no user agent string, no name, no room;
/// restricted entries left out; counts below 5 shown as "<5".
pub fn statistics(
    connection: &Connection,
    from_ms: i64,
    to_ms: i64,
) -> rusqlite::Result<Vec<DayStatistics>> {
    let mut days: BTreeMap<i64, DayStatistics> = BTreeMap::new();
    let range = params![from_ms, to_ms, DAY_MS];
    let mut statement = connection.prepare(
        "SELECT ended_ms / ?3, count(*), sum(duration_ms), max(peak_participants) FROM conferences \
         WHERE ended_ms >= ?1 AND ended_ms <= ?2 GROUP BY ended_ms / ?3",
    )?;
    let rows = statement.query_map(range, |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, u32>(3)?,
        ))
    })?;
    for row in rows {
        let (day, count, duration_ms, peak) = row?;
        let stats = day_entry(&mut days, day);
        stats.conferences = Count::of(count as u64);
        stats.total_minutes = duration_ms / 60_000;
        stats.peak_participants = peak;
    }
    let mut statement = connection.prepare(
        "SELECT time_ms / ?3, count(*), sum(bytes) FROM access_log \
         WHERE restricted = 0 AND time_ms >= ?1 AND time_ms <= ?2 GROUP BY time_ms / ?3",
    )?;
    let rows = statement.query_map(range, |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (day, requests, bytes) = row?;
        let stats = day_entry(&mut days, day);
        stats.requests = Count::of(requests as u64);
        stats.bytes_served = bytes as u64;
    }
    // Families count visitors (distinct addresses a day), not requests; the address itself
    // never leaves this query.
    for (column, browsers) in [("browser", true), ("os", false)] {
        let mut statement = connection.prepare(&format!(
            "SELECT time_ms / ?3, {column}, count(DISTINCT ip) FROM access_log \
             WHERE restricted = 0 AND time_ms >= ?1 AND time_ms <= ?2 GROUP BY time_ms / ?3, {column}"
        ))?;
        let rows = statement.query_map(range, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (day, family, visitors) = row?;
            let stats = day_entry(&mut days, day);
            let target = if browsers {
                &mut stats.browsers
            } else {
                &mut stats.operating_systems
            };
            target.insert(family, Count::of(visitors as u64));
        }
    }
    Ok(days.into_values().collect())
}

fn day_entry(days: &mut BTreeMap<i64, DayStatistics>, day: i64) -> &mut DayStatistics {
    days.entry(day).or_insert_with(|| DayStatistics {
        day: time::OffsetDateTime::from_unix_timestamp(day * DAY_MS / 1000)
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        conferences: Count::Exact(0),
        total_minutes: 0,
        peak_participants: 0,
        bytes_served: 0,
        requests: Count::Exact(0),
        browsers: BTreeMap::new(),
        operating_systems: BTreeMap::new(),
    })
}

pub fn hold_exists(connection: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(connection
        .query_row("SELECT 1 FROM holds WHERE id = ?1", params![id], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests;
