//! The threads of one [`crate::FieldSync`]: every async call's work runs on its own tokio runtime, and
//! [`Workers::shutdown`] stops that work and joins every one of those threads.
//!
//! **Why a runtime per instance, and why joining matters.** A host future of an async call is completed
//! by the thread that finishes the Rust work: uniffi's continuation callback (a call into the host: in
//! Python a ctypes callback that takes the GIL) runs on it. With uniffi's default (`async_runtime =
//! "tokio"` alone) that thread belongs to a process-wide runtime nobody can stop or join. In Python this
//! aborted the process at exit: the callback releases the GIL while it writes to the event loop's
//! wake-up socket, the main thread (whose future just resolved) runs on into interpreter finalisation, and
//! when the library thread takes the GIL again CPython ends it with `pthread_exit`. That forced unwind
//! meets tokio's `catch_unwind` (the task harness that ran the wake-up), and glibc aborts ("FATAL:
//! exception not rethrown"). Here every thread that can complete a host future, or call a host callback
//! while doing the work (the secret store, the location source, the device signer), belongs to this
//! runtime, so that `shutdown()` (which the host calls while it still runs normally, e.g. Python's
//! `atexit`) can cancel the long calls, wait for the rest and join all of them. After `shutdown()` no
//! thread of the instance exists any more, and async calls fail at once with `Cancelled`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use fieldsync_core::cancel::CancelToken;
use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

use crate::error::FieldSyncError;

/// The longest `shutdown()` waits for work in progress (cancelled long calls stop in milliseconds; a
/// short disk call finishes; a host callback that never returns is what this bounds).
pub(crate) const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// One instance's runtime, and the long calls in progress (which `shutdown()` cancels).
pub(crate) struct Workers {
    runtime: Mutex<Option<Runtime>>,
    handle: Handle,
    calls: Mutex<Calls>,
}

/// The cancellation tokens of the long calls in progress; `closed` once `shutdown()` began.
#[derive(Default)]
struct Calls {
    closed: bool,
    next: u64,
    live: HashMap<u64, CancelToken>,
}

/// A long call's registration: it leaves the set when dropped (the call ended or its future was dropped).
pub(crate) struct Tracked<'a> {
    workers: &'a Workers,
    id: u64,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.workers.calls().live.remove(&self.id);
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// How long an idle thread of the blocking pool waits for more work before it ends. Short, because on a
/// phone a burst (a screen of watches, a sync) should not leave its extra threads behind for long, and
/// starting one again costs far less than a query.
const IDLE_THREAD_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(2);

impl Workers {
    /// One async worker (it only drives watches; the work itself runs on the blocking pool, which grows
    /// on demand and lets idle threads go after [`IDLE_THREAD_KEEP_ALIVE`]).
    pub(crate) fn new() -> Result<Self, FieldSyncError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_keep_alive(IDLE_THREAD_KEEP_ALIVE)
            .thread_name("fieldsync-worker")
            .enable_time()
            .build()
            .map_err(|err| FieldSyncError::Internal {
                reason: format!("cannot start the library's threads: {err}"),
            })?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
            calls: Mutex::new(Calls::default()),
        })
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `shutdown()` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.calls().closed
    }

    /// Registers a long call's token so that `shutdown()` cancels it; refused once shut down.
    pub(crate) fn track(&self, token: &CancelToken) -> Result<Tracked<'_>, FieldSyncError> {
        let mut calls = self.calls();
        if calls.closed {
            return Err(shut_down());
        }
        calls.next += 1;
        let id = calls.next;
        calls.live.insert(id, token.clone());
        Ok(Tracked { workers: self, id })
    }

    fn refuse_when_closed(&self) -> Result<(), FieldSyncError> {
        if self.is_closed() {
            return Err(shut_down());
        }
        Ok(())
    }

    /// Runs blocking work on this instance's blocking pool. Dropping the returned future before the work
    /// started means it never starts.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, FieldSyncError> + Send + 'static,
    ) -> Result<T, FieldSyncError> {
        self.refuse_when_closed()?;
        Aborting(self.handle.spawn_blocking(work)).join().await?
    }

    /// Runs a future on this instance's runtime (timers and wake-ups then come from its threads).
    /// Dropping the returned future aborts it.
    pub(crate) async fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, FieldSyncError> {
        self.refuse_when_closed()?;
        Aborting(self.handle.spawn(future)).join().await
    }

    /// Cancels the long calls, waits up to `wait` for the rest of the work and joins every thread.
    /// Idempotent. Returns whether every thread ended in time.
    pub(crate) fn shutdown(&self, wait: Duration) -> bool {
        {
            let mut calls = self.calls();
            calls.closed = true;
            for token in calls.live.values() {
                token.cancel();
            }
        }
        let runtime = self
            .runtime
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(runtime) = runtime else {
            return true;
        };
        if Handle::try_current().is_ok() {
            // On a runtime's thread (this one's, when the last reference went from a task): blocking here
            // is not allowed, or would wait for this very thread. Its threads end on their own.
            runtime.shutdown_background();
            return false;
        }
        let started = std::time::Instant::now();
        runtime.shutdown_timeout(wait);
        let clean = started.elapsed() < wait;
        if !clean {
            tracing::warn!("library work still running after the shutdown wait");
        }
        clean
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shutdown(SHUTDOWN_WAIT);
    }
}

fn shut_down() -> FieldSyncError {
    FieldSyncError::Cancelled {
        reason: "fieldsync was shut down".into(),
    }
}

/// A task aborted when the future awaiting it is dropped (a cancelled coroutine or asyncio task).
struct Aborting<T>(JoinHandle<T>);

impl<T> Aborting<T> {
    async fn join(mut self) -> Result<T, FieldSyncError> {
        match (&mut self.0).await {
            Ok(value) => Ok(value),
            Err(err) if err.is_cancelled() => Err(shut_down()),
            Err(err) => Err(err.into()),
        }
    }
}

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_joins_every_thread_and_later_calls_are_refused() {
        let workers = Workers::new().unwrap();
        let outside = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let name = outside
            .block_on(workers.blocking(|| Ok(std::thread::current().name().map(str::to_owned))))
            .unwrap();
        assert_eq!(name.as_deref(), Some("fieldsync-worker"));
        let token = CancelToken::new();
        let tracked = workers.track(&token).unwrap();
        assert!(workers.shutdown(Duration::from_secs(5)));
        assert!(token.is_cancelled(), "long calls are cancelled");
        drop(tracked);
        assert!(
            workers.track(&CancelToken::new()).is_err(),
            "no new call once shut down"
        );
        let refused = outside.block_on(workers.blocking(|| Ok(())));
        assert!(
            matches!(refused, Err(FieldSyncError::Cancelled { .. })),
            "{refused:?}"
        );
        assert!(workers.shutdown(Duration::from_secs(5)), "idempotent");
    }

    #[test]
    fn a_running_future_is_aborted_by_shutdown() {
        let workers = std::sync::Arc::new(Workers::new().unwrap());
        let (started, running) = std::sync::mpsc::channel();
        let pending = {
            let workers = workers.clone();
            std::thread::spawn(move || {
                let outside = tokio::runtime::Builder::new_current_thread().build().unwrap();
                outside.block_on(workers.spawn(async move {
                    let _ = started.send(());
                    std::future::pending::<()>().await;
                }))
            })
        };
        // The task is parked on the worker; shutting down must end it and wake its waiter.
        running.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(workers.shutdown(Duration::from_secs(5)));
        let result = pending.join().unwrap();
        assert!(
            matches!(result, Err(FieldSyncError::Cancelled { .. })),
            "{result:?}"
        );
    }
}
