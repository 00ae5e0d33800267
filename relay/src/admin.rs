//! Operator sub-commands on the access log: data-subject requests (Art. 15, 17, 18), legal
//! holds, retention now, and anonymous statistics. They open the database directly; the
//! relay may keep running meanwhile.

use std::io::Write;
use std::net::IpAddr;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};

use crate::accesslog::repo::{self, Selection};
use crate::accesslog::{format_time, now_ms, parse_time};
use crate::config::Config;
use crate::store::Store;

#[derive(Args, Debug)]
pub struct Subject {
    /// The person's IP address, as logged.
    #[arg(long)]
    ip: IpAddr,
    /// From this day (2026-11-01) or time (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Up to and including this day or time.
    #[arg(long)]
    to: Option<String>,
}

impl Subject {
    fn selection(&self) -> Result<Selection> {
        Ok(Selection {
            ip: Some(self.ip.to_string()),
            from_ms: self
                .from
                .as_deref()
                .map(|t| parse_time(t, false))
                .transpose()?,
            to_ms: self
                .to
                .as_deref()
                .map(|t| parse_time(t, true))
                .transpose()?,
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Print every entry about an IP address (right of access, Art. 15).
    Export {
        #[command(flatten)]
        subject: Subject,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Delete every entry about an IP address, except those under a legal hold (Art. 17).
    Erase {
        #[command(flatten)]
        subject: Subject,
    },
    /// Keep the entries but leave them out of statistics (Art. 18); `--lift` undoes it.
    Restrict {
        #[command(flatten)]
        subject: Subject,
        #[arg(long)]
        lift: bool,
    },
    /// Apply retention now (the relay also does it at start and hourly).
    Purge,
}

#[derive(Subcommand, Debug)]
pub enum HoldCommand {
    /// Keep matching entries beyond retention until released; prints the hold id.
    Add {
        #[arg(long)]
        ip: Option<IpAddr>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// Why (an incident reference); required.
        #[arg(long)]
        reason: String,
    },
    List,
    /// Release a hold; its entries then follow normal retention.
    Release {
        id: i64,
    },
}

pub fn log(config: &Config, command: LogCommand, out: &mut impl Write) -> Result<()> {
    let store = Store::open(&config.data_dir)?;
    let db = &store.connection;
    match command {
        LogCommand::Export { subject, format } => {
            let export = repo::export(db, &subject.selection()?)?;
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut *out, &export)?;
                    writeln!(out)?;
                }
                Format::Csv => write_csv(&export, out)?,
            }
        }
        LogCommand::Erase { subject } => {
            let selection = subject.selection()?;
            let erased = repo::erase(db, &selection)?;
            writeln!(out, "erased {} entries", erased.deleted)?;
            let copies = config.data_dir.join(crate::accesslog::jsonl::DIRECTORY);
            if copies.is_dir() {
                let lines =
                    crate::accesslog::jsonl::JsonLines::new(&config.data_dir)?.erase(&selection)?;
                writeln!(out, "erased {lines} lines from the JSON-lines copies")?;
            }
            if erased.kept_on_hold > 0 {
                writeln!(
                    out,
                    "kept {} entries: a legal hold covers them (see `hold list`); erase again after it is released",
                    erased.kept_on_hold
                )?;
            }
        }
        LogCommand::Restrict { subject, lift } => {
            let changed = repo::set_restricted(db, &subject.selection()?, !lift)?;
            let what = if lift {
                "lifted the restriction on"
            } else {
                "restricted"
            };
            writeln!(out, "{what} {changed} entries")?;
        }
        LogCommand::Purge => {
            let purged = repo::purge_expired(db, now_ms(), config.retention_days)?;
            if config
                .data_dir
                .join(crate::accesslog::jsonl::DIRECTORY)
                .is_dir()
            {
                crate::accesslog::jsonl::JsonLines::new(&config.data_dir)?
                    .purge(now_ms(), config.retention_days)?;
            }
            writeln!(
                out,
                "deleted {purged} entries older than {} days",
                config.retention_days
            )?;
        }
    }
    Ok(())
}

pub fn hold(config: &Config, command: HoldCommand, out: &mut impl Write) -> Result<()> {
    let store = Store::open(&config.data_dir)?;
    let db = &store.connection;
    match command {
        HoldCommand::Add {
            ip,
            from,
            to,
            reason,
        } => {
            if ip.is_none() && from.is_none() && to.is_none() {
                bail!("a hold needs --ip, --from or --to: holding the whole log is not allowed");
            }
            if reason.trim().is_empty() {
                bail!("--reason must say why the entries are kept");
            }
            let selection = Selection {
                ip: ip.map(|ip| ip.to_string()),
                from_ms: from.as_deref().map(|t| parse_time(t, false)).transpose()?,
                to_ms: to.as_deref().map(|t| parse_time(t, true)).transpose()?,
            };
            let id = repo::add_hold(db, &selection, reason.trim(), now_ms())?;
            writeln!(out, "{id}")?;
        }
        HoldCommand::List => {
            for hold in repo::holds(db)? {
                let window = |t: Option<i64>| t.map(format_time).unwrap_or_else(|| "-".into());
                writeln!(
                    out,
                    "{}\t{}\tip={}\tfrom={}\tto={}\t{}",
                    hold.id,
                    if hold.released_ms.is_some() {
                        "released"
                    } else {
                        "active"
                    },
                    hold.ip.as_deref().unwrap_or("any"),
                    window(hold.from_ms),
                    window(hold.to_ms),
                    hold.reason
                )?;
            }
        }
        HoldCommand::Release { id } => {
            if !repo::hold_exists(db, id)? {
                bail!("there is no hold {id}");
            }
            if repo::release_hold(db, id, now_ms())? {
                writeln!(out, "released hold {id}")?;
            } else {
                writeln!(out, "hold {id} was already released")?;
            }
        }
    }
    Ok(())
}

pub fn stats(config: &Config, days: u32, json: bool, out: &mut impl Write) -> Result<()> {
    let store = Store::open(&config.data_dir)?;
    let now = now_ms();
    let from = now - i64::from(days) * crate::accesslog::DAY_MS;
    let statistics = repo::statistics(&store.connection, from, now)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &statistics)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "day\tconferences\tminutes\tpeak\tbytes\trequests\tbrowsers\tsystems"
    )?;
    for day in statistics {
        let families = |map: &std::collections::BTreeMap<String, repo::Count>| {
            map.iter()
                .map(|(name, count)| format!("{name}:{count}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            day.day,
            day.conferences,
            day.total_minutes,
            day.peak_participants,
            day.bytes_served,
            day.requests,
            families(&day.browsers),
            families(&day.operating_systems)
        )?;
    }
    Ok(())
}

fn write_csv(export: &repo::Export, out: &mut impl Write) -> Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "record",
        "time",
        "ip",
        "path",
        "status",
        "bytes",
        "os",
        "browser",
        "browser_version",
        "event",
        "room",
        "detail",
        "restricted",
        "held",
    ])?;
    for exported in &export.access {
        let a = &exported.entry;
        writer.write_record([
            "access",
            &format_time(a.time_ms),
            &a.ip,
            &a.path,
            &a.status.to_string(),
            &a.bytes.to_string(),
            &a.os,
            &a.browser,
            &a.browser_version,
            "",
            "",
            "",
            &exported.restricted.to_string(),
            &exported.held.to_string(),
        ])?;
    }
    for e in &export.events {
        writer.write_record([
            "event",
            &format_time(e.time_ms),
            &e.ip,
            "",
            "",
            "",
            "",
            "",
            "",
            &e.kind,
            e.room.as_deref().unwrap_or(""),
            &e.detail,
            &e.restricted.to_string(),
            &e.held.to_string(),
        ])?;
    }
    writer.flush().context("writing CSV")?;
    Ok(())
}
