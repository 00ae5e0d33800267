//! An optional copy of the access log as JSON lines, for a log shipper: one file per UTC day
//! (`DATA_DIR/access-log/YYYY-MM-DD.jsonl`), the same fields as the database and nothing
//! more. Files older than the retention period are deleted with the database's entries, and
//! an erasure (Art. 17) takes the same lines out of the files. The database stays the record
//! for legal holds: a held entry is kept there, not in these copies.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::records::AuditRecord;
use super::repo::Selection;
use super::DAY_MS;

pub const DIRECTORY: &str = "access-log";

#[derive(Debug, Clone)]
pub struct JsonLines {
    dir: PathBuf,
}

/// `YYYY-MM-DD` of a time in milliseconds since the epoch, UTC.
fn day_of(time_ms: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(time_ms.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn time_of(record: &AuditRecord) -> i64 {
    match record {
        AuditRecord::Access(entry) => entry.time_ms,
        AuditRecord::Event(event) => event.time_ms,
        AuditRecord::Conference(conference) => conference.ended_ms,
    }
}

fn line(record: &AuditRecord) -> String {
    let value = match record {
        AuditRecord::Access(entry) => json!({
            "type": "access",
            "time": super::format_time(entry.time_ms),
            "ip": entry.ip,
            "path": entry.path,
            "status": entry.status,
            "bytes": entry.bytes,
            "os": entry.os,
            "browser": entry.browser,
            "browser_version": entry.browser_version,
        }),
        AuditRecord::Event(event) => json!({
            "type": "event",
            "time": super::format_time(event.time_ms),
            "kind": event.kind.as_str(),
            "room": event.room,
            "ip": event.ip,
            "detail": event.detail,
        }),
        AuditRecord::Conference(conference) => json!({
            "type": "conference",
            "time": super::format_time(conference.ended_ms),
            "duration_ms": conference.duration_ms,
            "peak_participants": conference.peak_participants,
        }),
    };
    value.to_string()
}

impl JsonLines {
    pub fn new(data_dir: &Path) -> std::io::Result<JsonLines> {
        let dir = data_dir.join(DIRECTORY);
        crate::private_files::private_dir(&dir).map_err(std::io::Error::other)?;
        Ok(JsonLines { dir })
    }

    /// Append records to their day's file.
    pub fn append(&self, records: &[AuditRecord]) -> std::io::Result<()> {
        let mut open: Option<(String, std::fs::File)> = None;
        for record in records {
            let day = day_of(time_of(record));
            if open.as_ref().is_none_or(|(d, _)| *d != day) {
                let file = crate::private_files::private_options()
                    .create(true)
                    .append(true)
                    .open(self.dir.join(format!("{day}.jsonl")))?;
                open = Some((day, file));
            }
            if let Some((_, file)) = open.as_mut() {
                writeln!(file, "{}", line(record))?;
            }
        }
        Ok(())
    }

    /// Delete the files of days wholly older than the retention period. Returns how many.
    pub fn purge(&self, now_ms: i64, retention_days: u32) -> std::io::Result<usize> {
        let oldest_kept = day_of(now_ms - i64::from(retention_days) * DAY_MS);
        let mut deleted = 0;
        for (day, path) in self.files()? {
            // Day names sort like dates.
            if day < oldest_kept {
                std::fs::remove_file(path)?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Take the lines of `selection` (an IP in a time window) out of every file. Returns how
    /// many lines went.
    pub fn erase(&self, selection: &Selection) -> std::io::Result<usize> {
        let Some(ip) = selection.ip.as_deref() else {
            return Ok(0);
        };
        let mut erased = 0;
        for (_, path) in self.files()? {
            let text = std::fs::read_to_string(&path)?;
            let mut kept = String::with_capacity(text.len());
            for line in text.lines() {
                if selected(line, ip, selection) {
                    erased += 1;
                } else {
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
            if kept.len() != text.len() {
                let temporary = path.with_extension("jsonl.tmp");
                std::fs::write(&temporary, kept)?;
                std::fs::rename(temporary, &path)?;
            }
        }
        Ok(erased)
    }

    fn files(&self) -> std::io::Result<Vec<(String, PathBuf)>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if let Some(day) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".jsonl"))
            {
                files.push((day.to_string(), path.clone()));
            }
        }
        Ok(files)
    }
}

fn selected(line: &str, ip: &str, selection: &Selection) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return false;
    };
    if value["ip"].as_str() != Some(ip) {
        return false;
    }
    let Some(time) = value["time"]
        .as_str()
        .and_then(|t| super::parse_time(t, false).ok())
    else {
        return false;
    };
    selection.from_ms.is_none_or(|from| time >= from) && selection.to_ms.is_none_or(|to| time <= to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accesslog::records::{AccessEntry, EventKind, EventRecord};

    /// 2026-11-01T00:00:00Z.
    const DAY_0: i64 = 1_793_491_200_000;

    fn access(time_ms: i64, ip: &str) -> AuditRecord {
        AuditRecord::Access(AccessEntry {
            time_ms,
            ip: ip.into(),
            path: "/r/beratung".into(),
            status: 200,
            bytes: 1200,
            os: "Linux".into(),
            browser: "Firefox".into(),
            browser_version: "128.0".into(),
        })
    }

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sprechstunde-jsonl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn lines_go_to_their_day_and_old_days_expire() {
        let data = dir();
        let lines = JsonLines::new(&data).expect("dir");
        lines
            .append(&[
                access(DAY_0 + 1000, "192.0.2.1"),
                access(DAY_0 + 29 * DAY_MS, "192.0.2.2"),
                AuditRecord::Event(EventRecord {
                    time_ms: DAY_0 + 31 * DAY_MS,
                    kind: EventKind::Join,
                    room: Some("beratung".into()),
                    ip: "192.0.2.3".into(),
                    detail: "joined",
                }),
            ])
            .expect("append");
        let first = std::fs::read_to_string(data.join(DIRECTORY).join("2026-11-01.jsonl"))
            .expect("day 0 file");
        let parsed: serde_json::Value = serde_json::from_str(first.trim()).expect("json");
        assert_eq!(parsed["ip"], "192.0.2.1");
        assert_eq!(parsed["path"], "/r/beratung");
        // At day 31 with 30 days' retention: day 0 goes, day 29 stays.
        assert_eq!(lines.purge(DAY_0 + 31 * DAY_MS, 30).expect("purge"), 1);
        let mut left: Vec<String> = lines
            .files()
            .expect("files")
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        left.sort();
        assert_eq!(left, ["2026-11-30", "2026-12-02"]);
        let _ = std::fs::remove_dir_all(&data);
    }

    #[test]
    fn erasure_takes_out_exactly_that_address_in_the_window() {
        let data = dir().with_extension("erase");
        let _ = std::fs::remove_dir_all(&data);
        let lines = JsonLines::new(&data).expect("dir");
        lines
            .append(&[
                access(DAY_0 + 1000, "192.0.2.7"),
                access(DAY_0 + 2000, "192.0.2.8"),
                access(DAY_0 + DAY_MS, "192.0.2.7"),
            ])
            .expect("append");
        let erased = lines
            .erase(&Selection {
                ip: Some("192.0.2.7".into()),
                from_ms: None,
                to_ms: Some(DAY_0 + 5000),
            })
            .expect("erase");
        assert_eq!(erased, 1);
        let day_0 =
            std::fs::read_to_string(data.join(DIRECTORY).join("2026-11-01.jsonl")).expect("file");
        assert!(!day_0.contains("192.0.2.7") && day_0.contains("192.0.2.8"));
        let day_1 =
            std::fs::read_to_string(data.join(DIRECTORY).join("2026-11-02.jsonl")).expect("file");
        assert!(day_1.contains("192.0.2.7"), "outside the window: kept");
        let _ = std::fs::remove_dir_all(&data);
    }
}
