//! Benchmark: check-in enqueue latency with the durable setting (`synchronous=FULL`), and delivery of 1,000
//! queued check-ins to the emulator over loopback.
//!
//! `cargo bench -p fieldsync-tests --bench checkin` (`FIELDSYNC_BENCH_CHECKINS=N` to scale).
//! Targets: enqueue p99 <= 2 ms; delivery of 1,000 <= 2 s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use fieldsync_core::checkin::LocationFix;
use fieldsync_core::model::{ImportKind, NewIntegration, ProjectId};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::CheckInRequest;
use fieldsync_core::sync::SyncEngine;
use fieldsync_core::{SecretKind, SecretStore, Store};
use serde_json::json;

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

fn main() -> Result<()> {
    let count: usize = std::env::var("FIELDSYNC_BENCH_CHECKINS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1000);
    let provider = fieldsync_provider::start(fieldsync_provider::ProviderConfig::default())?;
    provider.admin().create_user("vendor1", "pw1", "")?;
    let numbers: Vec<String> = (0..20).map(|n| format!("WO-{n}")).collect();
    for number in &numbers {
        provider.admin().create_work_order(
            json!({"workOrderNumber": number, "address1": "1 Elm", "city": "Springfield",
            "state": "IL", "zip": "62701", "gpsLatitude": 39.7817, "gpsLongitude": -89.6501,
            "services": [{"serviceName": "Lawn Cut"}], "assignedTo": "vendor1"}),
        )?;
    }
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path().join("bench.db"))?);
    store.create_integration(NewIntegration::new("BENCH", provider.base_url(), "vendor1"))?;
    let secrets = Arc::new(MemorySecretStore::default());
    secrets.set("BENCH", SecretKind::PasswordSha1, &password_sha1("pw1"))?;
    let engine = SyncEngine::new(store.clone(), secrets, dir.path());
    engine.refresh("BENCH", ImportKind::FullImport)?;

    let now = fieldsync_core::model::now();
    let mut latencies = Vec::with_capacity(count);
    for index in 0..count {
        let request = CheckInRequest {
            project: ProjectId::parse(&format!("BENCH::{}", numbers[index % numbers.len()]))?,
            fix: LocationFix {
                latitude: 39.7817,
                longitude: -89.6501,
                accuracy_m: 5.0,
                altitude_m: None,
                fix_time_ms: now * 1000,
                is_mock: false,
            },
            badge: Some("B-1".into()),
            user: None,
            device_time: now,
            device_id: "bench".into(),
        };
        let started = Instant::now();
        store.check_in(&request)?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));

    let started = Instant::now();
    let report = engine.push_outbox("BENCH", true)?;
    let delivery = started.elapsed();
    anyhow::ensure!(
        report.delivered as usize == count,
        "delivered {} of {count}",
        report.delivered
    );
    anyhow::ensure!(
        provider.admin().received_checkins()?.len() == count,
        "the provider did not get them all"
    );

    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!("| scenario | measured | target | |");
    println!("|---|---|---|---|");
    println!(
        "| check-in enqueue, durable (FULL), {count} calls | p50 {:.3} ms / p99 {:.3} ms | p99 <= 2 ms | {} |",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        verdict(p99 <= Duration::from_millis(2))
    );
    println!(
        "| delivery of {count} check-ins over loopback | {:.3} s ({:.0}/s) | <= 2 s for 1,000 | {} |",
        delivery.as_secs_f64(),
        count as f64 / delivery.as_secs_f64(),
        verdict(delivery <= Duration::from_secs(2) || count != 1000)
    );
    Ok(())
}
