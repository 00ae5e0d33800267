//! The relay's only persistent state: an embedded SQLite file in the data directory. It holds
//! room names, staff accounts (login, password hash, rooms, last sign-in) and the access log (addresses, times, browser families, kept for the retention
//! period the operator sets; see `accesslog`), and anonymous conference figures. Names,
//! e-mail addresses, chat and media never reach it: conferences live in memory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::Connection;
use sprechstunde_shared::RoomName;

pub const DATABASE_FILE: &str = "sprechstunde.sqlite3";

/// Schema migrations, applied in order; the index is the schema version.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE rooms (
        name TEXT PRIMARY KEY NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;",
    // The access log: exactly the fields of the privacy notice. `restricted`: Art. 18.
    "CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        ip TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        os TEXT NOT NULL,
        browser TEXT NOT NULL,
        browser_version TEXT NOT NULL,
        restricted INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX access_log_time ON access_log (time_ms);
    CREATE INDEX access_log_ip ON access_log (ip, time_ms);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        room TEXT,
        ip TEXT NOT NULL,
        detail TEXT NOT NULL,
        restricted INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX events_time ON events (time_ms);
    CREATE INDEX events_ip ON events (ip, time_ms);
    CREATE TABLE conferences (
        id INTEGER PRIMARY KEY,
        ended_ms INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        peak_participants INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX conferences_time ON conferences (ended_ms);
    CREATE TABLE holds (
        id INTEGER PRIMARY KEY,
        ip TEXT,
        from_ms INTEGER,
        to_ms INTEGER,
        reason TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        released_ms INTEGER
    ) STRICT;",
    // Staff accounts for the desk: the login, the argon2 hash, the rooms, the last sign-in.
    // `credential_version` grows on every password reset, which ends the account's sessions.
    "CREATE TABLE staff (
        login TEXT PRIMARY KEY NOT NULL,
        password_hash TEXT NOT NULL,
        may_create_rooms INTEGER NOT NULL DEFAULT 0,
        credential_version INTEGER NOT NULL DEFAULT 0,
        last_sign_in_ms INTEGER
    ) STRICT;
    CREATE TABLE staff_rooms (
        login TEXT NOT NULL,
        room TEXT NOT NULL,
        PRIMARY KEY (login, room)
    ) STRICT;",
];

pub struct Store {
    pub connection: Connection,
    pub path: PathBuf,
}

impl Store {
    pub fn open(data_dir: &Path) -> anyhow::Result<Store> {
        crate::private_files::private_dir(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        let path = data_dir.join(DATABASE_FILE);
        // Created 0600 before SQLite opens it: SQLite gives its write-ahead log and shared
        // memory files the database file's permissions. Only when it does not exist yet:
        // closing any descriptor of an open database drops every POSIX lock this process's
        // SQLite connections hold on it, and another process would then delete the
        // write-ahead log under them. Existing files are only changed by path (chmod).
        if !path.exists() {
            match crate::private_files::private_options()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot create database {}", path.display()))
                }
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            crate::private_files::restrict(&data_dir.join(format!("{DATABASE_FILE}{suffix}")))?;
        }
        let mut connection = Connection::open(&path)
            .with_context(|| format!("cannot open database {}", path.display()))?;
        // The relay writes while an operator's sub-command reads or erases: wait, don't fail.
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&mut connection).context("database migration failed")?;
        Ok(Store { connection, path })
    }

    /// Adds a room; false if it already existed.
    pub fn add_room(&self, name: &RoomName, now_ms: i64) -> anyhow::Result<bool> {
        let added = self.connection.execute(
            "INSERT OR IGNORE INTO rooms (name, created_at) VALUES (?1, ?2)",
            rusqlite::params![name.as_str(), now_ms],
        )?;
        Ok(added == 1)
    }

    /// Removes a room; false if there was none of that name.
    pub fn remove_room(&self, name: &RoomName) -> anyhow::Result<bool> {
        let removed = self
            .connection
            .execute("DELETE FROM rooms WHERE name = ?1", [name.as_str()])?;
        Ok(removed == 1)
    }

    pub fn room_exists(&self, name: &RoomName) -> anyhow::Result<bool> {
        Ok(self.connection.query_row(
            "SELECT EXISTS (SELECT 1 FROM rooms WHERE name = ?1)",
            [name.as_str()],
            |row| row.get(0),
        )?)
    }

    /// Room names in alphabetical order.
    pub fn rooms(&self) -> anyhow::Result<Vec<String>> {
        let mut statement = self
            .connection
            .prepare("SELECT name FROM rooms ORDER BY name")?;
        let names = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    pub fn room_count(&self) -> anyhow::Result<u64> {
        Ok(self
            .connection
            .query_row("SELECT count(*) FROM rooms", [], |row| row.get(0))?)
    }
}

fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let version: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let transaction = connection.transaction()?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
    }
    transaction.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_twice_migrates_once() {
        let dir = std::env::temp_dir().join(format!("sprechstunde-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).expect("first open");
        assert_eq!(store.room_count().expect("count"), 0);
        drop(store);
        let store = Store::open(&dir).expect("second open");
        let version: usize = store
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len());
        let room = RoomName::parse("beratung-1").expect("room");
        assert!(!store.room_exists(&room).expect("exists"));
        assert!(store.add_room(&room, 1).expect("add"));
        assert!(!store.add_room(&room, 2).expect("add again"));
        assert_eq!(store.rooms().expect("list"), ["beratung-1"]);
        assert!(store.room_exists(&room).expect("exists"));
        assert!(store.remove_room(&room).expect("remove"));
        assert!(!store.remove_room(&room).expect("remove again"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Whatever the umask, nobody but the relay's user reads the log.
    #[test]
    #[cfg(unix)]
    fn the_data_directory_and_database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sprechstunde-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).expect("open");
        store
            .add_room(&RoomName::parse("beratung").expect("room"), 1)
            .expect("a write makes the write-ahead log");
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o777)
                .expect("metadata")
        };
        assert_eq!(mode(&dir), 0o700);
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).expect("listing") {
            let path = entry.expect("entry").path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
            files += 1;
        }
        assert!(files >= 2, "the database and its write-ahead log");
        let lines = crate::accesslog::jsonl::JsonLines::new(&dir).expect("json lines");
        lines
            .append(&[crate::accesslog::AuditRecord::Event(
                crate::accesslog::EventRecord {
                    time_ms: 0,
                    kind: crate::accesslog::EventKind::Join,
                    room: None,
                    ip: "192.0.2.1".into(),
                    detail: "joined",
                },
            )])
            .expect("append");
        let jsonl_dir = dir.join("access-log");
        assert_eq!(mode(&jsonl_dir), 0o700);
        for entry in std::fs::read_dir(&jsonl_dir).expect("listing") {
            assert_eq!(mode(&entry.expect("entry").path()), 0o600);
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
