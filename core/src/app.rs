//! The composition root: opens the store, the photo store and the sync engine, and runs every start-up
//! recovery, once, for every front end (the bindings, the CLI, the demo). None of them holds a copy.
//!
//! Start-up recovery after a crash or a kill:
//! - **outbox entries** left `in_flight` by dead delivery runs go back to the queue (always safe: a live
//!   run's entries are told apart by their lease, see [`crate::outbox::lease`]);
//! - **photo files**: temporary (`.partial`) and unreferenced files of the photo store are removed;
//! - **download temp files** (`.fieldsync-download-*.json` beside the database) are removed;
//! - **imports** left `pending` or `running` are marked failed, so the app shows the truth.
//!
//! Storage upkeep runs at safe moments: after the start-up recovery and after every delivery run that
//! delivered something, the photo retention policy ([`AppConfig::retention`]) is applied and SQLite is
//! optimised and vacuumed a bounded amount ([`Store::maintain`], which never waits for a busy writer).
//!
//! **Suspend and resume** ([`App::pause`], [`App::resume`]): a phone app is suspended at any moment, and
//! iOS kills a suspended app that holds a lock on a file (`0xdead10cc`). `pause()` stops every operation
//! at a safe point (requests in flight are aborted, outbox entries go back to the queue, an import rolls
//! back), closes every SQLite connection (no descriptor of the database, WAL or SHM file stays open, so no
//! lock either) and releases the liveness lock. While paused, calls fail at once with
//! [`Error::Paused`]: the app is about to be suspended and must not wait. `resume()` reopens and
//! delivers again what the pause interrupted.
//!
//! The last three would hurt a live process (its photo being stored, its download, its running import),
//! so they run only when no other process has the database open: every [`App`] holds a shared lock on
//! `<database>-runs/open.lock` for its lifetime, and the recovery takes it exclusively first. The
//! operating system releases a killed process's lock, so the next start after a kill recovers everything.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cancel::{CancelToken, Stop};
use crate::photo::files::PhotoFiles;
use crate::photo::process::ProcessSettings;
use crate::photo::retention::RetentionPolicy;
use crate::secrets::SecretStore;
use crate::store::{AddPhoto, Photo, Store};
use crate::sync::{
    BackgroundRequest, BackgroundSyncResult, DEFAULT_RELAY_CONCURRENCY, DOWNLOAD_TEMP_PREFIX, SyncEngine,
    SyncObserver,
};
use crate::transport::Timeouts;
use crate::{Error, Result};

/// What [`App::open`] needs.
pub struct AppConfig {
    /// The SQLite file (created if missing).
    pub database: PathBuf,
    /// The photo store; `None` for `<database>-photos/`.
    pub photo_directory: Option<PathBuf>,
    /// Where credentials live.
    pub secrets: Arc<dyn SecretStore>,
    /// Outbox entries sent at once (1 to [`crate::sync::MAX_RELAY_CONCURRENCY`]).
    pub relay_concurrency: usize,
    /// Who hears about sync events.
    pub observer: Option<SyncObserver>,
    /// Network timeouts; `None` for the defaults.
    pub timeouts: Option<Timeouts>,
    /// Which photo files go once the provider has the photos; `None` keeps every file. Default: originals
    /// of relayed and rejected photos go after 30 days and photo files are capped at 2 GiB; renditions stay
    /// until the cap needs the space, so that publishing a relayed photo again sends it at once.
    pub retention: Option<RetentionPolicy>,
}

impl AppConfig {
    /// The defaults for a database and a secret store.
    pub fn new(database: impl Into<PathBuf>, secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            database: database.into(),
            photo_directory: None,
            secrets,
            relay_concurrency: DEFAULT_RELAY_CONCURRENCY,
            observer: None,
            timeouts: None,
            // An app keeps the renditions of relayed photos until the byte cap needs the space: QA may
            // publish a relayed photo again, and that must send the same bytes at once.
            retention: Some(RetentionPolicy {
                evict_decided_renditions: false,
                ..RetentionPolicy::default()
            }),
        }
    }
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("database", &self.database)
            .field("photo_directory", &self.photo_directory)
            .field("relay_concurrency", &self.relay_concurrency)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

/// What the start-up recovery found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recovery {
    /// Whether this process was alone with the database (the file and import recovery ran).
    pub exclusive: bool,
    /// Outbox entries of dead delivery runs put back in the queue.
    pub outbox_entries: u64,
    /// Temporary and unreferenced photo files removed.
    pub photo_files: u64,
    /// Download temp files removed.
    pub download_files: u64,
    /// Imports marked failed.
    pub imports: u64,
    /// Photo files the retention policy deleted at start-up.
    pub retention_files: u64,
}

/// The photo store directory used when none is configured: `<database>-photos/`.
pub fn default_photo_directory(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-photos");
    PathBuf::from(name)
}

/// fieldsync opened on one database: the store, the photo store and the engine. Share one per process.
pub struct App {
    store: Arc<Store>,
    photo_files: PhotoFiles,
    engine: Arc<SyncEngine>,
    recovery: Recovery,
    /// Photos are processed one at a time (memory stays bounded whatever the queue).
    processing: Mutex<()>,
    /// Held shared while the App is open and not paused: tells other processes this one is alive.
    open: File,
    /// Serialises `pause` and `resume`.
    lifecycle: Mutex<()>,
    /// The deliveries `resume()` started on a thread of their own, and what stops them: [`App::shutdown`]
    /// stops and joins them, so that a host can know that no thread of the App calls it any more.
    resumed: Mutex<Vec<std::thread::JoinHandle<()>>>,
    shutdown: CancelToken,
}

/// The longest `pause()` waits for an operation to reach a safe point (a send in flight is aborted at
/// once; only a store call under way can take longer).
pub const PAUSE_WAIT: Duration = Duration::from_secs(2);

/// What [`App::pause`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PauseReport {
    /// How long it took.
    pub took: Duration,
    /// Whether every operation stopped and every connection closed within [`PAUSE_WAIT`].
    pub clean: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("database", &self.store.path())
            .field("recovery", &self.recovery)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens (or creates) everything and runs the start-up recovery.
    pub fn open(config: AppConfig) -> Result<Self> {
        let store = Arc::new(Store::open(&config.database)?);
        let photo_directory = config
            .photo_directory
            .clone()
            .unwrap_or_else(|| default_photo_directory(&config.database));
        let photo_files = PhotoFiles::open(&photo_directory)?;
        let lease_directory = store.lease_directory();
        let (open, exclusive) = open_lock(&lease_directory)?;
        let mut recovery = Recovery {
            exclusive,
            ..Recovery::default()
        };
        if exclusive {
            recovery.photo_files = store.sweep_photo_files(&photo_files)?;
            recovery.download_files = sweep_downloads(download_directory(&config.database))?;
            recovery.imports = store.recover_interrupted_imports()?;
            crate::outbox::lease::sweep(&lease_directory).map_err(|err| Error::io(&lease_directory, err))?;
        }
        recovery.outbox_entries = store.recover_in_flight()?;
        // Projects an import left out of the search index (a crash or a stop before its catch-up, or a
        // database just upgraded to schema 12) are indexed now; searches are complete either way.
        if let Err(err) = store.catch_up_search() {
            tracing::warn!(%err, "search index catch-up failed; searches stay complete, slower");
        }
        // Now others may start too; this process only needs to be seen alive.
        open.unlock().map_err(|err| Error::io(&lease_directory, err))?;
        open.lock_shared()
            .map_err(|err| Error::io(&lease_directory, err))?;
        if let Some(policy) = &config.retention {
            recovery.retention_files = upkeep(&store, &photo_files, policy, exclusive);
        }
        if recovery
            != (Recovery {
                exclusive,
                ..Recovery::default()
            })
        {
            tracing::info!(?recovery, "recovered after an interrupted run");
        }
        let mut engine = SyncEngine::new(
            store.clone(),
            config.secrets.clone(),
            download_directory(&config.database),
        )
        .with_photo_files(photo_files.clone())
        .with_relay_concurrency(config.relay_concurrency);
        if let Some(policy) = config.retention {
            let (hook_store, hook_files) = (store.clone(), photo_files.clone());
            engine = engine.with_after_delivery(Arc::new(move |_report| {
                upkeep(&hook_store, &hook_files, &policy, false);
            }));
        }
        if let Some(observer) = config.observer {
            engine = engine.with_observer(observer);
        }
        if let Some(timeouts) = config.timeouts {
            engine = engine.with_timeouts(timeouts);
        }
        Ok(Self {
            store,
            photo_files,
            engine: Arc::new(engine),
            recovery,
            processing: Mutex::new(()),
            open,
            lifecycle: Mutex::new(()),
            resumed: Mutex::new(Vec::new()),
            shutdown: CancelToken::new(),
        })
    }

    /// Suspends fieldsync before the app is suspended (see the module docs): stops every operation,
    /// closes every database connection and releases every file lock. Idempotent.
    pub fn pause(&self) -> Result<PauseReport> {
        let _serial = self
            .lifecycle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let started = Instant::now();
        let stopped = self.engine.pause(PAUSE_WAIT);
        let closed = self.store.close(PAUSE_WAIT.saturating_sub(started.elapsed()));
        let lease_directory = self.store.lease_directory();
        self.open
            .unlock()
            .map_err(|err| Error::io(&lease_directory, err))?;
        let report = PauseReport {
            took: started.elapsed(),
            clean: stopped && closed,
        };
        tracing::info!(
            took_ms = report.took.as_millis() as u64,
            clean = report.clean,
            "paused"
        );
        Ok(report)
    }

    /// Undoes [`Self::pause`]: reopens the database and accepts calls again. Delivery runs the pause
    /// interrupted start again at once on a background thread. Idempotent.
    pub fn resume(&self) -> Result<()> {
        let _serial = self
            .lifecycle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let lease_directory = self.store.lease_directory();
        self.open
            .lock_shared()
            .map_err(|err| Error::io(&lease_directory, err))?;
        self.store.reopen()?;
        let interrupted = self.engine.resume();
        if !interrupted.is_empty() {
            let engine = self.engine.clone();
            let stop = Stop::on(&self.shutdown);
            let spawned = std::thread::Builder::new()
                .name("fieldsync-resume".into())
                .spawn(move || {
                    for code in interrupted {
                        if let Err(err) = engine.push_outbox_until(&code, false, &stop) {
                            tracing::warn!(code, %err, "delivery after resume failed");
                        }
                    }
                });
            match spawned {
                Ok(thread) => {
                    let mut resumed = self
                        .resumed
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    resumed.retain(|thread| !thread.is_finished());
                    resumed.push(thread);
                }
                Err(err) => {
                    tracing::warn!(%err, "could not start delivery after resume; the next sync sends it")
                }
            }
        }
        tracing::info!("resumed");
        Ok(())
    }

    /// Stops the deliveries `resume()` started in the background (an upload in flight is aborted and
    /// goes again later under the same UUID) and waits for their threads, so that no thread of the App
    /// runs any more (the bindings' `shutdown()`: a host such as Python must not be called back once it
    /// exits). Later deliveries after a `resume()` stop at once. Idempotent.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
        let threads = std::mem::take(
            &mut *self
                .resumed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!("a delivery after resume panicked");
            }
        }
    }

    /// Whether [`Self::pause`] was called without a [`Self::resume`] since.
    pub fn is_paused(&self) -> bool {
        self.engine.is_paused()
    }

    /// One background run (see [`crate::sync::BackgroundRequest`]): field work first, then refreshes,
    /// returning by the deadline (plus the few milliseconds it takes to abort what is in flight) or when
    /// `stop` says so.
    pub fn run_background_sync(
        &self,
        request: &BackgroundRequest,
        stop: &Stop,
    ) -> Result<BackgroundSyncResult> {
        self.engine.run_background(request, stop)
    }

    /// The cache.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The sync engine.
    pub fn engine(&self) -> &Arc<SyncEngine> {
        &self.engine
    }

    /// The photo store.
    pub fn photo_files(&self) -> &PhotoFiles {
        &self.photo_files
    }

    /// What the start-up recovery did.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Takes a photo: it is on disk with its delivery queued before processing starts; then every photo
    /// waiting for processing (this one included) is processed, one at a time, `on_processed` hearing of
    /// each. Returns the photo as it is now (`duplicate` when the same bytes were already taken).
    pub fn add_photo(&self, request: &AddPhoto, on_processed: impl FnMut(&Photo)) -> Result<Photo> {
        let settings = ProcessSettings::default();
        let added = self
            .store
            .add_photo(&self.photo_files, request, &settings.limits)?;
        self.process_photos(on_processed)?;
        let photo = self.store.photo(&added.uuid)?;
        Ok(Photo {
            duplicate: added.duplicate,
            ..photo
        })
    }

    /// Deletes an integration and its projects. With undelivered field work it refuses (see
    /// [`Store::delete_integration`]) unless `force`; forced, the work is
    /// first exported beside the database with the pending photos' files
    /// ([`Store::export_pending_work`]), on disk before any row goes, and the export is returned.
    /// Credentials are the caller's to delete.
    pub fn delete_integration(&self, code: &str, force: bool) -> Result<Option<crate::store::PendingExport>> {
        let pending = !self.store.pending_outbox_entries(code)?.is_empty();
        let export = if force && pending {
            Some(self.store.export_pending_work(&self.photo_files, code)?)
        } else {
            None
        };
        self.store.delete_integration(code, force)?;
        Ok(export)
    }

    /// Applies the photo retention policy now with `policy` (the CLI's `storage clean`; the configured
    /// policy runs by itself at start-up and after deliveries).
    pub fn apply_retention(&self, policy: &RetentionPolicy) -> Result<crate::store::RetentionReport> {
        self.store.apply_retention(&self.photo_files, policy)
    }

    /// Where the storage goes (see [`Store::storage_report`]).
    pub fn storage_report(&self) -> Result<crate::store::StorageReport> {
        self.store.storage_report(&self.photo_files)
    }

    /// Sets the device signer: renditions made from now on carry content credentials it signs (see
    /// `docs/EVIDENCE.md`); `None` makes them without. Photos whose signing waited go at the next pass.
    pub fn set_device_signer(&self, signer: Option<Arc<dyn crate::evidence::DeviceSigner>>) {
        self.store.set_device_signer(signer);
    }

    /// Processes every photo waiting for it (left by a failure or another process, too), one at a time
    /// across the process. Returns how many were processed (failed ones included).
    pub fn process_photos(&self, mut on_processed: impl FnMut(&Photo)) -> Result<u64> {
        let settings = ProcessSettings::default();
        let _one_at_a_time = self
            .processing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Photos whose signing waited (a locked keystore) are tried again at every pass.
        self.store.retry_evidence_waits()?;
        let mut count = 0;
        while let Some(processed) = self.store.process_next_photo(&self.photo_files, &settings)? {
            on_processed(&processed);
            count += 1;
        }
        Ok(count)
    }
}

/// Storage upkeep at a safe moment: the retention policy, then `PRAGMA optimize` and a bounded incremental
/// vacuum (a database from before incremental vacuum is converted only when `exclusive`, at start-up).
/// Never fails the caller: problems are logged. Returns how many photo files went.
fn upkeep(store: &Store, files: &PhotoFiles, policy: &RetentionPolicy, exclusive: bool) -> u64 {
    let deleted = match store.apply_retention(files, policy) {
        Ok(report) => report.originals_deleted + report.renditions_deleted,
        Err(err) => {
            tracing::warn!(%err, "photo retention failed");
            0
        }
    };
    match store.maintain(crate::store::VACUUM_PAGES_PER_CALL, exclusive) {
        Ok(done) => tracing::debug!(?done, "database upkeep"),
        Err(err) => tracing::warn!(%err, "database upkeep failed"),
    }
    deleted
}

/// The directory downloads are written to: the database's.
fn download_directory(database: &Path) -> PathBuf {
    database
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Opens `<runs>/open.lock` and tries to lock it exclusively: `true` when no other process has the
/// database open.
fn open_lock(directory: &Path) -> Result<(File, bool)> {
    let io_error = |err| Error::io(directory, err);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(directory).map_err(io_error)?;
    let path = directory.join("open.lock");
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|err| Error::io(&path, err))?;
    match file.try_lock() {
        Ok(()) => Ok((file, true)),
        Err(TryLockError::WouldBlock) => {
            file.lock_shared().map_err(|err| Error::io(&path, err))?;
            Ok((file, false))
        }
        Err(TryLockError::Error(err)) => Err(Error::io(&path, err)),
    }
}

/// Removes download temp files left by killed processes (only called when no other process is alive).
fn sweep_downloads(directory: PathBuf) -> Result<u64> {
    let entries = match std::fs::read_dir(&directory) {
        Ok(entries) => entries,
        Err(err) => return Err(Error::io(&directory, err)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let is_download = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(DOWNLOAD_TEMP_PREFIX));
        if is_download && entry.file_type().is_ok_and(|kind| kind.is_file()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(Error::io(entry.path(), err)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::FileSecretStore;

    fn config(dir: &Path) -> AppConfig {
        let database = dir.join("cache.db");
        AppConfig::new(&database, Arc::new(FileSecretStore::beside(&database)))
    }

    #[test]
    fn the_first_process_recovers_files_and_a_second_one_leaves_them_alone() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(format!("{DOWNLOAD_TEMP_PREFIX}abc.json"));
        std::fs::write(&stale, b"{\"workOrders\": [").unwrap();
        let first = App::open(config(dir.path())).unwrap();
        assert!(first.recovery().exclusive);
        assert_eq!(first.recovery().download_files, 1);
        assert!(!stale.exists());
        // A download of the first process, in progress: a second process must not touch it.
        std::fs::write(&stale, b"{\"workOrders\": [").unwrap();
        let second = App::open(config(dir.path())).unwrap();
        assert!(!second.recovery().exclusive);
        assert_eq!(second.recovery().download_files, 0);
        assert!(stale.exists());
        drop((first, second));
        let third = App::open(config(dir.path())).unwrap();
        assert_eq!(third.recovery().download_files, 1, "once alone, the leftovers go");
    }

    #[test]
    fn the_photo_store_defaults_to_a_folder_beside_the_database() {
        assert_eq!(
            default_photo_directory(Path::new("/data/cache.db")),
            PathBuf::from("/data/cache.db-photos")
        );
    }
}
