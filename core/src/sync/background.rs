//! The background run: what an app calls when the system wakes it for a few seconds (Android WorkManager,
//! iOS BGTaskScheduler), or on a push or when the network comes back.
//!
//! One call, with a deadline: field work first, then refreshes, and nothing started that cannot end in
//! time.
//! 1. **Deliver** every integration's outbox in two passes: first the small items that a provider acts on
//!    (check-ins, statuses, surveys), then everything else (photos). Backoff is honoured (the system, not
//!    the user, asked). A delivery run starts no send its longest send so far could not finish before the
//!    deadline ([`crate::outbox::policy::may_start`]); a send still in flight at the deadline is aborted and
//!    goes again later under the same UUID.
//! 2. **Refresh** the integrations that are due (never refreshed, in error, or older than
//!    `refresh_older_than`), if at least [`MIN_REFRESH_WINDOW`] remains; a refresh still running at the
//!    deadline is aborted and rolls back.
//! 3. **Report** what was delivered and refreshed, what failed and why, whether work remains, and when a
//!    next run is worth it (the earliest backoff or `Retry-After`, or at once when the run was cut short).
//!
//! The reason (scheduled, foreground, push, connectivity) is logged with the run's outcome, for the
//! operator reading the logs at 6 a.m.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::engine::SyncEngine;
use crate::cancel::{Stop, StopReason};
use crate::model::{ImportKind, ImportReport, IntegrationStatus, Timestamp, now};
use crate::outbox::dispatch::Dispatcher;
use crate::outbox::{DeliveryReport, delivery::Queue as _};
use crate::{Error, FailureClass, Result};

/// A refresh starts only if at least this much time remains before the deadline (most accounts refresh
/// in well under a second; one that does not finish is aborted and rolled back, so the rule only saves
/// wasted work).
pub const MIN_REFRESH_WINDOW: Duration = Duration::from_secs(1);

/// Why the host started a background run (logged with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundReason {
    /// The system's periodic schedule (WorkManager, BGAppRefreshTask).
    Scheduled,
    /// The app came to the foreground.
    Foreground,
    /// A push told the app that work changed.
    Push,
    /// The network came back.
    ConnectivityRegained,
}

/// What the host asks of a background run.
#[derive(Debug, Clone)]
pub struct BackgroundRequest {
    /// Why it runs.
    pub reason: BackgroundReason,
    /// When it must have returned.
    pub deadline: Instant,
    /// Refresh integrations last refreshed longer ago than this.
    pub refresh_older_than: Duration,
}

/// What one integration's part of a background run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BackgroundIntegration {
    /// The integration.
    pub code: String,
    /// Entries delivered (both passes).
    pub delivered: u64,
    /// Entries that failed and will be retried.
    pub retrying: u64,
    /// Entries that now need the user's attention.
    pub needs_attention: u64,
    /// The refresh, when one ran to its end.
    pub refreshed: Option<ImportReport>,
    /// Why delivery or the refresh failed (never a secret: errors are redacted where they arise).
    pub error: Option<String>,
    /// Whether the failure was the provider refusing the credentials (retrying cannot help).
    pub auth_failed: bool,
}

/// What a background run did, and what the host should do next.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackgroundSyncResult {
    /// Why it ran.
    pub reason: BackgroundReason,
    /// Per integration touched.
    pub integrations: Vec<BackgroundIntegration>,
    /// Entries delivered in all.
    pub delivered: u64,
    /// Why it stopped early, when it did (its deadline, a cancellation, a pause).
    pub stopped: Option<StopReason>,
    /// Whether work remains that could go now: entries ready to send, or refreshes due and not done.
    pub more_work: bool,
    /// When another run is next worth it (Unix seconds): now when the run was cut short, else the earliest
    /// end of a backoff or `Retry-After`; `None` when nothing waits.
    pub next_run_at: Option<Timestamp>,
    /// How long it took.
    pub took: Duration,
}

impl BackgroundSyncResult {
    /// Whether the provider refused the credentials of some integration (the host should not retry).
    pub fn auth_failed(&self) -> bool {
        self.integrations
            .iter()
            .any(|integration| integration.auth_failed)
    }
}

impl SyncEngine {
    /// Runs one background sync (see the module docs). It returns by `request.deadline` plus the time to
    /// abort what is in flight, or as soon as `stop` (the host's cancellation) says so. Errors of one
    /// integration are in the result; only a paused engine or a broken store fail the call.
    pub fn run_background(&self, request: &BackgroundRequest, stop: &Stop) -> Result<BackgroundSyncResult> {
        let started = Instant::now();
        let stop = stop.clone().with_deadline(request.deadline);
        tracing::info!(
            reason = ?request.reason,
            budget_ms = request.deadline.saturating_duration_since(started).as_millis() as u64,
            "background sync started"
        );
        let mut per: Vec<BackgroundIntegration> = Vec::new();
        let mut stopped = None;
        let integrations = self.store().list_integrations()?;
        'passes: for before_photos in [true, false] {
            for integration in &integrations {
                if let Some(reason) = stop.reason() {
                    stopped = Some(reason);
                    break 'passes;
                }
                if !self.store().has_pending_outbox(&integration.code)? {
                    continue;
                }
                let outcome = self.push_outbox_kinds_until(&integration.code, false, before_photos, &stop);
                let entry = slot(&mut per, &integration.code);
                match outcome {
                    Ok(report) => {
                        add_delivery(entry, &report);
                        if let Some(reason) = report.halted {
                            stopped = Some(reason);
                            break 'passes;
                        }
                    }
                    Err(Error::Stopped(reason)) => {
                        stopped = Some(reason);
                        break 'passes;
                    }
                    Err(Error::Paused) => return Err(Error::Paused),
                    Err(err) => record_error(entry, &err),
                }
            }
        }
        let now_unix = now();
        let max_age = i64::try_from(request.refresh_older_than.as_secs()).unwrap_or(i64::MAX);
        let mut refresh_due = false;
        for integration in &integrations {
            let due = integration.status == IntegrationStatus::Error
                || integration
                    .last_refreshed
                    .is_none_or(|at| now_unix.saturating_sub(at) >= max_age);
            if !due {
                continue;
            }
            let room = request.deadline.saturating_duration_since(Instant::now());
            if stopped.is_some() || stop.reason().is_some() || room < MIN_REFRESH_WINDOW {
                stopped = stopped.or(stop.reason()).or(Some(StopReason::Deadline));
                refresh_due = true;
                continue;
            }
            match self.refresh_until(&integration.code, ImportKind::Refresh, &stop) {
                Ok(report) => slot(&mut per, &integration.code).refreshed = Some(report),
                Err(Error::Stopped(reason)) => {
                    stopped = Some(reason);
                    refresh_due = true;
                }
                Err(Error::Paused) => return Err(Error::Paused),
                Err(err) => record_error(slot(&mut per, &integration.code), &err),
            }
        }
        let ready = self.ready_to_send(now_unix)?;
        let more_work = ready || refresh_due;
        let next_run_at = if more_work {
            Some(now_unix)
        } else {
            self.store().next_retry_at()?
        };
        let delivered = per.iter().map(|entry| entry.delivered).sum();
        let result = BackgroundSyncResult {
            reason: request.reason,
            integrations: per,
            delivered,
            stopped,
            more_work,
            next_run_at,
            took: started.elapsed(),
        };
        tracing::info!(
            reason = ?result.reason,
            delivered = result.delivered,
            stopped = ?result.stopped,
            more_work = result.more_work,
            next_run_at = ?result.next_run_at,
            took_ms = result.took.as_millis() as u64,
            "background sync finished"
        );
        Ok(result)
    }

    /// Whether some integration has an entry a delivery run would send now.
    fn ready_to_send(&self, at: Timestamp) -> Result<bool> {
        for integration in self.store().list_integrations()? {
            let queue = self.store().outbox_queue(&integration.code)?;
            if Dispatcher::new(queue.snapshot(at, false, &HashSet::new())?).has_work() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn slot<'p>(per: &'p mut Vec<BackgroundIntegration>, code: &str) -> &'p mut BackgroundIntegration {
    let index = match per.iter().position(|entry| entry.code == code) {
        Some(index) => index,
        None => {
            per.push(BackgroundIntegration {
                code: code.to_owned(),
                ..BackgroundIntegration::default()
            });
            per.len() - 1
        }
    };
    &mut per[index]
}

fn add_delivery(entry: &mut BackgroundIntegration, report: &DeliveryReport) {
    entry.auth_failed |= report.auth_refused;
    entry.delivered += report.delivered;
    entry.retrying += report.retrying;
    entry.needs_attention += report.needs_attention;
    if report.halted.is_none()
        && let Some(why) = &report.stopped
    {
        entry.error.get_or_insert_with(|| why.clone());
    }
}

fn record_error(entry: &mut BackgroundIntegration, err: &Error) {
    entry.auth_failed |= err.class() == FailureClass::Auth;
    entry.error.get_or_insert_with(|| err.to_string());
}
