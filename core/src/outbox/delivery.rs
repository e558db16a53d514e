//! The delivery loop: claim, send, record, with bounded concurrency.
//!
//! It is written against three traits so that every delivery rule is tested with no HTTP and no sleeping:
//! a [`Queue`] (the store implements it over SQLite), a [`Courier`] (the sync engine implements it over
//! HTTP) and a [`Clock`]. A run:
//!
//! 1. takes back the `in_flight` entries of dead runs ([`super::lease`]);
//! 2. plans a snapshot of the queue ([`super::dispatch`]) and hands entries to up to `concurrency`
//!    workers, never two of the same project;
//! 3. claims each entry under its lease in its own transaction (another process may have taken it since
//!    the snapshot), sends it, and records the outcome ([`super::policy`]);
//! 4. when the plan is exhausted, plans again once, for entries recorded or released meanwhile;
//! 5. stops taking new entries when the network or the credentials fail; sends under way finish and are
//!    recorded.
//!
//! The run sends only what the upload policy lets go ([`DeliveryOptions::conditions`],
//! [`super::upload_policy`]): with no network it sends nothing; the plan leaves out the kinds the policy
//! holds (and the entries that must wait behind them), so a claim never meets them.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::dispatch::{Dispatcher, Finished, Pending};
use super::lease::RunLease;
use super::policy::{after_attempt, may_start, stops_run};
use super::queue::ClaimedEntry;
use super::upload_policy::{NetworkState, UploadConditions};
use super::{DeliveryOutcome, EntryState, EntryUpdate};
use crate::cancel::{Stop, StopReason};
use crate::model::Timestamp;
use crate::{Error, Result};

/// The outbox of one integration, as a delivery run uses it.
pub trait Queue: Sync {
    /// Puts dead runs' `in_flight` entries back in the queue; returns how many.
    fn recover(&self) -> Result<u64>;
    /// The undelivered, not held entries, for planning.
    fn snapshot(
        &self,
        at: Timestamp,
        ignore_backoff: bool,
        attempted: &HashSet<String>,
    ) -> Result<Vec<Pending>>;
    /// Marks an entry `in_flight` under `owner`; `None` when it is no longer claimable.
    fn claim(&self, id: &str, owner: &str, at: Timestamp) -> Result<Option<ClaimedEntry>>;
    /// Stores an attempt's outcome.
    fn record(&self, id: &str, update: &EntryUpdate, at: Timestamp) -> Result<()>;
}

/// Sends one entry to the provider.
pub trait Courier: Sync {
    /// Sends the entry and says how it went.
    fn send(&self, entry: &ClaimedEntry) -> DeliveryOutcome;
    /// Hears that an attempt was recorded (to tell the host, for example).
    fn recorded(&self, _entry: &ClaimedEntry, _update: &EntryUpdate) {}
}

/// The time, and the randomness of backoff jitter.
pub trait Clock: Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> Timestamp;
    /// Uniform in `[0, 1)`.
    fn random(&self) -> f64;
}

/// The device clock and a thread-local random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        crate::model::now()
    }

    fn random(&self) -> f64 {
        rand::random::<f64>()
    }
}

/// How a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// Also send entries still waiting out a backoff (a sync the user asked for, e.g. back in signal).
    pub ignore_backoff: bool,
    /// Entries sent at once (at least 1), never two of the same project.
    pub concurrency: usize,
    /// Only each project's entries before its first photo (the first pass of a background run, see
    /// [`super::dispatch::before_first_photo`]).
    pub before_photos: bool,
    /// The network and the upload policy: which kinds may go in this run
    /// ([`super::upload_policy`]). They hold for the whole run; a change applies at the next one.
    pub conditions: UploadConditions,
}

impl DeliveryOptions {
    /// The plan of a snapshot: the entries this run may send, gated by the network and the policy.
    fn plan(&self, entries: Vec<Pending>) -> Dispatcher {
        let entries = if self.before_photos {
            super::dispatch::before_first_photo(entries)
        } else {
            entries
        };
        Dispatcher::gated(entries, self.conditions)
    }
}

/// Why a run sent nothing when the host reports no network ([`DeliveryReport::stopped`]).
pub const NO_NETWORK: &str = "no network: the device is offline";

/// What a delivery run did for one integration.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Entries the provider confirmed.
    pub delivered: u64,
    /// Entries that failed and will be retried.
    pub retrying: u64,
    /// Entries that now need the user's attention.
    pub needs_attention: u64,
    /// Why the run stopped early (network down, credentials refused, cancelled), if it did.
    pub stopped: Option<String>,
    /// Set when the app stopped the run (cancelled, paused, deadline): entries remain that it did not
    /// start, and a send it aborted goes again later under the same UUID.
    pub halted: Option<StopReason>,
    /// The provider refused the credentials (retrying cannot help until they change).
    pub auth_refused: bool,
}

struct Run<'a> {
    queue: &'a dyn Queue,
    courier: &'a dyn Courier,
    clock: &'a dyn Clock,
    owner: &'a str,
    options: DeliveryOptions,
    stop: &'a Stop,
    shared: Mutex<Shared>,
    /// Signalled when an entry in flight finishes or the run stops.
    changed: Condvar,
}

struct Shared {
    dispatcher: Dispatcher,
    attempted: HashSet<String>,
    in_flight: usize,
    /// Whether the current plan is the last one (a fresh plan found nothing more to send).
    replanned: bool,
    stop: bool,
    report: DeliveryReport,
    /// The first store error: the run's result.
    error: Option<Error>,
    /// The longest send of this run so far: a run with a deadline starts no send it cannot finish.
    longest_send: Option<Duration>,
}

impl Shared {
    fn fail(&mut self, err: Error) {
        self.stop = true;
        self.error.get_or_insert(err);
    }
}

impl Run<'_> {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next entry this worker sends, or `None` when the run is over for it.
    fn take(&self) -> Option<Pending> {
        let mut shared = self.lock();
        loop {
            if shared.stop {
                return None;
            }
            let halt = self.stop.reason().or_else(|| {
                (!may_start(Instant::now(), self.stop.deadline(), shared.longest_send))
                    .then_some(StopReason::Deadline)
            });
            if let Some(reason) = halt {
                shared.report.halted.get_or_insert(reason);
                shared
                    .report
                    .stopped
                    .get_or_insert_with(|| reason.as_str().to_owned());
                shared.stop = true;
                self.changed.notify_all();
                return None;
            }
            if let Some(entry) = shared.dispatcher.next_entry() {
                shared.attempted.insert(entry.id.clone());
                shared.in_flight += 1;
                return Some(entry);
            }
            if shared.in_flight > 0 {
                shared = self
                    .changed
                    .wait(shared)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            if shared.replanned {
                self.changed.notify_all();
                return None;
            }
            // The plan is exhausted: plan once more, for entries released or recorded meanwhile.
            shared.replanned = true;
            match self
                .queue
                .snapshot(self.clock.now(), self.options.ignore_backoff, &shared.attempted)
            {
                Ok(entries) => {
                    shared.dispatcher = self.options.plan(entries);
                    if shared.dispatcher.has_work() {
                        shared.replanned = false;
                    }
                }
                Err(err) => shared.fail(err),
            }
            self.changed.notify_all();
        }
    }

    /// One worker: takes entries until the run is over.
    fn work(&self) {
        while let Some(pending) = self.take() {
            let guard = InFlight {
                run: self,
                id: &pending.id,
                done: false,
            };
            let started = Instant::now();
            let (finished, result) = self.deliver(&pending);
            guard.finish(finished, result, started.elapsed());
        }
    }

    fn deliver(&self, pending: &Pending) -> (Finished, Result<Option<(DeliveryOutcome, EntryUpdate)>>) {
        let entry = match self.queue.claim(&pending.id, self.owner, self.clock.now()) {
            Ok(Some(entry)) => entry,
            // Taken by another run or discarded since the snapshot: not ours to send.
            Ok(None) => return (Finished::NotDelivered, Ok(None)),
            Err(err) => return (Finished::NotDelivered, Err(err)),
        };
        let outcome = self.courier.send(&entry);
        let update = after_attempt(entry.attempts, &outcome, self.clock.now(), self.clock.random());
        if let Err(err) = self.queue.record(&entry.id, &update, self.clock.now()) {
            return (Finished::NotDelivered, Err(err));
        }
        self.courier.recorded(&entry, &update);
        let finished = if outcome == DeliveryOutcome::Delivered {
            Finished::Delivered
        } else {
            Finished::NotDelivered
        };
        (finished, Ok(Some((outcome, update))))
    }
}

/// An entry being sent by a worker: however the worker ends (a panic in the courier included), the entry
/// leaves the run's in-flight count and the other workers stop waiting for it.
struct InFlight<'r, 'a> {
    run: &'r Run<'a>,
    id: &'r str,
    done: bool,
}

impl InFlight<'_, '_> {
    fn finish(
        mut self,
        finished: Finished,
        result: Result<Option<(DeliveryOutcome, EntryUpdate)>>,
        took: Duration,
    ) {
        self.done = true;
        let mut shared = self.run.lock();
        shared.in_flight -= 1;
        shared.dispatcher.finish(self.id, finished);
        match result {
            Err(err) => shared.fail(err),
            Ok(None) => {}
            Ok(Some((outcome, update))) => {
                if !matches!(outcome, DeliveryOutcome::Stopped(_)) {
                    shared.longest_send = Some(shared.longest_send.map_or(took, |longest| longest.max(took)));
                }
                match (&outcome, update.state) {
                    (DeliveryOutcome::Delivered, _) => shared.report.delivered += 1,
                    (DeliveryOutcome::Auth { .. }, _) => shared.report.auth_refused = true,
                    (DeliveryOutcome::Stopped(reason), _) => {
                        shared.report.halted.get_or_insert(*reason);
                    }
                    (_, EntryState::NeedsAttention) => shared.report.needs_attention += 1,
                    _ => shared.report.retrying += 1,
                }
                if let Some(reason) = stops_run(&outcome) {
                    shared.report.stopped.get_or_insert_with(|| reason.to_owned());
                    shared.stop = true;
                }
            }
        }
        self.run.changed.notify_all();
    }
}

impl Drop for InFlight<'_, '_> {
    fn drop(&mut self) {
        if !self.done {
            // The worker panicked: the entry stays `in_flight` under this run's lease, and is taken back
            // by the next run once this one's lease is released.
            let mut shared = self.run.lock();
            shared.in_flight -= 1;
            shared.stop = true;
            self.run.changed.notify_all();
        }
    }
}

/// Delivers an integration's queued field work under `lease`, in order per project, until the queue is
/// empty, the network or the credentials fail, or `stop` says so. With a deadline, no send starts that
/// the longest send of the run so far could not finish before it ([`may_start`]).
pub fn deliver(
    queue: &dyn Queue,
    courier: &dyn Courier,
    clock: &dyn Clock,
    lease: &RunLease,
    options: DeliveryOptions,
    stop: &Stop,
) -> Result<DeliveryReport> {
    queue.recover()?;
    if options.conditions.network == NetworkState::None {
        return Ok(DeliveryReport {
            stopped: Some(NO_NETWORK.to_owned()),
            ..DeliveryReport::default()
        });
    }
    let attempted = HashSet::new();
    let dispatcher = options.plan(queue.snapshot(clock.now(), options.ignore_backoff, &attempted)?);
    let run = Run {
        queue,
        courier,
        clock,
        owner: lease.owner(),
        options,
        stop,
        shared: Mutex::new(Shared {
            dispatcher,
            attempted,
            in_flight: 0,
            replanned: false,
            stop: false,
            report: DeliveryReport::default(),
            error: None,
            longest_send: None,
        }),
        changed: Condvar::new(),
    };
    let workers = options.concurrency.max(1);
    std::thread::scope(|scope| {
        for index in 1..workers {
            let run = &run;
            let spawned = std::thread::Builder::new()
                .name(format!("fieldsync-relay-{index}"))
                .spawn_scoped(scope, move || run.work());
            if let Err(err) = spawned {
                // Fewer workers is slower, not wrong.
                tracing::warn!(%err, "could not start a relay thread");
            }
        }
        run.work();
    });
    let shared = run
        .shared
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match shared.error {
        Some(err) => Err(err),
        None => Ok(shared.report),
    }
}
