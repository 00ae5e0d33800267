//! The relay's only persistent state: an embedded SQLite file in the data directory. By
//! design it holds room names and nothing about people; conferences live in memory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::Connection;

pub const DATABASE_FILE: &str = "sprechstunde.sqlite3";

/// Schema migrations, applied in order; the index is the schema version.
const MIGRATIONS: &[&str] = &["CREATE TABLE rooms (
        name TEXT PRIMARY KEY NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;"];

pub struct Store {
    connection: Connection,
    pub path: PathBuf,
}

impl Store {
    pub fn open(data_dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        let path = data_dir.join(DATABASE_FILE);
        let mut connection = Connection::open(&path)
            .with_context(|| format!("cannot open database {}", path.display()))?;
        migrate(&mut connection).context("database migration failed")?;
        Ok(Store { connection, path })
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
        let _ = std::fs::remove_dir_all(&dir);
    }
}
