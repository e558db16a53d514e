//! Benchmark: relay throughput of processed photos to the emulator over loopback, one at a time and with
//! several photos in flight, on plain loopback and with the emulator answering each upload `ms` later.
//!
//! `cargo bench -p fieldsync-tests --bench relay` (`FIELDSYNC_BENCH_RELAY_PHOTOS=N` photos, default 100;
//! `FIELDSYNC_BENCH_RELAY_RUNS=N` runs per scenario, median shown, default 3; photos from
//! `FIELDSYNC_PHOTO_FIXTURES`, else the repository's `fixtures/photos`).
//!
//! The photos are the phone JPEGs of the fixtures taken through the real pipeline (2048 px renditions,
//! about 0.5-1 MB), two per project (the same bytes twice in one project are one photo), so there are
//! always more projects ready than relays in flight. They are processed once into a template device; each
//! run copies it and relays every photo to a fresh emulator (a fresh one, else the uuIds would be
//! deduplicated and nothing stored). The timed part is `push_outbox` alone: claim, stream the rendition
//! from disk in a multipart request, the emulator hashes and stores the file and the item, record.
//! `latency` is the emulator's fault that delays each uploadPictures answer: a stand-in for the round
//! trip of a phone network, not for its bandwidth.
//!
//! The floor, measured in the same run and alternated with the relay: the same items and renditions sent
//! straight through `HttpTransport::upload_item` from as many threads, to a fresh emulator, each followed by
//! one fsync'd commit of one row on a raw connection, the least a relay that must never send a photo twice
//! has to record. No queue: no claim, no photo state. The ratio is what the outbox costs on top of the
//! uploads. The rows at the default concurrency go into docs/BENCHMARKS.md's table.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fieldsync_core::model::{ImportKind, IntegrationEdit, NewIntegration, ProjectId};
use fieldsync_core::photo::files::{Kind, PhotoFiles};
use fieldsync_core::photo::{EvidenceType, default_settings};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::AddPhoto;
use fieldsync_core::sync::{DEFAULT_RELAY_CONCURRENCY, SyncEngine};
use fieldsync_core::transport::{HttpTransport, ProviderCredentials, Timeouts, UploadFile};
use fieldsync_core::{SecretKind, SecretStore, Store};
use fieldsync_provider::{Endpoint, Fault, FaultKind, ProviderConfig, RunningProvider};
use serde_json::json;

#[path = "support/durable.rs"]
mod durable;
#[path = "support/table.rs"]
mod table;

const CODE: &str = "BENCH";
/// The relay may take this much longer than its floor (the uploads, one fsync'd commit each).
const TARGET_RATIO: f64 = 1.5;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn order(number: &str) -> serde_json::Value {
    json!({"workOrderNumber": number, "address1": "412 Elm St", "city": "Springfield", "state": "IL",
        "zip": "62701", "gpsLatitude": 39.7817, "gpsLongitude": -89.6501,
        "services": [{"serviceName": "Lawn Cut"}], "assignedTo": "vendor1"})
}

/// An emulator with the login and the projects' orders.
fn provider(projects: usize) -> Result<RunningProvider> {
    let provider = fieldsync_provider::start(ProviderConfig::default())?;
    provider.admin().create_user("vendor1", "pw1", "")?;
    for project in 0..projects {
        provider
            .admin()
            .create_work_order(order(&format!("P-{project:03}")))?;
    }
    Ok(provider)
}

fn secrets() -> Result<Arc<MemorySecretStore>> {
    let secrets = Arc::new(MemorySecretStore::default());
    secrets.set(CODE, SecretKind::PasswordSha1, &password_sha1("pw1"))?;
    Ok(secrets)
}

/// A device with `count` processed photos queued for relay; returns their rendition sizes.
fn template(dir: &Path, count: usize, sources: &[PathBuf]) -> Result<Vec<u64>> {
    let projects = count.div_ceil(sources.len());
    let provider = provider(projects)?;
    let store = Arc::new(Store::open(dir.join("device.db"))?);
    let mut new = NewIntegration::new(CODE, provider.base_url(), "vendor1");
    new.auto_relay = true;
    store.create_integration(new)?;
    let files = PhotoFiles::open(dir.join("photos"))?;
    SyncEngine::new(store.clone(), secrets()?, dir).refresh(CODE, ImportKind::FullImport)?;
    let settings = default_settings();
    for index in 0..count {
        let request = AddPhoto {
            project: ProjectId::parse(&format!("{CODE}::P-{:03}", index / sources.len()))?,
            task: "Lawn Cut".into(),
            evidence: EvidenceType::Before,
            source: &sources[index % sources.len()],
            fix: None,
            device_id: "bench".into(),
            device_time: fieldsync_core::model::now(),
        };
        let added = store.add_photo(&files, &request, &settings.limits)?;
        ensure!(!added.duplicate, "photo {index} is a duplicate");
    }
    ensure!(
        store.process_pending_photos(&files, &settings)? as usize == count,
        "not every photo was processed"
    );
    let due = store.photos_due_for_relay(CODE, fieldsync_core::model::now(), true)?;
    ensure!(due.len() == count, "{} photos due of {count}", due.len());
    Ok(due.iter().map(|(_, size)| *size).collect())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A fresh emulator whose every uploadPictures answer comes `latency_ms` late.
fn slow_provider(projects: usize, latency_ms: u64) -> Result<RunningProvider> {
    let provider = provider(projects)?;
    if latency_ms > 0 {
        provider.admin().set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: latency_ms },
        ))?;
    }
    Ok(provider)
}

/// Checks that the emulator got each of the `count` photos exactly once.
fn received_once(provider: &RunningProvider, count: usize) -> Result<()> {
    let received = provider.admin().received_pictures()?;
    ensure!(
        received.len() == count && received.iter().all(|item| item.deliveries == 1),
        "the provider did not get each photo exactly once"
    );
    Ok(())
}

/// One row of the bench: the template's photos, sent `workers` at a time to an emulator answering each
/// upload `latency_ms` late.
struct Scenario<'a> {
    template: &'a Path,
    count: usize,
    projects: usize,
    workers: usize,
    latency_ms: u64,
}

impl Scenario<'_> {
    /// A fresh emulator and a fresh copy of the template device, in a folder of its own.
    fn prepare(&self) -> Result<(RunningProvider, tempfile::TempDir)> {
        let provider = slow_provider(self.projects, self.latency_ms)?;
        let dir = tempfile::tempdir()?;
        copy_dir(self.template, dir.path())?;
        Ok((provider, dir))
    }
}

/// Relays every photo of a copy of the template; returns the time `push_outbox` took.
fn relay_once(scenario: &Scenario) -> Result<Duration> {
    let (count, workers) = (scenario.count, scenario.workers);
    let (provider, dir) = scenario.prepare()?;
    let store = Arc::new(Store::open(dir.path().join("device.db"))?);
    store.edit_integration(
        CODE,
        &IntegrationEdit {
            base_url: Some(provider.base_url()),
            ..IntegrationEdit::default()
        },
    )?;
    let engine = SyncEngine::new(store, secrets()?, dir.path())
        .with_photo_files(PhotoFiles::open(dir.path().join("photos"))?)
        .with_relay_concurrency(workers);
    let started = Instant::now();
    let report = engine.push_outbox(CODE, true)?;
    let elapsed = started.elapsed();
    ensure!(report.delivered as usize == count, "{report:?}");
    received_once(&provider, count)?;
    Ok(elapsed)
}

/// One photo as the floor sends it: its item, file name and rendition, read from the queue beforehand.
struct Upload {
    item: serde_json::Value,
    file_name: String,
    rendition: PathBuf,
}

/// The floor: the template's photos sent straight through the transport from `workers` threads, each
/// followed by one fsync'd commit that records it as sent; returns the time that took.
fn floor_once(scenario: &Scenario) -> Result<Duration> {
    let (count, workers) = (scenario.count, scenario.workers);
    let (provider, dir) = scenario.prepare()?;
    // Untimed: what the relay reads from its queue, read here beforehand.
    let store = Store::open(dir.path().join("device.db"))?;
    let files = PhotoFiles::open(dir.path().join("photos"))?;
    let uploads = store
        .photos_due_for_relay(CODE, fieldsync_core::model::now(), true)?
        .into_iter()
        .map(|(uuid, _)| {
            let upload = store.photo_upload(&uuid)?;
            Ok(Upload {
                item: upload.item,
                file_name: upload.file_name,
                rendition: files.path(Kind::Rendition, &upload.rendition_sha256),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    ensure!(
        uploads.len() == count,
        "{} photos to send of {count}",
        uploads.len()
    );
    let transport = HttpTransport::new(&provider.base_url(), None, Timeouts::default())?;
    let credentials = ProviderCredentials {
        username: "vendor1".into(),
        password_sha1: password_sha1("pw1"),
        token: None,
    };
    let sent = std::sync::Mutex::new(durable::fsync_floor(&dir.path().join("floor.db"))?);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let senders: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    while let Some(upload) = uploads.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let file = std::fs::File::open(&upload.rendition)?;
                        let length = file.metadata()?.len();
                        transport.upload_item(
                            &credentials,
                            &upload.item,
                            Some(UploadFile {
                                name: upload.file_name.clone(),
                                reader: Box::new(file.take(length)),
                                length,
                            }),
                        )?;
                        let id = upload.item["uuId"]
                            .as_str()
                            .ok_or_else(|| anyhow::anyhow!("an upload item without its uuId"))?;
                        sent.lock()
                            .map_err(|_| anyhow::anyhow!("a sender panicked"))?
                            .execute("INSERT INTO t (id, payload) VALUES (?1, 'sent')", [id])?;
                    }
                    Ok(())
                })
            })
            .collect();
        for sender in senders {
            sender
                .join()
                .map_err(|_| anyhow::anyhow!("a sender panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = started.elapsed();
    received_once(&provider, count)?;
    Ok(elapsed)
}

fn main() -> Result<()> {
    let count = env_number("FIELDSYNC_BENCH_RELAY_PHOTOS", 100);
    let runs = env_number("FIELDSYNC_BENCH_RELAY_RUNS", 3);
    let sources = fieldsync_tests::photos::phone_jpegs(&fieldsync_tests::photos::photo_fixtures()?)?;
    let projects = count.div_ceil(sources.len());
    let template_dir = tempfile::tempdir()?;
    let started = Instant::now();
    let sizes = template(template_dir.path(), count, &sources)?;
    let bytes: u64 = sizes.iter().sum();
    let mb = |bytes: u64| bytes as f64 / 1e6;
    println!(
        "Relay of {count} processed photos ({:.1} MB, {:.2}-{:.2} MB each, {projects} projects) to the emulator \
         over loopback; median of {runs} runs; prepared in {:.1} s\n",
        mb(bytes),
        mb(sizes.iter().copied().min().unwrap_or(0)),
        mb(sizes.iter().copied().max().unwrap_or(0)),
        started.elapsed().as_secs_f64()
    );
    println!(
        "| latency per upload | in flight | relay | photos/s | MB/s | vs 1 in flight | floor: uploads + one fsync'd commit each | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut concurrency: Vec<usize> = vec![1, 2, 3, 4, DEFAULT_RELAY_CONCURRENCY];
    concurrency.sort_unstable();
    concurrency.dedup();
    for latency_ms in [0_u64, 20] {
        let mut one_at_a_time = None;
        for &workers in &concurrency {
            // Relay and floor alternated, so that a slow moment of the machine falls on both.
            let (mut relays, mut floors) = (Vec::new(), Vec::new());
            let scenario = Scenario {
                template: template_dir.path(),
                count,
                projects,
                workers,
                latency_ms,
            };
            for _ in 0..runs {
                relays.push(relay_once(&scenario)?);
                floors.push(floor_once(&scenario)?);
            }
            let (relay, floor) = (table::median(&relays), table::median(&floors));
            let seconds = relay.as_secs_f64();
            let ratio = seconds / floor.as_secs_f64();
            let base = *one_at_a_time.get_or_insert(seconds);
            let default = if workers == DEFAULT_RELAY_CONCURRENCY {
                " (default)"
            } else {
                ""
            };
            println!(
                "| {latency_ms} ms | {workers}{default} | {:.3} s | {:.1} | {:.1} | {:.2}x | {:.3} s | {ratio:.2}x |",
                seconds,
                count as f64 / seconds,
                bytes as f64 / 1e6 / seconds,
                base / seconds,
                floor.as_secs_f64()
            );
            if workers == DEFAULT_RELAY_CONCURRENCY {
                table::row(
                    &format!(
                        "relay of {count} photos ({:.1} MB), {workers} in flight, emulator answering {latency_ms} ms late (median of {runs})",
                        mb(bytes)
                    ),
                    &format!("{seconds:.3} s"),
                    &format!(
                        "{:.3} s: the same uploads through the transport, one fsync'd commit each",
                        floor.as_secs_f64()
                    ),
                    Some(ratio),
                    &format!("<= {TARGET_RATIO}x"),
                    Some(ratio <= TARGET_RATIO),
                );
            }
        }
    }
    Ok(())
}
