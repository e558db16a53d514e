//! Living inside a phone app: cancellation handles, pause and resume, and the background run's records.
//!
//! **Cancellation.** Every long call (refresh, sync, push, background run) stops promptly when the host
//! cancels it, and the work behind it stops too, not only the waiting: a request in flight is aborted, an
//! outbox entry goes back to the queue under the same UUID, an import rolls back.
//! - Kotlin and Python: cancelling the coroutine or the asyncio task drops the call's future, which
//!   cancels the work.
//! - Swift: uniffi's async calls do not observe task cancellation, so pass a [`Cancellation`] and cancel it
//!   from `withTaskCancellationHandler` (the Swift package's `performBackgroundSync(until:)` does).
//! - Any language: pass a [`Cancellation`] and call `cancel()` (a BGTask expiration handler, a stopped
//!   Worker).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use fieldsync_core::cancel::{CancelToken, Stop, StopReason};
use fieldsync_core::sync::{self as core_sync};

use crate::records::ImportReport;
use crate::workers::Workers;

/// A handle that cancels the calls it is passed to. One handle may serve several calls; a cancelled
/// handle stays cancelled (make a new one for the next call).
#[derive(Debug, Default, uniffi::Object)]
pub struct Cancellation(CancelToken);

#[uniffi::export]
impl Cancellation {
    /// A handle not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Stops every call this handle was passed to (idempotent). They fail with `Cancelled` promptly.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether `cancel()` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// Runs blocking core work on the instance's threads under a stop that fires when the host cancels: when
/// the returned future is dropped (a cancelled coroutine or asyncio task), when `cancel` is cancelled, or
/// when the instance shuts down.
pub(crate) async fn cancellable<T: Send + 'static>(
    workers: &Workers,
    cancel: Option<Arc<Cancellation>>,
    work: impl FnOnce(&Stop) -> Result<T, crate::error::FieldSyncError> + Send + 'static,
) -> Result<T, crate::error::FieldSyncError> {
    let token = cancel.map_or_else(CancelToken::new, |handle| handle.0.child());
    let _tracked = workers.track(&token)?;
    let on_drop = token.cancel_on_drop();
    let stop = Stop::on(&token);
    let result = workers.blocking(move || work(&stop)).await;
    on_drop.disarm();
    result
}

/// Why the host starts a background run (it is logged with the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BackgroundReason {
    /// The system's periodic schedule (WorkManager, BGAppRefreshTask).
    Scheduled,
    /// The app came to the foreground.
    Foreground,
    /// A push said that work changed.
    Push,
    /// The network came back.
    ConnectivityRegained,
}

impl From<BackgroundReason> for core_sync::BackgroundReason {
    fn from(reason: BackgroundReason) -> Self {
        match reason {
            BackgroundReason::Scheduled => Self::Scheduled,
            BackgroundReason::Foreground => Self::Foreground,
            BackgroundReason::Push => Self::Push,
            BackgroundReason::ConnectivityRegained => Self::ConnectivityRegained,
        }
    }
}

impl From<core_sync::BackgroundReason> for BackgroundReason {
    fn from(reason: core_sync::BackgroundReason) -> Self {
        match reason {
            core_sync::BackgroundReason::Scheduled => Self::Scheduled,
            core_sync::BackgroundReason::Foreground => Self::Foreground,
            core_sync::BackgroundReason::Push => Self::Push,
            core_sync::BackgroundReason::ConnectivityRegained => Self::ConnectivityRegained,
        }
    }
}

/// Why a call or a run stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StopCause {
    /// The host cancelled it.
    Cancelled,
    /// `pause()` interrupted it (it goes on after `resume()`).
    Paused,
    /// Its deadline passed.
    Deadline,
}

impl From<StopReason> for StopCause {
    fn from(reason: StopReason) -> Self {
        match reason {
            StopReason::Cancelled => Self::Cancelled,
            StopReason::Paused => Self::Paused,
            StopReason::Deadline => Self::Deadline,
        }
    }
}

/// What a background run did for one integration.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BackgroundIntegrationResult {
    /// The integration.
    pub code: String,
    /// Items delivered.
    pub delivered: u64,
    /// Items that failed and will be retried.
    pub retrying: u64,
    /// Items that now need the user.
    pub needs_attention: u64,
    /// The refresh's report, when one ran to its end.
    pub refreshed: Option<ImportReport>,
    /// Why delivery or the refresh failed.
    pub error: Option<String>,
    /// The provider refused the credentials: do not retry until the user signs in again.
    pub auth_failed: bool,
}

/// What a background run did, and what the host should do next.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BackgroundSyncResult {
    /// Why it ran.
    pub reason: BackgroundReason,
    /// Items delivered in all.
    pub delivered: u64,
    /// Per integration touched.
    pub integrations: Vec<BackgroundIntegrationResult>,
    /// Why it stopped early, if it did.
    pub stopped: Option<StopCause>,
    /// Work remains that could go now: schedule another run (Android `Result.retry()`).
    pub more_work: bool,
    /// When another run is next worth it: now when cut short, else the end of the earliest backoff or
    /// `Retry-After`; none when nothing waits.
    pub next_run_at: Option<SystemTime>,
    /// Some integration's credentials were refused: retrying cannot help (Android `Result.failure()`).
    pub auth_failed: bool,
    /// How long it took, in milliseconds.
    pub took_ms: u64,
}

impl From<core_sync::BackgroundSyncResult> for BackgroundSyncResult {
    fn from(result: core_sync::BackgroundSyncResult) -> Self {
        let auth_failed = result.auth_failed();
        Self {
            reason: result.reason.into(),
            delivered: result.delivered,
            integrations: result
                .integrations
                .into_iter()
                .map(|integration| BackgroundIntegrationResult {
                    code: integration.code,
                    delivered: integration.delivered,
                    retrying: integration.retrying,
                    needs_attention: integration.needs_attention,
                    refreshed: integration.refreshed.map(Into::into),
                    error: integration.error,
                    auth_failed: integration.auth_failed,
                })
                .collect(),
            stopped: result.stopped.map(Into::into),
            more_work: result.more_work,
            next_run_at: result
                .next_run_at
                .map(|at| SystemTime::UNIX_EPOCH + Duration::from_secs(at.max(0).unsigned_abs())),
            auth_failed,
            took_ms: u64::try_from(result.took.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// The monotonic instant of a wall-clock deadline (a deadline in the past is now).
pub(crate) fn deadline_instant(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now()
        .checked_add(left)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(24 * 60 * 60))
}
