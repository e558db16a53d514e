//! Benchmark: living inside a phone app. `pause()` latency during an active relay (every connection
//! closed, every lock released), the time from `resume()` to the next item the provider receives, and how
//! far a background run overshoots its deadline against a provider that takes 300 ms per upload.
//!
//! `cargo bench -p fieldsync-tests --bench lifecycle`. Targets: pause p99 <= 100 ms; overshoot <= 250 ms.
//! The first item after `resume()` has no target (it is reported: the re-delivery starts on its own).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use fieldsync_core::app::{App, AppConfig};
use fieldsync_core::cancel::Stop;
use fieldsync_core::model::{ImportKind, NewIntegration};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::CheckInRequest;
use fieldsync_core::sync::{BackgroundReason, BackgroundRequest};
use fieldsync_core::{SecretKind, SecretStore};
use fieldsync_provider::{Endpoint, Fault, FaultKind, RunningProvider};
use fieldsync_tests::world::{CODE, HOME, PASSWORD, USER, fix, order, project, provider_with_orders};

#[path = "support/table.rs"]
mod table;

const NUMBERS: [&str; 6] = ["1", "2", "3", "4", "5", "6"];
const ROUNDS: usize = 30;

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

fn open(provider: &RunningProvider, dir: &std::path::Path) -> Result<App> {
    let secrets = Arc::new(MemorySecretStore::default());
    secrets.set(CODE, SecretKind::PasswordSha1, &password_sha1(PASSWORD))?;
    let app = App::open(AppConfig::new(dir.join("bench.db"), secrets))?;
    app.store()
        .create_integration(NewIntegration::new(CODE, provider.base_url(), USER))?;
    app.engine().refresh(CODE, ImportKind::FullImport)?;
    Ok(app)
}

fn queue(app: &App, count: usize) -> Result<()> {
    let now = fieldsync_core::model::now();
    for index in 0..count {
        app.store().check_in(&CheckInRequest {
            project: project(NUMBERS[index % NUMBERS.len()]),
            fix: fix(HOME.0, HOME.1, now - 60),
            badge: None,
            user: None,
            device_time: now,
            device_id: "bench".into(),
        })?;
    }
    Ok(())
}

fn received(provider: &RunningProvider) -> usize {
    provider
        .admin()
        .received_checkins()
        .map_or(0, |items| items.len())
}

fn wait_for(what: &str, done: impl Fn() -> bool) -> Result<()> {
    let limit = Instant::now() + Duration::from_secs(30);
    while !done() {
        anyhow::ensure!(Instant::now() < limit, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

fn main() -> Result<()> {
    let provider = provider_with_orders(NUMBERS.map(order));
    let dir = tempfile::tempdir()?;
    let app = Arc::new(open(&provider, dir.path())?);
    provider.admin().set_fault(Fault::new(
        Endpoint::UploadPictures,
        FaultKind::Latency { ms: 100 },
    ))?;

    let mut pauses = Vec::new();
    let mut resumes = Vec::new();
    for _ in 0..ROUNDS {
        queue(&app, 12)?;
        let before = received(&provider);
        let relay = {
            let app = app.clone();
            std::thread::spawn(move || app.engine().push_outbox(CODE, true))
        };
        wait_for("the relay is under way", || received(&provider) > before)?;
        let started = Instant::now();
        let report = app.pause()?;
        pauses.push(started.elapsed());
        anyhow::ensure!(report.clean, "pause left work running");
        let _ = relay.join();
        let paused_at = received(&provider);
        let started = Instant::now();
        app.resume()?;
        wait_for("resume() sent the next item", || received(&provider) > paused_at)?;
        resumes.push(started.elapsed());
        // Let the re-delivery finish before the next round.
        wait_for("the queue is empty", || {
            app.store()
                .outbox_entries(false)
                .is_ok_and(|entries| entries.is_empty())
        })?;
    }
    pauses.sort_unstable();
    resumes.sort_unstable();
    let pause_p99 = percentile(&pauses, 0.99);
    println!(
        "pause during a relay, {ROUNDS} rounds: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&pauses, 0.5)),
        ms(pause_p99),
        ms(pauses[pauses.len() - 1])
    );
    table::row(
        &format!("pause() during an active relay (100 ms per upload), {ROUNDS} rounds"),
        &format!(
            "p99 {:.2} ms (p50 {:.2} ms)",
            ms(pause_p99),
            ms(percentile(&pauses, 0.5))
        ),
        "-",
        None,
        "<= 100 ms",
        Some(pause_p99 <= Duration::from_millis(100)),
    );
    table::row(
        "resume() to the next item received by the provider (100 ms per upload)",
        &format!(
            "p50 {:.1} ms, p99 {:.1} ms",
            ms(percentile(&resumes, 0.5)),
            ms(percentile(&resumes, 0.99))
        ),
        "the provider's 100 ms per upload",
        None,
        "-",
        None,
    );

    provider.admin().clear_faults();
    provider.admin().set_fault(Fault::new(
        Endpoint::UploadPictures,
        FaultKind::Latency { ms: 300 },
    ))?;
    let mut overshoots = Vec::new();
    for _ in 0..10 {
        queue(&app, 30)?;
        let deadline = Instant::now() + Duration::from_secs(1);
        let request = BackgroundRequest {
            reason: BackgroundReason::Scheduled,
            deadline,
            refresh_older_than: Duration::from_secs(3600),
        };
        app.run_background_sync(&request, &Stop::never())?;
        overshoots.push(Instant::now().saturating_duration_since(deadline));
        // Drain the rest before the next round.
        provider.admin().clear_faults();
        app.engine().push_outbox(CODE, true)?;
        provider.admin().set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 300 },
        ))?;
    }
    overshoots.sort_unstable();
    let worst = overshoots[overshoots.len() - 1];
    println!(
        "background run overshoot, 10 runs of 1 s: p50 {:.1} ms, max {:.1} ms",
        ms(percentile(&overshoots, 0.5)),
        ms(worst)
    );
    table::row(
        "background run past its 1 s deadline (300 ms per upload, 30 queued), worst of 10",
        &format!(
            "{:.1} ms (p50 {:.1} ms)",
            ms(worst),
            ms(percentile(&overshoots, 0.5))
        ),
        "-",
        None,
        "<= 250 ms",
        Some(worst <= Duration::from_millis(250)),
    );
    Ok(())
}
