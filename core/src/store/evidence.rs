//! The store's side of evidence: the device signer the host set, the in-memory near-duplicate index over
//! `photo_hashes`, and what a photo's content credentials say, read from the cache (pure rules in
//! `crate::evidence`).

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Store, integrations, projects};
use crate::Result;
use crate::evidence::DeviceSigner;
use crate::evidence::manifest::{LocationCertification, PhotoEvidence, TimeCertification};
use crate::evidence::phash::{self, Candidate, MATCH_DISTANCE, ReuseFlag, ReuseIndex};
use crate::model::{Timestamp, format_timestamp, now};
use crate::photo::certify;
use crate::photo::process::Processed;

/// What QA sees about a photo's evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PhotoFlags {
    /// A near-duplicate of another project's photo, or of one relayed earlier in the same project.
    pub possible_reuse: Option<ReuseFlag>,
    /// Taken before the project reached the device.
    pub taken_before_assignment: bool,
    /// The rendition carries content credentials signed by the device.
    pub signed: bool,
    /// Why signing waits (the photo stays in processing until the signer works).
    pub evidence_wait: Option<String>,
}

impl PhotoFlags {
    /// The flag names, for lists (`possible_reuse`, `taken_before_assignment`).
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.possible_reuse.is_some() {
            names.push("possible_reuse");
        }
        if self.taken_before_assignment {
            names.push("taken_before_assignment");
        }
        names
    }
}

/// What processing decided about a photo's evidence, before the rendition is signed.
pub(crate) struct EvidencePlan {
    pub(crate) evidence: PhotoEvidence,
    pub(crate) phash: Option<u64>,
    pub(crate) reuse: Option<ReuseFlag>,
    pub(crate) before_assignment: bool,
}

/// Where the store keeps the host's signer.
#[derive(Default)]
pub(crate) struct SignerSlot(std::sync::RwLock<Option<Arc<dyn DeviceSigner>>>);

impl std::fmt::Debug for SignerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.0.read().map(|signer| signer.is_some()).unwrap_or(false);
        f.debug_struct("SignerSlot").field("set", &set).finish()
    }
}

/// The most near-duplicates confirmed from SQLite per look-up.
const CANDIDATES: usize = 16;

impl Store {
    /// Sets the device signer: renditions made from now on carry content credentials it signs (`None`: no
    /// credentials). Photos whose signing waited are tried again at the next processing pass.
    pub fn set_device_signer(&self, signer: Option<Arc<dyn DeviceSigner>>) {
        *self
            .signer
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = signer;
    }

    /// The device signer, if the host set one.
    pub fn device_signer(&self) -> Option<Arc<dyn DeviceSigner>> {
        self.signer
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Lets photos whose signing waited be claimed again (a processing pass starts). Returns how many.
    pub fn retry_evidence_waits(&self) -> Result<u64> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE photos SET evidence_wait = NULL WHERE evidence_wait IS NOT NULL",
                [],
            )? as u64)
        })
    }

    /// The evidence flags of a photo.
    pub fn photo_flags(&self, uuid: &str) -> Result<PhotoFlags> {
        self.read(|connection| flags(connection, uuid))
    }

    /// Photos within [`MATCH_DISTANCE`] of `hash` (other than `uuid`), nearest first, confirmed in the
    /// cache. Loads the hashes added since the last look-up first.
    pub fn near_duplicates(&self, hash: u64, uuid: &str) -> Result<Vec<Candidate>> {
        self.read(|connection| near_duplicates(self, connection, hash, uuid))
    }

    /// How many hashes the in-memory index holds (after loading new ones).
    pub fn reuse_index_len(&self) -> Result<usize> {
        self.read(|connection| {
            let mut index = self.reuse.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            refresh(&mut index, connection)?;
            Ok(index.len())
        })
    }
}

/// Loads the hashes appended since the index last looked.
fn refresh(index: &mut ReuseIndex, connection: &Connection) -> Result<()> {
    let mut statement =
        connection.prepare_cached("SELECT seq, phash FROM photo_hashes WHERE seq > ?1 ORDER BY seq")?;
    let rows = statement.query_map([index.loaded_up_to], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (seq, hash) = row?;
        index.insert(seq, hash as u64);
    }
    Ok(())
}

fn near_duplicates(store: &Store, connection: &Connection, hash: u64, uuid: &str) -> Result<Vec<Candidate>> {
    let near = {
        let mut index = store
            .reuse
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        refresh(&mut index, connection)?;
        index.near(hash, MATCH_DISTANCE, CANDIDATES + 1)
    };
    let mut statement = connection.prepare_cached(
        "SELECT ph.id, ph.project_id, ph.state IN ('relayed', 'uploading') OR ph.relayed_at IS NOT NULL
         FROM photo_hashes h JOIN photos ph ON ph.id = h.photo_id WHERE h.seq = ?1",
    )?;
    let mut found = Vec::new();
    for (seq, distance) in near {
        // A stale entry (the photo was deleted, or hashed again under a new seq) finds nothing.
        let row: Option<(String, Option<i64>, bool)> = statement
            .query_row([seq], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()?;
        if let Some((found_uuid, project_id, relayed)) = row
            && found_uuid != uuid
            && !found
                .iter()
                .any(|candidate: &Candidate| candidate.uuid == found_uuid)
        {
            found.push(Candidate {
                uuid: found_uuid,
                project_id,
                relayed,
                distance,
            });
        }
    }
    found.truncate(CANDIDATES);
    Ok(found)
}

/// `reuse_of, reuse_distance, taken_before_assignment, signed, evidence_wait` of a photo row.
type FlagColumns = (Option<String>, Option<u32>, bool, bool, Option<String>);

fn flags(connection: &Connection, uuid: &str) -> Result<PhotoFlags> {
    let row: Option<FlagColumns> = connection
        .query_row(
            "SELECT reuse_of, reuse_distance, taken_before_assignment, signed, evidence_wait FROM photos WHERE id = ?1",
            [uuid],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
        )
        .optional()?;
    let Some((reuse_of, distance, before, signed, wait)) = row else {
        return Err(crate::Error::UnknownPhoto(uuid.to_owned()));
    };
    Ok(PhotoFlags {
        possible_reuse: reuse_of.map(|matching_photo| ReuseFlag {
            matching_photo,
            distance: distance.unwrap_or(0),
        }),
        taken_before_assignment: before,
        signed,
        evidence_wait: wait,
    })
}

/// Reads what the content credentials of photo `uuid` say, and decides its flags.
pub(crate) fn plan(
    store: &Store,
    connection: &Connection,
    uuid: &str,
    processed: &Processed,
    phash: Option<u64>,
) -> Result<EvidencePlan> {
    #[allow(clippy::type_complexity)]
    let (
        integration_id,
        project_id,
        number,
        task,
        evidence_type,
        file_name,
        original,
        fix,
        accuracy,
        device_id,
    ): (
        i64,
        Option<i64>,
        String,
        String,
        String,
        String,
        String,
        Option<(f64, f64)>,
        Option<f64>,
        String,
    ) = connection.query_row(
        "SELECT integration_id, project_id, work_order_number, task_name, evidence_type, file_name,
                original_sha256, fix_latitude, fix_longitude, fix_accuracy_m, device_id
         FROM photos WHERE id = ?1",
        [uuid],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get::<_, Option<f64>>(7)?.zip(row.get::<_, Option<f64>>(8)?),
                row.get(9)?,
                row.get(10)?,
            ))
        },
    )?;
    let code: String = connection.query_row(
        "SELECT code FROM integrations WHERE id = ?1",
        [integration_id],
        |row| row.get(0),
    )?;
    let integration = integrations::find(connection, &code)?;
    let project = match project_id {
        Some(project_id) => Some(projects::load(connection, &code, project_id)?),
        None => None,
    };
    let property = project
        .as_ref()
        .and_then(|project| project.latitude.zip(project.longitude));
    let position = fix.or(processed.metadata.gps);
    let radius = integration.check_in.geofence_radius_m;
    let location = certify::location(position, property, radius);
    let checkin_distance_m: Option<f64> = match project_id {
        Some(project_id) => connection
            .query_row(
                "SELECT distance_m FROM checkins WHERE project_id = ?1 ORDER BY device_time DESC LIMIT 1",
                [project_id],
                |row| row.get(0),
            )
            .optional()?
            .flatten(),
        None => None,
    };
    let first_seen: Option<Timestamp> = match project_id {
        Some(project_id) => connection.query_row(
            "SELECT first_seen_at FROM projects WHERE id = ?1",
            [project_id],
            |row| row.get(0),
        )?,
        None => None,
    };
    let capture_time = processed.metadata.capture_time;
    let signed_at = now();
    let reuse = match phash {
        Some(hash) => phash::reuse_flag(project_id, &near_duplicates(store, connection, hash, uuid)?),
        None => None,
    };
    let evidence = PhotoEvidence {
        photo_uuid: uuid.to_owned(),
        integration_code: code,
        work_order_number: number,
        task,
        evidence_type,
        file_name,
        original_sha256: original,
        device_id,
        camera_model: processed.metadata.camera_model.clone(),
        capture_time,
        gps: position,
        gps_accuracy_m: if fix.is_some() { accuracy } else { None },
        checkin_distance_m,
        location: LocationCertification {
            position: position.map(Into::into),
            position_source: match (fix, processed.metadata.gps) {
                (Some(_), _) => Some("device_fix"),
                (None, Some(_)) => Some("exif"),
                (None, None) => None,
            },
            property: property.map(Into::into),
            radius_m: radius,
            distance_m: location.map(|(distance, _)| distance),
            certified: location.is_some_and(|(_, inside)| inside),
        },
        time: TimeCertification {
            capture_time: capture_time.map(format_timestamp),
            signed_at: format_timestamp(signed_at),
            window_s: certify::TIME_WINDOW_S,
            certified_at_signing: certify::time_certified(capture_time, signed_at),
        },
    };
    Ok(EvidencePlan {
        evidence,
        phash,
        reuse,
        before_assignment: phash::taken_before_assignment(capture_time, first_seen),
    })
}

/// Records a photo's hash (replacing an earlier one: it gets a new `seq`, so other processes load it).
pub(crate) fn record_hash(tx: &Connection, uuid: &str, hash: u64) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO photo_hashes (photo_id, phash) VALUES (?1, ?2)",
        params![uuid, hash as i64],
    )?;
    Ok(())
}
