//! `fieldsync` as scripts use it: shell completions and man pages, an exit code per kind of failure (each
//! provoked against the emulator on 127.0.0.1), errors as one JSON object on stderr under `--json`, and
//! `sync --json` / `watch --json` streaming NDJSON, read line by line from the running process.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fieldsync_provider::{Endpoint, Fault, FaultHeaders, FaultKind, ProviderConfig, RunningProvider};
use serde_json::{Value, json};
use support::command;

const USAGE: i32 = 2;
const DATA: i32 = 65;
const PROVIDER: i32 = 69;
const STORAGE: i32 = 74;
const TEMPORARY: i32 = 75;
const AUTH: i32 = 77;

fn output(db: &Path, args: &[&str]) -> Output {
    output_with_stdin(db, args, None)
}

fn output_with_stdin(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = command(db, args)
        .env_remove("FIELDSYNC_PASSWORD")
        .env_remove("FIELDSYNC_TOKEN")
        .env_remove("FIELDSYNC_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = output(db, args);
    assert!(
        out.status.success(),
        "fieldsync {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail with `code`; returns stdout and stderr.
fn exits(db: &Path, args: &[&str], code: i32) -> (String, String) {
    exits_with_stdin(db, args, None, code)
}

fn exits_with_stdin(db: &Path, args: &[&str], stdin: Option<&str>, code: i32) -> (String, String) {
    let out = output_with_stdin(db, args, stdin);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "fieldsync {args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// The JSON error object a failed `--json` command wrote on stderr (one line, nothing else).
fn json_error(stderr: &str) -> Value {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr is not one line: {stderr}");
    let value: Value = serde_json::from_str(lines[0]).unwrap();
    value["error"].clone()
}

/// The emulator with order 1001 and a cache linked to it as ACME (password `secret1`, or `password`).
struct Field {
    provider: RunningProvider,
    _dir: tempfile::TempDir,
    db: PathBuf,
}

fn provider() -> RunningProvider {
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
    provider
}

fn link(db: &Path, url: &str, password: &str, extra: &[&str]) {
    let mut args = vec![
        "integration",
        "add",
        "ACME",
        "--url",
        url,
        "--username",
        "vendor1",
        "--token",
        "tok-1",
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    let out = output_with_stdin(db, &args, Some(&format!("{password}\n")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn field(password: &str, extra: &[&str]) -> Field {
    let provider = provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    link(&db, provider.base_url().as_str(), password, extra);
    Field {
        provider,
        _dir: dir,
        db,
    }
}

/// A loopback URL where nothing listens.
fn unused_loopback_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/api/v2")
}

/// The subcommands `fieldsync --help` lists.
fn subcommands(db: &Path) -> Vec<String> {
    let help = ok(db, &["--help"]);
    let section = help.split("Commands:").nth(1).unwrap();
    let section = section.split("Options:").next().unwrap();
    let names: Vec<String> = section
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 15, "{names:?}");
    names
}

#[test]
fn completions_cover_every_subcommand_in_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let names = subcommands(&db);
    let bash = ok(&db, &["completions", "bash"]);
    for name in &names {
        assert!(bash.contains(name.as_str()), "bash completion lacks `{name}`");
    }
    // Nested subcommands and value enums too.
    assert!(bash.contains("retry-failed") && bash.contains("create-local"));
    assert!(bash.contains("before") && bash.contains("in_process") && bash.contains("unmetered"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = ok(&db, &["completions", shell]);
        assert!(
            script.contains("upload-policy") && script.contains("survey-template"),
            "{shell}: {script}"
        );
    }
    exits(&db, &["completions", "tcsh"], USAGE);
    assert!(!db.exists(), "completions opened the cache");
}

#[test]
fn the_man_page_is_roff_naming_every_command_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let page = ok(&db, &["man"]);
    assert!(page.contains(".TH fieldsync 1"), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
    ] {
        assert!(page.contains(section), "no `{section}`");
    }
    for name in subcommands(&db) {
        assert!(
            page.contains(&format!("fieldsync\\-{}(1)", name.replace('-', "\\-"))),
            "the page lacks `{name}`"
        );
    }
    for code in ["65", "69", "70", "74", "75", "77"] {
        assert!(
            page.contains(&format!(".TP\n\\fB{code}\\fR")),
            "no exit code {code}"
        );
    }
    // groff parses it without a warning (where groff is installed).
    if let Ok(mut groff) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        groff.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
        let checked = groff.wait_with_output().unwrap();
        assert!(checked.status.success());
        assert_eq!(String::from_utf8_lossy(&checked.stderr), "", "groff warnings");
    }

    // One page per command into a folder.
    let pages = dir.path().join("man1");
    ok(&db, &["man", "--out", pages.to_str().unwrap()]);
    for file in [
        "fieldsync.1",
        "fieldsync-sync.1",
        "fieldsync-integration.1",
        "fieldsync-integration-add.1",
        "fieldsync-outbox-retry-failed.1",
    ] {
        let text = std::fs::read_to_string(pages.join(file)).unwrap();
        assert!(text.contains(".TH fieldsync"), "{file}: {text}");
    }
    assert_eq!(std::fs::read_to_string(pages.join("fieldsync.1")).unwrap(), page);
    assert!(!db.exists(), "man opened the cache");
}

#[test]
fn enum_arguments_list_their_values_in_help() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let projects = ok(&db, &["projects", "--help"]);
    for value in [
        "rework",
        "rush",
        "upcoming",
        "assigned",
        "complete",
        "cancelled",
        "in_process",
        "viewed",
    ] {
        assert!(
            projects.contains(value),
            "projects --help lacks `{value}`: {projects}"
        );
    }
    let photo = ok(&db, &["photo", "add", "--help"]);
    assert!(photo.contains("[possible values: before, during, after]") || photo.contains("- during"));
    let add = ok(&db, &["integration", "add", "--help"]);
    assert!(add.contains("internal") && add.contains("external"), "{add}");
    assert!(ok(&db, &["sync", "--help"]).contains("metered"));
    // A wrong value is a usage error naming the choices; case does not matter.
    let (_, stderr) = exits(&db, &["projects", "--category", "someday"], USAGE);
    assert!(
        stderr.contains("someday") && stderr.contains("rework"),
        "{stderr}"
    );
    ok(
        &db,
        &["projects", "--category", "RUSH", "--field-status", "in-process"],
    );
}

#[test]
fn usage_errors_exit_2_and_are_json_under_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let (_, stderr) = exits(&db, &["projects", "--bogus"], USAGE);
    assert!(stderr.starts_with("error: "), "{stderr}");
    let (stdout, stderr) = exits(&db, &["--json", "projects", "--bogus"], USAGE);
    assert!(stdout.is_empty());
    let error = json_error(&stderr);
    assert_eq!(error["kind"], "usage");
    assert_eq!(error["code"], "unknown_argument");
    assert_eq!(error["exit_code"], USAGE);
    assert!(error["message"].as_str().unwrap().contains("--bogus"), "{error}");
    // Refusals of the CLI's own checks are usage errors too.
    exits(&db, &["outbox", "discard", "some-uuid"], USAGE);
    let (_, stderr) = exits(&db, &["--json", "project", "edit", "ACME::1"], USAGE);
    assert_eq!(json_error(&stderr)["code"], "nothing_to_edit");
    // Help and version are not errors.
    ok(&db, &["--json", "--help"]);
    ok(&db, &["--version"]);
}

#[test]
fn data_errors_exit_65_with_the_details_in_json() {
    let field = field("secret1", &[]);
    let db = &field.db;
    ok(db, &["refresh", "ACME", "--full"]);
    let (stdout, stderr) = exits(db, &["project", "show", "ACME::9999"], DATA);
    assert!(
        stdout.is_empty() && stderr.starts_with("error: no project ACME::9999"),
        "{stderr}"
    );
    let (stdout, stderr) = exits(db, &["--json", "project", "show", "ACME::9999"], DATA);
    assert!(stdout.is_empty(), "{stdout}");
    let error = json_error(&stderr);
    assert_eq!(error["kind"], "data");
    assert_eq!(error["code"], "unknown_project");
    assert_eq!(error["project"], "ACME::9999");
    assert_eq!(error["exit_code"], DATA);
    // Unknown integration, malformed id, duplicate (a conflict), requirements unmet.
    let (_, stderr) = exits(db, &["--json", "refresh", "NOPE"], DATA);
    assert_eq!(json_error(&stderr)["code"], "unknown_integration");
    exits(db, &["project", "show", "not-an-id"], DATA);
    let (_, stderr) = exits_with_stdin(
        db,
        &[
            "--json",
            "integration",
            "add",
            "ACME",
            "--url",
            "https://p.example.com/api",
            "--username",
            "u",
            "--password-stdin",
        ],
        Some("pw\n"),
        DATA,
    );
    assert_eq!(json_error(&stderr)["code"], "duplicate_integration");
    // Completing twice is a conflict.
    ok(db, &["--json", "project", "complete", "ACME::1001"]);
    let (stdout, stderr) = exits(db, &["--json", "project", "complete", "ACME::1001"], DATA);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(json_error(&stderr)["code"], "already_completed");
    // An import file that is not a response is the user's data, not the provider's failure.
    let file = field._dir.path().join("bad.json");
    std::fs::write(&file, "[1, 2]").unwrap();
    let (_, stderr) = exits(
        db,
        &["--json", "import", "ACME", "--file", file.to_str().unwrap()],
        DATA,
    );
    assert_eq!(json_error(&stderr)["code"], "invalid_response");
}

#[test]
fn a_wrong_password_exits_77() {
    let field = field("not-the-password", &[]);
    let db = &field.db;
    let (_, stderr) = exits(db, &["refresh", "ACME"], AUTH);
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    let (_, stderr) = exits(db, &["--json", "refresh", "ACME"], AUTH);
    let error = json_error(&stderr);
    assert_eq!(error["kind"], "auth");
    assert!(!stderr.contains("not-the-password"), "{stderr}");
    exits(db, &["integration", "validate", "ACME"], AUTH);
    // sync reports the worst step.
    let (stdout, _) = exits(db, &["--json", "sync"], AUTH);
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["exit_code"], AUTH);
}

#[test]
fn a_provider_that_is_down_exits_75() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    link(&db, &unused_loopback_url(), "secret1", &[]);
    let (_, stderr) = exits(&db, &["--json", "refresh", "ACME"], TEMPORARY);
    let error = json_error(&stderr);
    assert_eq!(error["kind"], "temporary");
    assert_eq!(error["exit_code"], TEMPORARY);
    exits(&db, &["sync"], TEMPORARY);
}

#[test]
fn a_provider_answer_that_retrying_cannot_fix_exits_69() {
    let field = field("secret1", &[]);
    field
        .provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::GetWorkOrders,
            FaultKind::ExactBody {
                status: 400,
                headers: FaultHeaders::default(),
                body: "bad request".into(),
            },
        ))
        .unwrap();
    let (_, stderr) = exits(&field.db, &["--json", "refresh", "ACME"], PROVIDER);
    assert_eq!(json_error(&stderr)["kind"], "provider");
}

#[test]
fn a_cache_from_a_newer_fieldsync_exits_74() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 9999)
        .unwrap();
    let (_, stderr) = exits(&db, &["--json", "projects"], STORAGE);
    let error = json_error(&stderr);
    assert_eq!(error["kind"], "storage");
    assert_eq!(error["code"], "schema_too_new");
}

/// Lines of a child's stdout as they arrive, each within `timeout`.
struct Lines {
    received: mpsc::Receiver<String>,
}

impl Lines {
    fn of(child: &mut std::process::Child) -> Self {
        let stdout = child.stdout.take().unwrap();
        let (sender, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Self { received }
    }

    /// The next line as JSON, or None at the end of the output.
    fn next(&self) -> Option<Value> {
        match self.received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => Some(serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"))),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no line within 60 s"),
        }
    }
}

#[test]
fn sync_json_streams_one_line_per_step_then_a_summary() {
    let field = field("secret1", &["--auto-relay", "on"]);
    let db = &field.db;
    ok(db, &["refresh", "ACME", "--full"]);
    ok(
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
    let mut child = command(db, &["--json", "sync", "--max-age", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(&mut child);
    let mut seen = Vec::new();
    while let Some(line) = lines.next() {
        seen.push(line);
    }
    assert!(child.wait().unwrap().success());
    let types: Vec<&str> = seen.iter().map(|line| line["type"].as_str().unwrap()).collect();
    let delivery = seen.iter().find(|line| line["type"] == "delivery").unwrap();
    assert_eq!(delivery["code"], "ACME");
    assert_eq!(delivery["ok"], true);
    assert_eq!(delivery["delivery"]["delivered"], 1, "{delivery}");
    let refresh = seen.iter().find(|line| line["type"] == "refresh").unwrap();
    assert_eq!(refresh["ok"], true);
    assert!(refresh["report"].is_object(), "{refresh}");
    assert!(
        types.iter().position(|t| *t == "delivery") < types.iter().position(|t| *t == "refresh"),
        "{types:?}"
    );
    let summary = seen.last().unwrap();
    assert_eq!(
        summary,
        &json!({"type": "summary", "ok": true, "deliveries": 1, "refreshes": 1, "failed": 0, "exit_code": 0})
    );
    assert_eq!(types.iter().filter(|t| **t == "summary").count(), 1);
}

#[test]
fn sync_json_reports_each_failed_step_as_a_line_and_exits_with_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    link(&db, &unused_loopback_url(), "secret1", &[]);
    let out = output(&db, &["--json", "sync"]);
    assert_eq!(out.status.code(), Some(TEMPORARY));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let refresh = lines.iter().find(|line| line["type"] == "refresh").unwrap();
    assert_eq!(refresh["ok"], false);
    assert_eq!(refresh["error"]["kind"], "temporary");
    assert_eq!(lines.last().unwrap()["exit_code"], TEMPORARY);
    let error = json_error(&String::from_utf8(out.stderr).unwrap());
    assert_eq!(error["code"], "sync_failed");
}

#[test]
fn watch_json_streams_refreshes_and_ends_with_a_summary_on_sigterm() {
    let field = field("secret1", &["--auto-import", "on"]);
    let db = &field.db;
    let mut child = command(db, &["--json", "watch", "--interval", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(&mut child);
    let first_refresh = loop {
        let line = lines.next().expect("watch ended early");
        if line["type"] == "refresh" {
            break line;
        }
        assert_eq!(line["type"], "status", "{line}");
    };
    assert_eq!(first_refresh["code"], "ACME");
    assert_eq!(first_refresh["ok"], true);
    assert_eq!(first_refresh["report"]["created"], 1, "{first_refresh}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut last = None;
    while let Some(line) = lines.next() {
        last = Some(line);
    }
    let status = child.wait().unwrap();
    let last = last.unwrap();
    assert_eq!(last["type"], "summary", "{last}");
    assert_eq!(last["stopped_by_signal"], true);
    assert!(last["refreshed"].as_u64().unwrap() >= 1);
    assert!(status.success(), "{status:?}");
}
