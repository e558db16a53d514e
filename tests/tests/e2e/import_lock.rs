//! Field work while an import holds the writer: it waits, boundedly, and never fails fast.
//!
//! A Full Import is one write transaction (crash-safe: the cache holds the state before or after). Another
//! process that opens the cache meanwhile must not need the write lock just to open it (it did: the
//! migration step always ran in `BEGIN IMMEDIATE`), and a check-in must wait for the import's commit
//! instead of failing with "database is locked". The second `Store` here is a separate connection, which
//! SQLite locks against exactly as it would another process.

use std::time::{Duration, Instant};

use fieldsync_core::Store;
use fieldsync_core::checkin::LocationFix;
use fieldsync_core::model::{ImportKind, IntegrationStatus, NewIntegration, ProjectId};
use fieldsync_core::store::{CheckInRequest, ImportOptions};
use fieldsync_tests::write_response_file;

/// Orders in the long import (a few seconds in a debug build, well under a second in release).
const ORDERS: u64 = 15_000;
/// How long the check-in may take beyond the import's own write phase.
const SLACK: Duration = Duration::from_secs(2);

#[test]
fn field_work_waits_for_the_writer_with_a_bounded_timeout_never_failing_fast_while_an_import_holds_the_lock()
{
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("cache.db");
    let small = dir.path().join("small.json");
    let large = dir.path().join("large.json");
    write_response_file(&small, 0..10, 0..0).unwrap();
    write_response_file(&large, 0..ORDERS, 0..0).unwrap();
    {
        let store = Store::open(&database).unwrap();
        store
            .create_integration(NewIntegration::new("BENCH", "http://127.0.0.1:9/api", "vendor"))
            .unwrap();
        store
            .import_file("BENCH", &small, &ImportOptions::new(ImportKind::FullImport))
            .unwrap();
    }

    let importer = {
        let database = database.clone();
        std::thread::spawn(move || {
            let store = Store::open(&database).unwrap();
            let started = Instant::now();
            let report = store
                .import_file("BENCH", &large, &ImportOptions::new(ImportKind::FullImport))
                .unwrap();
            (report, started.elapsed())
        })
    };

    // The "other process": waits until the import runs, then opens the cache and checks in.
    let observer = Store::open(&database).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while observer.integration("BENCH").unwrap().status != IntegrationStatus::Running {
        assert!(Instant::now() < deadline, "the import never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let field = Store::open(&database).expect("opening needs no write lock while an import runs");
    let opened = started.elapsed();
    let now = fieldsync_core::model::now();
    let check_in = field.check_in(&CheckInRequest {
        project: ProjectId::parse("BENCH::WO-0000001").unwrap(),
        fix: LocationFix {
            latitude: 33.001,
            longitude: -84.001,
            accuracy_m: 5.0,
            altitude_m: None,
            fix_time_ms: now * 1000,
            is_mock: false,
        },
        badge: Some("B-1".into()),
        user: None,
        device_time: now,
        device_id: "field".into(),
    });
    let waited = started.elapsed();
    let (report, import_time) = importer.join().unwrap();
    assert_eq!(report.created, ORDERS - 10);
    let check_in = check_in.expect("the check-in waits for the import instead of failing");
    assert_eq!(check_in.state, "queued");
    eprintln!("open {opened:?}, check-in {waited:?} (import {import_time:?})");
    assert!(
        opened < Duration::from_millis(500),
        "opening waited for the writer: {opened:?}"
    );
    assert!(
        waited < import_time + SLACK,
        "the check-in waited {waited:?}, the import took {import_time:?}"
    );
}
