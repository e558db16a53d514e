//! Check-ins on disk: recorded with their outbox entry in one durable transaction.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::{Store, integrations, projects};
use crate::checkin::{Assessment, LocationFix, Reason, assess};
use crate::model::{InvalidInput, ProjectId, Timestamp, format_timestamp, now};
use crate::outbox::queue::{self, NewEntry};
use crate::outbox::{EntryKind, EntryState};
use crate::wire::upload::with_attributes;
use crate::{Error, Result};

/// The user-default key of the check-in ID (e.g. a background-check badge number).
pub const BADGE_DEFAULT: &str = "checkin_badge";
/// The user default that holds [`Store::device_id`] (the CLI kept its id there before the store made it).
const DEVICE_ID: &str = "device_id";

/// A check-in to record.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInRequest {
    /// The project, `CODE::NUMBER`.
    pub project: ProjectId,
    /// The fix taken on site.
    pub fix: LocationFix,
    /// The check-in ID number; the saved user default when `None`.
    pub badge: Option<String>,
    /// The field user (sub-user) checking in.
    pub user: Option<String>,
    /// The device clock at capture, Unix seconds.
    pub device_time: Timestamp,
    /// This device's id.
    pub device_id: String,
}

/// A recorded check-in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckIn {
    /// Client UUID (also its outbox entry and the provider's `uuId`).
    pub uuid: String,
    /// `CODE::NUMBER`.
    pub project: String,
    /// True when every rule passed.
    pub certified: bool,
    /// Distance to the property, metres.
    pub distance_m: Option<f64>,
    /// Why it is not certified, in words.
    pub reasons: Vec<String>,
    /// The same, as data.
    #[serde(skip)]
    pub reason_codes: Vec<Reason>,
    /// Its delivery state (`queued`, `done`...).
    pub state: String,
    /// The device time of the check-in (RFC 3339).
    pub device_time: String,
    /// The check-in ID used.
    pub badge: Option<String>,
}

impl Store {
    /// Saves a user default (e.g. [`BADGE_DEFAULT`]).
    pub fn set_user_default(&self, key: &str, value: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO user_defaults (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    /// A user default, if set.
    pub fn user_default(&self, key: &str) -> Result<Option<String>> {
        self.read(|connection| {
            Ok(connection
                .query_row("SELECT value FROM user_defaults WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?)
        })
    }

    /// This installation's device id, sent with its field work: a random UUID made the first time it is
    /// asked for and kept in the database itself. It lives and dies with the queue it tags, so it is as far
    /// out of device backups as the database is: a phone restored from a backup (or a second install) never
    /// inherits another device's id. Concurrent first calls (two processes) agree on one id.
    pub fn device_id(&self) -> Result<String> {
        if let Some(id) = self.user_default(DEVICE_ID)? {
            return Ok(id);
        }
        self.write(|tx| {
            // Inside the write lock: a racing first call has either stored its id (kept) or not started.
            tx.execute(
                "INSERT INTO user_defaults (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![DEVICE_ID, uuid::Uuid::new_v4().to_string()],
            )?;
            Ok(tx.query_row(
                "SELECT value FROM user_defaults WHERE key = ?1",
                [DEVICE_ID],
                |row| row.get(0),
            )?)
        })
    }

    /// Gives a project coordinates (e.g. geocoded by the host) when the provider sent none. The provider's
    /// own coordinates, when present, always win.
    pub fn set_project_location(&self, id: &ProjectId, latitude: f64, longitude: f64) -> Result<()> {
        let probe = LocationFix {
            latitude,
            longitude,
            accuracy_m: 0.0,
            altitude_m: None,
            fix_time_ms: 1,
            is_mock: false,
        };
        probe.validate()?;
        self.write(|tx| {
            let (_, project_id) = projects::locate(tx, id)?;
            tx.execute(
                "UPDATE projects SET host_latitude = ?2, host_longitude = ?3 WHERE id = ?1",
                params![project_id, latitude, longitude],
            )?;
            Ok(())
        })
    }

    /// Validates and records a check-in with its outbox entry, durably (`synchronous=FULL`), before
    /// returning. Refused (nothing written) for an impossible fix, an unknown or closed project, or an
    /// uncertified check-in when the integration refuses those.
    pub fn check_in(&self, request: &CheckInRequest) -> Result<CheckIn> {
        request.fix.validate()?;
        if let Some(badge) = &request.badge
            && (badge.trim().is_empty() || badge.len() > 64 || badge.chars().any(char::is_control))
        {
            return Err(InvalidInput::new("badge", "a check-in ID is 1 to 64 printable characters").into());
        }
        let default_badge = self.user_default(BADGE_DEFAULT)?;
        self.write_durable(|tx| {
            let (integration_id, project_id) = projects::locate(tx, &request.project)?;
            let project = projects::load(tx, &request.project.integration, project_id)?;
            if project.closed {
                return Err(Error::ProjectClosed(request.project.to_string()));
            }
            let integration = integrations::find(tx, &request.project.integration)?;
            let host_location: Option<(Option<f64>, Option<f64>)> = tx
                .query_row("SELECT host_latitude, host_longitude FROM projects WHERE id = ?1", [project_id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let property = match (project.latitude, project.longitude) {
                (Some(latitude), Some(longitude)) => Some((latitude, longitude)),
                _ => match host_location {
                    Some((Some(latitude), Some(longitude))) => Some((latitude, longitude)),
                    _ => None,
                },
            };
            let assessment = assess(&request.fix, property, &integration.check_in, request.device_time);
            if !assessment.certified && integration.check_in.refuse_uncertified {
                return Err(Error::CheckInRefused {
                    project: request.project.to_string(),
                    reasons: assessment.reasons.iter().map(ToString::to_string).collect(),
                });
            }
            let badge = request.badge.clone().or(default_badge);
            let photo_required =
                super::options::task_options(tx, integration_id, &project, None)?.check_in_photo_required;
            super::options::mark_work_started(tx, project_id, now())?;
            let uuid = queue::new_entry_id();
            tx.execute(
                "INSERT INTO checkins (id, integration_id, project_id, work_order_number, user_name, badge,
                     device_time, fix_time_ms, latitude, longitude, accuracy_m, altitude_m, is_mock, distance_m,
                     certified, reasons, photo_required)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    uuid,
                    integration_id,
                    project_id,
                    project.work_order_number,
                    request.user,
                    badge,
                    request.device_time,
                    request.fix.fix_time_ms,
                    request.fix.latitude,
                    request.fix.longitude,
                    request.fix.accuracy_m,
                    request.fix.altitude_m,
                    request.fix.is_mock,
                    assessment.distance_m,
                    assessment.certified,
                    serde_json::to_string(&assessment.reasons).expect("plain data serialises"),
                    photo_required,
                ],
            )?;
            let payload = upload_item(request, &project, &integration.code, badge.as_deref(), &assessment, &uuid);
            let entry = NewEntry {
                id: &uuid,
                integration_id,
                project_id: Some(project_id),
                kind: EntryKind::CheckIn,
                state: EntryState::Queued,
                payload: &payload,
            };
            queue::enqueue(tx, &entry, now())?;
            Ok(CheckIn {
                uuid,
                project: request.project.to_string(),
                certified: assessment.certified,
                distance_m: assessment.distance_m,
                reasons: assessment.reasons.iter().map(ToString::to_string).collect(),
                reason_codes: assessment.reasons,
                state: "queued".into(),
                device_time: format_timestamp(request.device_time),
                badge,
            })
        })
    }
}

/// The `uploadPictures` item a check-in travels as (`fileType: "checkin"`, no file), frozen at capture so
/// that the provider receives the original times however late it is delivered.
fn upload_item(
    request: &CheckInRequest,
    project: &crate::model::Project,
    code: &str,
    badge: Option<&str>,
    assessment: &Assessment,
    uuid: &str,
) -> serde_json::Value {
    let fix = &request.fix;
    let fix_time = format_timestamp(fix.fix_time_ms.div_euclid(1000));
    let device_time = format_timestamp(request.device_time);
    let item = json!({
        "uuId": uuid,
        "fileType": "checkin",
        "key2": project.work_order_number,
        "key4": "Check In",
        "evidenceType": "",
        "fileName": "",
        "fileExt": "",
        "gpsLatitude": fix.latitude,
        "gpsLongitude": fix.longitude,
        "gpsAccuracy": fix.accuracy_m,
        "gpsAltitude": fix.altitude_m,
        "gpsTimestamp": fix_time,
        "gpsMock": fix.is_mock,
        "creationDate": device_time,
        "timestamp": device_time,
        "locationDifference": assessment.distance_m,
        "csrCertifiedLocation": assessment.certified,
        "csrCertifiedTime": assessment.certified,
        "certificationReasons": assessment.reasons.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "deviceId": request.device_id,
        "createdBySubUser": request.user,
        "checkInId": badge,
        "clientCode": code,
    });
    with_attributes(item, &project.attributes)
}
