//! The upload policy and the upload log through the `fieldsync` binary, against the emulator on
//! 127.0.0.1: `upload-policy` is kept in the cache, `sync --network` follows it, `outbox` shows each
//! item's reason (table and JSON), `outbox retry-failed` and `outbox clean`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use fieldsync_provider::{Endpoint, Fault, FaultKind, ProviderConfig, RunningProvider};
use serde_json::json;
use support::{ok, ok_json, output, repository};

struct Field {
    provider: RunningProvider,
    _dir: tempfile::TempDir,
    db: PathBuf,
}

/// The emulator with order 1001 (`Lawn Cut`), imported into a fresh cache whose integration ACME relays
/// photos without QA.
fn field() -> Field {
    let provider = fieldsync_provider::start(ProviderConfig::default()).unwrap();
    let admin = provider.admin();
    admin.create_user("vendor1", "secret1", "tok-1").unwrap();
    admin
        .create_work_order(
            json!({"workOrderNumber": "1001", "address1": "1 Main St", "city": "Springfield",
            "state": "IL", "zip": "62701", "clientStatus": "Open", "assignedTo": "vendor1",
            "gpsLatitude": 39.7817, "gpsLongitude": -89.6501, "services": [{"serviceName": "Lawn Cut"}]}),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let url = provider.base_url();
    support::run(
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
            "--auto-relay",
            "on",
        ],
        Some("secret1\n"),
    );
    support::run(&db, &["refresh", "ACME", "--full"], None);
    Field {
        provider,
        _dir: dir,
        db,
    }
}

/// The reason code of each undelivered item, by kind.
fn reasons(db: &Path, network: &str) -> Vec<(String, String)> {
    ok_json(db, &["outbox", "--network", network])
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["kind"].as_str().unwrap().to_owned(),
                entry["waits_for"]["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_upload_policy_is_kept_and_a_metered_sync_sends_check_ins_but_holds_photos() {
    let field = field();
    let db = &field.db;
    let admin = field.provider.admin();
    assert_eq!(
        ok_json(db, &["upload-policy"]),
        json!({"photos_on_wifi_only": false, "paused": false})
    );
    assert_eq!(
        ok_json(db, &["upload-policy", "--wifi-only", "on"]),
        json!({"photos_on_wifi_only": true, "paused": false})
    );
    let shown = ok(db, &["upload-policy"]);
    assert!(shown.contains("Wi-Fi only: on"), "{shown}");

    let photo = repository("fixtures/photos/before_front.jpg");
    let args = [
        "photo",
        "add",
        "ACME::1001",
        "--task",
        "Lawn Cut",
        "--evidence",
        "before",
        "--file",
        photo.to_str().unwrap(),
    ];
    ok_json(db, &args);
    ok_json(
        db,
        &[
            "checkin",
            "ACME::1001",
            "--lat",
            "39.7817",
            "--lon",
            "-89.6501",
            "--accuracy",
            "8",
        ],
    );
    assert_eq!(
        reasons(db, "metered"),
        [
            ("photo".to_owned(), "waiting_for_wifi".to_owned()),
            ("checkin".to_owned(), "queued".to_owned())
        ]
    );
    assert!(
        reasons(db, "none")
            .iter()
            .all(|(_, reason)| reason == "waiting_for_network")
    );
    let table = ok(db, &["outbox", "--network", "metered"]);
    assert!(
        table.contains("Reason") && table.contains("waiting for Wi-Fi"),
        "{table}"
    );

    // No network: nothing is sent, and the command says so.
    let offline = output(db, &["sync", "--network", "none"]);
    assert!(!offline.status.success());
    assert!(String::from_utf8_lossy(&offline.stdout).contains("no network"));
    assert!(admin.received_checkins().unwrap().is_empty());

    ok(db, &["sync", "--network", "metered"]);
    assert_eq!(admin.received_checkins().unwrap().len(), 1);
    assert!(
        admin.received_pictures().unwrap().is_empty(),
        "the photo waits for Wi-Fi"
    );
    assert_eq!(
        reasons(db, "metered"),
        [("photo".to_owned(), "waiting_for_wifi".to_owned())]
    );

    ok_json(db, &["upload-policy", "--pause", "on"]);
    assert_eq!(
        reasons(db, "unmetered"),
        [("photo".to_owned(), "paused".to_owned())]
    );
    ok(db, &["sync", "--network", "unmetered"]);
    assert!(admin.received_pictures().unwrap().is_empty(), "paused");

    ok_json(db, &["upload-policy", "--pause", "off"]);
    ok(db, &["sync", "--network", "unmetered"]);
    let pictures = admin.received_pictures().unwrap();
    assert_eq!(pictures.len(), 1);
    assert_eq!(pictures[0].deliveries, 1, "sent once");
    assert!(ok_json(db, &["outbox"]).as_array().unwrap().is_empty());

    // Clean-up removes the delivered check-in's row; the photo's stays (QA may publish it again).
    assert_eq!(ok_json(db, &["outbox", "clean"]), json!({"removed": 1}));
    let left = ok_json(db, &["outbox", "list", "--all"]);
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["kind"], "photo");
    assert!(ok(db, &["outbox", "clean"]).contains("removed 0 delivered entries"));
}

#[test]
fn retry_failed_puts_every_failed_item_back_in_the_queue() {
    let field = field();
    let db = &field.db;
    ok_json(
        db,
        &[
            "checkin",
            "ACME::1001",
            "--lat",
            "39.7817",
            "--lon",
            "-89.6501",
            "--accuracy",
            "8",
        ],
    );
    field
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Http500).times(1))
        .unwrap();
    assert!(!output(db, &["sync"]).status.success());
    let log = ok_json(db, &["outbox"]);
    assert_eq!(log[0]["state"], "retry_wait");
    assert_eq!(log[0]["waits_for"]["reason"], "backoff");
    assert!(log[0]["waits_for"]["until"].as_i64().unwrap() > 0);
    assert_eq!(ok_json(db, &["outbox", "retry-failed"]), json!({"retried": 1}));
    assert_eq!(ok_json(db, &["outbox"])[0]["waits_for"]["reason"], "queued");
    assert!(ok(db, &["outbox", "retry-failed"]).contains("0 failed entries"));
}
