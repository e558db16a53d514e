//! `FieldSync`: the one long-lived object the host opens. Quick local reads are synchronous; network and
//! disk work are async functions that run the core's blocking work on a worker thread of the library's
//! tokio runtime, so the host's UI thread never waits.
//!
//! Cancellation: the long calls (refresh, sync, push, background run) stop their work when the host
//! cancels them (a dropped future, or a [`Cancellation`] handle; see [`crate::lifecycle`]). What stops is
//! never half-written: an import rolls back, an aborted upload goes again later under the same UUID. The
//! other async calls are short disk work that finishes as one transaction.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fieldsync_core::app::{App, AppConfig};
use fieldsync_core::model::{ImportKind, ProjectId};
use fieldsync_core::photo::files::PhotoFiles;
use fieldsync_core::secrets::password_sha1;
use fieldsync_core::sync::{
    AutoImportEvent, AutoImportHandle, Schedule, SyncEngine, SyncEvent, spawn_auto_import,
};
use fieldsync_core::{SecretKind, SecretStore as _, Store};

use crate::error::FieldSyncError;
use crate::events::EventHub;
use crate::foreign::{EventListener, HostLocation, HostSecrets, LocationSource, SecretStore};
use crate::lifecycle::{BackgroundReason, BackgroundSyncResult, Cancellation, cancellable, deadline_instant};
use crate::records::{
    CategoryCounts, CheckIn, Completion, FieldSyncConfig, FieldSyncEvent, ImportReport, Integration,
    IntegrationEdit, LocationFix, NewIntegration, NewLocalProject, OutboxEntry, Photo, Project, ProjectEdit,
    ProjectQuery, ProjectSummary, ResolvedOptions, SurveyAnswer, SurveySubmission, SurveyTemplateInfo,
    SyncOutcome, TaskSurvey, UnmetRequirement, Validation,
};
use crate::records::{NetworkState, UploadLogEntry, UploadPolicy};
use crate::workers::{SHUTDOWN_WAIT, Workers};

type Result<T> = std::result::Result<T, FieldSyncError>;

/// The fieldsync library, opened on one database. Share one instance for the app's lifetime.
#[derive(uniffi::Object)]
pub struct FieldSync {
    /// The composition root: store, photo store and engine, recovered at open.
    app: Arc<App>,
    store: Arc<Store>,
    secrets: Arc<HostSecrets>,
    engine: Arc<SyncEngine>,
    events: Mutex<EventHub>,
    auto_import: Mutex<Option<AutoImportHandle>>,
    device_id: String,
    photo_files: PhotoFiles,
    /// The threads every async call runs on; `shutdown()` joins them (see [`crate::workers`]).
    workers: Arc<Workers>,
    /// The configured photo retention policy.
    retention: fieldsync_core::photo::retention::RetentionPolicy,
}

impl FieldSync {
    fn event_sender(&self) -> Option<crate::events::EventSender> {
        self.events.lock().ok().and_then(|events| events.sender())
    }

    fn with_thumbnail(&self, mut photo: Photo) -> Photo {
        if photo.width.is_some()
            && let Ok(stored) = self.store.photo(&photo.uuid)
            && let Ok(Some(sha256)) = self.store.thumbnail_of(&stored.uuid)
        {
            let path = self
                .photo_files
                .path(fieldsync_core::photo::files::Kind::Thumbnail, &sha256);
            photo.thumbnail_path = Some(path.to_string_lossy().into_owned());
        }
        photo
    }
}

impl std::fmt::Debug for FieldSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldSync")
            .field("database", &self.store.path())
            .finish_non_exhaustive()
    }
}

fn to_event(event: SyncEvent) -> FieldSyncEvent {
    match event {
        SyncEvent::Status {
            code,
            status,
            last_error,
        } => FieldSyncEvent::IntegrationStatus {
            code,
            status: status.into(),
            last_error,
        },
        SyncEvent::Upload { uuid, bytes } => FieldSyncEvent::UploadStarted { uuid, bytes },
        SyncEvent::PhotoState { uuid, state } => FieldSyncEvent::PhotoChanged {
            uuid,
            state: state.into(),
        },
        SyncEvent::UploadProgress {
            uuid,
            bytes_sent,
            bytes_total,
            overall_sent,
            overall_total,
        } => FieldSyncEvent::UploadProgress {
            uuid,
            bytes_sent,
            bytes_total,
            overall_sent,
            overall_total,
        },
        SyncEvent::Imported { code, report } => FieldSyncEvent::ImportFinished {
            code,
            created: report.created,
            updated: report.updated,
            cancelled: report.cancelled,
            deleted: report.deleted,
            removed: report.removed,
            rejected: report.rejected.len() as u64,
        },
    }
}

fn record_check_in(
    store: &Store,
    project: ProjectId,
    fix: fieldsync_core::checkin::LocationFix,
    badge: Option<String>,
    user: Option<String>,
    device_id: String,
) -> Result<CheckIn> {
    let request = fieldsync_core::store::CheckInRequest {
        project,
        fix,
        badge,
        user,
        device_time: fieldsync_core::model::now(),
        device_id,
    };
    Ok(store.check_in(&request)?.into())
}

fn parse_project_id(id: &str) -> Result<ProjectId> {
    ProjectId::parse(id).map_err(|err| FieldSyncError::InvalidInput {
        reason: err.to_string(),
    })
}

/// Why a delivery run stopped early, typed: the credentials were refused, or the network failed.
fn delivery_problem(code: &str, report: &fieldsync_core::sync::DeliveryReport) -> Option<FieldSyncError> {
    let reason = report.stopped.clone()?;
    Some(if report.auth_refused {
        FieldSyncError::Auth {
            reason,
            integration: Some(code.to_owned()),
        }
    } else {
        FieldSyncError::Network {
            reason,
            retry_after_secs: None,
        }
    })
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldSync {
    /// Opens (or creates) the cache. Integrations left mid-import by a previous process are marked failed.
    #[uniffi::constructor]
    pub fn open(
        config: FieldSyncConfig,
        secret_store: Arc<dyn SecretStore>,
        listener: Option<Arc<dyn EventListener>>,
    ) -> Result<Arc<Self>> {
        if config.device_id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            return Err(FieldSyncError::InvalidInput {
                reason: "device_id cannot be empty (leave it unset to use the database's own)".into(),
            });
        }
        let max_workers = fieldsync_core::sync::MAX_RELAY_CONCURRENCY;
        if let Some(workers) = config.relay_concurrency
            && !(1..=max_workers).contains(&(workers as usize))
        {
            return Err(FieldSyncError::InvalidInput {
                reason: format!("relay_concurrency must be 1 to {max_workers}, not {workers}"),
            });
        }
        let database = Path::new(&config.database_path);
        std::fs::create_dir_all(&config.photo_directory).map_err(|err| FieldSyncError::Storage {
            reason: format!(
                "cannot create the photo directory {}: {err}",
                config.photo_directory
            ),
        })?;
        let secrets = Arc::new(HostSecrets(secret_store));
        let events = EventHub::new(listener);
        let mut app_config = AppConfig::new(database, secrets.clone());
        app_config.photo_directory = Some(config.photo_directory.clone().into());
        if let Some(workers) = config.relay_concurrency {
            app_config.relay_concurrency = workers as usize;
        }
        if let Some(sender) = events.sender() {
            let sender = Mutex::new(sender);
            app_config.observer = Some(Arc::new(move |event| {
                if let Ok(sender) = sender.lock() {
                    sender.send(to_event(event));
                }
            }));
        }
        if let Some(policy) = config.retention {
            app_config.retention = Some(policy.into_core()?);
        }
        let retention = app_config.retention.unwrap_or_default();
        let workers = Arc::new(Workers::new()?);
        let app = Arc::new(App::open(app_config)?);
        let device_id = match config.device_id {
            Some(id) => id,
            None => app.store().device_id()?,
        };
        let opened = Arc::new(Self {
            store: app.store().clone(),
            engine: app.engine().clone(),
            photo_files: app.photo_files().clone(),
            app,
            secrets,
            events: Mutex::new(events),
            auto_import: Mutex::new(None),
            device_id,
            workers,
            retention,
        });
        register(&opened);
        Ok(opened)
    }

    /// The library version (also a trivial call, for measuring FFI overhead).
    pub fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }

    /// Sets the device signer: photos processed from now on carry C2PA content credentials it signs;
    /// `None` makes them without. Photos whose signing waited (a locked key store) go at the next pass.
    pub fn set_device_signer(&self, signer: Option<Arc<dyn crate::foreign::DeviceSigner>>) {
        self.app.set_device_signer(signer.map(|signer| {
            Arc::new(crate::foreign::HostSigner(signer)) as Arc<dyn fieldsync_core::evidence::DeviceSigner>
        }));
    }

    /// Sets a software signer (tests and emulators only: the key is in memory). See
    /// [`crate::create_development_credentials`].
    pub fn set_software_signer(&self, device_key_pem: String, chain_pem: String) -> Result<()> {
        let signer = fieldsync_core::evidence::SoftwareSigner::from_pem(&device_key_pem, &chain_pem)
            .map_err(|err| FieldSyncError::InvalidInput {
                reason: err.to_string(),
            })?;
        self.app.set_device_signer(Some(Arc::new(signer)));
        Ok(())
    }

    /// This device's id.
    pub fn device_id(&self) -> String {
        self.device_id.clone()
    }

    // ----- integrations -----

    /// Links a provider login. Only the password's SHA-1 is kept, in the host's secret store.
    pub fn create_integration(
        &self,
        integration: NewIntegration,
        password: String,
        token: Option<String>,
    ) -> Result<Integration> {
        if password.is_empty() {
            return Err(FieldSyncError::InvalidInput {
                reason: "the password cannot be empty".into(),
            });
        }
        let created = self.store.create_integration(integration.into_core()?)?;
        let saved = self
            .secrets
            .set(&created.code, SecretKind::PasswordSha1, &password_sha1(&password))
            .and_then(|()| match &token {
                Some(token) => self.secrets.set(&created.code, SecretKind::Token, token),
                None => Ok(()),
            });
        if let Err(err) = saved {
            // Never leave an integration whose credentials were not saved.
            self.store.delete_integration(&created.code, false)?;
            return Err(err.into());
        }
        Ok(created.into())
    }

    /// Changes settings and, when given, credentials.
    pub fn edit_integration(
        &self,
        code: String,
        edit: IntegrationEdit,
        password: Option<String>,
        token: Option<String>,
    ) -> Result<Integration> {
        let edited = self.store.edit_integration(&code, &edit.into_core()?)?;
        if let Some(password) = password.filter(|password| !password.is_empty()) {
            self.secrets
                .set(&code, SecretKind::PasswordSha1, &password_sha1(&password))?;
        }
        if let Some(token) = token {
            self.secrets.set(&code, SecretKind::Token, &token)?;
        }
        Ok(edited.into())
    }

    /// Every integration, by code.
    pub fn integrations(&self) -> Result<Vec<Integration>> {
        Ok(self
            .store
            .list_integrations()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// One integration.
    pub fn integration(&self, code: String) -> Result<Integration> {
        Ok(self.store.integration(&code)?.into())
    }

    /// Deletes an integration and its projects. With pending field work it refuses (`Conflict`) unless
    /// `force`; forced, that work is first saved to a folder beside the database (`<db>.CODE-pending-<time>`:
    /// `pending.json` and the pending photos' original and rendition files, with their SHA-256), kept until
    /// the host deletes it, and the manifest is returned as JSON (its `folder` says where).
    pub fn delete_integration(&self, code: String, force: bool) -> Result<Option<String>> {
        let export = self.app.delete_integration(&code, force)?;
        self.secrets.delete_all(&code)?;
        Ok(export.map(|export| export.to_json()))
    }

    /// Checks the credentials with the provider (and registers the push key).
    pub async fn validate(&self, code: String) -> Result<Validation> {
        let engine = self.engine.clone();
        cancellable(&self.workers, None, move |stop| {
            let validation = engine.validate_until(&code, stop)?;
            Ok(Validation {
                validated: validation.validated,
                error: validation.error,
            })
        })
        .await
    }

    /// A Refresh of what changed, or a Full Import (`mode`). Coalesced with any refresh of the same
    /// integration in flight.
    /// Cancelled (the call's future dropped, or `cancel`), the download is aborted or the import rolls
    /// back, and the integration goes back to `idle` or `error`.
    #[uniffi::method(default(cancel = None))]
    pub async fn refresh(
        &self,
        code: String,
        mode: crate::records::RefreshMode,
        cancel: Option<Arc<Cancellation>>,
    ) -> Result<ImportReport> {
        let engine = self.engine.clone();
        let kind = match mode {
            crate::records::RefreshMode::FullImport => ImportKind::FullImport,
            crate::records::RefreshMode::Changes => ImportKind::Refresh,
        };
        cancellable(&self.workers, cancel, move |stop| {
            Ok(engine
                .refresh_until(&code, kind, stop)
                .map_err(|err| FieldSyncError::from(err).for_integration(&code))?
                .into())
        })
        .await
    }

    /// Refreshes the integration owning this push key (e.g. from a push notification). `None` when no
    /// integration has it; nothing changes then.
    pub async fn refresh_by_push_key(&self, push_key: String) -> Result<Option<ImportReport>> {
        let engine = self.engine.clone();
        self.workers
            .blocking(move || {
                Ok(engine
                    .refresh_by_push_key(&push_key)?
                    .map(|(_, report)| report.into()))
            })
            .await
    }

    /// The integration's push key (a secret), created on first use.
    pub fn push_key(&self, code: String) -> Result<String> {
        Ok(self.engine.push_key(&code)?)
    }

    /// Delivers queued field work, then refreshes every integration that is due (never refreshed, in
    /// error, or older than `max_age_secs`).
    #[uniffi::method(default(cancel = None))]
    pub async fn sync(
        &self,
        max_age_secs: u64,
        cancel: Option<Arc<Cancellation>>,
    ) -> Result<Vec<SyncOutcome>> {
        let engine = self.engine.clone();
        cancellable(&self.workers, cancel, move |stop| {
            let summary = engine.sync_until(Duration::from_secs(max_age_secs), stop)?;
            let mut outcomes: Vec<SyncOutcome> = Vec::new();
            let mut entry = |code: &str| -> usize {
                if let Some(index) = outcomes.iter().position(|outcome| outcome.code == code) {
                    return index;
                }
                outcomes.push(SyncOutcome {
                    code: code.to_owned(),
                    delivered: 0,
                    retrying: 0,
                    needs_attention: 0,
                    report: None,
                    error: None,
                });
                outcomes.len() - 1
            };
            let mut results = Vec::new();
            for (code, delivery) in summary.deliveries {
                let index = entry(&code);
                results.push((
                    index,
                    delivery
                        .map_err(|err| FieldSyncError::from(err).for_integration(&code))
                        .map(Some),
                    None,
                ));
            }
            for (code, refresh) in summary.refreshes {
                let index = entry(&code);
                results.push((
                    index,
                    Ok(None),
                    Some(refresh.map_err(|err| FieldSyncError::from(err).for_integration(&code))),
                ));
            }
            for (index, delivery, refresh) in results {
                let outcome = &mut outcomes[index];
                match delivery {
                    Ok(Some(report)) => {
                        outcome.delivered = report.delivered;
                        outcome.retrying = report.retrying;
                        outcome.needs_attention = report.needs_attention;
                        outcome.error = delivery_problem(&outcome.code, &report);
                    }
                    Ok(None) => {}
                    Err(err) => outcome.error = Some(err),
                }
                match refresh {
                    Some(Ok(report)) => outcome.report = Some(report.into()),
                    Some(Err(err)) => outcome.error = Some(err),
                    None => {}
                }
            }
            Ok(outcomes)
        })
        .await
    }

    /// Delivers one integration's queued field work now. Cancelled, it stops: the upload in flight is
    /// aborted and goes again at the next delivery under the same UUID.
    #[uniffi::method(default(cancel = None))]
    pub async fn push_outbox(&self, code: String, cancel: Option<Arc<Cancellation>>) -> Result<SyncOutcome> {
        let engine = self.engine.clone();
        cancellable(&self.workers, cancel, move |stop| {
            let report = engine
                .push_outbox_until(&code, true, stop)
                .map_err(|err| FieldSyncError::from(err).for_integration(&code))?;
            // Stopped by the host, a pause or a deadline: a typed error, like every other stopped call.
            if let Some(reason) = report.halted {
                return Err(fieldsync_core::Error::Stopped(reason).into());
            }
            Ok(SyncOutcome {
                error: delivery_problem(&code, &report),
                code,
                delivered: report.delivered,
                retrying: report.retrying,
                needs_attention: report.needs_attention,
                report: None,
            })
        })
        .await
    }

    // ----- check-in -----

    /// Checks in at a project with the best fix `location` gives within `budget_ms` (stopping early once
    /// one is within `good_enough_m`). The check-in and its delivery are on disk before this returns.
    pub async fn check_in(
        &self,
        project_id: String,
        location: Arc<dyn LocationSource>,
        budget_ms: u64,
        good_enough_m: f64,
        badge: Option<String>,
        user: Option<String>,
    ) -> Result<CheckIn> {
        let store = self.store.clone();
        let device_id = self.device_id.clone();
        self.workers
            .blocking(move || {
                let id = parse_project_id(&project_id)?;
                let source = HostLocation::new(location);
                let clock = fieldsync_core::checkin::SystemClock::default();
                let fix = fieldsync_core::checkin::capture_best_fix(
                    &source,
                    &clock,
                    Duration::from_millis(budget_ms),
                    good_enough_m,
                )
                .map_err(|err| source.take_failure().unwrap_or_else(|| err.into()))?
                .ok_or_else(|| FieldSyncError::InvalidInput {
                    reason: "no location fix arrived in time".into(),
                })?;
                record_check_in(&store, id, fix, badge, user, device_id)
            })
            .await
    }

    /// Checks in with a fix the host already has.
    pub fn check_in_with_fix(
        &self,
        project_id: String,
        fix: LocationFix,
        badge: Option<String>,
        user: Option<String>,
    ) -> Result<CheckIn> {
        record_check_in(
            &self.store,
            parse_project_id(&project_id)?,
            fix.into(),
            badge,
            user,
            self.device_id.clone(),
        )
    }

    /// Saves the check-in ID (badge number) used when a check-in gives none.
    pub fn set_check_in_badge(&self, badge: String) -> Result<()> {
        Ok(self
            .store
            .set_user_default(fieldsync_core::store::BADGE_DEFAULT, &badge)?)
    }

    /// Gives a project coordinates (e.g. geocoded) when the provider sent none.
    pub fn set_project_location(&self, project_id: String, latitude: f64, longitude: f64) -> Result<()> {
        Ok(self
            .store
            .set_project_location(&parse_project_id(&project_id)?, latitude, longitude)?)
    }

    /// Tries an outbox entry again at the next delivery.
    pub fn retry_outbox_entry(&self, uuid: String) -> Result<()> {
        Ok(self.store.retry_outbox_entry(&uuid)?)
    }

    /// Gives up delivering an outbox entry (the record stays on the device).
    pub fn discard_outbox_entry(&self, uuid: String) -> Result<()> {
        Ok(self.store.discard_outbox_entry(&uuid)?)
    }

    /// Starts refreshing integrations with auto import on, every `interval_secs` (jittered), in the
    /// background. Results arrive as events. Replaces a loop already running.
    pub fn start_auto_import(&self, interval_secs: u64) -> Result<()> {
        let schedule = Schedule {
            interval: Duration::from_secs(interval_secs.max(1)),
            ..Schedule::default()
        };
        // Status and report events come from the engine's observer; failures are also logged here.
        let handle = spawn_auto_import(self.engine.clone(), schedule, |event| {
            if let AutoImportEvent::Failed { code, error, .. } = &event {
                tracing::warn!(code, error, "auto-import failed");
            }
        })?;
        if let Ok(mut slot) = self.auto_import.lock() {
            *slot = Some(handle);
        }
        Ok(())
    }

    /// Stops the auto-import loop after the refresh in progress.
    pub fn stop_auto_import(&self) {
        let handle = self.auto_import.lock().ok().and_then(|mut slot| slot.take());
        if let Some(handle) = handle {
            handle.stop();
        }
    }

    /// Tells the auto-import loop whether the device is online.
    pub fn set_online(&self, online: bool) {
        if let Ok(slot) = self.auto_import.lock()
            && let Some(handle) = slot.as_ref()
        {
            handle.set_online(online);
        }
    }

    // ----- projects -----

    /// A page of project summaries (one call per screen).
    pub fn projects(&self, query: ProjectQuery) -> Result<Vec<ProjectSummary>> {
        Ok(self
            .store
            .list_projects(&query.into_core()?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// One project with its tasks. `id` is `CODE::NUMBER`.
    pub fn project(&self, id: String) -> Result<Project> {
        Ok(self.store.project(&parse_project_id(&id)?)?.into())
    }

    /// Edits status, due date or instructions locally; a status change is queued for the provider.
    pub fn edit_project(&self, id: String, edit: ProjectEdit) -> Result<Project> {
        Ok(self
            .store
            .edit_project(&parse_project_id(&id)?, &edit.into())?
            .into())
    }

    /// Closes a project (it stays, marked closed).
    pub fn close_project(&self, id: String) -> Result<Project> {
        Ok(self.store.close_project(&parse_project_id(&id)?)?.into())
    }

    /// Deletes a project from the cache (refused while it holds undelivered work).
    pub fn delete_project(&self, id: String) -> Result<()> {
        Ok(self.store.delete_project(&parse_project_id(&id)?)?)
    }

    // ----- outbox -----

    /// Field work of an integration not yet delivered, oldest first.
    pub fn outbox(&self, code: String) -> Result<Vec<OutboxEntry>> {
        Ok(self
            .store
            .pending_outbox_entries(&code)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // ----- photos -----

    /// Takes a photo of a project task (`evidence`: before, during or after) from the camera's file. It is
    /// safe on disk with its delivery queued before processing starts; then it is processed (orientation,
    /// resize, thumbnail) and, with auto relay on, queued for relay, else it waits for QA. The same bytes
    /// twice for the same project return the existing photo (`duplicate`).
    pub async fn add_photo(
        &self,
        project_id: String,
        task: String,
        evidence: crate::records::EvidenceType,
        file_path: String,
        fix: Option<LocationFix>,
    ) -> Result<Photo> {
        let app = self.app.clone();
        let device_id = self.device_id.clone();
        let events = self.event_sender();
        self.workers
            .blocking(move || {
                let request = fieldsync_core::store::AddPhoto {
                    project: parse_project_id(&project_id)?,
                    task,
                    evidence: evidence.into(),
                    source: Path::new(&file_path),
                    fix: fix.map(Into::into),
                    device_id,
                    device_time: fieldsync_core::model::now(),
                };
                let photo = app.add_photo(&request, |processed| {
                    if let Some(events) = &events {
                        events.send(FieldSyncEvent::PhotoChanged {
                            uuid: processed.uuid.clone(),
                            state: processed.state.into(),
                        });
                        let mut flags = Vec::new();
                        if processed.possible_reuse.is_some() {
                            flags.push("possible_reuse".to_owned());
                        }
                        if processed.taken_before_assignment {
                            flags.push("taken_before_assignment".to_owned());
                        }
                        if !flags.is_empty() {
                            events.send(FieldSyncEvent::PhotoFlagged {
                                uuid: processed.uuid.clone(),
                                flags,
                                matching_photo: processed
                                    .possible_reuse
                                    .as_ref()
                                    .map(|reuse| reuse.matching_photo.clone()),
                            });
                        }
                    }
                })?;
                Ok(Photo::from_core(photo, None))
            })
            .await
            .map(|photo| self.with_thumbnail(photo))
    }

    /// Photos of a project (`CODE::NUMBER`), or every photo when `None`.
    pub fn photos(&self, project_id: Option<String>) -> Result<Vec<Photo>> {
        let project = project_id.as_deref().map(parse_project_id).transpose()?;
        Ok(self
            .store
            .photos(project.as_ref())?
            .into_iter()
            .map(|photo| self.with_thumbnail(Photo::from_core(photo, None)))
            .collect())
    }

    /// QA approves (publishes) a photo; it relays at the next delivery. Publishing again never duplicates.
    pub fn approve_photo(&self, uuid: String) -> Result<Photo> {
        Ok(self.with_thumbnail(Photo::from_core(self.store.approve_photo(&uuid)?, None)))
    }

    /// QA approves every photo of a project waiting for review; returns how many.
    pub fn approve_project_photos(&self, project_id: String) -> Result<u64> {
        Ok(self
            .store
            .approve_project_photos(&parse_project_id(&project_id)?)?)
    }

    /// QA rejects a photo with a reason; it is never relayed.
    pub fn reject_photo(&self, uuid: String, reason: String) -> Result<Photo> {
        Ok(self.with_thumbnail(Photo::from_core(self.store.reject_photo(&uuid, &reason)?, None)))
    }

    // ----- field work: viewing, categories, options -----

    /// The crew opened a project: a `New` or `Updated` field status becomes `Viewed`. Reading a project
    /// never does this by itself.
    pub fn mark_viewed(&self, project_id: String) -> Result<()> {
        Ok(self.store.mark_viewed(&parse_project_id(&project_id)?)?)
    }

    /// How many projects each home-screen category holds (all integrations), in one call.
    pub fn category_counts(&self) -> Result<CategoryCounts> {
        Ok(self.store.category_counts()?.into())
    }

    /// Sets the device-level options (a JSON object, e.g. `{"auto_relay": true}`): the least specific
    /// level, overridden by the integration, work type, project and task levels.
    pub fn set_device_options(&self, options_json: String) -> Result<()> {
        let options: fieldsync_core::model::Options =
            serde_json::from_str(&options_json).map_err(|err| FieldSyncError::InvalidInput {
                reason: format!("options must be a JSON object: {err}"),
            })?;
        Ok(self.store.set_device_options(&options)?)
    }

    /// The options of a project's task (or of the project, without a task), resolved over every level.
    pub fn resolved_options(&self, project_id: String, task: Option<String>) -> Result<ResolvedOptions> {
        Ok(self
            .store
            .resolved_options(&parse_project_id(&project_id)?, task.as_deref())?
            .into())
    }

    // ----- surveys -----

    /// Adds a survey template (its JSON text) to the local library, or replaces the one with the same id.
    /// Refused (`InvalidInput`, nothing written) when it is not a valid template.
    pub fn add_survey_template(&self, json: String) -> Result<SurveyTemplateInfo> {
        Ok(self.store.add_survey_template(json.as_bytes())?.into())
    }

    /// The templates of the local library, by id.
    pub fn survey_templates(&self) -> Result<Vec<SurveyTemplateInfo>> {
        Ok(self
            .store
            .survey_templates()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A task's survey: every question with its state, what is missing or invalid, and the submissions.
    /// `NotFound` when the task has no survey or its template is not in the library yet.
    pub fn task_survey(&self, project_id: String, task: String) -> Result<TaskSurvey> {
        Ok(self
            .store
            .task_survey(&parse_project_id(&project_id)?, &task)?
            .into())
    }

    /// Saves one answer durably, offline, as the crew gives it. Refused (`InvalidInput`, nothing written)
    /// when it does not fit the question; `NotFound` for an unknown question. Returns the answer as saved
    /// (choices spelled as in the template).
    pub fn save_survey_answer(
        &self,
        project_id: String,
        task: String,
        question_id: String,
        answer: SurveyAnswer,
    ) -> Result<SurveyAnswer> {
        Ok(self
            .store
            .save_survey_answer(
                &parse_project_id(&project_id)?,
                &task,
                &question_id,
                &answer.into(),
            )?
            .into())
    }

    /// Removes one answer from the draft (a previous rework answer then shows again).
    pub fn clear_survey_answer(&self, project_id: String, task: String, question_id: String) -> Result<()> {
        Ok(self
            .store
            .clear_survey_answer(&parse_project_id(&project_id)?, &task, &question_id)?)
    }

    /// Submits a task's survey: `SurveyIncomplete` (with the missing and invalid questions) unless it is
    /// ready; else one survey item is recorded and queued durably. It passes the QA gate like a photo
    /// (auto relay, or `approve_survey`) and is relayed after the photos its answers reference.
    pub fn submit_survey(&self, project_id: String, task: String) -> Result<SurveySubmission> {
        Ok(self
            .store
            .submit_survey(&parse_project_id(&project_id)?, &task)?
            .into())
    }

    /// QA approves a submitted survey: it relays at the next delivery.
    pub fn approve_survey(&self, uuid: String) -> Result<SurveySubmission> {
        Ok(self.store.approve_survey(&uuid)?.into())
    }

    /// QA rejects a submitted survey with a reason: it is never relayed.
    pub fn reject_survey(&self, uuid: String, reason: String) -> Result<SurveySubmission> {
        Ok(self.store.reject_survey(&uuid, &reason)?.into())
    }

    /// Submitted surveys of a project (`CODE::NUMBER`), or of every project when `None`, oldest first.
    pub fn survey_submissions(&self, project_id: Option<String>) -> Result<Vec<SurveySubmission>> {
        let project = project_id.as_deref().map(parse_project_id).transpose()?;
        Ok(self
            .store
            .survey_submissions(project.as_ref())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // ----- completion -----

    /// What still keeps a project from being completed (empty: it may be completed).
    pub fn completion_requirements(&self, project_id: String) -> Result<Vec<UnmetRequirement>> {
        Ok(self
            .store
            .completion_requirements(&parse_project_id(&project_id)?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Completes a project: `CompletionBlocked` (with every unmet requirement) unless all are met or
    /// `force_reason` gives a reason. The status changes at once and is queued for the provider durably.
    pub fn complete_project(&self, project_id: String, force_reason: Option<String>) -> Result<Completion> {
        Ok(self
            .store
            .complete_project(&parse_project_id(&project_id)?, force_reason.as_deref())?
            .into())
    }

    // ----- local projects -----

    /// Creates a project on the device before its order arrived. Its field work waits until an import
    /// brings the same work-order number. `Conflict` when the integration has that work order already.
    pub fn create_local_project(&self, project: NewLocalProject) -> Result<Project> {
        Ok(self.store.create_local_project(&project.into())?.into())
    }

    /// Discards a local project whose order never came: its undelivered field work is first exported to a
    /// folder beside the database (`pending.json` and the photos' files), whose path is returned; the host
    /// keeps or deletes it. `Conflict` for a project that came from the provider.
    pub async fn discard_local_project(&self, project_id: String) -> Result<String> {
        let store = self.store.clone();
        let files = self.photo_files.clone();
        self.workers
            .blocking(move || {
                let export = store.discard_local_project(&files, &parse_project_id(&project_id)?)?;
                Ok(export.folder.to_string_lossy().into_owned())
            })
            .await
    }

    // ----- upload policy and the upload log -----

    /// The host reports the network (call it whenever it changes). With `None` nothing is sent and
    /// auto-import waits; on `Metered`, photos and surveys wait when the policy says Wi-Fi only.
    /// Check-ins and statuses go on any network. Until the first call the network counts as unmetered.
    pub fn set_network(&self, network: NetworkState) {
        self.engine.set_network(network.into());
        if let Ok(slot) = self.auto_import.lock()
            && let Some(handle) = slot.as_ref()
        {
            handle.set_online(network != NetworkState::None);
        }
    }

    /// Sets the vendor's upload policy (kept on the device): photos and surveys on Wi-Fi only, and the
    /// pause switch for photos and surveys. The next delivery follows it.
    pub fn set_upload_policy(&self, policy: UploadPolicy) -> Result<()> {
        Ok(self.store.set_upload_policy(policy.into())?)
    }

    /// The vendor's upload policy (both off until set).
    pub fn upload_policy(&self) -> Result<UploadPolicy> {
        Ok(self.store.upload_policy()?.into())
    }

    /// The upload log: every item not delivered yet (all integrations), oldest first, each with why it
    /// waits under the network last reported and the upload policy.
    pub fn upload_log(&self) -> Result<Vec<UploadLogEntry>> {
        Ok(self
            .store
            .upload_log(self.engine.network())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Puts every failed item (needing attention or backing off) back in the queue; returns how many.
    pub fn retry_all_failed(&self) -> Result<u64> {
        Ok(self.store.retry_all_failed()?)
    }

    /// Removes delivered items' records from the outbox, never an undelivered one (a photo or survey QA
    /// may publish again keeps its record); returns how many went.
    pub fn clean_up_delivered(&self) -> Result<u64> {
        Ok(self.store.clean_up_delivered()?)
    }

    // ----- watch queries and the sync status -----

    /// Watches a project list: its result now, then after every commit that can change it (an import,
    /// an edit, a check-in, a photo, a delivery), at most one per `throttle_ms` (default 100 ms).
    #[uniffi::method(default(throttle_ms = None))]
    pub fn watch_projects(
        self: Arc<Self>,
        query: ProjectQuery,
        throttle_ms: Option<u64>,
    ) -> Arc<crate::watch::ProjectListWatch> {
        let store = self.store.clone();
        crate::watch::ProjectListWatch::start(
            &store,
            self.workers.clone(),
            crate::watch::PROJECT_TABLES,
            throttle_ms.map(Duration::from_millis),
            move || self.projects(query.clone()),
        )
    }

    /// Watches one project (`CODE::NUMBER`) with its tasks.
    #[uniffi::method(default(throttle_ms = None))]
    pub fn watch_project(
        self: Arc<Self>,
        id: String,
        throttle_ms: Option<u64>,
    ) -> Arc<crate::watch::ProjectWatch> {
        let store = self.store.clone();
        crate::watch::ProjectWatch::start(
            &store,
            self.workers.clone(),
            crate::watch::PROJECT_TABLES,
            throttle_ms.map(Duration::from_millis),
            move || self.project(id.clone()),
        )
    }

    /// Watches the upload log (its reasons change with the network and the pause too).
    #[uniffi::method(default(throttle_ms = None))]
    pub fn watch_upload_log(self: Arc<Self>, throttle_ms: Option<u64>) -> Arc<crate::watch::UploadLogWatch> {
        let store = self.store.clone();
        crate::watch::UploadLogWatch::start(
            &store,
            self.workers.clone(),
            crate::watch::UPLOAD_LOG_TABLES,
            throttle_ms.map(Duration::from_millis),
            move || self.upload_log(),
        )
    }

    /// Watches the photos of a project (`None`: of every project).
    #[uniffi::method(default(throttle_ms = None))]
    pub fn watch_photos(
        self: Arc<Self>,
        project_id: Option<String>,
        throttle_ms: Option<u64>,
    ) -> Arc<crate::watch::PhotoListWatch> {
        let store = self.store.clone();
        crate::watch::PhotoListWatch::start(
            &store,
            self.workers.clone(),
            crate::watch::PHOTO_TABLES,
            throttle_ms.map(Duration::from_millis),
            move || self.photos(project_id.clone()),
        )
    }

    /// How many watches are live (a diagnostic: cancelled or dropped watches leave none behind).
    pub fn live_watches(&self) -> u64 {
        self.store.changes().subscriber_count() as u64
    }

    /// The sync status now: per integration, the uploads, the network, the pause.
    pub fn sync_status(&self) -> Result<crate::records::SyncStatus> {
        Ok(self.engine.status()?.into())
    }

    /// Watches the sync status (uploads pending go up on capture and down on delivery).
    #[uniffi::method(default(throttle_ms = None))]
    pub fn watch_sync_status(
        self: Arc<Self>,
        throttle_ms: Option<u64>,
    ) -> Arc<crate::watch::SyncStatusWatch> {
        let store = self.store.clone();
        crate::watch::SyncStatusWatch::start(
            &store,
            self.workers.clone(),
            fieldsync_core::store::Changes::STATUS,
            throttle_ms.map(Duration::from_millis),
            move || self.sync_status(),
        )
    }

    // ----- storage -----

    /// The photo retention policy this instance applies by itself (at open and after deliveries).
    pub fn retention_policy(&self) -> crate::storage::RetentionPolicy {
        self.retention.into()
    }

    /// Applies a photo retention policy now (`None`: the configured one) and says what it deleted. Only
    /// files of relayed and rejected photos go; a file another photo still needs stays. The rows are
    /// updated durably before any file is deleted.
    #[uniffi::method(default(policy = None))]
    pub async fn apply_retention(
        &self,
        policy: Option<crate::storage::RetentionPolicy>,
    ) -> Result<crate::storage::RetentionReport> {
        let policy = match policy {
            Some(policy) => policy.into_core()?,
            None => self.retention,
        };
        let app = self.app.clone();
        self.workers
            .blocking(move || Ok(app.apply_retention(&policy)?.into()))
            .await
    }

    /// Where the storage goes: the cache, its WAL and shared-memory files, and the photo files by kind
    /// and by photo state.
    pub async fn storage_report(&self) -> Result<crate::storage::StorageReport> {
        let app = self.app.clone();
        self.workers
            .blocking(move || Ok(app.storage_report()?.into()))
            .await
    }

    /// Database upkeep for a quiet moment (the app going to the background, a background run's end):
    /// `PRAGMA optimize` and a bounded incremental vacuum (a few milliseconds of writing). A small cache
    /// created by an old version is switched to incremental vacuum by one full `VACUUM`. Never waits
    /// for a busy database: `skipped` then says why.
    pub async fn maintain(&self) -> Result<crate::storage::Maintenance> {
        let store = self.store.clone();
        self.workers
            .blocking(move || {
                Ok(store
                    .maintain(fieldsync_core::store::VACUUM_PAGES_PER_CALL, true)?
                    .into())
            })
            .await
    }

    // ----- paging and search -----

    /// How many projects match `query`'s filters and search (its paging left out): the length of the list
    /// that `projects` pages through, for a header ("128 projects") or a scroll bar.
    pub fn count_projects(&self, query: ProjectQuery) -> Result<i64> {
        let count = self.store.count_projects(&query.into_core()?)?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }

    // ----- lifecycle -----

    /// Call when the app goes to the background (before the system suspends it): stops every operation at
    /// a safe point, closes every database connection and releases every file lock (iOS kills a suspended
    /// app that holds one). Until `resume()`, calls fail at once with `Paused`. Takes milliseconds.
    pub fn pause(&self) -> Result<()> {
        self.app.pause()?;
        Ok(())
    }

    /// Call when the app returns to the foreground: reopens the database; deliveries the pause
    /// interrupted go on by themselves.
    pub fn resume(&self) -> Result<()> {
        Ok(self.app.resume()?)
    }

    /// Whether `pause()` was called without a `resume()` since.
    pub fn is_paused(&self) -> bool {
        self.app.is_paused()
    }

    /// One background run, for WorkManager, BGTaskScheduler, a push or regained connectivity: field work
    /// first (check-ins, statuses, surveys, then photos), then the refreshes that are due (older than
    /// `refresh_older_than_secs`), returning by `deadline`. No send starts that could not finish in time;
    /// one in flight at the deadline is aborted and goes again later. Errors of an integration are in
    /// the result; the call fails only when paused, cancelled or when the storage breaks.
    #[uniffi::method(default(cancel = None))]
    pub async fn run_background_sync(
        &self,
        deadline: SystemTime,
        reason: BackgroundReason,
        refresh_older_than_secs: u64,
        cancel: Option<Arc<Cancellation>>,
    ) -> Result<BackgroundSyncResult> {
        let app = self.app.clone();
        let request = fieldsync_core::sync::BackgroundRequest {
            reason: reason.into(),
            deadline: deadline_instant(deadline),
            refresh_older_than: Duration::from_secs(refresh_older_than_secs),
        };
        cancellable(&self.workers, cancel, move |stop| {
            Ok(app.run_background_sync(&request, stop)?.into())
        })
        .await
    }

    /// Stops every thread of this instance, after which none calls the host again: cancels the long calls
    /// (they fail with `Cancelled`), stops auto-import, waits for the work in progress (at most 10 s),
    /// joins the library's threads, then delivers the last events and ends the event thread. Call it
    /// before the process exits (the Python package does, from `atexit`). Afterwards async calls fail
    /// with `Cancelled`, watches end, and no more events are delivered; quick local reads still work.
    /// Idempotent.
    pub fn shutdown(&self) {
        self.stop_auto_import();
        self.app.shutdown();
        self.workers.shutdown(SHUTDOWN_WAIT);
        if let Ok(mut events) = self.events.lock() {
            events.close();
        }
    }
}

impl Drop for FieldSync {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Every instance opened in this process, for [`shutdown_all`].
static OPEN: Mutex<Vec<std::sync::Weak<FieldSync>>> = Mutex::new(Vec::new());

fn register(opened: &Arc<FieldSync>) {
    let mut open = OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    open.retain(|weak| weak.strong_count() > 0);
    open.push(Arc::downgrade(opened));
}

/// Prepares the process to exit: shuts down every `FieldSync` still open (see `FieldSync::shutdown`) and
/// stops forwarding logs to the host's logger (see [`crate::init_logging`]). When it returns, no library
/// thread calls into the host any more. A Python interpreter must call it before it finalizes (the
/// `fieldsync` package does, from `atexit`): a library thread that calls into Python during finalization
/// is ended by CPython in a way that aborts the process.
#[uniffi::export]
pub fn shutdown_all() {
    let open: Vec<Arc<FieldSync>> = OPEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .drain(..)
        .filter_map(|weak| weak.upgrade())
        .collect();
    for fieldsync in &open {
        fieldsync.shutdown();
    }
    drop(open);
    crate::logging::detach_logger();
}
