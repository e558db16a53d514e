//! Running the `fieldsync` binary as a separate process, for the tests that need real processes (kills,
//! several at once), and reading its database behind its back.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// A path in the repository (fixtures).
pub fn repository(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// `fieldsync --db DB ARGS...`, with no cache from the environment.
pub fn command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldsync"));
    command.arg("--db").arg(db).args(args).env_remove("FIELDSYNC_DB");
    command
}

/// Runs it to the end (with `stdin` if given) and asserts it succeeded.
pub fn run(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(db, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "fieldsync {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts it in the background (stderr kept for the caller).
pub fn spawn(db: &Path, args: &[&str]) -> Child {
    command(db, args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The first column of every row `sql` returns, as text.
pub fn query(db: &Path, sql: &str) -> Vec<String> {
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut statement = connection.prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Runs it to the end with no input; its output, whatever the exit.
pub fn output(db: &Path, args: &[&str]) -> Output {
    command(db, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// Runs a command that must succeed; its stdout.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = output(db, args);
    assert!(
        out.status.success(),
        "fieldsync {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `--json` and a command that must succeed: its document.
pub fn ok_json(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    serde_json::from_str(&ok(db, &full)).unwrap()
}

/// Runs a command that must fail: (stdout, stderr).
pub fn fails(db: &Path, args: &[&str]) -> (String, String) {
    let out = output(db, args);
    assert!(
        !out.status.success(),
        "fieldsync {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}
