//! End-to-end benchmarks of the import and the project list, on real SQLite files in a temp dir.
//!
//! These are multi-second scenarios, so this is a plain binary (`harness = false`) timed with
//! [`Instant`], not a statistical harness. Run it with the release profile:
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench -p fieldsync-tests --bench import
//! ```
//!
//! Scenarios (targets are for 100,000 orders; `docs/BENCHMARKS.md` explains each one):
//!
//! 1. Full Import of 100,000 work orders into an empty cache;
//! 2. the same Full Import again, nothing changed (median of 3);
//! 3. a Refresh of 1,000 changed orders into the 100k cache (median of 5, revisions alternate so that
//!    every run really changes 1,000 projects);
//! 4. first-page latency (limit 50) of `list_projects` with four filters (p50/p99 of 2,000 calls);
//! 5. peak RSS of the Full Import, measured in a child process that does nothing else.
//!
//! Environment:
//!
//! - `FIELDSYNC_BENCH_ORDERS=N`: scale the account down (e.g. 5000) for a quick smoke run; the verdicts
//!   then read `smoke` because the targets are defined for 100,000 orders.
//! - `FIELDSYNC_BENCH_DIR=DIR`: write the responses and databases there and keep them (for profiling),
//!   instead of a temp dir that is deleted at the end.
//! - `FIELDSYNC_BENCH_STRICT=1`: exit with status 1 when a target is missed.
//!
//! The child process is this same binary with `FIELDSYNC_BENCH_CHILD=import` (see [`child_main`]); it can
//! also be started by hand to profile one import in isolation.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use fieldsync_core::Store;
use fieldsync_core::model::{ImportKind, ImportReport, NewIntegration, ProjectQuery};
use fieldsync_core::store::ImportOptions;
use fieldsync_core::wire::{WorkOrder, read_work_orders};
use fieldsync_tests::write_response_file;

/// The integration every scenario imports into.
const CODE: &str = "BENCH";
/// The account size the targets are defined for.
const TARGET_ORDERS: u64 = 100_000;
/// Orders changed by each Refresh (at most; fewer in a smoke run).
const REFRESH_ORDERS: u64 = 1_000;
/// Repetitions of the unchanged Full Import.
const REIMPORT_RUNS: usize = 3;
/// Repetitions of the Refresh.
const REFRESH_RUNS: usize = 5;
/// Untimed list calls before measuring.
const LIST_WARMUP: usize = 200;
/// Timed list calls per query.
const LIST_ITERATIONS: usize = 2_000;

/// Target: Full Import into an empty cache.
const TARGET_FULL_IMPORT: Duration = Duration::from_millis(2_000);
/// Target: the same Full Import again.
const TARGET_REIMPORT: Duration = Duration::from_millis(800);
/// Target: a Refresh of 1,000 changed orders.
const TARGET_REFRESH: Duration = Duration::from_millis(50);
/// Target: p99 of a first page of projects.
const TARGET_LIST_P99: Duration = Duration::from_millis(2);
/// Target: peak RSS of the Full Import, in KiB (150 MB).
const TARGET_PEAK_KIB: u64 = 150 * 1000 * 1000 / 1024;

/// Environment variable that turns this binary into the import child.
const CHILD_ENV: &str = "FIELDSYNC_BENCH_CHILD";

fn main() -> ExitCode {
    let result = if std::env::var_os(CHILD_ENV).is_some() {
        child_main().map(|()| ExitCode::SUCCESS)
    } else {
        bench_main()
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    })
}

/// What the run was asked to do.
struct Config {
    /// Orders in the account.
    orders: u64,
    /// Orders changed by each Refresh.
    refresh_orders: u64,
    /// Projects marked Cancelled before the list queries (1%).
    cancelled_orders: u64,
    /// Exit with a failure when a target is missed.
    strict: bool,
}

impl Config {
    fn from_env() -> Result<Self> {
        let orders = match std::env::var("FIELDSYNC_BENCH_ORDERS") {
            Ok(text) => text
                .trim()
                .replace('_', "")
                .parse()
                .with_context(|| format!("FIELDSYNC_BENCH_ORDERS={text} is not a number"))?,
            Err(_) => TARGET_ORDERS,
        };
        ensure!(orders >= 100, "FIELDSYNC_BENCH_ORDERS must be at least 100");
        Ok(Self {
            orders,
            refresh_orders: REFRESH_ORDERS.min(orders),
            cancelled_orders: orders / 100,
            strict: std::env::var("FIELDSYNC_BENCH_STRICT").is_ok_and(|value| value == "1"),
        })
    }

    /// True when the run is the size the targets are defined for.
    fn full_size(&self) -> bool {
        self.orders == TARGET_ORDERS
    }
}

/// The response files, written before anything is measured.
struct Responses {
    /// Every order, original revision (Full Import).
    full: PathBuf,
    full_bytes: u64,
    /// The first `refresh_orders` orders, changed revision.
    refresh_changed: PathBuf,
    /// The same orders, original revision (undoes `refresh_changed`).
    refresh_original: PathBuf,
    refresh_bytes: u64,
    /// Every 100th order with only `clientStatus: Cancelled`.
    cancel: PathBuf,
}

impl Responses {
    fn write(dir: &Path, config: &Config) -> Result<Self> {
        let full = dir.join("full.json");
        let refresh_changed = dir.join("refresh-changed.json");
        let refresh_original = dir.join("refresh-original.json");
        let cancel = dir.join("cancel.json");
        let full_bytes = write_response_file(&full, 0..config.orders, 0..0)?;
        let refresh = 0..config.refresh_orders;
        let refresh_bytes = write_response_file(&refresh_changed, refresh.clone(), refresh.clone())?;
        write_response_file(&refresh_original, refresh, 0..0)?;
        write_cancel_response(&cancel, config.cancelled_orders)?;
        Ok(Self {
            full,
            full_bytes,
            refresh_changed,
            refresh_original,
            refresh_bytes,
            cancel,
        })
    }
}

/// Writes a Refresh that cancels orders 0, 100, 200, ... (`count` of them).
fn write_cancel_response(path: &Path, count: u64) -> Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    out.write_all(br#"{"error":"","workOrders":["#)?;
    for position in 0..count {
        if position > 0 {
            out.write_all(b",")?;
        }
        let index = position * 100;
        write!(
            out,
            r#"{{"workOrderNumber":"WO-{index:07}","clientStatus":"Cancelled"}}"#
        )?;
    }
    out.write_all(b"]}")?;
    out.flush()?;
    Ok(())
}

/// Whether a measurement met its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Miss,
    /// A scaled-down run: the targets do not apply.
    Smoke,
    /// No target (informational line).
    Info,
}

impl Verdict {
    fn judge(config: &Config, within_target: bool) -> Self {
        match (config.full_size(), within_target) {
            (false, _) => Self::Smoke,
            (true, true) => Self::Pass,
            (true, false) => Self::Miss,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Miss => "MISS",
            Self::Smoke => "smoke",
            Self::Info => "-",
        }
    }
}

/// One line of the result table.
struct Row {
    scenario: String,
    measured: String,
    target: String,
    verdict: Verdict,
}

impl Row {
    fn new(scenario: impl Into<String>, measured: impl Into<String>, target: &str, verdict: Verdict) -> Self {
        Self {
            scenario: scenario.into(),
            measured: measured.into(),
            target: target.to_owned(),
            verdict,
        }
    }
}

fn bench_main() -> Result<ExitCode> {
    let config = Config::from_env()?;
    let temp;
    let dir = match std::env::var_os("FIELDSYNC_BENCH_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir)?;
            for stale in ["bench.sqlite", "memory.sqlite"] {
                remove_database(&dir.join(stale))?;
            }
            dir
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    println!(
        "fieldsync import benchmark: {} orders, {} per refresh, files in {}",
        config.orders,
        config.refresh_orders,
        dir.display()
    );
    println!("machine: {}", machine_notes());
    if !config.full_size() {
        println!("smoke run: targets are defined for {TARGET_ORDERS} orders and are not judged");
    }

    let started = Instant::now();
    let responses = Responses::write(&dir, &config)?;
    println!(
        "generated responses in {:.2} s: full {}, refresh {}",
        started.elapsed().as_secs_f64(),
        megabytes(responses.full_bytes),
        megabytes(responses.refresh_bytes),
    );

    let mut rows = Vec::new();
    let store = Store::open(dir.join("bench.sqlite"))?;
    store.create_integration(new_integration())?;
    rows.push(full_import(&store, &config, &responses)?);
    rows.push(reimport(&store, &config, &responses)?);
    rows.push(refresh(&store, &config, &responses)?);
    floors::run(&dir, &store, &config, &responses)?;
    cancel_some(&store, &config, &responses)?;
    rows.extend(list_latencies(&store, &config)?);
    drop(store);
    rows.extend(peak_memory(&dir, &config, &responses)?);
    rows.extend(breakdown(&responses)?);

    print_table(&rows);
    println!("machine at the end: {}", machine_notes());
    let missed = rows.iter().filter(|row| row.verdict == Verdict::Miss).count();
    if missed > 0 {
        println!("{missed} target(s) missed; see docs/BENCHMARKS.md for the analysis");
    }
    Ok(if config.strict && missed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[path = "support/floors.rs"]
mod floors;
#[path = "support/table.rs"]
mod table;

/// The integration of every scenario (the base URL is never contacted: imports read files).
fn new_integration() -> NewIntegration {
    NewIntegration::new(CODE, "http://127.0.0.1:9/api", "vendor")
}

/// Times one import of `path`.
fn timed_import(store: &Store, path: &Path, kind: ImportKind) -> Result<(Duration, ImportReport)> {
    let options = ImportOptions::new(kind);
    let started = Instant::now();
    let report = store.import_file(CODE, path, &options)?;
    Ok((started.elapsed(), report))
}

/// Scenario 1: Full Import into an empty cache.
fn full_import(store: &Store, config: &Config, responses: &Responses) -> Result<Row> {
    let (elapsed, report) = timed_import(store, &responses.full, ImportKind::FullImport)?;
    ensure!(
        report.created == config.orders && report.rejected.is_empty(),
        "the Full Import created {} projects (rejected {}), expected {}",
        report.created,
        report.rejected.len(),
        config.orders
    );
    println!(
        "1. full import: {} ({:.0} orders/s, {}/s)",
        seconds(elapsed),
        config.orders as f64 / elapsed.as_secs_f64(),
        megabytes((responses.full_bytes as f64 / elapsed.as_secs_f64()) as u64)
    );
    Ok(Row::new(
        format!(
            "1. Full Import, {} orders ({}), empty cache",
            config.orders,
            megabytes(responses.full_bytes)
        ),
        seconds(elapsed),
        "<= 2.0 s",
        Verdict::judge(config, elapsed <= TARGET_FULL_IMPORT),
    ))
}

/// Scenario 2: the same Full Import again, nothing changed.
fn reimport(store: &Store, config: &Config, responses: &Responses) -> Result<Row> {
    let mut times = Vec::new();
    for _ in 0..REIMPORT_RUNS {
        let (elapsed, report) = timed_import(store, &responses.full, ImportKind::FullImport)?;
        ensure!(
            report.is_no_op() && report.unchanged == config.orders,
            "the unchanged Full Import was not a no-op: {report:?}"
        );
        times.push(elapsed);
    }
    let median = median(&mut times);
    println!("2. unchanged full import: runs {}", list_of(&times, seconds));
    Ok(Row::new(
        format!("2. Full Import again, nothing changed (median of {REIMPORT_RUNS})"),
        seconds(median),
        "<= 0.8 s",
        Verdict::judge(config, median <= TARGET_REIMPORT),
    ))
}

/// Scenario 3: Refreshes that each change `refresh_orders` projects (revisions alternate).
fn refresh(store: &Store, config: &Config, responses: &Responses) -> Result<Row> {
    let mut times = Vec::new();
    for run in 0..REFRESH_RUNS {
        let path = if run.is_multiple_of(2) {
            &responses.refresh_changed
        } else {
            &responses.refresh_original
        };
        let (elapsed, report) = timed_import(store, path, ImportKind::Refresh)?;
        ensure!(
            report.updated == config.refresh_orders,
            "refresh run {run} updated {} projects, expected {}",
            report.updated,
            config.refresh_orders
        );
        times.push(elapsed);
    }
    let median = median(&mut times);
    println!("3. refresh: runs {}", list_of(&times, millis));
    Ok(Row::new(
        format!(
            "3. Refresh, {} changed orders into {} (median of {REFRESH_RUNS})",
            config.refresh_orders, config.orders
        ),
        millis(median),
        "<= 50 ms",
        Verdict::judge(config, median <= TARGET_REFRESH),
    ))
}

/// Marks 1% of the projects Cancelled so that scenario 4(d) filters on a rare status.
fn cancel_some(store: &Store, config: &Config, responses: &Responses) -> Result<()> {
    let (elapsed, report) = timed_import(store, &responses.cancel, ImportKind::Refresh)?;
    ensure!(
        report.cancelled == config.cancelled_orders,
        "the cancelling refresh cancelled {} projects, expected {}",
        report.cancelled,
        config.cancelled_orders
    );
    println!(
        "   (setup) cancelled {} projects in {}",
        report.cancelled,
        millis(elapsed)
    );
    Ok(())
}

/// Scenario 4: first-page latency of `list_projects` for four queries.
fn list_latencies(store: &Store, config: &Config) -> Result<Vec<Row>> {
    let queries = [
        (
            "4a. list: integration filter, due-date sort",
            ProjectQuery {
                integration: Some(CODE.into()),
                ..ProjectQuery::default()
            },
        ),
        (
            "4b. list: client status Open (~99%), due-date sort",
            ProjectQuery {
                client_status: Some("Open".into()),
                ..ProjectQuery::default()
            },
        ),
        (
            "4c. list: search \"Maple\", due-date sort",
            ProjectQuery {
                search: Some("Maple".into()),
                ..ProjectQuery::default()
            },
        ),
        (
            "4d. list: client status Cancelled (1%), due-date sort",
            ProjectQuery {
                client_status: Some("Cancelled".into()),
                ..ProjectQuery::default()
            },
        ),
    ];
    let mut rows = Vec::new();
    for (name, query) in queries {
        let started = Instant::now();
        let first = store.list_projects(&query)?;
        let cold = started.elapsed();
        ensure!(
            (1..=50).contains(&first.len()),
            "{name}: the first page has {} rows",
            first.len()
        );
        if let Some(status) = &query.client_status {
            ensure!(
                first
                    .iter()
                    .all(|project| project.client_status.as_deref() == Some(status.as_str())),
                "{name}: a project of another client status was listed"
            );
        }
        for _ in 0..LIST_WARMUP {
            std::hint::black_box(store.list_projects(&query)?);
        }
        let mut times = Vec::with_capacity(LIST_ITERATIONS);
        for _ in 0..LIST_ITERATIONS {
            let started = Instant::now();
            let page = store.list_projects(&query)?;
            times.push(started.elapsed());
            std::hint::black_box(page);
        }
        times.sort_unstable();
        let p50 = percentile(&times, 50.0);
        let p99 = percentile(&times, 99.0);
        println!(
            "{name}: first call {}, min {}, p50 {}, p90 {}, p99 {}, max {} ({LIST_ITERATIONS} calls)",
            millis(cold),
            millis(times[0]),
            millis(p50),
            millis(percentile(&times, 90.0)),
            millis(p99),
            millis(times[times.len() - 1]),
        );
        rows.push(Row::new(
            name,
            format!("p50 {} / p99 {}", millis(p50), millis(p99)),
            "p99 <= 2 ms",
            Verdict::judge(config, p99 <= TARGET_LIST_P99),
        ));
    }
    Ok(rows)
}

/// Scenario 5: peak RSS of a child process that opens a new store and runs only the Full Import.
fn peak_memory(dir: &Path, config: &Config, responses: &Responses) -> Result<Vec<Row>> {
    let database = dir.join("memory.sqlite");
    let output = Command::new(std::env::current_exe()?)
        .env(CHILD_ENV, "import")
        .env("FIELDSYNC_BENCH_DB", &database)
        .env("FIELDSYNC_BENCH_KIND", "full")
        .env("FIELDSYNC_BENCH_RESPONSES", &responses.full)
        .output()
        .context("could not start the child process")?;
    if !output.status.success() {
        bail!(
            "the child import failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8(output.stdout)?;
    let values: HashMap<&str, &str> = stdout.lines().filter_map(|line| line.split_once('=')).collect();
    let field = |key: &str| -> Result<&str> {
        values
            .get(key)
            .copied()
            .ok_or_else(|| anyhow!("the child did not report {key}: {stdout}"))
    };
    let import_seconds = field("import_seconds")?;
    let peak = match (
        field("baseline_kib")?.parse::<u64>(),
        field("peak_kib")?.parse::<u64>(),
    ) {
        (Ok(baseline), Ok(peak)) => {
            println!(
                "5. peak RSS of the full import (child): {} (before the import {}); import took {import_seconds} s",
                kib_as_mb(peak),
                kib_as_mb(baseline)
            );
            Row::new(
                format!("5. peak RSS, Full Import of {} orders (child)", config.orders),
                kib_as_mb(peak),
                "<= 150 MB",
                Verdict::judge(config, peak <= TARGET_PEAK_KIB),
            )
        }
        _ => Row::new(
            "5. peak RSS (no /proc/self/status here)",
            "unavailable",
            "<= 150 MB",
            Verdict::Info,
        ),
    };
    remove_database(&database)?;
    Ok(vec![
        peak,
        Row::new(
            "   (info) the same Full Import, timed in the child",
            format!("{import_seconds} s"),
            "",
            Verdict::Info,
        ),
    ])
}

/// Informational: what reading the response costs without SQLite, three ways.
///
/// `import_file` reads through a byte-counting wrapper over a `BufReader` (`LimitedReader`), and serde_json's
/// `from_reader` pulls one byte at a time, so every byte goes through the wrapper's `read`. The first line
/// reads the same file with the `BufReader` outermost (serde_json's buffered fast path), the second through
/// a counting wrapper like the import's, the third also parses every order as the import does.
fn breakdown(responses: &Responses) -> Result<Vec<Row>> {
    let open = || -> Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::with_capacity(
            256 * 1024,
            std::fs::File::open(&responses.full)?,
        ))
    };
    let buffered = time_reading(open()?, false)?;
    let wrapped = time_reading(CountingReader::new(open()?), false)?;
    let parsed = time_reading(CountingReader::new(open()?), true)?;
    println!(
        "   reading only: BufReader outermost {}, counting wrapper outermost {}, + parse {}",
        seconds(buffered),
        seconds(wrapped),
        seconds(parsed)
    );
    let info = |scenario: &str, elapsed| Row::new(scenario, seconds(elapsed), "", Verdict::Info);
    Ok(vec![
        info("   (info) read_work_orders, BufReader outermost", buffered),
        info(
            "   (info) read_work_orders, counting wrapper (as import)",
            wrapped,
        ),
        info("   (info) ... + WorkOrder::from_json (as import)", parsed),
    ])
}

/// Streams the Full Import response through [`read_work_orders`], optionally parsing each order.
fn time_reading(reader: impl std::io::Read, parse: bool) -> Result<Duration> {
    let started = Instant::now();
    let mut orders = 0u64;
    read_work_orders(reader, |raw| {
        if parse {
            let order = WorkOrder::from_json(raw).map_err(|_| ())?;
            std::hint::black_box(order);
        } else {
            std::hint::black_box(raw.len());
        }
        orders += 1;
        Ok::<(), ()>(())
    })
    .map_err(|err| anyhow!("{err:?}"))?;
    std::hint::black_box(orders);
    Ok(started.elapsed())
}

/// A pass-through reader that counts bytes, like the import's size-limiting reader.
struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R> CountingReader<R> {
    fn new(inner: R) -> Self {
        Self { inner, read: 0 }
    }
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.read += count as u64;
        Ok(count)
    }
}

/// The child process: opens `FIELDSYNC_BENCH_DB` (creating the integration when missing), imports each
/// of `FIELDSYNC_BENCH_RESPONSES` (a path list) `FIELDSYNC_BENCH_ROUNDS` times (default 1) as
/// `FIELDSYNC_BENCH_KIND` (`full` or `refresh`), and prints `key=value` lines: `baseline_kib` (VmHWM
/// before the first import), `import_seconds` (each import), and `peak_kib` (VmHWM at the end).
fn child_main() -> Result<()> {
    let var = |key: &str| std::env::var_os(key).ok_or_else(|| anyhow!("{key} is not set"));
    let database = PathBuf::from(var("FIELDSYNC_BENCH_DB")?);
    let kind = match var("FIELDSYNC_BENCH_KIND")?.to_str() {
        Some("full") => ImportKind::FullImport,
        Some("refresh") => ImportKind::Refresh,
        other => bail!("FIELDSYNC_BENCH_KIND must be full or refresh, not {other:?}"),
    };
    let responses: Vec<PathBuf> = std::env::split_paths(&var("FIELDSYNC_BENCH_RESPONSES")?).collect();
    let rounds: usize = std::env::var("FIELDSYNC_BENCH_ROUNDS")
        .map_or(Ok(1), |text| text.parse())
        .context("FIELDSYNC_BENCH_ROUNDS is not a number")?;

    let store = Store::open(&database)?;
    if store
        .list_integrations()?
        .iter()
        .all(|integration| integration.code != CODE)
    {
        store.create_integration(new_integration())?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "baseline_kib={}", peak_rss_kib().unwrap_or_default())?;
    for _ in 0..rounds {
        for path in &responses {
            let (elapsed, report) = timed_import(&store, path, kind)?;
            writeln!(out, "import_seconds={:.3}", elapsed.as_secs_f64())?;
            writeln!(
                out,
                "report=created {} updated {} unchanged {} cancelled {} removed {}",
                report.created, report.updated, report.unchanged, report.cancelled, report.removed
            )?;
        }
    }
    match peak_rss_kib() {
        Some(peak) => writeln!(out, "peak_kib={peak}")?,
        None => writeln!(out, "peak_kib=unavailable")?,
    }
    Ok(())
}

/// This process's RSS high-water mark (`VmHWM`), in KiB; `None` where `/proc` does not exist.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPUs and load average: other processes on a 2-vCPU machine move the figures by up to 2x.
fn machine_notes() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cpus} CPUs, load average {}", load.join(" "))
}

/// Deletes a database with its WAL and shared-memory files, if present.
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

/// The median (upper median for an even count).
fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], percent: f64) -> Duration {
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn list_of(times: &[Duration], format: fn(Duration) -> String) -> String {
    times
        .iter()
        .map(|&time| format(time))
        .collect::<Vec<_>>()
        .join(", ")
}

fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

fn millis(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn kib_as_mb(kib: u64) -> String {
    megabytes(kib * 1024)
}

fn print_table(rows: &[Row]) {
    let width = |column: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|row| column(row).chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or_default()
    };
    let scenario = width(|row| &row.scenario, "scenario");
    let measured = width(|row| &row.measured, "measured");
    let target = width(|row| &row.target, "target");
    println!();
    println!(
        "{:<scenario$} | {:<measured$} | {:<target$} | verdict",
        "scenario", "measured", "target"
    );
    println!(
        "{:-<scenario$}-+-{:-<measured$}-+-{:-<target$}-+--------",
        "", "", ""
    );
    for row in rows {
        println!(
            "{:<scenario$} | {:<measured$} | {:<target$} | {}",
            row.scenario,
            row.measured,
            row.target,
            row.verdict.label()
        );
    }
}
