//! Crash test: an import killed with SIGKILL at a random moment leaves the cache in the state before it or
//! the state after it, never in between, and never corrupt.
//!
//! A base database holds state A (a Full Import of [`ORDERS`] generated orders). Response B changes every
//! order that stays, removes a quarter of them and adds as many new ones. The child binary `import_child`
//! applies B to a fresh copy of the base database and is killed after a random delay; the test then checks
//! that `PRAGMA integrity_check` says `ok`, that the projects and tasks are exactly A or exactly B, and that
//! [`Store::open`] accepts the file again.
//!
//! The integration's import status is not part of the compared state: `import_response` commits the move to
//! `running` in its own transaction *before* the import transaction, so a kill during the import leaves
//! state A with the status `running` (which the next import or `recover_interrupted_imports` repairs). The
//! test uses that status only to tell a kill that landed inside the import transaction from one that landed
//! before it, and checks that state B always comes with the status `idle` (the final status commits in the
//! import transaction).

// Helpers outside `#[test]` functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldsync_core::Store;
use fieldsync_core::model::{ImportKind, IntegrationStatus, NewIntegration};
use fieldsync_core::store::ImportOptions;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use rusqlite::types::Value;

/// The integration every project belongs to.
const CODE: &str = "CRASH";
/// Orders in state A: enough that the import transaction takes most of the child's run time (about a
/// second in a debug build), few enough that the kill runs stay well within a minute.
const ORDERS: u64 = 5_000;
/// Kill runs.
const RUNS: usize = 50;
/// Kill delays are drawn from `[0, KILL_WINDOW × uninterrupted duration]`.
const KILL_WINDOW: f64 = 1.2;
/// The signal `Child::kill` sends on Unix.
const SIGKILL: i32 = 9;
/// Columns left out of the state fingerprint: row ids and the integration's row id (replaced by its code),
/// the write time, and the import's skip fingerprint (not part of what a person sees).
const VOLATILE_PROJECT_COLUMNS: &[&str] = &[
    "id",
    "integration_id",
    "fingerprint",
    "updated_at",
    "first_seen_at",
];

/// What the projects and tasks of a database hold, independent of row ids and write times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StateFingerprint {
    projects: u64,
    tasks: u64,
    digest: u64,
}

fn hash_value(value: &Value, hasher: &mut DefaultHasher) {
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Integer(number) => {
            1u8.hash(hasher);
            number.hash(hasher);
        }
        Value::Real(number) => {
            2u8.hash(hasher);
            number.to_bits().hash(hasher);
        }
        Value::Text(text) => {
            3u8.hash(hasher);
            text.hash(hasher);
        }
        Value::Blob(bytes) => {
            4u8.hash(hasher);
            bytes.hash(hasher);
        }
    }
}

/// Hashes every row of `sql` in order; returns the row count.
fn hash_rows(connection: &Connection, sql: &str, hasher: &mut DefaultHasher) -> u64 {
    let mut statement = connection.prepare(sql).unwrap();
    let width = statement.column_count();
    let mut rows = statement.query([]).unwrap();
    let mut count = 0;
    while let Some(row) = rows.next().unwrap() {
        for index in 0..width {
            hash_value(&row.get::<_, Value>(index).unwrap(), hasher);
        }
        count += 1;
    }
    count
}

fn columns(connection: &Connection, table: &str, except: &[&str]) -> Vec<String> {
    let mut statement = connection
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .unwrap();
    let names = statement
        .query_map([table], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    assert!(!names.is_empty(), "no table {table}");
    names
        .into_iter()
        .filter(|name| !except.contains(&name.as_str()))
        .collect()
}

/// Fingerprints all projects and tasks, ordered by integration code, work-order number and task position.
fn state_fingerprint(connection: &Connection) -> StateFingerprint {
    let mut hasher = DefaultHasher::new();
    let project_columns = columns(connection, "projects", VOLATILE_PROJECT_COLUMNS)
        .iter()
        .map(|column| format!("p.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let projects = hash_rows(
        connection,
        &format!(
            "SELECT i.code, {project_columns} FROM projects p JOIN integrations i ON i.id = p.integration_id
             ORDER BY i.code, p.work_order_number"
        ),
        &mut hasher,
    );
    let task_columns = columns(connection, "tasks", &["project_id"])
        .iter()
        .map(|column| format!("t.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let tasks = hash_rows(
        connection,
        &format!(
            "SELECT i.code, p.work_order_number, {task_columns} FROM tasks t
             JOIN projects p ON p.id = t.project_id JOIN integrations i ON i.id = p.integration_id
             ORDER BY i.code, p.work_order_number, t.position"
        ),
        &mut hasher,
    );
    StateFingerprint {
        projects,
        tasks,
        digest: hasher.finish(),
    }
}

/// Opens `path` with plain SQLite, checks its integrity and returns its state and the integration status.
fn inspect(path: &Path) -> (StateFingerprint, IntegrationStatus) {
    let connection = Connection::open(path).unwrap();
    let integrity: Vec<String> = connection
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(integrity, ["ok"], "integrity_check of {}", path.display());
    let foreign_key_errors: i64 = connection
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(foreign_key_errors, 0, "foreign_key_check of {}", path.display());
    let status: String = connection
        .query_row("SELECT status FROM integrations WHERE code = ?1", [CODE], |row| {
            row.get(0)
        })
        .unwrap();
    (
        state_fingerprint(&connection),
        IntegrationStatus::parse(&status).unwrap(),
    )
}

/// Builds the base database (state A) as a single file: checkpointed, without `-wal` or `-shm`.
fn build_base(path: &Path, response_a: &Path) {
    let store = Store::open(path).unwrap();
    store
        .create_integration(NewIntegration::new(
            CODE,
            "http://127.0.0.1:9/api",
            "crash-vendor",
        ))
        .unwrap();
    let report = store
        .import_file(CODE, response_a, &ImportOptions::new(ImportKind::FullImport))
        .unwrap();
    assert_eq!(report.created, ORDERS, "{report:?}");
    drop(store);
    // The store's last connection to close is a read-only reader, which leaves the WAL behind; a
    // read-write connection checkpoints it into the main file and removes it on close.
    let connection = Connection::open(path).unwrap();
    connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0))
        .unwrap();
    connection.close().unwrap();
    for suffix in ["-wal", "-shm"] {
        assert!(
            !with_suffix(path, suffix).exists(),
            "{suffix} left beside the base database"
        );
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn child(db: &Path, response: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_import_child"));
    command
        .arg(db)
        .arg(CODE)
        .arg(response)
        .arg("full")
        .env("FIELDSYNC_LOG", "off")
        .stdin(Stdio::null());
    command
}

/// How one kill run ended.
#[derive(Debug, Default)]
struct Outcomes {
    /// State A with the status untouched: killed before the import began.
    before: u32,
    /// State A with the status `running`: killed inside the import transaction.
    during: u32,
    /// State B: killed after the import committed (or it finished first).
    after: u32,
}

#[test]
fn an_import_killed_at_any_moment_leaves_the_state_before_or_after() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let response_a = dir.path().join("a.json");
    let response_b = dir.path().join("b.json");
    let base = dir.path().join("base.db");
    fieldsync_tests::write_response_file(&response_a, 0..ORDERS, 0..0).unwrap();
    // B: the first quarter is gone, every remaining order changed, a quarter more are new.
    let (removed, added) = (ORDERS / 4, ORDERS / 4);
    fieldsync_tests::write_response_file(&response_b, removed..ORDERS + added, removed..ORDERS + added)
        .unwrap();
    build_base(&base, &response_a);
    let (state_a, status_a) = inspect(&base);
    assert_eq!(status_a, IntegrationStatus::Idle);
    assert_eq!(state_a.projects, ORDERS);

    // Two uninterrupted, timed reference runs: both must give the same state B (the import is
    // deterministic), and the slower one sets the kill window, so that a quiet moment during the
    // measurement does not make the window too short for the kill runs.
    let mut reference_runs = Vec::new();
    for attempt in 0..2 {
        let reference = dir.path().join(format!("reference-{attempt}.db"));
        std::fs::copy(&base, &reference).unwrap();
        let timer = Instant::now();
        let output = child(&reference, &response_b).output().unwrap();
        let duration = timer.elapsed();
        assert!(
            output.status.success(),
            "the uninterrupted import failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["created"], added, "{report}");
        assert_eq!(report["updated"], ORDERS - removed, "{report}");
        assert_eq!(report["removed"], removed, "{report}");
        let (state, status) = inspect(&reference);
        assert_eq!(status, IntegrationStatus::Idle);
        reference_runs.push((state, duration));
    }
    let state_b = reference_runs[0].0;
    assert_eq!(
        reference_runs[1].0, state_b,
        "two uninterrupted imports gave different states"
    );
    assert_eq!(state_b.projects, ORDERS - removed + added);
    assert_ne!(state_a, state_b);
    let duration = reference_runs
        .iter()
        .map(|&(_, duration)| duration)
        .max()
        .unwrap();

    // Stratified random delays: one uniform draw in each of RUNS equal slices of the kill window, in a
    // random order. Each delay is still uniform over the whole window, but no part of the import (before,
    // inside and after its transaction) can be missed by a run of bad luck.
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test: seed {seed} (set CRASH_SEED to replay), uninterrupted import {duration:?}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let window = duration.as_secs_f64() * KILL_WINDOW;
    let slice = window / RUNS as f64;
    let mut delays: Vec<Duration> = (0..RUNS)
        .map(|index| Duration::from_secs_f64(slice * (index as f64 + rng.random::<f64>())))
        .collect();
    delays.shuffle(&mut rng);

    let mut outcomes = Outcomes::default();
    let mut takeover_checked = false;
    for (run, delay) in delays.into_iter().enumerate() {
        let run_dir = tempfile::tempdir_in(dir.path()).unwrap();
        let db = run_dir.path().join("cache.db");
        std::fs::copy(&base, &db).unwrap();
        let mut process = child(&db, &response_b)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The random kill delay is the point of this test, not a synchronisation.
        std::thread::sleep(delay);
        process.kill().unwrap();
        let exit = process.wait().unwrap();
        assert!(
            exit.success() || exit.signal() == Some(SIGKILL),
            "run {run}: the child failed on its own: {exit:?}"
        );

        let (state, status) = inspect(&db);
        let what = format!("run {run} (kill after {delay:?}, exit {exit:?})");
        if state == state_b {
            assert_eq!(
                status,
                IntegrationStatus::Idle,
                "{what}: state B commits with the final status"
            );
            outcomes.after += 1;
        } else {
            assert_eq!(state, state_a, "{what}: the state is neither A nor B");
            assert!(
                exit.signal().is_some(),
                "{what}: the child finished but left state A"
            );
            match status {
                IntegrationStatus::Idle => outcomes.before += 1,
                IntegrationStatus::Running => outcomes.during += 1,
                other => panic!("{what}: unexpected integration status {other:?} with state A"),
            }
        }

        let store = Store::open(&db).unwrap_or_else(|err| panic!("{what}: Store::open failed: {err}"));
        assert_eq!(store.project_count().unwrap(), state.projects, "{what}");
        if status == IntegrationStatus::Running && !takeover_checked {
            // The next import takes over the one that was killed and reaches state B.
            takeover_checked = true;
            store
                .import_file(CODE, &response_b, &ImportOptions::new(ImportKind::FullImport))
                .unwrap_or_else(|err| panic!("{what}: the import after the crash failed: {err}"));
            assert_eq!(store.integration(CODE).unwrap().status, IntegrationStatus::Idle);
            drop(store);
            assert_eq!(inspect(&db).0, state_b, "{what}: re-import after the crash");
        }
    }

    eprintln!(
        "crash test: {RUNS} kills: state A {} ({} before the import, {} inside it), state B {}; {:?} in all",
        outcomes.before + outcomes.during,
        outcomes.before,
        outcomes.during,
        outcomes.after,
        started.elapsed()
    );
    assert!(
        outcomes.during >= 1,
        "no kill landed inside the import transaction: {outcomes:?}"
    );
    assert!(outcomes.after >= 1, "no run reached state B: {outcomes:?}");
    assert!(takeover_checked);
}
