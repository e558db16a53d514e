//! Several `fieldsync` processes on one cache at once, as a CLI, a second app process and a WorkManager job
//! would be: what each delivers is sent once, and a QA rejection wins over an upload a kill cut off.
//! Real processes against the emulator on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use fieldsync_provider::{Endpoint, Fault, FaultKind, ProviderConfig, RunningProvider};
use serde_json::{Value, json};
use support::{command, query, run, spawn};

fn json(db: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run(db, &all, None).stdout).unwrap()
}

struct Setup {
    provider: RunningProvider,
    _dir: tempfile::TempDir,
    db: PathBuf,
}

/// An emulator with `orders` work orders for vendor1, and a cache linked to it with a Full Import done.
fn setup(orders: usize) -> Setup {
    let provider = fieldsync_provider::start(ProviderConfig::default()).unwrap();
    let admin = provider.admin();
    admin.create_user("vendor1", "secret1", "tok-1").unwrap();
    for number in 1..=orders {
        admin
            .create_work_order(
                json!({"workOrderNumber": number.to_string(), "address1": "1 Main St",
                "city": "Columbus", "state": "OH", "zip": "43215", "clientStatus": "Open",
                "gpsLatitude": 39.9612, "gpsLongitude": -82.9988, "assignedTo": "vendor1",
                "services": [{"serviceName": "Grass Cut"}]}),
            )
            .unwrap();
    }
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
    run(&db, &["refresh", "ACME", "--full"], None);
    Setup {
        provider,
        _dir: dir,
        db,
    }
}

#[test]
fn item14_two_sync_processes_at_once_send_every_check_in_exactly_once() {
    let setup = setup(6);
    let db = &setup.db;
    let mut expected = Vec::new();
    for round in 0..10 {
        for number in 1..=6 {
            let outcome = json(
                db,
                &[
                    "checkin",
                    &format!("ACME::{number}"),
                    "--lat",
                    "39.9612",
                    "--lon",
                    "-82.9988",
                    "--accuracy",
                    "5",
                    "--badge",
                    &format!("R{round}"),
                ],
            );
            expected.push(outcome["uuid"].as_str().unwrap().to_owned());
        }
    }
    // Slow round trips widen the window in which the two runs overlap.
    let admin = setup.provider.admin();
    admin
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 15 },
        ))
        .unwrap();
    let runs: Vec<Child> = (0..2).map(|_| spawn(db, &["sync"])).collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    admin.clear_faults();
    // Whatever one run held back behind the other's entries goes now.
    run(db, &["sync"], None);
    let received = admin.received_checkins().unwrap();
    let mut uuids: Vec<String> = received.iter().map(|item| item.uuid.clone()).collect();
    uuids.sort();
    expected.sort();
    assert_eq!(uuids, expected, "every check-in arrived");
    let twice: Vec<_> = received.iter().filter(|item| item.deliveries != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
}

#[test]
fn item16_a_photo_whose_upload_was_cut_off_can_be_rejected_and_is_never_relayed() {
    let setup = setup(1);
    let db = &setup.db;
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/photos/phone/jolla.jpg");
    let added = json(
        db,
        &[
            "photo",
            "add",
            "ACME::1",
            "--task",
            "Grass Cut",
            "--evidence",
            "after",
            "--file",
            photo.to_str().unwrap(),
        ],
    );
    let uuid = added["uuid"].as_str().unwrap().to_owned();
    run(db, &["photo", "approve", &uuid], None);
    // The upload hangs on the wire, and the process is killed there.
    let admin = setup.provider.admin();
    admin
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 30_000 },
        ))
        .unwrap();
    let mut sync = spawn(db, &["sync"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while query(db, "SELECT state FROM photos") != ["uploading"] {
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    sync.kill().unwrap();
    sync.wait().unwrap();
    admin.clear_faults();

    // QA rejects it now; before, a photo left `uploading` could not be rejected and was relayed anyway.
    let rejected = json(db, &["photo", "reject", &uuid, "--reason", "wrong house"]);
    assert_eq!(rejected["state"], "rejected", "{rejected}");
    run(db, &["sync"], None);
    assert!(
        admin.received_pictures().unwrap().is_empty(),
        "a rejected photo left the phone"
    );
    assert_eq!(query(db, "SELECT state FROM photos"), ["rejected"]);
    // Approving it again is refused: the rejection stands.
    let refused = command(db, &["photo", "approve", &uuid]).output().unwrap();
    assert!(!refused.status.success());
}

#[test]
fn only_a_relayed_photo_is_reported_as_sent() {
    let setup = setup(1);
    let db = &setup.db;
    let photo = support::repository("fixtures/photos/gps/DSCN0010.jpg");
    let added = json(
        db,
        &[
            "photo",
            "add",
            "ACME::1",
            "--task",
            "Grass Cut",
            "--evidence",
            "after",
            "--file",
            photo.to_str().unwrap(),
        ],
    );
    let uuid = added["uuid"].as_str().unwrap().to_owned();
    run(db, &["photo", "approve", &uuid], None);
    let admin = setup.provider.admin();
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Http500).times(1))
        .unwrap();
    // The upload fails: the sync says so and never that it sent the photo.
    let failed = command(db, &["sync"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!stderr.contains("sent photo"), "{stderr}");
    assert_eq!(query(db, "SELECT state FROM photos"), ["queued"]);
    // The retry relays it, and that is reported.
    let sent = run(db, &["sync"], None);
    let stderr = String::from_utf8_lossy(&sent.stderr);
    assert!(stderr.contains(&format!("sent photo {uuid}")), "{stderr}");
}
