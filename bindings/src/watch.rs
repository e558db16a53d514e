//! Watch queries: a screen subscribes to a query and gets its current result at once, then a new result
//! after every commit that can change it, until it cancels or drops the handle.
//!
//! Change detection is the core's: the store tells which tables each commit changed
//! ([`fieldsync_core::store::ChangeHub`]); a watch subscribes to the tables its query reads, and a
//! commit of one of them wakes it. It then waits until `throttle` has passed since its last result
//! (commits in between are coalesced into one re-read), re-reads on a worker thread, and hands out the
//! result only if it differs from the last one. No polling.
//!
//! The host pulls with `next()`: Kotlin wraps it in a `Flow`, Swift in an `AsyncThrowingStream`, Python
//! in an async iterator. `next()` returns `None` once the watch is cancelled. A watch holds its change
//! subscription until cancelled or dropped, so many subscribe/cancel cycles leak nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldsync_core::store::{ChangeSubscription, Changes, Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::FieldSyncError;
use crate::records::{Photo, Project, ProjectSummary, SyncStatus, UploadLogEntry};

type Result<T> = std::result::Result<T, FieldSyncError>;

/// How long a watch waits after its last result before it reads again, when the caller gives none.
pub const DEFAULT_THROTTLE: Duration = Duration::from_millis(100);

type Query<T> = Arc<dyn Fn() -> Result<T> + Send + Sync>;

/// The machinery every watch shares.
struct Watcher<T> {
    query: Query<T>,
    throttle: Duration,
    woken: Arc<Notify>,
    cancelled: CancellationToken,
    subscription: Mutex<Option<ChangeSubscription>>,
    /// One `next()` at a time; the last result handed out and when.
    last: tokio::sync::Mutex<Option<(T, Instant)>>,
}

impl<T: Clone + PartialEq + Send + 'static> Watcher<T> {
    fn new(store: &Store, tables: Changes, throttle: Option<Duration>, query: Query<T>) -> Self {
        let woken = Arc::new(Notify::new());
        let wake = woken.clone();
        // Called on the writing thread right after its commit: only note it.
        let subscription = store.changes().subscribe(tables, move |_| wake.notify_one());
        Self {
            query,
            throttle: throttle.unwrap_or(DEFAULT_THROTTLE),
            woken,
            cancelled: CancellationToken::new(),
            subscription: Mutex::new(Some(subscription)),
            last: tokio::sync::Mutex::new(None),
        }
    }

    async fn read(&self) -> Result<T> {
        let query = self.query.clone();
        tokio::task::spawn_blocking(move || query()).await?
    }

    async fn next(&self) -> Result<Option<T>> {
        let mut last = self.last.lock().await;
        if self.cancelled.is_cancelled() {
            return Ok(None);
        }
        let Some((previous, at)) = last.clone() else {
            let value = self.read().await?;
            *last = Some((value.clone(), Instant::now()));
            return Ok(Some(value));
        };
        let mut since = at;
        loop {
            tokio::select! {
                biased;
                () = self.cancelled.cancelled() => return Ok(None),
                () = self.woken.notified() => {}
            }
            let quiet = self.throttle.saturating_sub(since.elapsed());
            if !quiet.is_zero() {
                tokio::select! {
                    biased;
                    () = self.cancelled.cancelled() => return Ok(None),
                    () = tokio::time::sleep(quiet) => {}
                }
            }
            let value = match self.read().await {
                Ok(value) => value,
                // Paused: the resume wakes the watch again.
                Err(FieldSyncError::Paused { .. }) => continue,
                Err(err) => return Err(err),
            };
            since = Instant::now();
            if value != previous {
                *last = Some((value.clone(), since));
                return Ok(Some(value));
            }
        }
    }

    fn cancel(&self) {
        self.cancelled.cancel();
        if let Ok(mut subscription) = self.subscription.lock() {
            subscription.take();
        }
    }
}

macro_rules! watch_object {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(uniffi::Object)]
        pub struct $name(Watcher<$item>);

        impl $name {
            pub(crate) fn start(
                store: &Store,
                tables: Changes,
                throttle: Option<Duration>,
                query: impl Fn() -> Result<$item> + Send + Sync + 'static,
            ) -> Arc<Self> {
                Arc::new(Self(Watcher::new(store, tables, throttle, Arc::new(query))))
            }
        }

        #[uniffi::export(async_runtime = "tokio")]
        impl $name {
            /// The current result the first time, then the next different result after a commit that
            /// can change it (at most one per throttle interval). `None` once cancelled.
            pub async fn next(&self) -> Result<Option<$item>> {
                self.0.next().await
            }

            /// Ends the watch: a pending and every later `next()` return `None`. Idempotent; dropping
            /// the handle does the same.
            pub fn cancel(&self) {
                self.0.cancel();
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

watch_object!(
    /// A watched project list (any `ProjectQuery`).
    ProjectListWatch,
    Vec<ProjectSummary>
);
watch_object!(
    /// One watched project; `next()` fails with `NotFound` once it is gone.
    ProjectWatch,
    Project
);
watch_object!(
    /// The watched upload log.
    UploadLogWatch,
    Vec<UploadLogEntry>
);
watch_object!(
    /// The watched photos of a project (or of every project).
    PhotoListWatch,
    Vec<Photo>
);
watch_object!(
    /// The watched sync status.
    SyncStatusWatch,
    SyncStatus
);

/// The tables a project list or a project reads.
pub(crate) const PROJECT_TABLES: Changes = Changes::PROJECTS
    .union(Changes::OUTBOX)
    .union(Changes::PHOTOS)
    .union(Changes::CHECK_INS)
    .union(Changes::SURVEYS);
/// The tables the upload log reads (the network and pause change its reasons too).
pub(crate) const UPLOAD_LOG_TABLES: Changes = Changes::OUTBOX
    .union(Changes::PHOTOS)
    .union(Changes::SURVEYS)
    .union(Changes::PROJECTS)
    .union(Changes::SETTINGS)
    .union(Changes::ENGINE);
/// The tables a photo list reads.
pub(crate) const PHOTO_TABLES: Changes = Changes::PHOTOS.union(Changes::OUTBOX);
