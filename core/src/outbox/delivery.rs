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

use super::dispatch::{Dispatcher, Finished, Pending};
use super::lease::RunLease;
use super::policy::{after_attempt, stops_run};
use super::queue::ClaimedEntry;
use super::upload_policy::{NetworkState, UploadConditions};
use super::{DeliveryOutcome, EntryState, EntryUpdate};
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
    /// The network and the upload policy: which kinds may go in this run
    /// ([`super::upload_policy`]). They hold for the whole run; a change applies at the next one.
    pub conditions: UploadConditions,
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
    /// Why the run stopped early (network down, credentials refused), if it did.
    pub stopped: Option<String>,
}

struct Run<'a> {
    queue: &'a dyn Queue,
    courier: &'a dyn Courier,
    clock: &'a dyn Clock,
    owner: &'a str,
    options: DeliveryOptions,
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
                    shared.dispatcher = Dispatcher::gated(entries, self.options.conditions);
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
            let (finished, result) = self.deliver(&pending);
            guard.finish(finished, result);
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
    fn finish(mut self, finished: Finished, result: Result<Option<(DeliveryOutcome, EntryUpdate)>>) {
        self.done = true;
        let mut shared = self.run.lock();
        shared.in_flight -= 1;
        shared.dispatcher.finish(self.id, finished);
        match result {
            Err(err) => shared.fail(err),
            Ok(None) => {}
            Ok(Some((outcome, update))) => {
                match (&outcome, update.state) {
                    (DeliveryOutcome::Delivered, _) => shared.report.delivered += 1,
                    (DeliveryOutcome::Auth { .. }, _) => {}
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
/// empty or the network or the credentials fail.
pub fn deliver(
    queue: &dyn Queue,
    courier: &dyn Courier,
    clock: &dyn Clock,
    lease: &RunLease,
    options: DeliveryOptions,
) -> Result<DeliveryReport> {
    queue.recover()?;
    if options.conditions.network == NetworkState::None {
        return Ok(DeliveryReport {
            stopped: Some(NO_NETWORK.to_owned()),
            ..DeliveryReport::default()
        });
    }
    let attempted = HashSet::new();
    let dispatcher = Dispatcher::gated(
        queue.snapshot(clock.now(), options.ignore_backoff, &attempted)?,
        options.conditions,
    );
    let run = Run {
        queue,
        courier,
        clock,
        owner: lease.owner(),
        options,
        shared: Mutex::new(Shared {
            dispatcher,
            attempted,
            in_flight: 0,
            replanned: false,
            stop: false,
            report: DeliveryReport::default(),
            error: None,
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
