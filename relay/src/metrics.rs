//! Counters the relay exposes at `/metrics` (Prometheus text format). Only totals: no room
//! names, no participant ids, nothing about a person.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub datagrams_received: AtomicU64,
    pub datagrams_sent: AtomicU64,
    /// Datagrams nobody accepted or that failed to parse.
    pub datagrams_dropped: AtomicU64,
    /// Outgoing datagrams the socket refused (full buffer): media may drop.
    pub datagrams_send_failed: AtomicU64,
    pub media_samples_received: AtomicU64,
    pub media_samples_forwarded: AtomicU64,
    pub media_bytes_forwarded: AtomicU64,
    pub keyframe_requests_sent: AtomicU64,
    pub participants: AtomicU64,
    /// Guests in waiting rooms.
    pub waiting: AtomicU64,
    pub rooms: AtomicU64,
    pub signaling_errors: AtomicU64,
    pub access_log_written: AtomicU64,
    /// Entries lost because the writer could not keep up or the disk failed.
    pub access_log_dropped: AtomicU64,
    /// Request entries left out because one address went over its share per minute.
    pub access_log_left_out: AtomicU64,
    pub csp_violations: AtomicU64,
    /// Chat messages delivered (a count only; the text is never kept beyond the room).
    pub chat_messages: AtomicU64,
}

pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub fn set(gauge: &AtomicU64, n: u64) {
    gauge.store(n, Ordering::Relaxed);
}

impl Metrics {
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &AtomicU64); 17] = [
            (
                "datagrams_received_total",
                "counter",
                &self.datagrams_received,
            ),
            ("datagrams_sent_total", "counter", &self.datagrams_sent),
            (
                "datagrams_dropped_total",
                "counter",
                &self.datagrams_dropped,
            ),
            (
                "datagrams_send_failed_total",
                "counter",
                &self.datagrams_send_failed,
            ),
            (
                "media_samples_received_total",
                "counter",
                &self.media_samples_received,
            ),
            (
                "media_samples_forwarded_total",
                "counter",
                &self.media_samples_forwarded,
            ),
            (
                "media_bytes_forwarded_total",
                "counter",
                &self.media_bytes_forwarded,
            ),
            (
                "keyframe_requests_sent_total",
                "counter",
                &self.keyframe_requests_sent,
            ),
            ("participants", "gauge", &self.participants),
            ("waiting_guests", "gauge", &self.waiting),
            ("rooms", "gauge", &self.rooms),
            ("signaling_errors_total", "counter", &self.signaling_errors),
            (
                "access_log_written_total",
                "counter",
                &self.access_log_written,
            ),
            (
                "access_log_dropped_total",
                "counter",
                &self.access_log_dropped,
            ),
            (
                "access_log_left_out_total",
                "counter",
                &self.access_log_left_out,
            ),
            ("csp_violations_total", "counter", &self.csp_violations),
            ("chat_messages_total", "counter", &self.chat_messages),
        ];
        let mut text = String::new();
        for (name, kind, value) in rows {
            let _ = writeln!(text, "# TYPE sprechstunde_{name} {kind}");
            let _ = writeln!(
                text,
                "sprechstunde_{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        text
    }
}
