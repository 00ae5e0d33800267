//! The one thread that writes the access log, and the handle the rest of the relay uses.
//!
//! Drop policy: the queue is bounded; when the disk cannot keep up, new entries are dropped
//! and counted (`access_log_dropped_total`) rather than slowing requests or filling memory.
//! Every entry is small (paths are cut to 256 bytes, the other fields are short), so the
//! queue's 8192 entries hold at most about 5 MB. One address adds at most 600 request
//! entries a minute ([`super::flood`]). Entries are queued boxed: the channel allocates all
//! its slots at start, and 8192 entries in place were 1.2 MB of an idle relay's memory.
//! Write errors are logged at most once a minute, so a broken disk cannot flood the output.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use anyhow::Context;

use super::flood::{loggable_path, FloodGuard, Verdict};
use super::jsonl::JsonLines;
use super::records::{AccessEntry, AuditRecord, EventKind, EventRecord};
use super::repo;
use crate::metrics::{self, Metrics};
use crate::store::Store;

const QUEUE_CAPACITY: usize = 8192;
const BATCH: usize = 512;
/// How often retention runs while the relay is up (it also runs at start).
const PURGE_INTERVAL: Duration = Duration::from_secs(60 * 60);
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct AuditSink {
    sender: SyncSender<Box<AuditRecord>>,
    metrics: Arc<Metrics>,
    flood: Arc<FloodGuard>,
}

impl AuditSink {
    /// A request, unless its address has added its share this minute.
    pub fn record_request(&self, address: IpAddr, mut entry: AccessEntry) {
        entry.path = loggable_path(&entry.path);
        match self.flood.check(Instant::now(), address) {
            Verdict::LeaveOut => metrics::add(&self.metrics.access_log_left_out, 1),
            Verdict::Record => self.record(AuditRecord::Access(entry)),
            Verdict::RecordAfterLeavingOut(_) => {
                self.record(AuditRecord::Event(EventRecord {
                    time_ms: entry.time_ms,
                    kind: EventKind::Error,
                    room: None,
                    ip: entry.ip.clone(),
                    detail: "requests over the per-address log limit were left out",
                }));
                self.record(AuditRecord::Access(entry));
            }
        }
    }

    pub fn record(&self, record: AuditRecord) {
        match self.sender.try_send(Box::new(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                metrics::add(&self.metrics.access_log_dropped, 1)
            }
        }
    }
}

/// Start the writer thread on the database in `data_dir` (and, with `json_lines`, the daily
/// JSON-lines copies beside it).
pub fn start(
    data_dir: PathBuf,
    retention_days: u32,
    json_lines: bool,
    metrics: Arc<Metrics>,
) -> anyhow::Result<AuditSink> {
    let store = Store::open(&data_dir)?;
    let json_lines = json_lines
        .then(|| JsonLines::new(&data_dir))
        .transpose()
        .context("cannot create the JSON-lines directory")?;
    if let Some(lines) = &json_lines {
        let purged = lines.purge(super::now_ms(), retention_days)?;
        info!(purged, "JSON-lines retention applied at start");
    }
    info!(database = %store.path.display(), rooms = store.room_count()?, "database ready");
    let purged = repo::purge_expired(&store.connection, super::now_ms(), retention_days)?;
    info!(
        purged,
        retention_days, "access log retention applied at start"
    );
    let (sender, receiver) = sync_channel(QUEUE_CAPACITY);
    let thread_metrics = metrics.clone();
    std::thread::Builder::new()
        .name("access-log".into())
        .spawn(move || write_loop(store, json_lines, receiver, retention_days, thread_metrics))?;
    Ok(AuditSink {
        sender,
        metrics,
        flood: Arc::default(),
    })
}

fn write_loop(
    mut store: Store,
    json_lines: Option<JsonLines>,
    receiver: Receiver<Box<AuditRecord>>,
    retention_days: u32,
    metrics: Arc<Metrics>,
) {
    let mut next_purge = Instant::now() + PURGE_INTERVAL;
    let mut last_error_log: Option<Instant> = None;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let timeout = next_purge.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(timeout) {
            Ok(record) => batch.push(*record),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(record) => batch.push(*record),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            if let Some(lines) = &json_lines {
                if let Err(e) = lines.append(&batch) {
                    if last_error_log.is_none_or(|t| t.elapsed() > ERROR_LOG_INTERVAL) {
                        warn!("JSON-lines write failed: {e}");
                        last_error_log = Some(Instant::now());
                    }
                }
            }
            let result = repo::insert(&mut store.connection, &batch);
            match result {
                Ok(()) => metrics::add(&metrics.access_log_written, batch.len() as u64),
                Err(e) => {
                    metrics::add(&metrics.access_log_dropped, batch.len() as u64);
                    if last_error_log.is_none_or(|t| t.elapsed() > ERROR_LOG_INTERVAL) {
                        warn!("access log write failed: {e}");
                        last_error_log = Some(Instant::now());
                    }
                }
            }
            batch.clear();
        }
        if Instant::now() >= next_purge {
            match repo::purge_expired(&store.connection, super::now_ms(), retention_days) {
                Ok(purged) => info!(purged, "access log retention applied"),
                Err(e) => warn!("access log retention failed: {e}"),
            }
            if let Some(lines) = &json_lines {
                if let Err(e) = lines.purge(super::now_ms(), retention_days) {
                    warn!("JSON-lines retention failed: {e}");
                }
            }
            next_purge = Instant::now() + PURGE_INTERVAL;
        }
    }
}
