//! `fieldsync storage` through the real binary: the report matches the files on disk, `--json` too, and
//! `storage clean` never touches a photo waiting for QA, whatever the limits.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{repository, run};

fn ok(db: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let output = run(db, args, stdin);
    assert!(
        output.status.success(),
        "fieldsync {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn folder_bytes(folder: &Path) -> (u64, u64) {
    std::fs::read_dir(folder)
        .unwrap()
        .fold((0, 0), |(count, bytes), entry| {
            (count + 1, bytes + entry.unwrap().metadata().unwrap().len())
        })
}

#[test]
fn the_storage_report_matches_the_disk_and_clean_keeps_photos_waiting_for_qa() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    ok(
        &db,
        &[
            "integration",
            "add",
            "ACME",
            "--url",
            "http://127.0.0.1:9/api",
            "--username",
            "u",
            "--password-stdin",
        ],
        Some("pw\n"),
    );
    let sample = repository("fixtures/responses/sample_full.json");
    ok(
        &db,
        &["import", "ACME", "--file", sample.to_str().unwrap(), "--full"],
        None,
    );
    let photo = repository("fixtures/photos/phone/jolla.jpg");
    ok(
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
        None,
    );

    let report: Value = serde_json::from_str(&ok(&db, &["--json", "storage"], None)).unwrap();
    let photos = dir.path().join("cache.db-photos");
    for folder in ["originals", "renditions", "thumbnails"] {
        let (files, bytes) = folder_bytes(&photos.join(folder));
        assert_eq!(report[folder]["files"], files, "{folder}: {report}");
        assert_eq!(report[folder]["bytes"], bytes, "{folder}: {report}");
    }
    assert_eq!(
        report["database_bytes"],
        std::fs::metadata(&db).unwrap().len(),
        "{report}"
    );
    assert_eq!(
        report["auto_vacuum"], "incremental",
        "a new cache vacuums incrementally"
    );
    let states = report["by_state"].as_array().unwrap();
    assert_eq!(states.len(), 1, "{report}");
    assert_eq!(states[0]["state"], "pending_qa");
    assert_eq!(states[0]["photos"], 1);
    assert_eq!(
        states[0]["originals"]["bytes"],
        std::fs::metadata(&photo).unwrap().len(),
        "the original is the camera's file"
    );

    // The tightest limits delete nothing of a photo QA has not decided.
    let cleaned: Value = serde_json::from_str(&ok(
        &db,
        &[
            "--json",
            "storage",
            "clean",
            "--keep-days",
            "0",
            "--max-bytes",
            "0",
        ],
        None,
    ))
    .unwrap();
    assert_eq!(cleaned["retention"]["originals_deleted"], 0, "{cleaned}");
    assert_eq!(cleaned["retention"]["renditions_deleted"], 0, "{cleaned}");
    assert_eq!(cleaned["retention"]["cap_met"], false, "{cleaned}");
    assert_eq!(cleaned["maintenance"]["optimized"], true, "{cleaned}");
    assert_eq!(cleaned["storage"]["photo_bytes"], report["photo_bytes"]);

    let table = ok(&db, &["storage"], None);
    assert!(table.contains("pending_qa"), "{table}");
    assert!(table.contains("on disk"), "{table}");
}
