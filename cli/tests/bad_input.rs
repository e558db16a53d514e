//! Bad input at the command line: every mistake is refused with a non-zero exit code and a message on
//! stderr that says what is wrong, and leaves the cached projects exactly as they were.
//!
//! Each test starts from a cache holding the integration `ACME` and a Full Import of
//! `fixtures/responses/sample_full.json`. A failed import legitimately moves the integration's status to
//! `error` with `last_error` (as a failed refresh does), so the "unchanged" comparison covers the projects:
//! the `--json projects` output and the `projects` and `tasks` rows, every column included.

// Helpers outside `#[test]` functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rusqlite::types::Value;

/// The password given to `integration add`.
const PASSWORD: &str = "pw";

fn response_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/responses")
        .join(name)
}

/// A cache in a temporary directory and the `fieldsync` binary to run against it.
struct Cache {
    dir: tempfile::TempDir,
    db: PathBuf,
    /// How long the last refused command took (without the snapshots around it).
    last_refusal: Cell<Duration>,
}

/// What must not change when a command is refused.
#[derive(Debug, PartialEq)]
struct Snapshot {
    projects_json: String,
    project_rows: Vec<Vec<Value>>,
    task_rows: Vec<Vec<Value>>,
    outbox_rows: Vec<Vec<Value>>,
}

impl Cache {
    /// A cache with `ACME` and the projects of `sample_full.json`.
    fn with_sample() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache.db");
        let cache = Self {
            dir,
            db,
            last_refusal: Cell::new(Duration::ZERO),
        };
        cache.ok(
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
            Some(&format!("{PASSWORD}\n")),
        );
        let sample = response_fixture("sample_full.json");
        cache.ok(
            &[
                "--json",
                "import",
                "ACME",
                "--file",
                sample.to_str().unwrap(),
                "--full",
            ],
            None,
        );
        cache
    }

    /// Runs `fieldsync --db DB ARGS` with a clean environment, feeding `stdin` when given.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fieldsync"));
        command
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("FIELDSYNC_DB")
            .env_remove("FIELDSYNC_PASSWORD")
            .env_remove("FIELDSYNC_TOKEN")
            .env_remove("FIELDSYNC_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = command.spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "fieldsync {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        let connection = rusqlite::Connection::open(&self.db).unwrap();
        let mut statement = connection.prepare(sql).unwrap();
        let width = statement.column_count();
        statement
            .query_map([], |row| (0..width).map(|index| row.get(index)).collect())
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            projects_json: self.ok(&["--json", "projects", "--limit", "1000"], None),
            project_rows: self.rows("SELECT * FROM projects ORDER BY id"),
            task_rows: self.rows("SELECT * FROM tasks ORDER BY project_id, position"),
            outbox_rows: self.rows("SELECT * FROM outbox ORDER BY seq"),
        }
    }

    fn integration(&self, code: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["--json", "integration", "show", code], None)).unwrap()
    }

    /// Runs a command that must be refused: non-zero exit, every one of `words` in the message
    /// (case-insensitive), nothing on stdout, and the cached projects unchanged. Returns stderr.
    fn refused(&self, args: &[&str], stdin: Option<&str>, words: &[&str]) -> String {
        let before = self.snapshot();
        assert!(
            before.project_rows.len() >= 3,
            "the sample import left too few projects"
        );
        let started = Instant::now();
        let output = self.run(args, stdin);
        self.last_refusal.set(started.elapsed());
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !output.status.success(),
            "fieldsync {args:?} succeeded; stdout: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(
            output.status.code().is_some_and(|code| code != 0),
            "fieldsync {args:?} did not exit with an error code ({:?}): {stderr}",
            output.status
        );
        assert!(
            stderr.starts_with("error: "),
            "fieldsync {args:?}: stderr is not an error message: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "fieldsync {args:?}: {stderr}");
        for word in words {
            assert!(
                stderr.to_lowercase().contains(&word.to_lowercase()),
                "fieldsync {args:?}: the message does not say `{word}`: {stderr}"
            );
        }
        assert!(
            output.stdout.is_empty(),
            "fieldsync {args:?} printed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert_eq!(
            self.snapshot(),
            before,
            "fieldsync {args:?} changed the cached projects"
        );
        stderr
    }

    /// Writes `bytes` to a file in the cache's directory and returns its path.
    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn secrets(&self) -> Vec<u8> {
        let mut path = self.db.as_os_str().to_owned();
        path.push(".secrets");
        std::fs::read(PathBuf::from(path)).unwrap()
    }
}

/// Imports `file` into ACME; it must be refused with `words`, and the integration then shows the error.
fn assert_import_refused(cache: &Cache, file: &str, words: &[&str]) {
    let stderr = cache.refused(&["import", "ACME", "--file", file, "--full"], None, words);
    let integration = cache.integration("ACME");
    assert_eq!(integration["status"], "error", "{integration}");
    let last_error = integration["last_error"].as_str().unwrap_or_default();
    assert!(
        !last_error.is_empty() && stderr.contains(last_error),
        "last_error `{last_error}` is not the reported error: {stderr}"
    );
}

#[test]
fn import_of_malformed_json_is_refused() {
    let cache = Cache::with_sample();
    let truncated = cache.file(
        "truncated.json",
        br#"{"workOrders":[{"workOrderNumber":"1001","city":"Changed","services":[]},"#,
    );
    assert_import_refused(&cache, &truncated, &["not valid", "ends too early"]);
    let garbage = cache.file("garbage.json", b"{workOrders: nope}");
    assert_import_refused(&cache, &garbage, &["not valid"]);
}

#[test]
fn import_of_json_that_is_not_an_object_is_refused() {
    let cache = Cache::with_sample();
    for (name, body) in [
        ("array.json", "[1,2]"),
        ("string.json", "\"x\""),
        ("number.json", "3"),
    ] {
        let file = cache.file(name, body.as_bytes());
        assert_import_refused(&cache, &file, &["not valid", "expected a JSON object"]);
    }
}

#[test]
fn import_of_an_object_without_work_orders_is_refused() {
    // Not a getWorkOrders response (a proxy's or a maintenance page's JSON, say). Read as "no orders", a
    // Full Import of it would remove every project of the integration.
    let cache = Cache::with_sample();
    for (name, body) in [
        ("maintenance.json", r#"{"message":"Service Unavailable"}"#),
        ("empty-object.json", "{}"),
    ] {
        let file = cache.file(name, body.as_bytes());
        assert_import_refused(&cache, &file, &["not valid", "workOrders"]);
    }
}

#[test]
fn import_of_an_empty_file_is_refused() {
    let cache = Cache::with_sample();
    let file = cache.file("empty.json", b"");
    assert_import_refused(&cache, &file, &["not valid", "empty"]);
}

#[test]
fn import_of_a_200_mb_file_is_refused_by_the_size_limit_at_once() {
    let cache = Cache::with_sample();
    let path = cache.dir.path().join("huge.json");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        out.write_all(br#"{"workOrders":["#).unwrap();
        let padding = vec![b' '; 1 << 20];
        for _ in 0..200 {
            out.write_all(&padding).unwrap();
        }
        out.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 200 * (1 << 20));
    // The message gives the file's own size: it was refused by its size, before reading it.
    assert_import_refused(
        &cache,
        path.to_str().unwrap(),
        &[
            "more than the limit",
            &(128u64 << 20).to_string(),
            &size.to_string(),
        ],
    );
    let elapsed = cache.last_refusal.get();
    assert!(
        elapsed < Duration::from_secs(5),
        "refusing an oversized file took {elapsed:?}: the body was read instead of its size checked"
    );
}

#[test]
fn import_of_invalid_utf8_inside_a_string_is_refused() {
    let cache = Cache::with_sample();
    let mut body = br#"{"workOrders":[{"workOrderNumber":"1001","address1":"412 "#.to_vec();
    body.extend_from_slice(b"\xff\xfe Elm St");
    body.extend_from_slice(br#"","city":"Springfield","state":"IL","zip":"62701","services":[]}]}"#);
    assert!(std::str::from_utf8(&body).is_err());
    let file = cache.file("latin1.json", &body);
    let stderr = cache.refused(&["import", "ACME", "--file", &file], None, &["not valid"]);
    assert!(
        stderr.to_lowercase().contains("utf-8") || stderr.to_lowercase().contains("unicode"),
        "the message does not say what is wrong with the text: {stderr}"
    );
}

#[test]
fn import_for_an_unknown_integration_is_refused() {
    let cache = Cache::with_sample();
    let sample = response_fixture("sample_full.json");
    cache.refused(
        &["import", "NOPE", "--file", sample.to_str().unwrap()],
        None,
        &["no integration", "NOPE"],
    );
    assert_eq!(cache.integration("ACME")["status"], "idle");
}

#[test]
fn import_of_a_missing_file_is_refused() {
    let cache = Cache::with_sample();
    let missing = cache.dir.path().join("no-such-response.json");
    cache.refused(
        &["import", "ACME", "--file", missing.to_str().unwrap()],
        None,
        &["no-such-response.json", "No such file"],
    );
    assert_eq!(cache.integration("ACME")["status"], "idle");
}

#[test]
fn a_missing_file_is_reported_once() {
    let cache = Cache::with_sample();
    let missing = cache.dir.path().join("no-such-response.json");
    let stderr = cache.refused(
        &["import", "ACME", "--file", missing.to_str().unwrap()],
        None,
        &["No such file"],
    );
    assert_eq!(
        stderr.matches("No such file").count(),
        1,
        "the OS error is repeated: {stderr}"
    );
}

/// `integration add` must be refused with `words`, leaving integrations and secrets as they were.
fn assert_add_refused(cache: &Cache, args: &[&str], stdin: Option<&str>, words: &[&str]) {
    let integrations = cache.ok(&["--json", "integration", "list"], None);
    let secrets = cache.secrets();
    let mut full = vec!["integration", "add"];
    full.extend_from_slice(args);
    cache.refused(&full, stdin, words);
    assert_eq!(cache.ok(&["--json", "integration", "list"], None), integrations);
    assert_eq!(
        cache.secrets(),
        secrets,
        "a refused `integration add` changed the secrets"
    );
}

#[test]
fn integration_add_refuses_invalid_codes() {
    let cache = Cache::with_sample();
    let seventeen = "ABCDEFGHIJKLMNOPQ";
    assert_eq!(seventeen.len(), 17);
    for (code, words) in [
        ("BAD CODE", ["invalid code", "only letters, digits"]),
        (seventeen, ["invalid code", "1 to 16 characters"]),
        ("", ["invalid code", "1 to 16 characters"]),
    ] {
        assert_add_refused(
            &cache,
            &[
                code,
                "--url",
                "https://p.example.com/api",
                "--username",
                "u",
                "--password-stdin",
            ],
            Some("pw2\n"),
            &words,
        );
    }
}

#[test]
fn integration_add_refuses_plain_http_off_loopback() {
    let cache = Cache::with_sample();
    assert_add_refused(
        &cache,
        &[
            "B",
            "--url",
            "http://p.example.com/api",
            "--username",
            "u",
            "--password-stdin",
        ],
        Some("pw2\n"),
        &["invalid url", "https"],
    );
}

#[test]
fn integration_add_refuses_other_schemes() {
    let cache = Cache::with_sample();
    assert_add_refused(
        &cache,
        &[
            "B",
            "--url",
            "ftp://p.example.com/api",
            "--username",
            "u",
            "--password-stdin",
        ],
        Some("pw2\n"),
        &["invalid url", "ftp"],
    );
}

#[test]
fn integration_add_refuses_a_duplicate_code() {
    let cache = Cache::with_sample();
    assert_add_refused(
        &cache,
        &[
            "ACME",
            "--url",
            "https://p.example.com/api",
            "--username",
            "other",
            "--password-stdin",
        ],
        Some("another password\n"),
        &["ACME", "exists already"],
    );
}

#[test]
fn integration_add_refuses_no_password() {
    let cache = Cache::with_sample();
    assert_add_refused(
        &cache,
        &["B", "--url", "https://p.example.com/api", "--username", "u"],
        None,
        &["password is required", "--password-stdin"],
    );
    assert_add_refused(
        &cache,
        &[
            "B",
            "--url",
            "https://p.example.com/api",
            "--username",
            "u",
            "--password-stdin",
        ],
        Some("\n"),
        &["empty password"],
    );
}

#[test]
fn project_show_refuses_a_malformed_id() {
    let cache = Cache::with_sample();
    for id in ["ACME-1001", "ACME::", "BAD CODE::1001"] {
        cache.refused(&["project", "show", id], None, &["invalid project id"]);
    }
    cache.refused(&["project", "show", "ACME-1001"], None, &["CODE::NUMBER"]);
}

#[test]
fn project_show_refuses_an_unknown_id() {
    let cache = Cache::with_sample();
    cache.refused(
        &["project", "show", "ACME::9999"],
        None,
        &["no project", "ACME::9999"],
    );
    cache.refused(
        &["project", "show", "NOPE::1001"],
        None,
        &["no integration", "NOPE"],
    );
}

#[test]
fn project_edit_refuses_a_bad_date() {
    let cache = Cache::with_sample();
    for date in ["2026-02-30", "12/01/2026", "tomorrow"] {
        cache.refused(
            &["project", "edit", "ACME::1001", "--due-date", date],
            None,
            &["due_date", date, "YYYY-MM-DD"],
        );
    }
    // With a status change in the same edit: nothing is queued for the provider either (the snapshot
    // includes the outbox).
    cache.refused(
        &[
            "project",
            "edit",
            "ACME::1001",
            "--status",
            "Complete",
            "--due-date",
            "2026-13-01",
        ],
        None,
        &["due_date"],
    );
}
