//! Benchmark: a Full Import of 100,000 work orders served by the provider emulator over loopback, end to
//! end (HTTP download + import), against the file-based import of the same bytes, in the same run.
//!
//! `cargo bench -p fieldsync-tests --bench sync`
//!
//! Three roles of this one binary, chosen by `FIELDSYNC_SYNC_BENCH_ROLE`, keep the measurements apart:
//! the emulator runs in its own process (so its memory is not the client's), and each client import runs in
//! a fresh process that reports its own peak RSS (`VmHWM`). `FIELDSYNC_BENCH_ORDERS=N` scales the account.
//! Targets: end to end <= 2.5 s and <= 1.5x the file import; client peak memory <= 150 MB. Both sides catch
//! the search index up after their import, as a refresh does.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use fieldsync_core::model::{ImportKind, NewIntegration};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::ImportOptions;
use fieldsync_core::sync::SyncEngine;
use fieldsync_core::transport::{HttpTransport, ProviderCredentials, Timeouts};
use fieldsync_core::{SecretKind, SecretStore, Store};

#[path = "support/table.rs"]
mod table;

const ROLE: &str = "FIELDSYNC_SYNC_BENCH_ROLE";
const USER: &str = "bench";
const PASSWORD: &str = "bench-pw";
const TARGET_SECONDS: f64 = 2.5;
const TARGET_RATIO: f64 = 1.5;
const TARGET_PEAK_MB: f64 = 150.0;
const ROUNDS: usize = 2;

fn main() -> ExitCode {
    let result = match std::env::var(ROLE).as_deref() {
        Ok("provider") => provider_role(),
        Ok("client") => client_role(),
        _ => parent(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn orders() -> u32 {
    std::env::var("FIELDSYNC_BENCH_ORDERS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(100_000)
}

/// The emulator with `orders()` orders for one login; prints `READY <base_url>` and serves until stdin closes.
fn provider_role() -> Result<()> {
    let provider = fieldsync_provider::start(fieldsync_provider::ProviderConfig::default())?;
    provider.admin().create_user(USER, PASSWORD, "")?;
    provider.admin().bulk_generate(USER, orders())?;
    println!("READY {}", provider.base_url());
    std::io::stdout().flush()?;
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line)? > 0 {}
    provider.stop()?;
    Ok(())
}

/// One import in a fresh process: `http BASE_URL DB` or `file PATH DB`. Prints seconds, peak KiB, created.
fn client_role() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [.., mode, source, db] = args.as_slice() else {
        bail!("usage: client http|file SOURCE DB")
    };
    let store = Arc::new(Store::open(db)?);
    let base_url = if mode == "http" {
        source.as_str()
    } else {
        "http://127.0.0.1:9/api"
    };
    store.create_integration(NewIntegration::new("BENCH", base_url, USER))?;
    let started = Instant::now();
    let report = if mode == "http" {
        let secrets = Arc::new(MemorySecretStore::default());
        secrets.set("BENCH", SecretKind::PasswordSha1, &password_sha1(PASSWORD))?;
        let directory = Path::new(db).parent().context("db has a folder")?;
        SyncEngine::new(store.clone(), secrets, directory).refresh("BENCH", ImportKind::FullImport)?
    } else {
        let report = store.import_file(
            "BENCH",
            Path::new(source),
            &ImportOptions::new(ImportKind::FullImport),
        )?;
        // What a refresh does after its import, and the CLI's `import` too: the same work on both sides.
        store.catch_up_search()?;
        report
    };
    let seconds = started.elapsed().as_secs_f64();
    println!("RESULT {seconds:.4} {} {}", peak_kib()?, report.created);
    Ok(())
}

fn peak_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}

struct Run {
    seconds: f64,
    peak_mb: f64,
    created: u64,
}

fn client(mode: &str, source: &str, db: &Path) -> Result<Run> {
    let output = Command::new(std::env::current_exe()?)
        .env(ROLE, "client")
        .args([mode, source, db.to_str().context("utf-8 path")?])
        .output()?;
    if !output.status.success() {
        bail!(
            "{mode} client failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8(output.stdout)?;
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .context("no RESULT line")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    Ok(Run {
        seconds: fields[0].parse()?,
        peak_mb: fields[1].parse::<f64>()? * 1024.0 / 1e6,
        created: fields[2].parse()?,
    })
}

fn parent() -> Result<()> {
    let orders = orders();
    let dir = tempfile::tempdir()?;
    println!("fieldsync sync benchmark: Full Import of {orders} work orders over loopback vs from a file");
    let started = Instant::now();
    let mut provider = Command::new(std::env::current_exe()?)
        .env(ROLE, "provider")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(provider.stdout.take().context("provider stdout")?).lines();
    let base_url = loop {
        let line = lines.next().context("the provider exited")??;
        if let Some(url) = line.strip_prefix("READY ") {
            break url.to_owned();
        }
    };
    println!(
        "emulator ready at {base_url} ({:.1} s to generate the account)",
        started.elapsed().as_secs_f64()
    );

    // The same bytes for the file import: downloaded once, untimed.
    let body = dir.path().join("response.json");
    let credentials = ProviderCredentials {
        username: USER.into(),
        password_sha1: password_sha1(PASSWORD),
        token: None,
    };
    let transport = HttpTransport::new(&base_url, None, Timeouts::default())?;
    let downloading = Instant::now();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&body)?);
    let download = transport.download_work_orders(&credentials, None, &mut file, u64::MAX)?;
    file.flush()?;
    drop(file);
    println!(
        "response: {:.1} MB, downloaded in {:.3} s",
        download.bytes as f64 / 1e6,
        downloading.elapsed().as_secs_f64()
    );

    let mut http_runs = Vec::new();
    let mut file_runs = Vec::new();
    for round in 0..ROUNDS {
        let http = client("http", &base_url, &dir.path().join(format!("http-{round}.db")))?;
        let from_file = client(
            "file",
            body.to_str().context("utf-8")?,
            &dir.path().join(format!("file-{round}.db")),
        )?;
        if http.created != u64::from(orders) || from_file.created != u64::from(orders) {
            bail!(
                "expected {orders} created, got {} over HTTP and {} from the file",
                http.created,
                from_file.created
            );
        }
        println!(
            "round {}: HTTP end to end {:.3} s (peak {:.0} MB), file {:.3} s (peak {:.0} MB)",
            round + 1,
            http.seconds,
            http.peak_mb,
            from_file.seconds,
            from_file.peak_mb
        );
        http_runs.push(http);
        file_runs.push(from_file);
    }
    drop(provider.stdin.take());
    provider.wait()?;

    let best = |runs: &[Run]| runs.iter().map(|run| run.seconds).fold(f64::INFINITY, f64::min);
    let peak = http_runs.iter().map(|run| run.peak_mb).fold(0.0, f64::max);
    let (http, file) = (best(&http_runs), best(&file_runs));
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!("\n| scenario | measured | target | |");
    println!("|---|---|---|---|");
    println!(
        "| Full Import over HTTP, end to end (best of {ROUNDS}) | {http:.3} s | <= {TARGET_SECONDS} s | {} |",
        verdict(http <= TARGET_SECONDS)
    );
    println!("| same data from a file (best of {ROUNDS}) | {file:.3} s | | |");
    println!(
        "| ratio HTTP / file | {:.2}x | <= {TARGET_RATIO}x | {} |",
        http / file,
        verdict(http / file <= TARGET_RATIO)
    );
    println!(
        "| client peak memory over HTTP | {peak:.0} MB | <= {TARGET_PEAK_MB} MB | {} |",
        verdict(peak <= TARGET_PEAK_MB)
    );
    table::row(
        &format!(
            "Full Import of {orders} orders from the emulator over loopback, end to end (best of {ROUNDS})"
        ),
        &format!("{http:.3} s (client peak {peak:.0} MB)"),
        &format!("{file:.3} s: the same bytes imported from a file, search index caught up after both"),
        Some(http / file),
        &format!("<= {TARGET_RATIO}x, peak <= {TARGET_PEAK_MB} MB"),
        Some(http / file <= TARGET_RATIO && peak <= TARGET_PEAK_MB),
    );
    table::row(
        "the same, end to end",
        &format!("{http:.3} s"),
        "-",
        None,
        &format!("<= {TARGET_SECONDS} s"),
        Some(http <= TARGET_SECONDS),
    );
    Ok(())
}
