//! Project search over 100,000 projects, and what the search index costs a Full Import, in one run.
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench -p fieldsync-tests --bench search
//! ```
//!
//! 1. Full Import of 100,000 orders into an empty cache with the search index (as shipped: the import
//!    writes no index entry for new projects, `Store::catch_up_search` indexes them after the commit) and
//!    without it (the same store with the index table and its trigger dropped before the import),
//!    alternating, median of 3 each. The ratio of the two imports is the index's cost to the import (target
//!    <= 1.10); the catch-up after it is timed on its own and the sum is reported next to it.
//! 2. First page (50 rows, due-date order) of searches over the 100,000 indexed projects, p50/p99 of 2,000
//!    calls after 200 untimed ones (target p99 <= 1 ms).
//! 3. The same searches right after another Full Import, before the catch-up (every project above the
//!    mark: read from the table, not the index), p50/p99 of 200 calls: what a search costs in that window.
//!
//! `FIELDSYNC_BENCH_ORDERS=N` scales the account down for a smoke run (verdicts then read `smoke`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fieldsync_core::Store;
use fieldsync_core::model::{ImportKind, NewIntegration, ProjectQuery};
use fieldsync_core::store::ImportOptions;
use fieldsync_tests::write_response_file;

#[path = "support/table.rs"]
mod table;

const CODE: &str = "BENCH";
const TARGET_ORDERS: u64 = 100_000;
const IMPORT_RUNS: usize = 3;
const WARMUP: usize = 200;
const ITERATIONS: usize = 2_000;
const BACKLOG_ITERATIONS: usize = 200;
const TARGET_RATIO: f64 = 1.10;
const TARGET_P99: Duration = Duration::from_millis(1);

/// The searches timed: a label and the text.
const SEARCHES: &[(&str, &str)] = &[
    ("street-name prefix \"Mapl\" (1/8 of the projects)", "Mapl"),
    ("city \"Dallas\" (1/6)", "Dallas"),
    ("two words \"elm spring\" (1/48)", "elm spring"),
    ("number prefix \"WO-0012\" (1,000)", "WO-0012"),
    ("number prefix \"WO-00420\" (100)", "WO-00420"),
    ("reference prefix \"LN-00031\" (a few)", "LN-00031"),
    ("no match \"Nowhere\"", "Nowhere"),
];

fn main() -> Result<()> {
    let orders: u64 = std::env::var("FIELDSYNC_BENCH_ORDERS")
        .ok()
        .and_then(|text| text.replace('_', "").parse().ok())
        .unwrap_or(TARGET_ORDERS);
    let full_size = orders == TARGET_ORDERS;
    let judge = |pass: bool| full_size.then_some(pass);
    let dir = tempfile::tempdir()?;
    let response = dir.path().join("full.json");
    write_response_file(&response, 0..orders, 0..0)?;
    println!(
        "fieldsync search benchmark: {orders} orders, files in {}, load average {}",
        dir.path().display(),
        load_average()
    );

    // 1. The Full Import with and without the index, alternating so that load drifts hit both alike.
    let mut with = Vec::new();
    let mut catch_up = Vec::new();
    let mut without = Vec::new();
    for run in 0..IMPORT_RUNS {
        for indexed in [true, false] {
            let path = dir.path().join(format!("run{run}-{indexed}.sqlite"));
            let store = Store::open(&path)?;
            if !indexed {
                drop_search_index(&path)?;
            }
            let elapsed = full_import(&store, &response, orders)?;
            if indexed {
                let started = Instant::now();
                let rows = store.catch_up_search()?;
                let caught_up = started.elapsed();
                ensure!(rows == orders, "the catch-up indexed {rows} of {orders}");
                println!(
                    "   full import, index on : {:.3} s, then the catch-up {:.3} s",
                    elapsed.as_secs_f64(),
                    caught_up.as_secs_f64()
                );
                with.push(elapsed);
                catch_up.push(caught_up);
            } else {
                println!("   full import, index off: {:.3} s", elapsed.as_secs_f64());
                without.push(elapsed);
            }
            drop(store);
            if run + 1 < IMPORT_RUNS || !indexed {
                remove_database(&path)?;
            }
        }
    }
    let (with, catch_up, without) = (
        table::median(&with),
        table::median(&catch_up),
        table::median(&without),
    );
    let ratio = with.as_secs_f64() / without.as_secs_f64();
    let total_ratio = (with + catch_up).as_secs_f64() / without.as_secs_f64();
    println!(
        "1. full import: with the index {:.3} s, without {:.3} s, ratio {ratio:.2}; catch-up {:.3} s \
         (import + catch-up {total_ratio:.2}x); load average {}",
        with.as_secs_f64(),
        without.as_secs_f64(),
        catch_up.as_secs_f64(),
        load_average()
    );
    table::row(
        &format!(
            "Full Import of {orders} orders with the search index (median of {IMPORT_RUNS}; the index is \
             caught up after the commit)"
        ),
        &format!("{:.3} s", with.as_secs_f64()),
        &format!(
            "{:.3} s (the same import, index table dropped, alternated)",
            without.as_secs_f64()
        ),
        Some(ratio),
        "<= 1.10x",
        judge(ratio <= TARGET_RATIO),
    );
    table::row(
        &format!("search index catch-up after that import ({orders} rows, median of {IMPORT_RUNS})"),
        &format!("{:.3} s", catch_up.as_secs_f64()),
        &format!(
            "import + catch-up {:.3} s vs {:.3} s without the index",
            (with + catch_up).as_secs_f64(),
            without.as_secs_f64()
        ),
        Some(total_ratio),
        "-",
        None,
    );

    // 2. Searches on the last indexed database.
    let store = Store::open(dir.path().join(format!("run{}-true.sqlite", IMPORT_RUNS - 1)))?;
    ensure!(store.search_backlog()? == 0, "the index is caught up");
    for &(name, text) in SEARCHES {
        let (count, p50, p99) = time_search(&store, text, ITERATIONS)?;
        println!(
            "2. search {name}: {count} matches, p50 {:.3} ms, p99 {:.3} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
        table::row(
            &format!("search, first page of 50 over {orders} projects: {name}, {count} matches"),
            &format!(
                "p99 {:.3} ms (p50 {:.3} ms)",
                p99.as_secs_f64() * 1e3,
                p50.as_secs_f64() * 1e3
            ),
            "-",
            None,
            "p99 <= 1 ms",
            judge(p99 <= TARGET_P99),
        );
    }
    drop(store);

    // 3. The same searches before the catch-up: every project is read from the table.
    let path = dir.path().join("backlog.sqlite");
    let store = Store::open(&path)?;
    full_import(&store, &response, orders)?;
    ensure!(store.search_backlog()? == orders, "nothing indexed yet");
    for &(name, text) in SEARCHES {
        let (count, p50, p99) = time_search(&store, text, BACKLOG_ITERATIONS)?;
        println!(
            "3. before the catch-up, search {name}: {count} matches, p50 {:.3} ms, p99 {:.3} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    println!("   load average {}", load_average());
    Ok(())
}

/// The first page of `text`: (matches, p50, p99) of `iterations` calls after [`WARMUP`] untimed ones.
fn time_search(store: &Store, text: &str, iterations: usize) -> Result<(u64, Duration, Duration)> {
    let query = ProjectQuery {
        search: Some(text.into()),
        ..ProjectQuery::default()
    };
    let count = store.count_projects(&query)?;
    let first = store.list_projects(&query)?;
    ensure!(
        first.len() as u64 == count.min(50),
        "{text}: a first page of {} for {count} matches",
        first.len()
    );
    for _ in 0..WARMUP.min(iterations) {
        std::hint::black_box(store.list_projects(&query)?);
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        std::hint::black_box(store.list_projects(&query)?);
        times.push(started.elapsed());
    }
    times.sort_unstable();
    let p50 = times[times.len() / 2];
    let p99 = times[(times.len() * 99).div_ceil(100) - 1];
    Ok((count, p50, p99))
}

fn full_import(store: &Store, response: &Path, orders: u64) -> Result<Duration> {
    store.create_integration(NewIntegration::new(CODE, "http://127.0.0.1:9/api", "vendor"))?;
    let started = Instant::now();
    let report = store.import_file(CODE, response, &ImportOptions::new(ImportKind::FullImport))?;
    let elapsed = started.elapsed();
    ensure!(report.created == orders, "created {} of {orders}", report.created);
    Ok(elapsed)
}

/// The store's schema without the search index: the index table and its delete trigger dropped. Nothing
/// else of the import path refers to them while the mark is 0 (an empty cache).
fn drop_search_index(path: &Path) -> Result<()> {
    let connection = rusqlite::Connection::open(path)?;
    connection.execute_batch(
        "DROP TRIGGER projects_search_delete;
         DROP TABLE projects_search;",
    )?;
    Ok(())
}

fn remove_database(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
    }
    Ok(())
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), to read the figures against.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
