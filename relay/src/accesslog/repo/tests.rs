use super::*;
use crate::accesslog::records::{ConferenceRecord, EventKind, EventRecord};
use crate::store::Store;

/// 2026-11-01T00:00:00Z, the injected "day 0".
const DAY0: i64 = 1_793_491_200_000;

fn store(name: &str) -> Store {
    let dir = std::env::temp_dir().join(format!("sprechstunde-repo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Store::open(&dir).expect("store")
}

fn access(day: i64, ip: &str, browser: &str) -> AuditRecord {
    AuditRecord::Access(AccessEntry {
        time_ms: DAY0 + day * DAY_MS,
        ip: ip.into(),
        path: "/r/beratung".into(),
        status: 200,
        bytes: 1000,
        os: "Linux".into(),
        browser: browser.into(),
        browser_version: "1".into(),
    })
}

fn event(day: i64, ip: &str) -> AuditRecord {
    AuditRecord::Event(EventRecord {
        time_ms: DAY0 + day * DAY_MS,
        kind: EventKind::Join,
        room: Some("beratung".into()),
        ip: ip.into(),
        detail: "joined",
    })
}

fn days_left(store: &Store, ip: &str) -> Vec<i64> {
    let selection = Selection {
        ip: Some(ip.into()),
        ..Default::default()
    };
    let exported = export(&store.connection, &selection).expect("export");
    exported
        .access
        .iter()
        .map(|a| (a.entry.time_ms - DAY0) / DAY_MS)
        .collect()
}

#[test]
fn thirty_days_keep_day_29_and_drop_day_31() {
    let mut store = store("retention");
    insert(
        &mut store.connection,
        &[
            access(0, "203.0.113.1", "Firefox"),
            access(2, "203.0.113.1", "Firefox"),
        ],
    )
    .expect("insert");
    // "Today" is day 31 for the first entry and day 29 for the second.
    let now = DAY0 + 31 * DAY_MS;
    purge_expired(&store.connection, now, 30).expect("purge");
    assert_eq!(days_left(&store, "203.0.113.1"), vec![2]);
    // Running again deletes nothing more (idempotent).
    assert_eq!(purge_expired(&store.connection, now, 30).expect("purge"), 0);
}

#[test]
fn a_held_entry_outlives_retention_until_released() {
    let mut store = store("hold");
    insert(
        &mut store.connection,
        &[
            access(0, "203.0.113.9", "Firefox"),
            access(0, "198.51.100.2", "Chrome"),
            event(0, "203.0.113.9"),
        ],
    )
    .expect("insert");
    let hold = add_hold(
        &store.connection,
        &Selection {
            ip: Some("203.0.113.9".into()),
            ..Default::default()
        },
        "incident 2026-17",
        DAY0 + DAY_MS,
    )
    .expect("hold");
    let day40 = DAY0 + 40 * DAY_MS;
    purge_expired(&store.connection, day40, 30).expect("purge");
    assert_eq!(
        days_left(&store, "203.0.113.9"),
        vec![0],
        "held entry stays at day 40"
    );
    assert!(
        days_left(&store, "198.51.100.2").is_empty(),
        "the unheld one is gone"
    );
    assert!(release_hold(&store.connection, hold, day40).expect("release"));
    assert!(!release_hold(&store.connection, hold, day40).expect("second release is a no-op"));
    purge_expired(&store.connection, day40, 30).expect("purge");
    assert!(
        days_left(&store, "203.0.113.9").is_empty(),
        "after release the normal rule applies"
    );
    let holds = holds(&store.connection).expect("holds");
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].released_ms, Some(day40));
}

#[test]
fn a_relay_down_for_a_week_catches_up_at_start() {
    let mut store = store("catchup");
    let entries: Vec<AuditRecord> = (0..20)
        .map(|day| access(day, "203.0.113.5", "Firefox"))
        .collect();
    insert(&mut store.connection, &entries).expect("insert");
    // Last purge ran on day 30; the relay comes back on day 44.
    purge_expired(&store.connection, DAY0 + 30 * DAY_MS, 30).expect("purge");
    purge_expired(&store.connection, DAY0 + 44 * DAY_MS, 30).expect("catch up");
    assert_eq!(
        days_left(&store, "203.0.113.5"),
        vec![14, 15, 16, 17, 18, 19]
    );
}

#[test]
fn export_is_exactly_that_address_and_erase_spares_holds() {
    let mut store = store("subject");
    insert(
        &mut store.connection,
        &[
            access(1, "203.0.113.1", "Firefox"),
            access(2, "203.0.113.1", "Firefox"),
            access(3, "203.0.113.1", "Firefox"),
            event(2, "203.0.113.1"),
            access(2, "203.0.113.10", "Chrome"),
        ],
    )
    .expect("insert");
    let subject = Selection {
        ip: Some("203.0.113.1".into()),
        ..Default::default()
    };
    let exported = export(&store.connection, &subject).expect("export");
    assert_eq!(exported.access.len(), 3);
    assert_eq!(exported.events.len(), 1);
    assert!(
        exported.access.iter().all(|a| a.entry.ip == "203.0.113.1"),
        "203.0.113.10 must not match"
    );

    let window = Selection {
        from_ms: Some(DAY0 + 2 * DAY_MS),
        to_ms: Some(DAY0 + 2 * DAY_MS),
        ..subject.clone()
    };
    add_hold(&store.connection, &window, "evidence", DAY0).expect("hold");
    let erased = erase(&store.connection, &subject).expect("erase");
    assert_eq!(
        erased,
        Erased {
            deleted: 2,
            kept_on_hold: 2
        }
    );
    let left = export(&store.connection, &subject).expect("export");
    assert!(left.access.iter().all(|a| a.held) && left.access.len() == 1);
    assert_eq!(
        days_left(&store, "203.0.113.10"),
        vec![2],
        "others untouched"
    );
}

#[test]
fn statistics_leave_out_restricted_entries_and_hide_small_counts() {
    let mut store = store("stats");
    let mut records: Vec<AuditRecord> = (0..6)
        .map(|i| access(0, &format!("203.0.113.{i}"), "Firefox"))
        .collect();
    records.push(access(0, "198.51.100.1", "Safari"));
    records.push(access(0, "198.51.100.99", "Chrome"));
    records.push(AuditRecord::Conference(ConferenceRecord {
        ended_ms: DAY0 + 3_600_000,
        duration_ms: 45 * 60_000,
        peak_participants: 3,
    }));
    insert(&mut store.connection, &records).expect("insert");
    set_restricted(
        &store.connection,
        &Selection {
            ip: Some("198.51.100.99".into()),
            ..Default::default()
        },
        true,
    )
    .expect("restrict");
    let stats = statistics(&store.connection, DAY0, DAY0 + DAY_MS).expect("stats");
    assert_eq!(stats.len(), 1);
    let day = &stats[0];
    assert_eq!(day.day, "2026-11-01");
    assert_eq!(day.conferences, Count::Few("<5"));
    assert_eq!(day.total_minutes, 45);
    assert_eq!(day.peak_participants, 3);
    assert_eq!(
        day.requests,
        Count::Exact(7),
        "the restricted request is not counted"
    );
    assert_eq!(day.browsers.get("Firefox"), Some(&Count::Exact(6)));
    assert_eq!(day.browsers.get("Safari"), Some(&Count::Few("<5")));
    assert_eq!(
        day.browsers.get("Chrome"),
        None,
        "restricted entries are left out"
    );
    let json = serde_json::to_string(&stats).expect("json");
    for forbidden in ["203.0.113", "198.51.100", "Mozilla", "beratung"] {
        assert!(
            !json.contains(forbidden),
            "statistics contain {forbidden}: {json}"
        );
    }
    // Restricted entries are kept, also beyond retention, until the restriction is lifted.
    purge_expired(&store.connection, DAY0 + 40 * DAY_MS, 30).expect("purge");
    assert_eq!(days_left(&store, "198.51.100.99"), vec![0]);
}
