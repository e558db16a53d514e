//! Living inside a phone app, end to end against the emulator with a real SQLite file: `pause()` during a
//! relay leaves no descriptor of and no lock on the database files and `resume()` finishes the relay
//! exactly once; a background run returns at its deadline with work left, and a second run finishes it;
//! cancelling a refresh leaves the cache and the integration's status as they were.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_core::app::{App, AppConfig};
use fieldsync_core::cancel::{CancelToken, Stop, StopReason};
use fieldsync_core::model::{ImportKind, IntegrationStatus, NewIntegration, ProjectQuery};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::CheckInRequest;
use fieldsync_core::sync::{BackgroundReason, BackgroundRequest};
use fieldsync_core::{Error, SecretKind, SecretStore};
use fieldsync_provider::{Endpoint, Fault, FaultKind, RunningProvider};
use fieldsync_tests::world::{CODE, HOME, PASSWORD, USER, fix, order_with, project, provider_with_orders};
use serde_json::json;

const NUMBERS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// An app (the composition root, as the bindings open it) on a fresh database, with the integration
/// imported from a provider serving orders 1 to 5.
struct Phone {
    provider: RunningProvider,
    dir: tempfile::TempDir,
    app: App,
}

impl Phone {
    fn new() -> Self {
        let provider =
            provider_with_orders(NUMBERS.map(|number| order_with(number, json!({"address1": "1 Elm"}))));
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecretStore::default());
        secrets
            .set(CODE, SecretKind::PasswordSha1, &password_sha1(PASSWORD))
            .unwrap();
        let app = App::open(AppConfig::new(dir.path().join("phone.db"), secrets)).unwrap();
        app.store()
            .create_integration(NewIntegration::new(CODE, provider.base_url(), USER))
            .unwrap();
        app.engine().refresh(CODE, ImportKind::FullImport).unwrap();
        Self { provider, dir, app }
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("phone.db")
    }

    /// `count` check-ins spread over the five projects; their UUIDs.
    fn check_ins(&self, count: usize) -> Vec<String> {
        let now = fieldsync_core::model::now();
        (0..count)
            .map(|index| {
                let request = CheckInRequest {
                    project: project(NUMBERS[index % NUMBERS.len()]),
                    fix: fix(HOME.0, HOME.1, now - 60 + index as i64),
                    badge: None,
                    user: None,
                    device_time: now,
                    device_id: "phone-1".into(),
                };
                self.app.store().check_in(&request).unwrap().uuid
            })
            .collect()
    }

    /// Check-in UUIDs the provider holds, sorted.
    fn received(&self) -> Vec<String> {
        let mut uuids: Vec<String> = self
            .provider
            .admin()
            .received_checkins()
            .unwrap()
            .into_iter()
            .map(|item| item.uuid)
            .collect();
        uuids.sort();
        uuids
    }

    fn wait_until(&self, what: &str, limit: Duration, done: impl Fn() -> bool) {
        let deadline = Instant::now() + limit;
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The database, WAL and SHM files of `database`.
fn database_files(database: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .collect()
}

/// This process's open descriptors of `files` (from `/proc/self/fd`).
fn open_descriptors(files: &[PathBuf]) -> Vec<PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| files.iter().any(|file| file == target))
        .collect()
}

/// Lines of `/proc/locks` on the inode of `file`.
fn locks_on(file: &Path) -> Vec<String> {
    let inode = std::fs::metadata(file).unwrap().ino();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .nth(5)
                .is_some_and(|id| id.rsplit(':').next() == Some(&inode.to_string()))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn pause_during_a_relay_closes_every_database_file_and_resume_finishes_the_relay_exactly_once() {
    let phone = Arc::new(Phone::new());
    let uuids = phone.check_ins(12);
    let files = database_files(&phone.database());
    assert!(
        !open_descriptors(&files).is_empty(),
        "the open app holds the database (the check below can fail)"
    );
    phone
        .provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 150 },
        ))
        .unwrap();
    let relay = {
        let phone = phone.clone();
        std::thread::spawn(move || phone.app.engine().push_outbox(CODE, true))
    };
    phone.wait_until("the relay is under way", Duration::from_secs(10), || {
        !phone.received().is_empty()
    });

    let report = phone.app.pause().unwrap();
    assert!(report.clean, "every operation stopped at a safe point");
    let relayed = relay.join().unwrap();
    match relayed {
        Ok(report) => assert_eq!(report.halted, Some(StopReason::Paused), "{report:?}"),
        Err(err) => assert!(matches!(err, Error::Paused | Error::Stopped(_)), "{err}"),
    }
    assert_eq!(
        open_descriptors(&files),
        Vec::<PathBuf>::new(),
        "no descriptor of the database, WAL or SHM file"
    );
    assert_eq!(
        locks_on(&files[0]),
        Vec::<String>::new(),
        "no lock on the database"
    );
    for sibling in &files[1..] {
        assert!(
            !sibling.exists() || locks_on(sibling).is_empty(),
            "no lock on {}",
            sibling.display()
        );
    }
    assert!(phone.app.is_paused());
    assert!(
        matches!(
            phone.app.store().list_projects(&ProjectQuery::default()),
            Err(Error::Paused)
        ),
        "a call while paused fails at once with a typed error"
    );
    assert!(matches!(
        phone.app.engine().push_outbox(CODE, true),
        Err(Error::Paused)
    ));
    let delivered_before_resume = phone.received().len();
    assert!(
        delivered_before_resume < uuids.len(),
        "the pause interrupted the relay"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        phone.received().len(),
        delivered_before_resume,
        "nothing is sent while paused"
    );

    phone.provider.admin().clear_faults();
    phone.app.resume().unwrap();
    assert!(!phone.app.is_paused());
    let mut expected = uuids.clone();
    expected.sort();
    phone.wait_until("resume() delivered the rest", Duration::from_secs(20), || {
        phone.received().len() >= expected.len()
    });
    assert_eq!(
        phone.received(),
        expected,
        "every check-in reached the provider exactly once"
    );
    phone.wait_until("the outbox is empty", Duration::from_secs(10), || {
        phone.app.store().outbox_entries(false).unwrap().is_empty()
    });
}

#[test]
fn a_background_run_stops_at_its_deadline_with_work_left_and_a_second_run_finishes() {
    let phone = Phone::new();
    let uuids = phone.check_ins(12);
    phone
        .provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: 500 },
        ))
        .unwrap();
    let budget = Duration::from_secs(2);
    let started = Instant::now();
    let request = BackgroundRequest {
        reason: BackgroundReason::Scheduled,
        deadline: started + budget,
        refresh_older_than: Duration::from_secs(15 * 60),
    };
    let first = phone.app.run_background_sync(&request, &Stop::never()).unwrap();
    let took = started.elapsed();
    assert_eq!(first.stopped, Some(StopReason::Deadline), "{first:?}");
    assert!(first.more_work, "{first:?}");
    assert!(
        first.delivered > 0 && (first.delivered as usize) < uuids.len(),
        "{first:?}"
    );
    assert!(
        took < budget + Duration::from_secs(1),
        "returned at its deadline, not after the queue: {took:?}"
    );
    assert!(
        first.next_run_at.is_some(),
        "work remains: a next run is worth it now"
    );
    assert_eq!(phone.received().len() as u64, first.delivered);

    let request = BackgroundRequest {
        deadline: Instant::now() + Duration::from_secs(30),
        ..request
    };
    let second = phone.app.run_background_sync(&request, &Stop::never()).unwrap();
    assert_eq!(second.stopped, None, "{second:?}");
    assert!(!second.more_work, "{second:?}");
    assert_eq!(second.next_run_at, None, "nothing waits out a backoff");
    assert_eq!(first.delivered + second.delivered, uuids.len() as u64);
    let mut expected = uuids;
    expected.sort();
    assert_eq!(phone.received(), expected, "each check-in exactly once");
}

#[test]
fn a_background_run_delivers_then_refreshes_what_is_due() {
    let phone = Phone::new();
    let uuids = phone.check_ins(5);
    let request = BackgroundRequest {
        reason: BackgroundReason::ConnectivityRegained,
        deadline: Instant::now() + Duration::from_secs(30),
        refresh_older_than: Duration::ZERO,
    };
    let result = phone.app.run_background_sync(&request, &Stop::never()).unwrap();
    assert_eq!(result.delivered, uuids.len() as u64);
    let refreshed = result
        .integrations
        .iter()
        .find(|integration| integration.code == CODE)
        .and_then(|integration| integration.refreshed.clone());
    assert!(
        refreshed.is_some(),
        "a due refresh ran after the deliveries: {result:?}"
    );
    assert!(!result.more_work);
}

#[test]
fn cancelling_a_refresh_leaves_the_cache_and_the_status_as_they_were() {
    let phone = Phone::new();
    // A change the refresh would bring, so that a refresh that went through would show.
    phone
        .provider
        .admin()
        .patch_work_order("1", json!({"address1": "99 Changed Rd"}))
        .unwrap();
    let address = |phone: &Phone| {
        phone
            .app
            .store()
            .project(&project("1"))
            .unwrap()
            .address1
            .unwrap_or_default()
    };
    assert_eq!(address(&phone), "1 Elm");

    for before in [IntegrationStatus::Idle, IntegrationStatus::Error] {
        if before == IntegrationStatus::Error {
            phone
                .provider
                .admin()
                .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::Http500).times(1))
                .unwrap();
            assert!(phone.app.engine().refresh(CODE, ImportKind::Refresh).is_err());
        }
        assert_eq!(phone.app.store().integration(CODE).unwrap().status, before);
        // The answer trickles: the refresh is mid-download when it is cancelled.
        phone
            .provider
            .admin()
            .set_fault(
                Fault::new(
                    Endpoint::GetWorkOrders,
                    FaultKind::Trickle {
                        bytes: 64,
                        every_ms: 20,
                        body: None,
                    },
                )
                .times(1),
            )
            .unwrap();
        let token = CancelToken::new();
        let stop = Stop::on(&token);
        let started = Instant::now();
        let cancelled = std::thread::scope(|scope| {
            let refresh = scope.spawn(|| phone.app.engine().refresh_until(CODE, ImportKind::Refresh, &stop));
            std::thread::sleep(Duration::from_millis(200));
            token.cancel();
            refresh.join().unwrap()
        });
        assert!(
            matches!(cancelled, Err(Error::Stopped(StopReason::Cancelled))),
            "{cancelled:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the download stopped when cancelled, not when the trickle ended"
        );
        let integration = phone.app.store().integration(CODE).unwrap();
        assert_eq!(
            integration.status, before,
            "back to where it was, never left running"
        );
        assert_eq!(address(&phone), "1 Elm", "the cache is as it was");
        phone.provider.admin().clear_faults();
    }
    phone.app.engine().refresh(CODE, ImportKind::Refresh).unwrap();
    assert_eq!(
        address(&phone),
        "99 Changed Rd",
        "a refresh that is not cancelled applies it"
    );
}

#[test]
fn a_cancelled_upload_is_aborted_mid_body_and_goes_again_later_under_the_same_uuid() {
    let phone = Phone::new();
    let uuids = phone.check_ins(1);
    let admin = phone.provider.admin();
    // The provider takes the request body 32 bytes every 40 ms: the upload is mid-body for seconds.
    admin
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::slow_body(32, 40)).times(1))
        .unwrap();
    let token = CancelToken::new();
    let stop = Stop::on(&token);
    let report = std::thread::scope(|scope| {
        let relay = scope.spawn(|| phone.app.engine().push_outbox_until(CODE, true, &stop));
        phone.wait_until("the body is arriving", Duration::from_secs(10), || {
            let traffic = admin.upload_traffic_for(Endpoint::UploadPictures);
            traffic.in_flight == 1 && traffic.body_bytes_received > 0
        });
        token.cancel();
        relay.join().unwrap()
    })
    .unwrap();
    assert_eq!(report.halted, Some(StopReason::Cancelled), "{report:?}");
    assert_eq!(report.delivered, 0);
    phone.wait_until(
        "the provider saw the client leave",
        Duration::from_secs(2),
        || admin.upload_traffic_for(Endpoint::UploadPictures).in_flight == 0,
    );
    let traffic = admin.upload_traffic_for(Endpoint::UploadPictures);
    assert_eq!(traffic.abandoned, 1, "{traffic:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        admin
            .upload_traffic_for(Endpoint::UploadPictures)
            .body_bytes_received,
        traffic.body_bytes_received,
        "the provider stopped receiving bytes"
    );
    assert!(phone.received().is_empty(), "nothing half-delivered is stored");
    let entry = &phone.app.store().outbox_entries(false).unwrap()[0];
    assert_eq!(entry.attempts, 0, "an aborted send is not an attempt");
    assert_eq!(entry.last_error, None);

    let report = phone.app.engine().push_outbox(CODE, false).unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(phone.received(), uuids, "sent again under the same UUID, once");
    let items = admin.received_checkins().unwrap();
    assert_eq!(items[0].deliveries, 1);
}
