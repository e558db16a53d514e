//! Stopping long operations: a host's cancellation, the app's `pause()`, and a background run's deadline.
//!
//! Every long operation (a refresh, a delivery run, a sync, a background run) runs under a [`Stop`]: the
//! conditions under which it must stop. Three things can stop it, and the operation is told which:
//! - the host cancelled this operation ([`CancelToken::cancel`]; the bindings do it when the host drops
//!   the call's future, that is when a Kotlin coroutine, a Swift task or a Python task is cancelled);
//! - the app paused (`App::pause` cancels every operation of the engine at once);
//! - the operation's deadline passed (a background run that the system gave 30 seconds).
//!
//! An operation checks [`Stop::reason`] between items, and every network call races the request against
//! [`Stop::wait`], so an upload or a download in flight is aborted at once (its connection is closed; the
//! provider stops receiving bytes). What was aborted was never half-written: the outbox entry goes back to
//! the queue under the same UUID, an import rolls back.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

/// A handle the host keeps to cancel an operation. Cloning gives another handle on the same operation.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(CancellationToken);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the operation to stop. Idempotent; the operation ends promptly with [`StopReason::Cancelled`].
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    /// A token cancelled with this one, which can also be cancelled alone (one call of several that share
    /// a handle).
    pub fn child(&self) -> Self {
        Self(self.0.child_token())
    }

    /// A guard that cancels the token when dropped, unless it is disarmed: the bindings hold one inside
    /// each async call, so that dropping the call's future stops the blocking work behind it.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Some(self.clone()))
    }
}

/// Cancels its token when dropped (see [`CancelToken::cancel_on_drop`]).
#[derive(Debug)]
pub struct CancelOnDrop(Option<CancelToken>);

impl CancelOnDrop {
    /// The operation finished: dropping the guard no longer cancels anything.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}

/// Why an operation stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The host cancelled it.
    Cancelled,
    /// The app paused (it goes on after `resume()`).
    Paused,
    /// Its deadline passed.
    Deadline,
}

impl StopReason {
    /// What happened, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled by the app",
            Self::Paused => "interrupted by pause(); it goes on after resume()",
            Self::Deadline => "stopped at its deadline",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The conditions under which one operation must stop. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    host: Option<CancellationToken>,
    lifecycle: Option<CancellationToken>,
    deadline: Option<Instant>,
}

impl Stop {
    /// Never stops (tests, and tools that run to the end).
    pub fn never() -> Self {
        Self::default()
    }

    /// Stops when `token` is cancelled.
    pub fn on(token: &CancelToken) -> Self {
        Self {
            host: Some(token.0.clone()),
            ..Self::default()
        }
    }

    /// Also stops when the app pauses (the engine's lifecycle token).
    pub(crate) fn with_lifecycle(mut self, lifecycle: &CancellationToken) -> Self {
        self.lifecycle = Some(lifecycle.clone());
        self
    }

    /// Also stops at `deadline` (the earlier one wins).
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(self.deadline.map_or(deadline, |mine| mine.min(deadline)));
        self
    }

    /// The deadline, if the operation has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Why the operation must stop now, if it must. A pause wins over a cancellation (the work goes on
    /// after `resume()`), which wins over the deadline.
    pub fn reason(&self) -> Option<StopReason> {
        if self
            .lifecycle
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
        {
            Some(StopReason::Paused)
        } else if self.host.as_ref().is_some_and(CancellationToken::is_cancelled) {
            Some(StopReason::Cancelled)
        } else if self.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            Some(StopReason::Deadline)
        } else {
            None
        }
    }

    /// [`Self::reason`] as an error, for `?` between the steps of an operation (the core's error converts
    /// from a [`StopReason`]).
    pub fn check(&self) -> Result<(), StopReason> {
        match self.reason() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Resolves when the operation must stop, with the reason.
    pub async fn wait(&self) -> StopReason {
        async fn cancelled(token: Option<&CancellationToken>) {
            match token {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        }
        async fn passed(deadline: Option<Instant>) {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            biased;
            () = cancelled(self.lifecycle.as_ref()) => StopReason::Paused,
            () = cancelled(self.host.as_ref()) => StopReason::Cancelled,
            () = passed(self.deadline) => StopReason::Deadline,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_reason_names_what_stopped_the_operation_pause_first() {
        let host = CancelToken::new();
        let lifecycle = CancellationToken::new();
        let stop = Stop::on(&host).with_lifecycle(&lifecycle);
        assert_eq!(stop.reason(), None);
        assert!(stop.check().is_ok());
        host.cancel();
        assert_eq!(stop.reason(), Some(StopReason::Cancelled));
        lifecycle.cancel();
        assert_eq!(stop.reason(), Some(StopReason::Paused));
        let past = Stop::never().with_deadline(Instant::now());
        assert_eq!(past.reason(), Some(StopReason::Deadline));
        assert_eq!(past.check(), Err(StopReason::Deadline));
    }

    #[test]
    fn the_earlier_deadline_wins() {
        let soon = Instant::now() + Duration::from_secs(1);
        let later = soon + Duration::from_secs(10);
        assert_eq!(
            Stop::never().with_deadline(later).with_deadline(soon).deadline(),
            Some(soon)
        );
        assert_eq!(
            Stop::never().with_deadline(soon).with_deadline(later).deadline(),
            Some(soon)
        );
    }

    #[test]
    fn wait_resolves_on_cancel_and_on_the_deadline_and_dropping_the_guard_cancels() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let host = CancelToken::new();
        let guard = host.cancel_on_drop();
        let stop = Stop::on(&host);
        drop(guard);
        assert_eq!(runtime.block_on(stop.wait()), StopReason::Cancelled);
        let started = Instant::now();
        let stop = Stop::never().with_deadline(started + Duration::from_millis(30));
        assert_eq!(runtime.block_on(stop.wait()), StopReason::Deadline);
        assert!(started.elapsed() >= Duration::from_millis(30));
        let kept = CancelToken::new();
        kept.cancel_on_drop().disarm();
        assert!(!kept.is_cancelled(), "a disarmed guard cancels nothing");
    }
}
