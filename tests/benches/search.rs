//! Project search over 100,000 projects, and what the search index costs a Full Import, in one run.
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench -p fieldsync-tests --bench search
//! ```
//!
//! 1. Full Import of 100,000 orders into an empty cache, with the search index (as shipped) and without it
//!    (the same store with its index writes turned off, `set_search_index_writes(false)`), alternating,
//!    median of 3 each: the ratio is the index's cost (target <= 1.10).
//! 2. First page (50 rows, due-date order) of a search, p50/p99 of 2,000 calls after 200 untimed ones, for a
//!    street-name fragment, a city, a number fragment and a two-letter text (the scan, for reference)
//!    (target p99 <= 1 ms for the indexed ones).
//!
//! `FIELDSYNC_BENCH_ORDERS=N` scales the account down for a smoke run (verdicts then read `smoke`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fieldsync_core::Store;
use fieldsync_core::model::{ImportKind, NewIntegration, ProjectQuery};
use fieldsync_core::store::{ImportOptions, set_search_index_writes};
use fieldsync_tests::write_response_file;

#[path = "support/table.rs"]
mod table;

const CODE: &str = "BENCH";
const TARGET_ORDERS: u64 = 100_000;
const IMPORT_RUNS: usize = 3;
const WARMUP: usize = 200;
const ITERATIONS: usize = 2_000;
const TARGET_RATIO: f64 = 1.10;
const TARGET_P99: Duration = Duration::from_millis(1);

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
        "fieldsync search benchmark: {orders} orders, files in {}",
        dir.path().display()
    );

    // 1. The Full Import with and without the index, alternating so that load drifts hit both alike.
    let mut with = Vec::new();
    let mut without = Vec::new();
    for run in 0..IMPORT_RUNS {
        for indexed in [true, false] {
            let path = dir.path().join(format!("run{run}-{indexed}.sqlite"));
            set_search_index_writes(indexed);
            let elapsed = full_import(&path, &response, orders)?;
            set_search_index_writes(true);
            println!(
                "   full import, index {}: {:.3} s",
                if indexed { "on " } else { "off" },
                elapsed.as_secs_f64()
            );
            if indexed {
                with.push(elapsed)
            } else {
                without.push(elapsed)
            }
            if run + 1 < IMPORT_RUNS || !indexed {
                remove_database(&path)?;
            }
        }
    }
    let (with, without) = (table::median(&with), table::median(&without));
    let ratio = with.as_secs_f64() / without.as_secs_f64();
    println!(
        "1. full import: with the index {:.3} s, without {:.3} s, ratio {ratio:.2}",
        with.as_secs_f64(),
        without.as_secs_f64()
    );
    table::row(
        &format!("Full Import of {orders} orders with the search index (median of {IMPORT_RUNS})"),
        &format!("{:.3} s", with.as_secs_f64()),
        &format!(
            "{:.3} s (the same import, index writes off, same run)",
            without.as_secs_f64()
        ),
        Some(ratio),
        "<= 1.10x",
        judge(ratio <= TARGET_RATIO),
    );

    // 2. Searches on the last indexed database.
    let store = Store::open(dir.path().join(format!("run{}-true.sqlite", IMPORT_RUNS - 1)))?;
    let searches = [
        (
            "street-name fragment \"Mapl\" (1/8 of the projects)",
            "Mapl",
            true,
        ),
        ("city \"Dallas\" (1/6)", "Dallas", true),
        ("number fragment \"0042\" (about 100)", "0042", true),
        ("reference fragment \"31337\" (a few)", "31337", true),
        ("two letters \"ap\" (no trigram: scan)", "ap", false),
    ];
    for (name, text, indexed) in searches {
        let query = ProjectQuery {
            search: Some(text.into()),
            ..ProjectQuery::default()
        };
        let first = store.list_projects(&query)?;
        ensure!(!first.is_empty(), "{name}: nothing found");
        for _ in 0..WARMUP {
            std::hint::black_box(store.list_projects(&query)?);
        }
        let mut times = Vec::with_capacity(ITERATIONS);
        for _ in 0..ITERATIONS {
            let started = Instant::now();
            std::hint::black_box(store.list_projects(&query)?);
            times.push(started.elapsed());
        }
        times.sort_unstable();
        let p50 = times[times.len() / 2];
        let p99 = times[(times.len() * 99).div_ceil(100) - 1];
        let count = store.count_projects(&query)?;
        println!(
            "2. search {name}: {count} matches, first page {} rows, p50 {:.3} ms, p99 {:.3} ms",
            first.len(),
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
            if indexed { "p99 <= 1 ms" } else { "-" },
            if indexed { judge(p99 <= TARGET_P99) } else { None },
        );
    }
    Ok(())
}

fn full_import(path: &Path, response: &Path, orders: u64) -> Result<Duration> {
    let store = Store::open(path)?;
    store.create_integration(NewIntegration::new(CODE, "http://127.0.0.1:9/api", "vendor"))?;
    let started = Instant::now();
    let report = store.import_file(CODE, response, &ImportOptions::new(ImportKind::FullImport))?;
    let elapsed = started.elapsed();
    ensure!(report.created == orders, "created {} of {orders}", report.created);
    Ok(elapsed)
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
