//! Photos on disk and in SQLite: durable ingest, the processing queue, the QA gate, and what the relay
//! needs. The image work itself is `crate::photo::process`; the files are `crate::photo::files`.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;

use super::evidence;
use super::{Store, integrations, projects};
use crate::checkin::LocationFix;
use crate::evidence::EvidenceError;
use crate::evidence::phash::{self, ReuseFlag};
use crate::model::{InvalidInput, ProjectId, Timestamp, format_timestamp, now};
use crate::outbox::lease::{self, RunLease};
use crate::outbox::queue::{self, NewEntry};
use crate::outbox::{EntryKind, EntryState};
use crate::photo::files::{Kind, PhotoFiles};
use crate::photo::lifecycle::{PhotoEvent, next_photo_state};
use crate::photo::process::{DecodeLimits, ProcessSettings, process};
use crate::photo::{EvidenceType, PhotoState, certify, exif};
use crate::wire::upload::with_attributes;
use crate::{Error, Result};

/// A photo handed over by the camera.
#[derive(Debug, Clone)]
pub struct AddPhoto<'a> {
    /// The project, `CODE::NUMBER`.
    pub project: ProjectId,
    /// The project task it documents.
    pub task: String,
    /// Before, during or after.
    pub evidence: EvidenceType,
    /// The camera's file.
    pub source: &'a Path,
    /// The device's fix when the photo was taken, if the host has one (else the photo's EXIF GPS is used).
    pub fix: Option<LocationFix>,
    /// This device's id.
    pub device_id: String,
    /// The device clock, Unix seconds.
    pub device_time: Timestamp,
}

/// A photo as the host sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Photo {
    /// Client UUID (the provider's `uuId`).
    pub uuid: String,
    /// `CODE::NUMBER`.
    pub project: String,
    /// The task.
    pub task: String,
    /// Before, during or after.
    pub evidence: EvidenceType,
    /// Where it is on its way.
    pub state: PhotoState,
    /// Why it failed or was rejected.
    pub message: Option<String>,
    /// The camera's file name.
    pub file_name: String,
    /// SHA-256 of the original.
    pub sha256: String,
    /// Rendition size, once processed.
    pub width: Option<u32>,
    /// Rendition size, once processed.
    pub height: Option<u32>,
    /// EXIF capture time (RFC 3339).
    pub capture_time: Option<String>,
    /// EXIF camera model.
    pub camera_model: Option<String>,
    /// Distance from the photo's position to the property, metres.
    pub distance_m: Option<f64>,
    /// Within the project's geofence.
    pub location_certified: Option<bool>,
    /// Taken within 12 hours of its first upload (known once uploaded).
    pub time_certified: Option<bool>,
    /// When it was added (RFC 3339).
    pub created_at: String,
    /// True when these bytes were already added to this project (nothing new was stored).
    pub duplicate: bool,
    /// QA flag `possible_reuse`: a near-duplicate of a photo of another project, or of one relayed earlier
    /// in this project (nothing is blocked: QA decides).
    pub possible_reuse: Option<ReuseFlag>,
    /// QA flag `taken_before_assignment`: the capture time precedes the project's arrival on the device.
    pub taken_before_assignment: bool,
    /// The rendition carries content credentials signed by the device.
    pub signed: bool,
}

/// What was recorded when a photo was taken, read back to process it.
struct Taken {
    integration_id: i64,
    project_id: Option<i64>,
    fix: Option<(f64, f64)>,
    accuracy_m: Option<f64>,
    created_at: Timestamp,
    device_id: String,
}

const COLUMNS: &str =
    "ph.id, i.code || '::' || ph.work_order_number, ph.task_name, ph.evidence_type, ph.state,
    ph.state_message, ph.file_name, ph.original_sha256, ph.width, ph.height, ph.capture_time, ph.camera_model,
    ph.distance_m, ph.location_certified, ph.first_upload_at, ph.created_at, ph.reuse_of, ph.reuse_distance,
    ph.taken_before_assignment, ph.signed";

fn from_row(row: &Row) -> rusqlite::Result<Photo> {
    let text_error = |index: usize, err: InvalidInput| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    };
    let capture_time: Option<i64> = row.get(10)?;
    let first_upload: Option<i64> = row.get(14)?;
    Ok(Photo {
        uuid: row.get(0)?,
        project: row.get(1)?,
        task: row.get(2)?,
        evidence: EvidenceType::parse(&row.get::<_, String>(3)?).map_err(|err| text_error(3, err))?,
        state: PhotoState::parse(&row.get::<_, String>(4)?).map_err(|err| text_error(4, err))?,
        message: row.get(5)?,
        file_name: row.get(6)?,
        sha256: row.get(7)?,
        width: row.get(8)?,
        height: row.get(9)?,
        capture_time: capture_time.map(format_timestamp),
        camera_model: row.get(11)?,
        distance_m: row.get(12)?,
        location_certified: row.get(13)?,
        time_certified: first_upload.map(|at| certify::time_certified(capture_time, at)),
        created_at: format_timestamp(row.get(15)?),
        duplicate: false,
        possible_reuse: row
            .get::<_, Option<String>>(16)?
            .map(|matching_photo| -> rusqlite::Result<ReuseFlag> {
                Ok(ReuseFlag {
                    matching_photo,
                    distance: row.get::<_, Option<u32>>(17)?.unwrap_or(0),
                })
            })
            .transpose()?,
        taken_before_assignment: row.get(18)?,
        signed: row.get(19)?,
    })
}

pub(super) fn find(connection: &Connection, uuid: &str) -> Result<Photo> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM photos ph JOIN integrations i ON i.id = ph.integration_id WHERE ph.id = ?1"),
            [uuid],
            from_row,
        )
        .optional()?
        .ok_or_else(|| Error::UnknownPhoto(uuid.to_owned()))
}

fn set_state(connection: &Connection, uuid: &str, state: PhotoState, message: Option<&str>) -> Result<()> {
    connection.execute(
        "UPDATE photos SET state = ?2, state_message = ?3 WHERE id = ?1",
        params![uuid, state.as_str(), message],
    )?;
    Ok(())
}

/// Lets a photo's outbox entry move (`held` → `queued`), or moves it again after a relay (republishing:
/// the provider deduplicates by UUID).
fn release(connection: &Connection, uuid: &str) -> Result<()> {
    queue::release_reviewed(connection, uuid, now())?;
    set_state(connection, uuid, PhotoState::Queued, None)
}

/// Applies a lifecycle event to a photo, or says why it does not apply (as [`Error::PhotoState`]).
fn transition(photo: &Photo, event: PhotoEvent, action: &'static str) -> Result<PhotoState> {
    next_photo_state(photo.state, event).map_err(|refused| Error::PhotoState {
        uuid: photo.uuid.clone(),
        state: refused.from.as_str().to_owned(),
        action,
    })
}

/// The stored name of the state photos wait in for processing, for the SQL below (spelled once, by the
/// photo module).
const PROCESSING: &str = PhotoState::Processing.as_str();

/// A photo goes to an open project, to one of its tasks.
fn check_target(project: &crate::model::Project, request: &AddPhoto) -> Result<()> {
    if project.closed {
        return Err(Error::ProjectClosed(request.project.to_string()));
    }
    if !project.tasks.iter().any(|task| task.name == request.task) {
        let names: Vec<&str> = project.tasks.iter().map(|task| task.name.as_str()).collect();
        return Err(InvalidInput::new(
            "task",
            format!(
                "{} has no task `{}` (its tasks: {})",
                request.project,
                request.task,
                names.join(", ")
            ),
        )
        .into());
    }
    Ok(())
}

impl Store {
    /// Takes a photo into the queue: checks it quickly (size, format, dimensions: a hostile file is refused
    /// here, nothing written), copies the original into the photo store atomically, then commits the photo
    /// and its (held) outbox entry in one durable transaction. The same bytes added twice to the same
    /// project return the existing photo, marked `duplicate`.
    pub fn add_photo(&self, files: &PhotoFiles, request: &AddPhoto, limits: &DecodeLimits) -> Result<Photo> {
        if request.task.trim().is_empty() {
            return Err(InvalidInput::new("task", "a photo belongs to a task: give its name").into());
        }
        if let Some(fix) = &request.fix {
            fix.validate()?;
        }
        // Only a regular file, and never more than the limit in memory: a device reports a length of 0 and
        // never ends, a FIFO would block the open.
        let bytes = crate::files::read_regular_file(request.source, limits.max_file_bytes, "file")?;
        let metadata = exif::read_metadata(&bytes).map_err(|err| Error::PhotoRefused(err.to_string()))?;
        let pixels = u64::from(metadata.width) * u64::from(metadata.height);
        if pixels > limits.max_pixels {
            return Err(Error::PhotoRefused(format!(
                "{}x{} pixels is more than the limit of {} pixels",
                metadata.width, metadata.height, limits.max_pixels
            )));
        }
        // Refuse an unknown or closed project or task before the original is stored: a refused photo leaves
        // no file behind (checked again in the transaction, which is what counts).
        self.read(|connection| {
            let (_, project_id) = projects::locate(connection, &request.project)?;
            check_target(
                &projects::load(connection, &request.project.integration, project_id)?,
                request,
            )
        })?;
        let (sha256, size) = files.store_bytes(Kind::Original, &bytes)?;
        drop(bytes);
        let file_name = request
            .source
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{sha256}.jpg"));
        self.write_durable(|tx| {
            let (integration_id, project_id) = projects::locate(tx, &request.project)?;
            let project = projects::load(tx, &request.project.integration, project_id)?;
            check_target(&project, request)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM photos WHERE project_id = ?1 AND original_sha256 = ?2",
                    params![project_id, sha256],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(uuid) = existing {
                return Ok(Photo { duplicate: true, ..find(tx, &uuid)? });
            }
            let uuid = queue::new_entry_id();
            let fix = request.fix.as_ref();
            super::options::mark_work_started(tx, project_id, now())?;
            tx.execute(
                &format!(
                    "INSERT INTO photos (id, integration_id, project_id, work_order_number, task_name, evidence_type,
                         file_name, original_sha256, original_size, state, fix_latitude, fix_longitude, fix_accuracy_m,
                         fix_time_ms, device_id, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '{PROCESSING}', ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    uuid,
                    integration_id,
                    project_id,
                    project.work_order_number,
                    request.task,
                    request.evidence.as_str(),
                    file_name,
                    sha256,
                    size,
                    fix.map(|fix| fix.latitude),
                    fix.map(|fix| fix.longitude),
                    fix.map(|fix| fix.accuracy_m),
                    fix.map(|fix| fix.fix_time_ms),
                    request.device_id,
                    request.device_time,
                ],
            )?;
            let entry = NewEntry {
                id: &uuid,
                integration_id,
                project_id: Some(project_id),
                kind: EntryKind::Photo,
                state: EntryState::Held,
                payload: &serde_json::json!({}),
            };
            queue::enqueue(tx, &entry, now())?;
            find(tx, &uuid)
        })
    }

    /// Processes the oldest photo waiting for it that no live process has claimed (one at a time: memory
    /// stays bounded whatever the queue). Returns it, or `None` when nothing is left to claim. A photo
    /// that cannot be processed becomes `failed` with the reason. Crash-safe: a photo whose processing run
    /// died (a crash, a kill, an error such as a full disk) is claimed and processed again.
    ///
    /// Several processes may share the database: the photo is claimed under a run lease in a write
    /// transaction, and its result recorded only while this run still owns it, so a photo is never
    /// processed twice and no process fails because another one got there first.
    pub fn process_next_photo(
        &self,
        files: &PhotoFiles,
        settings: &ProcessSettings,
    ) -> Result<Option<Photo>> {
        let directory = self.lease_directory();
        let lease = RunLease::acquire(&directory).map_err(|err| Error::io(&directory, err))?;
        let owner = lease.owner();
        let Some((uuid, sha256)) = self.claim_next_photo(&directory, owner)? else {
            return Ok(None);
        };
        let settings = &ProcessSettings {
            date_stamp: self.read(|connection| date_stamp(connection, &uuid))?,
            ..settings.clone()
        };
        let processed = files
            .read(Kind::Original, &sha256)
            .and_then(|bytes| process(&bytes, settings).map_err(|err| Error::PhotoRefused(err.to_string())));
        let fail = |err: Error| -> Result<Option<Photo>> {
            let failed = next_photo_state(PhotoState::Processing, PhotoEvent::ProcessingFailed)
                .map_err(|refused| Error::PhotoRefused(refused.to_string()))?;
            self.write(|tx| {
                tx.execute(
                    &format!(
                        "UPDATE photos SET state = ?3, state_message = ?4, processing_owner = NULL
                         WHERE id = ?1 AND state = '{PROCESSING}' AND processing_owner = ?2"
                    ),
                    params![uuid, owner, failed.as_str(), err.to_string()],
                )?;
                find(tx, &uuid)
            })
            .map(Some)
        };
        // Evidence is decided before the rendition is stored: signing changes its bytes, and its SHA-256 is
        // its name (a retry then sends the same signed bytes).
        let planned = processed.and_then(|processed| {
            let hash = phash::perceptual_hash(&processed.thumbnail);
            let plan = self.read(|connection| evidence::plan(self, connection, &uuid, &processed, hash))?;
            Ok((processed, plan))
        });
        let (mut processed, plan) = match planned {
            Ok(planned) => planned,
            Err(err) => return fail(err),
        };
        let signed = match self.device_signer() {
            None => false,
            Some(signer) => match crate::evidence::embed(&processed.rendition, &plan.evidence, &*signer) {
                Ok(bytes) => {
                    processed.rendition = bytes;
                    true
                }
                // The device cannot sign now (a locked keystore): the photo waits, never lost, and is tried
                // again at the next processing pass.
                Err(EvidenceError::Signer(err)) => {
                    let reason = format!("waiting for the device signer: {err}");
                    tracing::warn!(photo = %uuid, %reason, "signing waits");
                    return self
                        .write(|tx| {
                            tx.execute(
                                &format!(
                                    "UPDATE photos SET evidence_wait = ?3, state_message = ?3, processing_owner = NULL
                                     WHERE id = ?1 AND state = '{PROCESSING}' AND processing_owner = ?2"
                                ),
                                params![uuid, owner, reason],
                            )?;
                            find(tx, &uuid)
                        })
                        .map(Some);
                }
                Err(err) => return fail(Error::PhotoRefused(err.to_string())),
            },
        };
        let (rendition_sha256, rendition_size) = files.store_bytes(Kind::Rendition, &processed.rendition)?;
        let (thumbnail_sha256, _) = files.store_bytes(Kind::Thumbnail, &processed.thumbnail)?;
        let recorded = self.write(|tx| {
            let row = tx.query_row(
                &format!(
                    "SELECT ph.integration_id, ph.project_id, ph.fix_latitude, ph.fix_longitude, ph.fix_accuracy_m,
                            ph.created_at, ph.device_id
                     FROM photos ph WHERE ph.id = ?1 AND ph.state = '{PROCESSING}' AND ph.processing_owner = ?2"
                ),
                params![uuid, owner],
                |row| {
                    Ok(Taken {
                        integration_id: row.get(0)?,
                        project_id: row.get(1)?,
                        fix: row.get::<_, Option<f64>>(2)?.zip(row.get::<_, Option<f64>>(3)?),
                        accuracy_m: row.get(4)?,
                        created_at: row.get(5)?,
                        device_id: row.get(6)?,
                    })
                },
            ).optional()?;
            // Not ours any more (cannot happen while this run lives, but never record over another's
            // result): the photo as it is.
            let Some(row) = row else {
                return find(tx, &uuid).map(|photo| Some((photo, false)));
            };
            let Taken { integration_id, project_id, fix, accuracy_m, created_at, device_id } = row;
            let code: String =
                tx.query_row("SELECT code FROM integrations WHERE id = ?1", [integration_id], |row| row.get(0))?;
            let integration = integrations::find(tx, &code)?;
            let project = match project_id {
                Some(project_id) => Some(projects::load(tx, &code, project_id)?),
                None => None,
            };
            let property = project.as_ref().and_then(|project| project.latitude.zip(project.longitude));
            let position = fix.or(processed.metadata.gps);
            let location = certify::location(position, property, integration.check_in.geofence_radius_m);
            let photo = find(tx, &uuid)?;
            // A relayed photo approved again after the retention policy deleted its rendition: QA already
            // published it, so it goes straight back to the queue.
            let republished: bool = tx.query_row(
                "SELECT rendition_evicted_at IS NOT NULL FROM photos WHERE id = ?1",
                [&uuid],
                |row| row.get(0),
            )?;
            tx.execute(
                "UPDATE photos SET rendition_sha256 = ?2, rendition_size = ?3, width = ?4, height = ?5,
                     thumbnail_sha256 = ?6, capture_time = ?7, exif_latitude = ?8, exif_longitude = ?9,
                     camera_model = ?10, distance_m = ?11, location_certified = ?12, processing_owner = NULL,
                     rendition_evicted_at = NULL, signed = ?13, reuse_of = ?14, reuse_distance = ?15,
                     taken_before_assignment = ?16, evidence_wait = NULL, state_message = NULL
                 WHERE id = ?1",
                params![
                    uuid,
                    rendition_sha256,
                    rendition_size,
                    processed.rendition_width,
                    processed.rendition_height,
                    thumbnail_sha256,
                    processed.metadata.capture_time,
                    processed.metadata.gps.map(|gps| gps.0),
                    processed.metadata.gps.map(|gps| gps.1),
                    processed.metadata.camera_model,
                    location.map(|(distance, _)| distance),
                    location.map(|(_, inside)| inside),
                    signed,
                    plan.reuse.as_ref().map(|reuse| reuse.matching_photo.as_str()),
                    plan.reuse.as_ref().map(|reuse| reuse.distance),
                    plan.before_assignment,
                ],
            )?;
            if let Some(hash) = plan.phash {
                evidence::record_hash(tx, &uuid, hash)?;
            }
            let item = json!({
                "uuId": uuid,
                "fileType": "picture",
                "key2": photo.project.split_once("::").map_or("", |(_, number)| number),
                "key4": photo.task,
                "evidenceType": photo.evidence.as_str(),
                "fileName": photo.file_name,
                "fileExt": "jpg",
                "gpsLatitude": position.map(|p| p.0),
                "gpsLongitude": position.map(|p| p.1),
                "gpsAccuracy": accuracy_m,
                "creationDate": processed.metadata.capture_time.map(format_timestamp),
                "timestamp": format_timestamp(created_at),
                "locationDifference": location.map(|(distance, _)| distance),
                "csrCertifiedLocation": location.is_some_and(|(_, inside)| inside),
                "deviceId": device_id,
                "clientCode": code,
                "cameraModel": processed.metadata.camera_model,
                // Evidence (docs/EVIDENCE.md): the rendition's content credentials, and QA's flags.
                "contentCredentials": signed,
                "possibleReuse": plan.reuse.as_ref().map(|reuse| json!({
                    "matchingPhoto": reuse.matching_photo,
                    "distance": reuse.distance,
                })),
                "takenBeforeAssignment": plan.before_assignment,
            });
            let item = match &project {
                Some(project) => with_attributes(item, &project.attributes),
                None => item,
            };
            tx.execute("UPDATE outbox SET payload = ?2 WHERE id = ?1", params![uuid, item.to_string()])?;
            let auto_relay = match &project {
                Some(project) => {
                    super::options::task_options(tx, integration_id, project, Some(&photo.task))?.auto_relay
                }
                None => integration.auto_relay,
            } || republished;
            match next_photo_state(PhotoState::Processing, PhotoEvent::Processed { auto_relay }) {
                Ok(PhotoState::Queued) => release(tx, &uuid)?,
                Ok(state) => set_state(tx, &uuid, state, None)?,
                Err(refused) => return Err(Error::PhotoRefused(refused.to_string())),
            }
            find(tx, &uuid).map(|photo| Some((photo, true)))
        })?;
        drop(lease);
        Ok(recorded.map(|(photo, processed_here)| {
            if processed_here {
                tracing::info!(photo = %photo.uuid, state = photo.state.as_str(), "photo processed");
            }
            photo
        }))
    }

    /// Claims the oldest `processing` photo that no live run owns, for `owner`: its id and original's
    /// SHA-256. A photo owned by a dead run (a crash, or a run that gave up on an error) is taken over.
    fn claim_next_photo(&self, lease_directory: &Path, owner: &str) -> Result<Option<(String, String)>> {
        self.write(|tx| {
            let waiting: Vec<(String, String, Option<String>)> = {
                let mut statement = tx.prepare(&format!(
                    "SELECT id, original_sha256, processing_owner FROM photos
                     WHERE state = '{PROCESSING}' AND evidence_wait IS NULL ORDER BY created_at, rowid"
                ))?;
                let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (uuid, sha256, current) in waiting {
                if current.is_some_and(|current| lease::is_alive(lease_directory, &current)) {
                    continue;
                }
                tx.execute(
                    "UPDATE photos SET processing_owner = ?2 WHERE id = ?1",
                    params![uuid, owner],
                )?;
                tracing::debug!(photo = %uuid, "claimed for processing");
                return Ok(Some((uuid, sha256)));
            }
            Ok(None)
        })
    }

    /// Processes every waiting photo, one at a time. Returns how many were processed (failed included).
    pub fn process_pending_photos(&self, files: &PhotoFiles, settings: &ProcessSettings) -> Result<u64> {
        let mut count = 0;
        while self.process_next_photo(files, settings)?.is_some() {
            count += 1;
        }
        Ok(count)
    }

    /// One photo.
    pub fn photo(&self, uuid: &str) -> Result<Photo> {
        self.read(|connection| find(connection, uuid))
    }

    /// Photos of a project (or all), newest last.
    pub fn photos(&self, project: Option<&ProjectId>) -> Result<Vec<Photo>> {
        self.read(|connection| {
            let mut sql =
                format!("SELECT {COLUMNS} FROM photos ph JOIN integrations i ON i.id = ph.integration_id");
            let mut values = Vec::new();
            if let Some(project) = project {
                sql.push_str(" WHERE i.code = ?1 AND ph.work_order_number = ?2");
                values.push(project.integration.clone());
                values.push(project.work_order_number.clone());
            }
            sql.push_str(" ORDER BY ph.created_at, ph.rowid");
            let mut statement = connection.prepare(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(values), from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// QA approves (publishes) a photo: it is queued for relay. Publishing again a relayed photo sends it
    /// again under the same UUID (the provider keeps one). A rejected photo stays rejected.
    pub fn approve_photo(&self, uuid: &str) -> Result<Photo> {
        self.write_durable(|tx| {
            approve(tx, uuid)?;
            find(tx, uuid)
        })
    }

    /// QA approves every photo of a project waiting for review, in one durable transaction. Returns how
    /// many.
    pub fn approve_project_photos(&self, project: &ProjectId) -> Result<u64> {
        self.write_durable(|tx| {
            let (_, project_id) = super::projects::locate(tx, project)?;
            approve_pending(tx, project_id)
        })
    }

    /// QA rejects a photo, with a reason: it is never relayed, even when an upload of it was cut off or is
    /// under way (that upload's outcome is not recorded). Refused once relayed (the provider keeps it).
    pub fn reject_photo(&self, uuid: &str, reason: &str) -> Result<Photo> {
        if reason.trim().is_empty() {
            return Err(InvalidInput::new("reason", "a rejection needs a reason").into());
        }
        self.write_durable(|tx| {
            let photo = find(tx, uuid)?;
            let next = transition(&photo, PhotoEvent::Rejected, "reject")?;
            // Even an upload cut off mid-way (or under way) is withdrawn: a rejection wins over any retry.
            queue::withdraw_reviewed(tx, uuid)?;
            set_state(tx, uuid, next, Some(reason.trim()))?;
            find(tx, uuid)
        })
    }

    /// Removes files of the photo store that no photo refers to, and temporary files (after a crash).
    pub fn sweep_photo_files(&self, files: &PhotoFiles) -> Result<u64> {
        let (originals, renditions, thumbnails) = self.read(|connection| {
            let collect = |sql: &str| -> Result<HashSet<String>> {
                let mut statement = connection.prepare(sql)?;
                let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            };
            Ok((
                // A file the retention policy deleted is no longer referenced: if a crash left it on disk
                // after the row recorded its eviction, it goes now.
                collect("SELECT original_sha256 FROM photos WHERE original_evicted_at IS NULL")?,
                collect(
                    "SELECT rendition_sha256 FROM photos
                     WHERE rendition_sha256 IS NOT NULL AND rendition_evicted_at IS NULL",
                )?,
                collect("SELECT thumbnail_sha256 FROM photos WHERE thumbnail_sha256 IS NOT NULL")?,
            ))
        })?;
        files.sweep(&[
            (Kind::Original, originals),
            (Kind::Rendition, renditions),
            (Kind::Thumbnail, thumbnails),
        ])
    }

    /// The SHA-256 of a processed photo's thumbnail.
    pub fn thumbnail_of(&self, uuid: &str) -> Result<Option<String>> {
        self.read(|connection| {
            Ok(connection
                .query_row(
                    "SELECT thumbnail_sha256 FROM photos WHERE id = ?1",
                    [uuid],
                    |row| row.get(0),
                )
                .optional()?
                .flatten())
        })
    }

    /// What the relay sends for a photo: the rendition's name and SHA-256 and the item, with the time
    /// certification decided now (the first upload is now, or was earlier).
    pub fn photo_upload(&self, uuid: &str) -> Result<PhotoUpload> {
        self.write(|tx| {
            let photo = find(tx, uuid)?;
            let uploading = transition(&photo, PhotoEvent::UploadStarted, "upload")?;
            tx.execute(
                "UPDATE photos SET first_upload_at = coalesce(first_upload_at, ?2), state = ?3 WHERE id = ?1",
                params![uuid, now(), uploading.as_str()],
            )?;
            let (rendition, capture_time, first_upload, file_name, evicted): (
                Option<String>,
                Option<i64>,
                i64,
                String,
                bool,
            ) = tx.query_row(
                "SELECT rendition_sha256, capture_time, first_upload_at, file_name, rendition_evicted_at IS NOT NULL
                 FROM photos WHERE id = ?1",
                [uuid],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
            )?;
            if evicted {
                return Err(Error::PhotoFilesEvicted(uuid.to_owned()));
            }
            let rendition =
                rendition.ok_or_else(|| Error::PhotoRefused(format!("photo {uuid} is not processed")))?;
            let payload: String =
                tx.query_row("SELECT payload FROM outbox WHERE id = ?1", [uuid], |row| {
                    row.get(0)
                })?;
            let mut item: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            if let Some(object) = item.as_object_mut() {
                object.insert(
                    "csrCertifiedTime".into(),
                    json!(certify::time_certified(capture_time, first_upload)),
                );
            }
            let name = Path::new(&file_name)
                .with_extension("jpg")
                .to_string_lossy()
                .into_owned();
            Ok(PhotoUpload {
                file_name: name,
                rendition_sha256: rendition,
                item,
            })
        })
    }
}

/// What the relay sends for a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoUpload {
    /// The file name sent with the rendition.
    pub file_name: String,
    /// The rendition's SHA-256 (its name in the photo store).
    pub rendition_sha256: String,
    /// The `uploadPictures` item.
    pub item: serde_json::Value,
}

/// Approves one photo (see [`Store::approve_photo`]). A relayed photo whose rendition the retention
/// policy deleted is processed again from its original, then queued without a second review; with its
/// original gone too it is refused ([`Error::PhotoFilesEvicted`]).
fn approve(tx: &Connection, uuid: &str) -> Result<()> {
    let photo = find(tx, uuid)?;
    let (rendition_evicted, original_evicted): (bool, bool) = tx.query_row(
        "SELECT rendition_evicted_at IS NOT NULL, original_evicted_at IS NOT NULL FROM photos WHERE id = ?1",
        [uuid],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if photo.state == PhotoState::Relayed && rendition_evicted && original_evicted {
        return Err(Error::PhotoFilesEvicted(uuid.to_owned()));
    }
    let next = transition(
        &photo,
        PhotoEvent::Approved {
            processed: photo.width.is_some() && !rendition_evicted,
        },
        "approve",
    )?;
    tx.execute(
        "UPDATE photos SET approved_at = ?2 WHERE id = ?1",
        params![uuid, now()],
    )?;
    match next {
        PhotoState::Queued => release(tx, uuid),
        // Processing failed: it is processed again instead.
        other => set_state(tx, uuid, other, None),
    }
}

/// Approves every photo of a project that waits for QA; returns how many.
pub(crate) fn approve_pending(tx: &Connection, project_id: i64) -> Result<u64> {
    let waiting: Vec<String> = {
        let mut statement =
            tx.prepare_cached("SELECT id FROM photos WHERE project_id = ?1 AND state = ?2")?;
        let rows = statement.query_map(params![project_id, PhotoState::PendingQa.as_str()], |row| {
            row.get(0)
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for uuid in &waiting {
        approve(tx, uuid)?;
    }
    Ok(waiting.len() as u64)
}

/// The text stamped into a photo's rendition when its task's `timestamp_overlay` option asks for it: the
/// time it was taken on the device (UTC) and the property's address.
fn date_stamp(connection: &Connection, uuid: &str) -> Result<Option<String>> {
    let row: Option<(i64, Option<i64>, String, String)> = connection
        .prepare_cached(
            "SELECT ph.integration_id, ph.project_id, ph.task_name, ph.created_at FROM photos ph WHERE ph.id = ?1",
        )?
        .query_row([uuid], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, i64>(3)?.to_string())))
        .optional()?;
    let Some((integration_id, Some(project_id), task, taken_at)) = row else {
        return Ok(None);
    };
    let code: String = connection.query_row(
        "SELECT code FROM integrations WHERE id = ?1",
        [integration_id],
        |row| row.get(0),
    )?;
    let project = projects::load(connection, &code, project_id)?;
    if !super::options::task_options(connection, integration_id, &project, Some(&task))?.timestamp_overlay {
        return Ok(None);
    }
    let taken_at = format_timestamp(taken_at.parse().unwrap_or_default())
        .replace('T', " ")
        .replace('Z', " UTC");
    let address = [project.address1.as_deref(), project.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Some(if address.is_empty() {
        taken_at
    } else {
        format!("{taken_at}\n{address}")
    }))
}
