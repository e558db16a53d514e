//! What a killed `fieldsync` leaves behind is cleaned up by the next command: no download temp file, no
//! temporary or orphaned photo file, no integration stuck at `running`, no outbox entry stuck in flight.
//! Real processes, SIGKILLed mid-way, against the emulator on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use fieldsync_provider::{Endpoint, Fault, FaultKind, ProviderConfig};
use serde_json::{Value, json};
use support::{query, repository, run, spawn};

/// Waits (bounded) until `ready` holds, then kills the child with SIGKILL.
fn kill_when(mut child: Child, what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never happened");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

fn files_named(directory: &Path, matches: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(directory) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_named(&path, matches));
        } else if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(matches)
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_next_command_cleans_up_after_killed_imports_photo_adds_and_syncs() {
    let provider = fieldsync_provider::start(ProviderConfig::default()).unwrap();
    let admin = provider.admin();
    admin.create_user("vendor1", "secret1", "tok-1").unwrap();
    for number in 0..200 {
        admin
            .create_work_order(
                json!({"workOrderNumber": format!("WO-{number}"), "address1": "1 Main St",
                "city": "Columbus", "state": "OH", "zip": "43215", "clientStatus": "Open",
                "assignedTo": "vendor1", "services": [{"serviceName": "Grass Cut"}]}),
            )
            .unwrap();
    }
    // The project the field work is for (the cache gets it from a saved response below).
    admin
        .create_work_order(
            json!({"workOrderNumber": "1001", "address1": "1 Main St", "city": "Springfield",
            "state": "IL", "zip": "62701", "clientStatus": "Open", "assignedTo": "vendor1",
            "services": [{"serviceName": "Lawn Cut"}]}),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let url = provider.base_url();
    run(
        &db,
        &[
            "integration",
            "add",
            "ACME",
            "--url",
            url.as_str(),
            "--username",
            "vendor1",
            "--token",
            "tok-1",
            "--password-stdin",
        ],
        Some("secret1\n"),
    );
    let sample = repository("fixtures/responses/sample_full.json");
    run(
        &db,
        &["import", "ACME", "--file", sample.to_str().unwrap(), "--full"],
        None,
    );

    // A sync killed while a check-in is on the wire: its entry stays in flight under a dead run.
    run(
        &db,
        &[
            "checkin",
            "ACME::1001",
            "--lat",
            "39.7819",
            "--lon",
            "-89.6501",
            "--accuracy",
            "8",
        ],
        None,
    );
    admin
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 30_000 },
        ))
        .unwrap();
    kill_when(spawn(&db, &["sync"]), "a check-in in flight", || {
        query(&db, "SELECT state FROM outbox")
            .iter()
            .any(|state| state == "in_flight")
    });
    admin.clear_faults();

    // A Full Import killed mid-download: a download temp file and an integration at `running`.
    admin
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::trickle(64, 50)))
        .unwrap();
    let downloads = |dir: &Path| files_named(dir, &|name| name.starts_with(".fieldsync-download-"));
    kill_when(
        spawn(&db, &["refresh", "ACME", "--full"]),
        "a download under way",
        || !downloads(dir.path()).is_empty(),
    );
    admin.clear_faults();
    assert_eq!(query(&db, "SELECT status FROM integrations"), ["running"]);

    // Photo adds killed at different points of ingest and processing.
    let photo = repository("fixtures/photos/phone/HMD_Nokia_8.3_5G.jpg");
    let photos = PathBuf::from(format!("{}-photos", db.display()));
    for delay_ms in [5, 40, 120, 300] {
        let mut child = spawn(
            &db,
            &[
                "photo",
                "add",
                "ACME::1001",
                "--task",
                "Lawn Cut",
                "--evidence",
                "before",
                "--file",
                photo.to_str().unwrap(),
            ],
        );
        std::thread::sleep(Duration::from_millis(delay_ms));
        // A late kill may find the add finished: that is one of the points to cover too.
        let _ = child.kill();
        child.wait().unwrap();
    }

    // Any next command recovers.
    let listed: Value =
        serde_json::from_slice(&run(&db, &["--json", "integration", "list"], None).stdout).unwrap();
    assert_ne!(listed[0]["status"], "running", "{listed}");
    assert!(downloads(dir.path()).is_empty(), "{:?}", downloads(dir.path()));
    let temporary = files_named(&photos, &|name| name.ends_with(".partial"));
    assert!(temporary.is_empty(), "{temporary:?}");
    let originals = files_named(&photos.join("originals"), &|_| true).len();
    let rows = query(&db, "SELECT original_sha256 FROM photos").len();
    assert_eq!(originals, rows, "every original file belongs to a photo row");
    for directory in ["renditions", "thumbnails"] {
        assert!(files_named(&photos.join(directory), &|_| true).len() <= rows);
    }
    assert!(
        query(&db, "SELECT state FROM outbox")
            .iter()
            .all(|state| state != "in_flight"),
        "the dead sync's entry is back in the queue"
    );
    // And the work goes out once the network is back: the check-in and every photo, each once.
    run(&db, &["photo", "approve", "--project", "ACME::1001"], None);
    run(&db, &["sync"], None);
    let received = admin.received_pictures().unwrap();
    assert_eq!(received.len(), rows, "each photo once: {received:?}");
    assert!(received.iter().all(|item| item.deliveries == 1), "{received:?}");
    assert_eq!(
        query(&db, "SELECT state FROM outbox WHERE kind = 'checkin'"),
        ["done"],
        "the check-in of the killed sync is delivered"
    );
}
