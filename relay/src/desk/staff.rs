//! Staff accounts in the SQLite file, and the operator's `staff` sub-commands. Only the login,
//! the argon2 hash, the rooms and the last sign-in time are kept.

use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use rusqlite::{params, Connection, OptionalExtension};
use sprechstunde_shared::RoomName;

use crate::access::PasswordDigest;
use crate::accesslog::format_time;
use crate::config::Config;
use crate::store::Store;

/// Longest login name.
const LOGIN_MAX_CHARS: usize = 64;
/// Generated passwords: 20 characters of an alphabet without look-alikes (about 100 bits).
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXYZ2346789";
const PASSWORD_CHARS: usize = 20;

/// A login name: 1-64 of a-z, 0-9, '.', '-' and '_' (lowercase, so no two look alike).
pub fn parse_login(login: &str) -> Option<String> {
    let login = login.trim().to_ascii_lowercase();
    let valid = !login.is_empty()
        && login.len() <= LOGIN_MAX_CHARS
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    valid.then_some(login)
}

/// What a signed-in request needs to know of its staff member, read afresh each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub login: String,
    pub credential_version: i64,
    pub may_create_rooms: bool,
    pub rooms: Vec<RoomName>,
}

pub fn add(
    connection: &Connection,
    login: &str,
    digest: &PasswordDigest,
    may_create_rooms: bool,
) -> Result<bool> {
    let added = connection.execute(
        "INSERT OR IGNORE INTO staff (login, password_hash, may_create_rooms) VALUES (?1, ?2, ?3)",
        params![login, digest.as_str(), may_create_rooms],
    )?;
    Ok(added == 1)
}

pub fn remove(connection: &Connection, login: &str) -> Result<bool> {
    connection.execute("DELETE FROM staff_rooms WHERE login = ?1", [login])?;
    Ok(connection.execute("DELETE FROM staff WHERE login = ?1", [login])? == 1)
}

/// A new password; the account's sessions end (their credential version is older).
pub fn set_password(connection: &Connection, login: &str, digest: &PasswordDigest) -> Result<bool> {
    let changed = connection.execute(
        "UPDATE staff SET password_hash = ?2, credential_version = credential_version + 1
         WHERE login = ?1",
        params![login, digest.as_str()],
    )?;
    Ok(changed == 1)
}

pub fn assign(connection: &Connection, login: &str, room: &RoomName) -> Result<()> {
    connection.execute(
        "INSERT OR IGNORE INTO staff_rooms (login, room) VALUES (?1, ?2)",
        params![login, room.as_str()],
    )?;
    Ok(())
}

pub fn unassign(connection: &Connection, login: &str, room: &RoomName) -> Result<bool> {
    Ok(connection.execute(
        "DELETE FROM staff_rooms WHERE login = ?1 AND room = ?2",
        params![login, room.as_str()],
    )? == 1)
}

/// Whether a member other than `login` runs `room`.
pub fn run_by_another(connection: &Connection, login: &str, room: &RoomName) -> Result<bool> {
    Ok(connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff_rooms WHERE room = ?1 AND login <> ?2)",
        params![room.as_str(), login],
        |row| row.get(0),
    )?)
}

/// The password hash and credential version, for a sign-in.
pub fn credentials(connection: &Connection, login: &str) -> Result<Option<(PasswordDigest, i64)>> {
    Ok(connection
        .query_row(
            "SELECT password_hash, credential_version FROM staff WHERE login = ?1",
            [login],
            |row| Ok((PasswordDigest::stored(row.get(0)?), row.get(1)?)),
        )
        .optional()?)
}

pub fn signed_in(connection: &Connection, login: &str, time_ms: i64) -> Result<()> {
    connection.execute(
        "UPDATE staff SET last_sign_in_ms = ?2 WHERE login = ?1",
        params![login, time_ms],
    )?;
    Ok(())
}

pub fn member(connection: &Connection, login: &str) -> Result<Option<StaffMember>> {
    let Some((credential_version, may_create_rooms)) = connection
        .query_row(
            "SELECT credential_version, may_create_rooms FROM staff WHERE login = ?1",
            [login],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, bool>(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut statement =
        connection.prepare("SELECT room FROM staff_rooms WHERE login = ?1 ORDER BY room")?;
    let rooms = statement
        .query_map([login], |row| row.get::<_, String>(0))?
        .filter_map(|room| room.ok().and_then(|r| RoomName::parse(&r).ok()))
        .collect();
    Ok(Some(StaffMember {
        login: login.to_string(),
        credential_version,
        may_create_rooms,
        rooms,
    }))
}

fn generate_password() -> Result<String> {
    let mut bytes = [0u8; PASSWORD_CHARS];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    // 256 is not a multiple of the alphabet's length: the slight bias costs under 1 bit.
    Ok(bytes
        .iter()
        .map(|b| char::from(PASSWORD_ALPHABET[usize::from(*b) % PASSWORD_ALPHABET.len()]))
        .collect())
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Add a staff account; prints its generated password once.
    Add {
        login: String,
        /// May make new rooms from the desk.
        #[arg(long)]
        create_rooms: bool,
        /// A room this member runs (repeat for more).
        #[arg(long = "room")]
        rooms: Vec<String>,
    },
    /// List the accounts, their rooms and last sign-in.
    List,
    /// Remove an account; its desk sessions end at once.
    Remove { login: String },
    /// A new generated password (printed once); the account's sessions end.
    ResetPassword { login: String },
    /// Let a member run a room.
    Assign { login: String, room: String },
    /// Take a room from a member.
    Unassign { login: String, room: String },
}

fn login_arg(login: &str) -> Result<String> {
    parse_login(login).context("login names have 1-64 characters: a-z, 0-9, '.', '-' or '_'")
}

fn room_arg(store: &Store, config: &Config, room: &str) -> Result<RoomName> {
    let room = RoomName::parse(room)
        .map_err(|_| anyhow::anyhow!("room names have 1-64 letters, digits, '-' or '_'"))?;
    if !config.access.open_rooms && !store.room_exists(&room)? {
        bail!("there is no room {room}; add it first with `room add {room}`");
    }
    Ok(room)
}

pub fn staff(config: &Config, command: StaffCommand, out: &mut impl Write) -> Result<()> {
    let store = Store::open(&config.data_dir)?;
    let connection = &store.connection;
    let digest_of = |password: &str| {
        PasswordDigest::of(password).map_err(|_| anyhow::anyhow!("could not hash the password"))
    };
    match command {
        StaffCommand::Add {
            login,
            create_rooms,
            rooms,
        } => {
            let login = login_arg(&login)?;
            let rooms = rooms
                .iter()
                .map(|room| room_arg(&store, config, room))
                .collect::<Result<Vec<_>>>()?;
            let password = generate_password()?;
            if !add(connection, &login, &digest_of(&password)?, create_rooms)? {
                bail!("there is already an account {login}");
            }
            for room in &rooms {
                assign(connection, &login, room)?;
            }
            writeln!(
                out,
                "account {login} added; its password (shown only now): {password}"
            )?;
        }
        StaffCommand::List => {
            let mut statement = connection.prepare(
                "SELECT login, may_create_rooms, last_sign_in_ms FROM staff ORDER BY login",
            )?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, bool>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (login, may_create_rooms, last) in rows {
                let rooms = member(connection, &login)?
                    .map(|m| m.rooms.iter().map(|r| r.to_string()).collect::<Vec<_>>())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{login}\trooms: {}\t{}\tlast sign-in: {}",
                    if rooms.is_empty() {
                        "-".to_string()
                    } else {
                        rooms.join(",")
                    },
                    if may_create_rooms {
                        "may create rooms"
                    } else {
                        "assigned rooms only"
                    },
                    last.map(format_time).unwrap_or_else(|| "never".into())
                )?;
            }
        }
        StaffCommand::Remove { login } => {
            let login = login_arg(&login)?;
            if !remove(connection, &login)? {
                bail!("there is no account {login}");
            }
            writeln!(out, "account {login} removed; its sessions have ended")?;
        }
        StaffCommand::ResetPassword { login } => {
            let login = login_arg(&login)?;
            let password = generate_password()?;
            if !set_password(connection, &login, &digest_of(&password)?)? {
                bail!("there is no account {login}");
            }
            writeln!(out, "new password for {login} (shown only now): {password}")?;
        }
        StaffCommand::Assign { login, room } => {
            let login = login_arg(&login)?;
            let room = room_arg(&store, config, &room)?;
            if member(connection, &login)?.is_none() {
                bail!("there is no account {login}");
            }
            assign(connection, &login, &room)?;
            writeln!(out, "{login} runs room {room}")?;
        }
        StaffCommand::Unassign { login, room } => {
            let login = login_arg(&login)?;
            let room = RoomName::parse(&room).map_err(|_| anyhow::anyhow!("not a room name"))?;
            if !unassign(connection, &login, &room)? {
                bail!("{login} does not run room {room}");
            }
            writeln!(out, "{login} no longer runs room {room}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_plain_and_lowercase() {
        assert_eq!(parse_login(" Anna.Schmidt "), Some("anna.schmidt".into()));
        assert_eq!(parse_login(""), None);
        assert_eq!(parse_login("anna schmidt"), None);
        assert_eq!(parse_login("ánna"), None);
        assert_eq!(parse_login(&"a".repeat(65)), None);
    }

    #[test]
    fn generated_passwords_differ_and_use_the_alphabet() {
        let a = generate_password().expect("password");
        let b = generate_password().expect("password");
        assert_ne!(a, b);
        assert_eq!(a.len(), PASSWORD_CHARS);
        assert!(a.bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
    }
}
