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
