//! The delivery rules, each with a fake courier and a fake clock over a real SQLite store: no HTTP, no
//! sleeping.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde_json::json;

use super::delivery::{Clock, Courier, DeliveryOptions, deliver};
use super::lease::RunLease;
use super::{
    ClaimedEntry, DeliveryOutcome, EntryKind, EntryState, NetworkState, UploadPolicy, WaitReason, queue,
};
use crate::model::{ImportKind, NewIntegration, ProjectEdit, ProjectId, Timestamp};
use crate::store::{ImportOptions, Store};

const START: Timestamp = 1_800_000_000;

struct FakeClock(AtomicI64);

impl FakeClock {
    fn at(now: Timestamp) -> Self {
        Self(AtomicI64::new(now))
    }

    fn set(&self, now: Timestamp) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        self.0.load(Ordering::SeqCst)
    }

    fn random(&self) -> f64 {
        0.0
    }
}

/// Answers with its script, in order (an outcome for any entry, or for one entry id), else delivered; and
/// remembers what it was given.
#[derive(Default)]
struct FakeCourier {
    script: Mutex<Vec<(Option<String>, DeliveryOutcome)>>,
    sent: Mutex<Vec<String>>,
}

impl FakeCourier {
    fn answering(outcomes: Vec<DeliveryOutcome>) -> Self {
        Self {
            script: Mutex::new(outcomes.into_iter().map(|outcome| (None, outcome)).collect()),
            sent: Mutex::default(),
        }
    }

    fn refusing(id: &str, outcomes: Vec<DeliveryOutcome>) -> Self {
        Self {
            script: Mutex::new(
                outcomes
                    .into_iter()
                    .map(|outcome| (Some(id.to_owned()), outcome))
                    .collect(),
            ),
            sent: Mutex::default(),
        }
    }

    fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().clone()
    }
}

impl Courier for FakeCourier {
    fn send(&self, entry: &ClaimedEntry) -> DeliveryOutcome {
        self.sent.lock().unwrap().push(entry.id.clone());
        let mut script = self.script.lock().unwrap();
        let scripted = script
            .iter()
            .position(|(only, _)| only.as_ref().is_none_or(|only| *only == entry.id));
        match scripted {
            Some(index) => script.remove(index).1,
            None => DeliveryOutcome::Delivered,
        }
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Store,
}

/// A store with integration ACME and projects `1..=projects`.
fn world(projects: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.db")).unwrap();
    store
        .create_integration(NewIntegration::new("ACME", "http://127.0.0.1:9/api", "vendor1"))
        .unwrap();
    let orders: Vec<_> = (1..=projects)
        .map(|number| {
            json!({"workOrderNumber": number.to_string(), "address1": "1 Elm", "city": "Springfield",
                   "state": "IL", "zip": "62701", "clientStatus": "Open", "services": [{"serviceName": "Lawn"}]})
        })
        .collect();
    let body = json!({"workOrders": orders, "error": ""}).to_string();
    store
        .import_response(
            "ACME",
            Cursor::new(body),
            None,
            &ImportOptions::new(ImportKind::FullImport),
        )
        .unwrap();
    World { _dir: dir, store }
}

impl World {
    /// Queues a status change of project `number` (a status entry); returns its id.
    fn status_change(&self, number: usize, status: &str) -> String {
        let id = ProjectId::parse(&format!("ACME::{number}")).unwrap();
        self.store
            .edit_project(
                &id,
                &ProjectEdit {
                    status: Some(status.into()),
                    ..ProjectEdit::default()
                },
            )
            .unwrap();
        self.entries().last().unwrap().id.clone()
    }

    fn entries(&self) -> Vec<super::OutboxSummary> {
        self.store.outbox_entries(true).unwrap()
    }

    fn entry(&self, id: &str) -> super::OutboxSummary {
        self.entries().into_iter().find(|entry| entry.id == id).unwrap()
    }

    fn next_attempt_at(&self, id: &str) -> Option<Timestamp> {
        self.store
            .read(|connection| {
                Ok(
                    connection.query_row(
                        "SELECT next_attempt_at FROM outbox WHERE id = ?1",
                        [id],
                        |row| row.get(0),
                    )?,
                )
            })
            .unwrap()
    }

    fn run(&self, courier: &FakeCourier, clock: &FakeClock, ignore_backoff: bool) -> super::DeliveryReport {
        self.run_with(courier, clock, ignore_backoff, 3)
    }

    /// Queues an entry of `kind` for project `number` straight into the outbox; returns its id.
    fn enqueue(&self, number: usize, kind: EntryKind, state: EntryState) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.store
            .write(|tx| {
                let (integration_id, project_id): (i64, i64) = tx.query_row(
                    "SELECT integration_id, id FROM projects WHERE work_order_number = ?1",
                    [number.to_string()],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                let entry = queue::NewEntry {
                    id: &id,
                    integration_id,
                    project_id: Some(project_id),
                    kind,
                    state,
                    payload: &json!({}),
                };
                queue::enqueue(tx, &entry, START)
            })
            .unwrap();
        id
    }

    /// Puts an entry in `state` directly (with a backoff until `next_attempt_at`).
    fn force_state(&self, id: &str, state: EntryState, next_attempt_at: Option<Timestamp>) {
        self.store
            .write(|tx| {
                tx.execute(
                    "UPDATE outbox SET state = ?2, next_attempt_at = ?3, last_error = 'refused' WHERE id = ?1",
                    rusqlite::params![id, state, next_attempt_at],
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn run_under(&self, courier: &FakeCourier, conditions: super::UploadConditions) -> super::DeliveryReport {
        let lease = RunLease::acquire(&self.store.lease_directory()).unwrap();
        let queue = self.store.outbox_queue("ACME").unwrap();
        let options = DeliveryOptions {
            ignore_backoff: false,
            concurrency: 2,
            before_photos: false,
            conditions,
        };
        deliver(
            &queue,
            courier,
            &FakeClock::at(START),
            &lease,
            options,
            &crate::cancel::Stop::never(),
        )
        .unwrap()
    }

    fn run_with(
        &self,
        courier: &dyn Courier,
        clock: &FakeClock,
        ignore_backoff: bool,
        concurrency: usize,
    ) -> super::DeliveryReport {
        let lease = RunLease::acquire(&self.store.lease_directory()).unwrap();
        let queue = self.store.outbox_queue("ACME").unwrap();
        deliver(
            &queue,
            courier,
            clock,
            &lease,
            DeliveryOptions {
                ignore_backoff,
                concurrency,
                before_photos: false,
                conditions: super::UploadConditions::default(),
            },
            &crate::cancel::Stop::never(),
        )
        .unwrap()
    }
}

#[test]
fn a_transient_failure_retries_with_backoff_that_honours_retry_after() {
    let world = world(2);
    let first = world.status_change(1, "In Progress");
    let second = world.status_change(2, "In Progress");
    let courier = FakeCourier::answering(vec![DeliveryOutcome::Transient {
        message: "503 Service Unavailable".into(),
        retry_after: Some(Duration::from_secs(900)),
    }]);
    let clock = FakeClock::at(START);
    let report = world.run_with(&courier, &clock, false, 1);
    assert_eq!(report.stopped.as_deref(), Some("503 Service Unavailable"));
    assert_eq!((report.delivered, report.retrying), (0, 1));
    assert_eq!(
        courier.sent(),
        std::slice::from_ref(&first),
        "the run stops at the first transient failure"
    );
    assert_eq!(world.entry(&first).state, EntryState::RetryWait);
    assert_eq!(
        world.next_attempt_at(&first),
        Some(START + 900),
        "Retry-After outweighs the 15 s backoff"
    );

    clock.set(START + 899);
    let report = world.run_with(&courier, &clock, false, 1);
    assert_eq!(
        courier.sent(),
        [first.clone(), second.clone()],
        "the waiting entry is not retried early"
    );
    assert_eq!(report.delivered, 1);

    clock.set(START + 900);
    let report = world.run_with(&courier, &clock, false, 1);
    assert_eq!(report.delivered, 1);
    assert_eq!(world.entry(&first).state, EntryState::Done);
    assert_eq!(world.entry(&first).attempts, 2);
}

#[test]
fn three_permanent_failures_need_attention_with_the_reason() {
    let world = world(2);
    let refused = world.status_change(1, "In Progress");
    let other = world.status_change(2, "In Progress");
    let permanent = || DeliveryOutcome::Permanent {
        message: "unknown work order 1".into(),
    };
    let courier = FakeCourier::refusing(&refused, vec![permanent(), permanent(), permanent()]);
    let clock = FakeClock::at(START);
    let first = world.run_with(&courier, &clock, true, 1);
    assert_eq!(
        (first.delivered, first.retrying, first.stopped.clone()),
        (1, 1, None),
        "a refused entry does not stop the run"
    );
    assert_eq!(world.entry(&other).state, EntryState::Done);
    world.run_with(&courier, &clock, true, 1);
    assert_eq!(world.entry(&refused).state, EntryState::RetryWait);
    let third = world.run_with(&courier, &clock, true, 1);
    assert_eq!(third.needs_attention, 1);
    let entry = world.entry(&refused);
    assert_eq!(entry.state, EntryState::NeedsAttention);
    assert_eq!(entry.attempts, 3);
    assert_eq!(entry.last_error.as_deref(), Some("unknown work order 1"));
    let fourth = world.run_with(&courier, &clock, true, 1);
    assert_eq!(
        fourth,
        super::DeliveryReport::default(),
        "it waits for the user, never retried alone"
    );
    world.store.retry_outbox_entry(&refused).unwrap();
    assert_eq!(
        world.run_with(&courier, &clock, true, 1).delivered,
        1,
        "the user's retry sends it"
    );
}

/// Checks per-project order and one entry per project at a time, under concurrency.
#[derive(Default)]
struct OrderCourier {
    projects_in_flight: Mutex<HashSet<String>>,
    sent: Mutex<Vec<(String, String)>>,
    overlap: Mutex<bool>,
}

impl Courier for OrderCourier {
    fn send(&self, entry: &ClaimedEntry) -> DeliveryOutcome {
        let number = entry.payload["workOrderNumber"].as_str().unwrap().to_owned();
        if !self.projects_in_flight.lock().unwrap().insert(number.clone()) {
            *self.overlap.lock().unwrap() = true;
        }
        std::thread::yield_now();
        self.sent.lock().unwrap().push((
            number.clone(),
            entry.payload["status"].as_str().unwrap().to_owned(),
        ));
        self.projects_in_flight.lock().unwrap().remove(&number);
        DeliveryOutcome::Delivered
    }
}

#[test]
fn each_project_goes_in_order_one_entry_at_a_time() {
    let world = world(4);
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for step in 0..6 {
        for number in 1..=4 {
            let status = format!("step {step}");
            world.status_change(number, &status);
            expected.entry(number.to_string()).or_default().push(status);
        }
    }
    let courier = OrderCourier::default();
    let report = world.run_with(&courier, &FakeClock::at(START), false, 3);
    assert_eq!(report.delivered, 24);
    assert!(
        !*courier.overlap.lock().unwrap(),
        "two entries of one project were in flight at once"
    );
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for (number, status) in courier.sent.lock().unwrap().iter() {
        seen.entry(number.clone()).or_default().push(status.clone());
    }
    assert_eq!(seen, expected);
}

#[test]
fn held_entries_are_skipped_and_hold_nothing_back() {
    let world = world(1);
    let held = "00000000-0000-4000-8000-00000000beef";
    world
        .store
        .write(|tx| {
            let (integration_id, project_id): (i64, i64) =
                tx.query_row("SELECT integration_id, id FROM projects", [], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
            let entry = queue::NewEntry {
                id: held,
                integration_id,
                project_id: Some(project_id),
                kind: EntryKind::Photo,
                state: EntryState::Held,
                payload: &json!({}),
            };
            queue::enqueue(tx, &entry, START)
        })
        .unwrap();
    let after = world.status_change(1, "In Progress");
    let courier = FakeCourier::default();
    let report = world.run(&courier, &FakeClock::at(START), false);
    assert_eq!(courier.sent(), std::slice::from_ref(&after));
    assert_eq!(report.delivered, 1);
    assert_eq!(world.entry(held).state, EntryState::Held);
}

/// Holds sends in groups of `limit`: each waits until its group is complete (or a generous guard runs
/// out), and the most sends in flight at once is remembered.
struct GateCourier {
    limit: usize,
    gate: Mutex<Gate>,
    changed: Condvar,
}

#[derive(Default)]
struct Gate {
    arrived: usize,
    in_flight: usize,
    most: usize,
}

impl Courier for GateCourier {
    fn send(&self, _entry: &ClaimedEntry) -> DeliveryOutcome {
        let mut gate = self.gate.lock().unwrap();
        gate.arrived += 1;
        gate.in_flight += 1;
        gate.most = gate.most.max(gate.in_flight);
        let group_complete_at = gate.arrived.div_ceil(self.limit) * self.limit;
        self.changed.notify_all();
        let (mut gate, _) = self
            .changed
            .wait_timeout_while(gate, Duration::from_secs(10), |gate| {
                gate.arrived < group_complete_at
            })
            .unwrap();
        gate.in_flight -= 1;
        DeliveryOutcome::Delivered
    }
}

#[test]
fn the_concurrency_limit_is_reached_and_never_exceeded() {
    let world = world(9);
    for number in 1..=9 {
        world.status_change(number, "In Progress");
    }
    let courier = GateCourier {
        limit: 3,
        gate: Mutex::default(),
        changed: Condvar::new(),
    };
    let report = world.run_with(&courier, &FakeClock::at(START), false, 3);
    assert_eq!(report.delivered, 9);
    assert_eq!(courier.gate.lock().unwrap().most, 3);
}

#[test]
fn in_flight_entries_of_a_dead_run_are_recovered_and_a_live_runs_are_left_alone() {
    let world = world(2);
    let orphaned = world.status_change(1, "In Progress");
    let busy = world.status_change(2, "In Progress");
    let busy_next = world.status_change(2, "Complete");
    let directory = world.store.lease_directory();
    let live = RunLease::acquire(&directory).unwrap();
    // What a killed run leaves: its lock file, with nobody holding the lock.
    let dead_owner = "0badc0de";
    std::fs::write(directory.join(format!("{dead_owner}.lock")), b"").unwrap();
    world
        .store
        .write(|tx| {
            assert!(queue::claim(tx, &orphaned, dead_owner, START)?.is_some());
            assert!(queue::claim(tx, &busy, live.owner(), START)?.is_some());
            Ok(())
        })
        .unwrap();

    let courier = FakeCourier::default();
    let report = world.run(&courier, &FakeClock::at(START), false);
    assert_eq!(
        courier.sent(),
        std::slice::from_ref(&orphaned),
        "only the dead run's entry is taken back"
    );
    assert_eq!(report.delivered, 1);
    assert_eq!(world.entry(&busy).state, EntryState::InFlight);
    assert_eq!(
        world.entry(&busy_next).state,
        EntryState::Queued,
        "held back behind the live run's entry"
    );

    drop(live);
    let report = world.run(&courier, &FakeClock::at(START), false);
    assert_eq!(report.delivered, 2);
    assert_eq!(courier.sent(), [orphaned, busy, busy_next]);
}

#[test]
fn two_runs_at_once_never_send_the_same_entry() {
    let world = world(6);
    let mut ids = Vec::new();
    for step in 0..5 {
        for number in 1..=6 {
            ids.push(world.status_change(number, &format!("step {step}")));
        }
    }
    let courier = FakeCourier::default();
    let clock = FakeClock::at(START);
    std::thread::scope(|scope| {
        scope.spawn(|| world.run(&courier, &clock, false));
        scope.spawn(|| world.run(&courier, &clock, false));
    });
    // Whatever one run left behind the other's entries, a third run finishes.
    world.run(&courier, &clock, false);
    let mut sent = courier.sent();
    assert_eq!(sent.len(), ids.len(), "an entry was sent twice: {sent:?}");
    sent.sort();
    ids.sort();
    assert_eq!(sent, ids);
}

#[test]
fn the_schema_allows_exactly_the_states_of_the_enum() {
    let world = world(0);
    let schema: String = world
        .store
        .read(|connection| {
            Ok(
                connection.query_row("SELECT sql FROM sqlite_master WHERE name = 'outbox'", [], |row| {
                    row.get(0)
                })?,
            )
        })
        .unwrap();
    for state in EntryState::ALL {
        assert!(
            schema.contains(&format!("'{state}'")),
            "{state} is missing from {schema}"
        );
    }
}

fn conditions(network: NetworkState, photos_on_wifi_only: bool, paused: bool) -> super::UploadConditions {
    super::UploadConditions {
        network,
        policy: UploadPolicy {
            photos_on_wifi_only,
            paused,
        },
    }
}

#[test]
fn wifi_only_on_a_metered_network_holds_photos_and_sends_check_ins_then_unmetered_sends_the_photos_once() {
    let world = world(2);
    let photo = world.enqueue(1, EntryKind::Photo, EntryState::Queued);
    let check_in = world.enqueue(1, EntryKind::CheckIn, EntryState::Queued);
    let status = world.enqueue(1, EntryKind::Status, EntryState::Queued);
    let other = world.enqueue(2, EntryKind::Status, EntryState::Queued);
    let survey = world.enqueue(2, EntryKind::Survey, EntryState::Queued);

    let metered = FakeCourier::default();
    let report = world.run_under(&metered, conditions(NetworkState::Metered, true, false));
    let mut sent = metered.sent();
    sent.sort();
    let mut expected = vec![check_in.clone(), other.clone()];
    expected.sort();
    assert_eq!(sent, expected, "the status of project 1 waits behind its photo");
    assert_eq!(report.delivered, 2);
    assert_eq!(world.entry(&photo).state, EntryState::Queued);
    assert_eq!(world.entry(&status).state, EntryState::Queued);

    let unmetered = FakeCourier::default();
    world.run_under(&unmetered, conditions(NetworkState::Unmetered, true, false));
    let sent = unmetered.sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    let position = |id: &String| sent.iter().position(|sent| sent == id).unwrap();
    assert!(
        position(&photo) < position(&status),
        "the provider sees the photo before the status"
    );
    assert!(sent.contains(&survey));
    let again = FakeCourier::default();
    world.run_under(&again, conditions(NetworkState::Unmetered, true, false));
    assert!(again.sent().is_empty(), "each item went once");
}

#[test]
fn no_network_sends_nothing_and_says_so() {
    let world = world(1);
    world.enqueue(1, EntryKind::CheckIn, EntryState::Queued);
    let courier = FakeCourier::default();
    let report = world.run_under(&courier, conditions(NetworkState::None, false, false));
    assert!(courier.sent().is_empty());
    assert_eq!(report.stopped.as_deref(), Some(super::delivery::NO_NETWORK));
}

#[test]
fn pause_holds_photos_and_surveys_but_not_check_ins_or_statuses() {
    let world = world(2);
    let photo = world.enqueue(1, EntryKind::Photo, EntryState::Queued);
    let check_in = world.enqueue(1, EntryKind::CheckIn, EntryState::Queued);
    let status = world.enqueue(2, EntryKind::Status, EntryState::Queued);
    let courier = FakeCourier::default();
    world.run_under(&courier, conditions(NetworkState::Unmetered, false, true));
    let mut sent = courier.sent();
    sent.sort();
    let mut expected = vec![check_in, status];
    expected.sort();
    assert_eq!(sent, expected);
    assert_eq!(world.entry(&photo).state, EntryState::Queued);
}

#[test]
fn the_upload_log_gives_each_entry_its_reason_under_the_stored_policy() {
    let world = world(3);
    world
        .store
        .set_upload_policy(UploadPolicy {
            photos_on_wifi_only: true,
            paused: false,
        })
        .unwrap();
    let photo = world.enqueue(1, EntryKind::Photo, EntryState::Queued);
    let check_in = world.enqueue(1, EntryKind::CheckIn, EntryState::Queued);
    let status = world.enqueue(1, EntryKind::Status, EntryState::Queued);
    let backing_off = world.enqueue(2, EntryKind::Status, EntryState::Queued);
    world.force_state(&backing_off, EntryState::RetryWait, Some(Timestamp::MAX / 2));
    let failed = world.enqueue(3, EntryKind::Status, EntryState::Queued);
    world.force_state(&failed, EntryState::NeedsAttention, None);
    let behind = world.enqueue(3, EntryKind::CheckIn, EntryState::Queued);
    let reason = |network, id: &str| {
        world
            .store
            .upload_log(network)
            .unwrap()
            .into_iter()
            .find(|entry| entry.id == id)
            .unwrap()
            .waits_for
            .unwrap()
    };
    assert_eq!(reason(NetworkState::Metered, &photo), WaitReason::WaitingForWifi);
    assert_eq!(reason(NetworkState::Metered, &check_in), WaitReason::Queued);
    assert_eq!(reason(NetworkState::Metered, &status), WaitReason::WaitingForWifi);
    assert_eq!(reason(NetworkState::Unmetered, &photo), WaitReason::Queued);
    assert_eq!(reason(NetworkState::Unmetered, &status), WaitReason::Queued);
    assert_eq!(
        reason(NetworkState::None, &check_in),
        WaitReason::WaitingForNetwork
    );
    assert_eq!(
        reason(NetworkState::Unmetered, &backing_off),
        WaitReason::Backoff {
            until: Timestamp::MAX / 2
        }
    );
    assert_eq!(
        reason(NetworkState::Unmetered, &failed),
        WaitReason::NeedsAttention {
            error: "refused".into()
        }
    );
    assert_eq!(reason(NetworkState::Unmetered, &behind), WaitReason::EarlierItem);
    world
        .store
        .set_upload_policy(UploadPolicy {
            photos_on_wifi_only: true,
            paused: true,
        })
        .unwrap();
    assert_eq!(reason(NetworkState::Unmetered, &photo), WaitReason::Paused);
    assert_eq!(
        world.store.upload_policy().unwrap(),
        UploadPolicy {
            photos_on_wifi_only: true,
            paused: true
        }
    );
}

#[test]
fn retry_all_failed_queues_entries_that_need_attention_or_back_off_and_nothing_else() {
    let world = world(4);
    let failed = world.enqueue(1, EntryKind::Status, EntryState::Queued);
    world.force_state(&failed, EntryState::NeedsAttention, None);
    let waiting = world.enqueue(2, EntryKind::Photo, EntryState::Queued);
    world.force_state(&waiting, EntryState::RetryWait, Some(START + 600));
    let held = world.enqueue(3, EntryKind::Photo, EntryState::Held);
    let done = world.enqueue(4, EntryKind::CheckIn, EntryState::Queued);
    world.force_state(&done, EntryState::Done, None);
    assert_eq!(world.store.retry_all_failed().unwrap(), 2);
    assert_eq!(world.entry(&failed).state, EntryState::Queued);
    assert_eq!(world.entry(&waiting).state, EntryState::Queued);
    assert_eq!(world.next_attempt_at(&waiting), None);
    assert_eq!(world.entry(&held).state, EntryState::Held);
    assert_eq!(world.entry(&done).state, EntryState::Done);
    assert_eq!(world.store.retry_all_failed().unwrap(), 0);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Whatever the mix of states and kinds, cleaning up removes exactly the delivered check-ins and
    /// statuses (and photos and surveys without a record to publish again) and leaves every undelivered
    /// entry as it was.
    #[test]
    fn clean_up_never_removes_an_undelivered_entry(
        entries in proptest::collection::vec((0usize..4, 0usize..6), 1..24)
    ) {
        let world = world(3);
        let kinds = [EntryKind::Status, EntryKind::CheckIn, EntryKind::Photo, EntryKind::Survey];
        for (index, (kind, state)) in entries.iter().enumerate() {
            let id = world.enqueue(index % 3 + 1, kinds[*kind], EntryState::Queued);
            world.force_state(&id, EntryState::ALL[*state], None);
        }
        let before = world.entries();
        let removed = world.store.clean_up_delivered().unwrap();
        let after = world.entries();
        let undelivered: Vec<_> = before.iter().filter(|entry| entry.state != EntryState::Done).collect();
        let kept: Vec<_> = after.iter().filter(|entry| entry.state != EntryState::Done).collect();
        proptest::prop_assert_eq!(undelivered, kept);
        // No photo or survey rows exist here: every delivered entry may go.
        proptest::prop_assert!(after.iter().all(|entry| entry.state != EntryState::Done));
        proptest::prop_assert_eq!(removed as usize, before.len() - after.len());
    }
}

#[test]
fn entry_ids_are_version_7_and_sort_in_the_order_they_were_made() {
    // Their order is what keeps a durable commit's new keys on the last page of each UUID index.
    let ids: Vec<String> = (0..10_000).map(|_| queue::new_entry_id()).collect();
    for id in &ids {
        let parsed = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(parsed.get_version_num(), 7, "{id}");
        assert_eq!(
            parsed.hyphenated().to_string(),
            *id,
            "stored in the hyphenated lower-case form"
        );
    }
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "ids made one after another must sort in that order, and differ"
    );
}
