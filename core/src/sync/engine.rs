//! The sync engine: validate, refresh and full import over the wire, one run per integration at a time.
//!
//! A refresh downloads the getWorkOrders body to a temporary file first, then imports it in one transaction.
//! The download can be slow on a phone network; doing it outside the transaction keeps the cache writable
//! (check-ins, photos) the whole time, and a broken download never touches the cache.
//!
//! **Incremental timestamps and clock skew.** The `timestamp` sent with a Refresh is the provider's own
//! clock: the `serverTime` of the last successful response (or its HTTP `Date` header), minus a
//! [`CURSOR_OVERLAP`]. The device clock is never used, so a phone whose clock is hours off neither misses
//! changes nor asks for the future. The overlap re-asks for the last minute: orders changed in the same
//! second as the previous response, or stamped by a provider whose clock stepped back slightly, are
//! fetched again, and re-applying them is free (fingerprints skip what did not change).

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use super::courier::HttpCourier;
use super::event::{SyncEvent, SyncObserver};
use super::relay::RunProgress;
use crate::cancel::{Stop, StopReason};
use crate::model::{ImportKind, ImportReport, now};
use crate::outbox::EntryKind;
use crate::outbox::delivery::{DeliveryOptions, Queue as _};
use crate::outbox::lease::RunLease;
use crate::outbox::upload_policy::{self, NetworkState, UploadConditions};
use crate::outbox::{DeliveryReport, SystemClock, deliver};
use crate::secrets::{SecretKind, SecretStore};
use crate::store::{ImportOptions, MAX_RESPONSE_BYTES, Store};
use crate::transport::{HttpTransport, ProviderCredentials, Timeouts, TransportError, Validation};
use crate::{Error, Result};

/// What `sync` did: deliveries first, then refreshes.
#[derive(Debug, Default)]
pub struct SyncSummary {
    /// Outbox deliveries per integration.
    pub deliveries: Vec<(String, Result<DeliveryReport>)>,
    /// Refreshes of the integrations that were due.
    pub refreshes: Vec<(String, Result<ImportReport>)>,
}

/// What `sync` did for one integration: its delivery and its refresh merged.
#[derive(Debug)]
pub struct IntegrationOutcome {
    /// Integration code.
    pub code: String,
    /// The delivery run, when there was field work to deliver: what it did, or why it failed.
    pub delivery: Option<Result<DeliveryReport>>,
    /// The refresh, when the integration was due.
    pub refresh: Option<Result<ImportReport>>,
}

impl IntegrationOutcome {
    /// Why this integration did not sync cleanly: the refresh's error, else the delivery's error, else why
    /// the delivery stopped early.
    pub fn error(&self) -> Option<String> {
        let refresh = self.refresh.as_ref().and_then(|refresh| refresh.as_ref().err());
        let delivery = self.delivery.as_ref();
        refresh
            .map(ToString::to_string)
            .or_else(|| {
                delivery
                    .and_then(|delivery| delivery.as_ref().err())
                    .map(ToString::to_string)
            })
            .or_else(|| {
                delivery
                    .and_then(|delivery| delivery.as_ref().ok())
                    .and_then(|report| report.stopped.clone())
            })
    }
}

impl SyncSummary {
    /// One outcome per integration, in the order they were first touched.
    pub fn per_integration(self) -> Vec<IntegrationOutcome> {
        let mut outcomes: Vec<IntegrationOutcome> = Vec::new();
        fn slot<'o>(outcomes: &'o mut Vec<IntegrationOutcome>, code: &str) -> &'o mut IntegrationOutcome {
            let index = match outcomes.iter().position(|outcome| outcome.code == code) {
                Some(index) => index,
                None => {
                    outcomes.push(IntegrationOutcome {
                        code: code.to_owned(),
                        delivery: None,
                        refresh: None,
                    });
                    outcomes.len() - 1
                }
            };
            &mut outcomes[index]
        }
        for (code, delivery) in self.deliveries {
            slot(&mut outcomes, &code).delivery = Some(delivery);
        }
        for (code, refresh) in self.refreshes {
            slot(&mut outcomes, &code).refresh = Some(refresh);
        }
        outcomes
    }
}

/// Outbox entries sent at once by default (see `docs/BENCHMARKS.md`, photo relay: on a link with
/// latency, more requests in flight hide the round trips; past 3 the gain is small while a phone's uplink
/// is shared by more uploads that each take longer, and a cut connection loses more partial uploads).
pub const DEFAULT_RELAY_CONCURRENCY: usize = 3;

/// The most outbox entries sent at once (each is a thread and a connection).
pub const MAX_RELAY_CONCURRENCY: usize = 16;

/// The prefix of the temporary files downloads are written to, beside the database (start-up recovery
/// removes those a killed process left).
pub const DOWNLOAD_TEMP_PREFIX: &str = ".fieldsync-download-";

/// How far back a Refresh re-asks, to be robust to same-second writes and small provider clock steps.
pub const CURSOR_OVERLAP: i64 = 60;

/// Runs imports against providers. Share one per process (e.g. in an `Arc`).
pub struct SyncEngine {
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
    download_dir: PathBuf,
    timeouts: Timeouts,
    runs: Mutex<HashMap<String, RunSlot>>,
    run_finished: Condvar,
    observer: Option<SyncObserver>,
    /// One delivery run at a time per engine (runs of other processes are kept apart by leases).
    delivering: Mutex<()>,
    relay_concurrency: usize,
    photo_files: Option<crate::photo::files::PhotoFiles>,
    after_delivery: Option<AfterDelivery>,
    /// The network the host reports (in memory; unmetered until it says otherwise).
    network: Mutex<NetworkState>,
    lifecycle: Mutex<Lifecycle>,
    /// Signalled when an operation ends (pause waits for all of them).
    operation_ended: Condvar,
}

/// Whether the engine is paused, the token its operations stop on, and how many are under way.
#[derive(Debug, Default)]
struct Lifecycle {
    paused: bool,
    token: CancellationToken,
    operations: usize,
    /// Integrations whose delivery run the pause interrupted (resumed after `resume()`).
    interrupted: Vec<String>,
}

/// One operation under way: counted while it lives, so that [`SyncEngine::pause`] can wait for it.
struct Operation<'e> {
    engine: &'e SyncEngine,
}

impl Drop for Operation<'_> {
    fn drop(&mut self) {
        let mut lifecycle = self.engine.lifecycle();
        lifecycle.operations -= 1;
        self.engine.operation_ended.notify_all();
    }
}

/// Called after a delivery run that delivered something, on the thread that ran it, before
/// [`SyncEngine::push_outbox`] returns: a safe moment for storage upkeep (the composition root applies the
/// photo retention policy there). It must not fail the run: it logs its own errors.
pub type AfterDelivery = Arc<dyn Fn(&DeliveryReport) + Send + Sync>;

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}

/// Coalescing state of one integration: requests are numbered; a run serves every request made before it
/// started.
#[derive(Debug, Default)]
struct RunSlot {
    running: bool,
    requested: u64,
    served: u64,
    full_wanted: bool,
    runs_started: u64,
    last: Option<std::result::Result<ImportReport, (String, crate::FailureClass)>>,
}

impl SyncEngine {
    /// An engine over `store`, reading credentials from `secrets`, downloading into `download_dir`.
    pub fn new(store: Arc<Store>, secrets: Arc<dyn SecretStore>, download_dir: impl Into<PathBuf>) -> Self {
        Self {
            store,
            secrets,
            download_dir: download_dir.into(),
            timeouts: Timeouts::default(),
            runs: Mutex::new(HashMap::new()),
            run_finished: Condvar::new(),
            observer: None,
            delivering: Mutex::new(()),
            relay_concurrency: DEFAULT_RELAY_CONCURRENCY,
            photo_files: None,
            after_delivery: None,
            lifecycle: Mutex::new(Lifecycle::default()),
            operation_ended: Condvar::new(),
            network: Mutex::new(NetworkState::default()),
        }
    }

    fn lifecycle(&self) -> MutexGuard<'_, Lifecycle> {
        self.lifecycle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts an operation under `stop` (plus the engine's pause): refused with [`Error::Paused`] while
    /// paused.
    fn operation(&self, stop: &Stop) -> Result<(Stop, Operation<'_>)> {
        let mut lifecycle = self.lifecycle();
        if lifecycle.paused {
            return Err(Error::Paused);
        }
        lifecycle.operations += 1;
        let stop = stop.clone().with_lifecycle(&lifecycle.token);
        Ok((stop, Operation { engine: self }))
    }

    /// Stops every operation under way and refuses new ones until [`Self::resume`]: requests in flight
    /// are aborted, delivery runs put their entries back in the queue, imports roll back. Waits at most
    /// `wait` for them to end; returns whether they all did.
    pub fn pause(&self, wait: Duration) -> bool {
        let mut lifecycle = self.lifecycle();
        lifecycle.paused = true;
        lifecycle.token.cancel();
        let deadline = Instant::now() + wait;
        while lifecycle.operations > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    operations = lifecycle.operations,
                    "pause: operations still under way"
                );
                return false;
            }
            lifecycle = self
                .operation_ended
                .wait_timeout(lifecycle, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        drop(lifecycle);
        self.store.changes().publish(crate::store::Changes::ENGINE);
        true
    }

    /// Accepts operations again after [`Self::pause`]. Returns the integrations whose delivery run the
    /// pause interrupted, for the caller to run again.
    pub fn resume(&self) -> Vec<String> {
        let mut lifecycle = self.lifecycle();
        lifecycle.paused = false;
        lifecycle.token = CancellationToken::new();
        let interrupted = std::mem::take(&mut lifecycle.interrupted);
        drop(lifecycle);
        self.store.changes().publish(crate::store::Changes::ENGINE);
        interrupted
    }

    /// Whether the engine is paused.
    pub fn is_paused(&self) -> bool {
        self.lifecycle().paused
    }

    /// Where photo renditions are read from when relaying photos.
    pub fn with_photo_files(mut self, files: crate::photo::files::PhotoFiles) -> Self {
        self.photo_files = Some(files);
        self
    }

    /// How many outbox entries (photos, check-ins, statuses) one delivery run sends at once, at most one
    /// per project (1 to [`MAX_RELAY_CONCURRENCY`]; default [`DEFAULT_RELAY_CONCURRENCY`]).
    pub fn with_relay_concurrency(mut self, workers: usize) -> Self {
        self.relay_concurrency = workers.clamp(1, MAX_RELAY_CONCURRENCY);
        self
    }

    /// The host reports the network. Delivery runs follow it with the stored upload policy
    /// ([`crate::outbox::upload_policy`]); with none, nothing is sent (and auto-import waits).
    pub fn set_network(&self, network: NetworkState) {
        *self
            .network
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = network;
        self.store.changes().publish(crate::store::Changes::ENGINE);
    }

    /// The network the host last reported.
    pub fn network(&self) -> NetworkState {
        *self
            .network
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets what runs after a delivery run that delivered something (see [`AfterDelivery`]).
    pub fn with_after_delivery(mut self, hook: AfterDelivery) -> Self {
        self.after_delivery = Some(hook);
        self
    }

    /// Sets who hears about status changes and finished imports.
    pub fn with_observer(mut self, observer: SyncObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Tells the observer the integration's current status.
    fn announce_status(&self, code: &str) {
        if let Some(observer) = &self.observer
            && let Ok(integration) = self.store.integration(code)
        {
            observer(SyncEvent::Status {
                code: code.to_owned(),
                status: integration.status,
                last_error: integration.last_error,
            });
        }
    }

    /// Replaces the network timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The store this engine writes to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn credentials(&self, code: &str) -> Result<ProviderCredentials> {
        let integration = self.store.integration(code)?;
        let password_sha1 = self.secrets.get(code, SecretKind::PasswordSha1)?.ok_or_else(|| {
            crate::model::InvalidInput::new(
                "password",
                format!("no password is saved for integration {code}"),
            )
        })?;
        let token = self.secrets.get(code, SecretKind::Token)?;
        Ok(ProviderCredentials {
            username: integration.username,
            password_sha1,
            token,
        })
    }

    /// A digest of the saved credentials, to notice when they change (never the credentials themselves).
    pub fn credentials_fingerprint(&self, code: &str) -> Result<String> {
        let credentials = self.credentials(code)?;
        let text = format!(
            "{}\n{}\n{}",
            credentials.username,
            credentials.password_sha1,
            credentials.token.unwrap_or_default()
        );
        Ok(format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes())))
    }

    fn transport(&self, code: &str, stop: &Stop) -> Result<HttpTransport> {
        let integration = self.store.integration(code)?;
        let mut transport = HttpTransport::new(
            &integration.base_url,
            integration.service_extension.as_deref(),
            self.timeouts,
        )?
        .stopping_on(stop.clone());
        if let Some(push_key) = self.secrets.get(code, SecretKind::PushKey)? {
            transport = transport.redacting(push_key);
        }
        Ok(transport)
    }

    /// Every secret of the integration, to redact from text that comes from outside (the provider's error
    /// messages) before it is stored, logged or returned.
    fn known_secrets(&self, code: &str) -> Vec<String> {
        [SecretKind::PasswordSha1, SecretKind::Token, SecretKind::PushKey]
            .into_iter()
            .filter_map(|kind| self.secrets.get(code, kind).ok().flatten())
            .collect()
    }

    /// The integration's push key, created on first use (256 random bits, hex).
    pub fn push_key(&self, code: &str) -> Result<String> {
        self.store.integration(code)?;
        if let Some(key) = self.secrets.get(code, SecretKind::PushKey)? {
            return Ok(key);
        }
        let key = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.secrets.set(code, SecretKind::PushKey, &key)?;
        Ok(key)
    }

    /// Checks the credentials with the provider (sending the push key along). Only a positive answer marks
    /// the integration validated; a negative one clears the mark.
    pub fn validate(&self, code: &str) -> Result<Validation> {
        self.validate_until(code, &Stop::never())
    }

    /// [`Self::validate`], stopping when `stop` says so.
    pub fn validate_until(&self, code: &str, stop: &Stop) -> Result<Validation> {
        let (stop, _operation) = self.operation(stop)?;
        let credentials = self.credentials(code)?;
        let push_key = self.push_key(code)?;
        // The transport redacts the credentials and the push key from what the provider says.
        let validation = match self.transport(code, &stop)?.validate(&credentials, &push_key) {
            Err(TransportError::Auth(message)) => Validation {
                validated: false,
                error: Some(message),
            },
            other => other?,
        };
        self.store.set_validated(code, validation.validated.then(now))?;
        Ok(validation)
    }

    /// A Refresh or Full Import. If one is already running for this integration, waits for it and then for
    /// one more run that serves every request that arrived meanwhile (never two runs in parallel).
    pub fn refresh(&self, code: &str, kind: ImportKind) -> Result<ImportReport> {
        self.refresh_until(code, kind, &Stop::never())
    }

    /// [`Self::refresh`], stopping when `stop` says so: the download is aborted or the import rolls back,
    /// the cache stays as it was, and the integration goes back to `idle` or `error` (see
    /// [`crate::model::StatusEvent::Stopped`]). A caller that waits for another caller's run stops waiting.
    pub fn refresh_until(&self, code: &str, kind: ImportKind, stop: &Stop) -> Result<ImportReport> {
        let (stop, _operation) = self.operation(stop)?;
        self.store.integration(code)?;
        let mut runs = self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let slot = runs.entry(code.to_owned()).or_default();
        slot.requested += 1;
        slot.full_wanted |= kind == ImportKind::FullImport;
        let ticket = slot.requested;
        if slot.running {
            // Visible to the app as "pending" only when nothing runs; a running import stays "running".
            drop(runs);
            self.store.request_import(code)?;
            self.announce_status(code);
            runs = self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        loop {
            let slot = runs.get_mut(code).expect("slot created above");
            if slot.served >= ticket {
                return match slot.last.clone().expect("a served request has a result") {
                    Ok(report) => Ok(report),
                    Err((message, class)) => Err(Error::RefreshFailed {
                        code: code.to_owned(),
                        message,
                        class,
                    }),
                };
            }
            if !slot.running {
                slot.running = true;
                slot.runs_started += 1;
                let batch = slot.requested;
                let kind = if std::mem::take(&mut slot.full_wanted) {
                    ImportKind::FullImport
                } else {
                    ImportKind::Refresh
                };
                drop(runs);
                let result = self.run_once(code, kind, &stop);
                runs = self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let slot = runs.get_mut(code).expect("slot created above");
                slot.running = false;
                slot.served = batch;
                slot.last = Some(
                    result
                        .as_ref()
                        .map(Clone::clone)
                        .map_err(|err| (err.to_string(), err.class())),
                );
                self.run_finished.notify_all();
                // This run started after our request, so it served it.
                return result;
            }
            stop.check()?;
            runs = self
                .run_finished
                .wait_timeout(runs, Duration::from_millis(50))
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// How many runs this engine started for an integration (coalesced requests share one run).
    pub fn runs_started(&self, code: &str) -> u64 {
        let runs = self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        runs.get(code).map_or(0, |slot| slot.runs_started)
    }

    fn run_once(&self, code: &str, kind: ImportKind, stop: &Stop) -> Result<ImportReport> {
        let before = self.store.integration(code)?.status;
        self.store.begin_import(code)?;
        self.announce_status(code);
        let result = self
            .download_and_import(code, kind, stop)
            .map_err(|err| match stop.reason() {
                // Whatever broke the import (an aborted download, a body cut short), it was the stop.
                Some(reason) => Error::Stopped(reason),
                None => err.redacted(&self.known_secrets(code)),
            });
        match &result {
            Ok(report) => {
                if let Some(observer) = &self.observer {
                    observer(SyncEvent::Imported {
                        code: code.to_owned(),
                        report: report.clone(),
                    });
                }
            }
            Err(Error::Stopped(reason)) => {
                tracing::info!(code, %reason, "import stopped; the cache is as it was");
                self.store.stop_import(code, before);
            }
            Err(err) => self.store.fail_import(code, &err.to_string()),
        }
        self.announce_status(code);
        if result.is_ok() {
            // The import left its new projects out of the search index (searches read them from the table
            // meanwhile); index them now, in short transactions, after the import is visible.
            if let Err(err) = self.store.catch_up_search() {
                tracing::warn!(code, %err, "search index catch-up failed; searches stay complete, slower");
            }
        }
        result
    }

    fn download_and_import(&self, code: &str, kind: ImportKind, stop: &Stop) -> Result<ImportReport> {
        let integration = self.store.integration(code)?;
        let credentials = self.credentials(code)?;
        let transport = self.transport(code, stop)?;
        let timestamp = match kind {
            ImportKind::FullImport => None,
            // Saturating: a cursor stored by an older version may be any i64 (even i64::MIN).
            ImportKind::Refresh => integration
                .sync_cursor
                .map(|cursor| cursor.saturating_sub(CURSOR_OVERLAP)),
        };
        let io_error = |err| Error::io(&self.download_dir, err);
        let mut file = tempfile::Builder::new()
            .prefix(DOWNLOAD_TEMP_PREFIX)
            .suffix(".json")
            .tempfile_in(&self.download_dir)
            .map_err(io_error)?;
        let download = {
            let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file.as_file_mut());
            let download =
                transport.download_work_orders(&credentials, timestamp, &mut writer, MAX_RESPONSE_BYTES)?;
            writer.flush().map_err(io_error)?;
            download
        };
        file.as_file_mut().rewind().map_err(io_error)?;
        tracing::info!(code, bytes = download.bytes, ?kind, "downloaded work orders");
        let options = ImportOptions {
            server_time_fallback: download.date_header,
            ..ImportOptions::new(kind)
        };
        stop.check()?;
        // The import reads the body through the stop: a stop mid-import fails the next read, and the
        // import's transaction rolls back.
        let reader = BufReader::with_capacity(
            256 * 1024,
            StoppingReader {
                inner: file.as_file(),
                stop,
            },
        );
        self.store
            .apply_import(code, reader, Some(download.bytes), &options)
    }

    /// Refreshes the integration whose push key is `key` (compared in constant time). An unknown key
    /// changes nothing and returns `None`.
    pub fn refresh_by_push_key(&self, key: &str) -> Result<Option<(String, ImportReport)>> {
        let mut matched = None;
        for integration in self.store.list_integrations()? {
            if let Some(stored) = self.secrets.get(&integration.code, SecretKind::PushKey)?
                && bool::from(stored.as_bytes().ct_eq(key.as_bytes()))
            {
                matched = Some(integration.code);
            }
        }
        match matched {
            Some(code) => {
                let report = self.refresh(&code, ImportKind::Refresh)?;
                Ok(Some((code, report)))
            }
            None => Ok(None),
        }
    }

    /// Delivers the integration's queued field work, oldest first and in order per project, until the
    /// queue is empty or the network or the credentials fail (the rules: [`crate::outbox`]). Up to
    /// [`Self::with_relay_concurrency`] entries go at once, never two of the same project. Two runs, in
    /// this process or another, never send the same entry: each claims under its own lease. `ignore_backoff`
    /// retries entries still waiting after a failure (a sync the user asked for).
    pub fn push_outbox(&self, code: &str, ignore_backoff: bool) -> Result<DeliveryReport> {
        self.push_outbox_until(code, ignore_backoff, &Stop::never())
    }

    /// [`Self::push_outbox`], stopping when `stop` says so: no new entry starts, a send in flight is
    /// aborted and its entry goes back to the queue, to go again later under the same UUID. The report's
    /// `halted` says why it stopped. With a deadline, no send starts that could not finish before it.
    pub fn push_outbox_until(&self, code: &str, ignore_backoff: bool, stop: &Stop) -> Result<DeliveryReport> {
        self.push_outbox_kinds_until(code, ignore_backoff, false, stop)
    }

    /// [`Self::push_outbox_until`]; with `before_photos`, only each project's entries before its first
    /// photo (a background run's first pass).
    pub(crate) fn push_outbox_kinds_until(
        &self,
        code: &str,
        ignore_backoff: bool,
        before_photos: bool,
        stop: &Stop,
    ) -> Result<DeliveryReport> {
        let (stop, _operation) = self.operation(stop)?;
        let _one_at_a_time = self
            .delivering
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let queue = self.store.outbox_queue(code)?;
        queue.recover()?;
        if !self.store.has_pending_outbox(code)? {
            return Ok(DeliveryReport::default());
        }
        let conditions = UploadConditions {
            network: self.network(),
            policy: self.store.upload_policy()?,
        };
        let lease_directory = self.store.lease_directory();
        let lease = RunLease::acquire(&lease_directory).map_err(|err| Error::io(&lease_directory, err))?;
        let courier = HttpCourier {
            store: &self.store,
            transport: self.transport(code, &stop)?,
            credentials: self.credentials(code)?,
            photo_files: self.photo_files.as_ref(),
            progress: RunProgress::new(
                self.observer.clone(),
                match upload_policy::hold(EntryKind::Photo, conditions) {
                    Some(_) => Vec::new(),
                    None => self.store.photos_due_for_relay(code, now(), ignore_backoff)?,
                },
            ),
            observer: self.observer.as_ref(),
        };
        let options = DeliveryOptions {
            ignore_backoff,
            concurrency: self.relay_concurrency,
            before_photos,
            conditions,
        };
        let report = deliver(&queue, &courier, &SystemClock, &lease, options, &stop)?;
        drop(lease);
        if report.halted == Some(StopReason::Paused) {
            let mut lifecycle = self.lifecycle();
            if !lifecycle
                .interrupted
                .iter()
                .any(|interrupted| interrupted == code)
            {
                lifecycle.interrupted.push(code.to_owned());
            }
        }
        if report.delivered > 0
            && let Some(hook) = &self.after_delivery
        {
            hook(&report);
        }
        Ok(report)
    }

    /// Delivers every integration's field work (not waiting out backoff: the user asked), then refreshes
    /// those that are due (never refreshed, in error, or last refreshed more than `max_age` ago). One
    /// failure does not stop the others.
    pub fn sync(&self, max_age: std::time::Duration) -> Result<SyncSummary> {
        self.sync_until(max_age, &Stop::never())
    }

    /// [`Self::sync`], stopping when `stop` says so (between integrations, and inside each run).
    pub fn sync_until(&self, max_age: std::time::Duration, stop: &Stop) -> Result<SyncSummary> {
        let (stop, _operation) = self.operation(stop)?;
        let mut summary = SyncSummary::default();
        let integrations = self.store.list_integrations()?;
        for integration in &integrations {
            if self.store.has_pending_outbox(&integration.code)? {
                stop.check()?;
                summary.deliveries.push((
                    integration.code.clone(),
                    self.push_outbox_until(&integration.code, true, &stop),
                ));
            }
        }
        let now = now();
        let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        for integration in integrations {
            let due = integration.status == crate::model::IntegrationStatus::Error
                || integration
                    .last_refreshed
                    .is_none_or(|at| now.saturating_sub(at) >= max_age);
            if due {
                stop.check()?;
                let outcome = self.refresh_until(&integration.code, ImportKind::Refresh, &stop);
                summary.refreshes.push((integration.code, outcome));
            }
        }
        Ok(summary)
    }
}

/// A reader that fails once the operation must stop (checked at each read of the import's buffer).
struct StoppingReader<'s, R> {
    inner: R,
    stop: &'s Stop,
}

impl<R: Read> Read for StoppingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(reason) = self.stop.reason() {
            return Err(std::io::Error::other(reason.as_str()));
        }
        self.inner.read(buf)
    }
}

impl From<TransportError> for Error {
    fn from(err: TransportError) -> Self {
        match err {
            TransportError::Stopped(reason) => Error::Stopped(reason),
            other => Error::Transport(other),
        }
    }
}
