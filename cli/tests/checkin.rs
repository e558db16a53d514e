//! `fieldsync checkin` and `fieldsync outbox` as a person or a script uses them: the outcome's JSON, a GPS
//! track replayed through the location source, and bad input refused with nothing written.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(path)
}

struct Cache {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Cache {
    /// A cache with integration ACME and the sample Full Import (ACME::1001 has coordinates).
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cache = Self {
            db: dir.path().join("cache.db"),
            _dir: dir,
        };
        let add = [
            "integration",
            "add",
            "ACME",
            "--url",
            "http://127.0.0.1:9/api",
            "--username",
            "u",
            "--password-stdin",
        ];
        assert!(cache.run(&add, Some("pw\n")).status.success());
        let full = fixture("responses/sample_full.json");
        assert!(
            cache
                .run(
                    &["import", "ACME", "--file", full.to_str().unwrap(), "--full"],
                    None
                )
                .status
                .success()
        );
        cache
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fieldsync"));
        command
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("FIELDSYNC_DB")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all, None);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn outbox_len(&self) -> usize {
        self.json(&["outbox", "list", "--all"]).as_array().unwrap().len()
    }
}

#[test]
fn a_check_in_prints_its_outcome_and_waits_in_the_outbox() {
    let cache = Cache::new();
    let outcome = cache.json(&[
        "checkin",
        "ACME::1001",
        "--lat",
        "39.7819",
        "--lon",
        "-89.6501",
        "--accuracy",
        "8",
        "--badge",
        "BG-7",
    ]);
    for key in ["uuid", "certified", "distance_m", "reasons", "state"] {
        assert!(outcome.get(key).is_some(), "missing {key}: {outcome}");
    }
    assert_eq!(outcome["certified"], true);
    assert_eq!(outcome["state"], "queued");
    assert!(
        (outcome["distance_m"].as_f64().unwrap() - 22.2).abs() < 1.0,
        "{outcome}"
    );
    let outbox = cache.json(&["outbox"]);
    assert_eq!(outbox[0]["id"], outcome["uuid"]);
    assert_eq!(outbox[0]["kind"], "checkin");
    assert_eq!(outbox[0]["payload"]["checkInId"], "BG-7");

    // The badge is remembered; a mocked, inaccurate fix is recorded as not certified with every reason.
    let second = cache.json(&[
        "checkin",
        "ACME::1001",
        "--lat",
        "39.7819",
        "--lon",
        "-89.6501",
        "--accuracy",
        "90",
        "--mock",
    ]);
    assert_eq!(second["certified"], false);
    assert_eq!(second["reasons"].as_array().unwrap().len(), 2, "{second}");
    assert_eq!(cache.json(&["outbox"])[1]["payload"]["checkInId"], "BG-7");
}

#[test]
fn a_gps_track_is_replayed_through_the_location_source() {
    let cache = Cache::new();
    let track = fixture("gps/springfield_arrival.json");
    let outcome = cache.json(&["checkin", "ACME::1001", "--track", track.to_str().unwrap()]);
    // The replay stops at the first fix within 10 m (the third: 9.5 m), about 16 m from the property.
    assert_eq!(outcome["certified"], true, "{outcome}");
    assert!(
        (outcome["distance_m"].as_f64().unwrap() - 15.96).abs() < 0.5,
        "{outcome}"
    );
}

#[test]
fn bad_check_ins_fail_with_a_clear_message_and_write_nothing() {
    let cache = Cache::new();
    cache.run(&["project", "close", "ACME::1002"], None);
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "checkin",
                "ACME::1001",
                "--lat",
                "0",
                "--lon",
                "0",
                "--accuracy",
                "5",
            ],
            "0,0",
        ),
        (
            &[
                "checkin",
                "ACME::1001",
                "--lat",
                "NaN",
                "--lon",
                "-89.65",
                "--accuracy",
                "5",
            ],
            "not a number",
        ),
        (
            &[
                "checkin",
                "ACME::1001",
                "--lat",
                "95",
                "--lon",
                "-89.65",
                "--accuracy",
                "5",
            ],
            "outside -90..90",
        ),
        (
            &[
                "checkin",
                "ACME::1001",
                "--lat",
                "39.78",
                "--lon",
                "-89.65",
                "--accuracy",
                "-2",
            ],
            "negative",
        ),
        (
            &[
                "checkin",
                "ACME::9999",
                "--lat",
                "39.78",
                "--lon",
                "-89.65",
                "--accuracy",
                "5",
            ],
            "no project ACME::9999",
        ),
        (
            &[
                "checkin",
                "ACME::1002",
                "--lat",
                "39.78",
                "--lon",
                "-89.65",
                "--accuracy",
                "5",
            ],
            "closed",
        ),
        (
            &[
                "checkin",
                "ACME::1001",
                "--lat",
                "39.78",
                "--lon",
                "-89.65",
                "--accuracy",
                "5",
                "--fix-time",
                "yesterday",
            ],
            "RFC 3339",
        ),
    ];
    for (args, expected) in cases {
        let output = cache.run(args, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected `{expected}` in {stderr}"
        );
    }
    assert_eq!(cache.outbox_len(), 0, "nothing was written");
}

#[test]
fn outbox_entries_can_be_retried_and_discarded_with_confirmation() {
    let cache = Cache::new();
    let uuid = cache.json(&[
        "checkin",
        "ACME::1001",
        "--lat",
        "39.7819",
        "--lon",
        "-89.6501",
        "--accuracy",
        "8",
    ])["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let sync = cache.run(&["sync"], None);
    assert!(!sync.status.success(), "the provider is unreachable");
    assert_eq!(cache.json(&["outbox"])[0]["state"], "retry_wait");
    assert!(cache.run(&["outbox", "retry", &uuid], None).status.success());
    assert_eq!(cache.json(&["outbox"])[0]["state"], "queued");
    let unconfirmed = cache.run(&["outbox", "discard", &uuid], None);
    assert!(!unconfirmed.status.success());
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    assert!(
        cache
            .run(&["outbox", "discard", &uuid, "--yes"], None)
            .status
            .success()
    );
    assert_eq!(cache.outbox_len(), 0);
    let missing = cache.run(&["outbox", "retry", &uuid], None);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no outbox entry"));
}
