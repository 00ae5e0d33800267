//! Operator sub-commands for rooms: add, list and remove them (only their names are stored),
//! and print host links and guest invitations carrying a signed, expiring token.

use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use sprechstunde_shared::RoomName;

use crate::access::{self, token, LinkRole};
use crate::accesslog::now_ms;
use crate::config::Config;
use crate::store::Store;

/// Longest validity of a link: a host link is a key, it should not last for ever.
const MAX_VALID_HOURS: u64 = 24 * 90;

#[derive(Subcommand, Debug)]
pub enum RoomCommand {
    /// Add a room (with `rooms = "configured"` only added rooms can be opened).
    Add { name: String },
    /// List the rooms.
    List,
    /// Remove a room.
    Remove { name: String },
    /// Print a host link: whoever opens it runs the meeting.
    HostLink {
        name: String,
        /// Hours the link stays valid.
        #[arg(long, default_value_t = 12)]
        valid_hours: u64,
    },
    /// Print a guest invitation: whoever opens it comes in without knocking.
    InviteLink {
        name: String,
        /// Hours the link stays valid.
        #[arg(long, default_value_t = 72)]
        valid_hours: u64,
    },
    /// Print an interpreter's invitation: comes in without knocking, marked as interpreter
    /// for everyone.
    InterpreterLink {
        name: String,
        /// Hours the link stays valid.
        #[arg(long, default_value_t = 72)]
        valid_hours: u64,
    },
}

fn room_name(name: &str) -> Result<RoomName> {
    RoomName::parse(name)
        .map_err(|_| anyhow::anyhow!("room names have 1-64 letters, digits, '-' or '_'"))
}

pub fn room(config: &Config, command: RoomCommand, out: &mut impl Write) -> Result<()> {
    let store = Store::open(&config.data_dir)?;
    match command {
        RoomCommand::Add { name } => {
            let name = room_name(&name)?;
            if store.add_room(&name, now_ms())? {
                writeln!(out, "room {name} added")?;
            } else {
                writeln!(out, "room {name} already exists")?;
            }
        }
        RoomCommand::List => {
            for name in store.rooms()? {
                writeln!(out, "{name}")?;
            }
        }
        RoomCommand::Remove { name } => {
            let name = room_name(&name)?;
            if !store.remove_room(&name)? {
                bail!("there is no room {name}");
            }
            writeln!(out, "room {name} removed")?;
        }
        RoomCommand::HostLink { name, valid_hours } => {
            writeln!(
                out,
                "{}",
                link(config, &store, &name, LinkRole::Host, valid_hours)?
            )?;
        }
        RoomCommand::InviteLink { name, valid_hours } => {
            writeln!(
                out,
                "{}",
                link(config, &store, &name, LinkRole::Invited, valid_hours)?
            )?;
        }
        RoomCommand::InterpreterLink { name, valid_hours } => {
            writeln!(
                out,
                "{}",
                link(config, &store, &name, LinkRole::Interpreter, valid_hours)?
            )?;
        }
    }
    Ok(())
}

fn link(
    config: &Config,
    store: &Store,
    name: &str,
    role: LinkRole,
    valid_hours: u64,
) -> Result<String> {
    let name = room_name(name)?;
    if !(1..=MAX_VALID_HOURS).contains(&valid_hours) {
        bail!("--valid-hours must be between 1 and {MAX_VALID_HOURS}");
    }
    if !config.access.open_rooms && !store.room_exists(&name)? {
        bail!("there is no room {name}; add it first with `room add {name}`");
    }
    let secret = access::load_secret(config.token_secret.as_deref(), &config.data_dir)?;
    let expires = u64::try_from(now_ms() / 1000).context("clock before 1970")? + valid_hours * 3600;
    let token = secret.issue(&name, role, expires, token::new_token_id()?);
    Ok(access::link_url(
        &config.public_url,
        &name,
        role,
        &token,
        None,
    ))
}
