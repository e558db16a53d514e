//! The content credentials of a photo's rendition: what they say ([`PhotoEvidence`], turned into a C2PA
//! manifest definition by [`manifest_definition`], pure) and the signing and embedding ([`embed`]).
//!
//! The manifest carries:
//! - `c2pa.actions`: `c2pa.created` (digital capture, with the device and the app) and `c2pa.resized`,
//!   whose ingredient is the original photo, identified by its SHA-256 (the original stays on the phone);
//! - `stds.exif`: the capture time, the GPS fix and its accuracy;
//! - `com.fieldsync.evidence`: integration code, work order, task, evidence type, the photo item's UUID,
//!   the check-in distance, and the certification outcome (time and location) with its inputs.

use std::io::Cursor;

use serde::Serialize;
use serde_json::{Value, json};

use super::EvidenceError;
use super::signer::{C2paSigner, DeviceSigner};
use crate::model::{Timestamp, format_timestamp};

/// The label of fieldsync's own assertion.
pub const FIELDSYNC_ASSERTION: &str = "com.fieldsync.evidence";
/// The IPTC digital source type of a photo taken by a camera.
pub const DIGITAL_CAPTURE: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

/// A position, degrees (an object rather than a pair: every C2PA reader renders it the same way).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
}

impl From<(f64, f64)> for Position {
    fn from((latitude, longitude): (f64, f64)) -> Self {
        Self { latitude, longitude }
    }
}

/// How the location was certified, with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationCertification {
    /// The photo's position (the device fix, else the EXIF GPS).
    pub position: Option<Position>,
    /// `device_fix` or `exif`.
    pub position_source: Option<&'static str>,
    /// The property's position.
    pub property: Option<Position>,
    /// The geofence radius, metres.
    pub radius_m: f64,
    /// Distance from the position to the property, metres.
    pub distance_m: Option<f64>,
    /// Inside the geofence (false when a position is unknown).
    pub certified: bool,
}

/// How the time was certified, with its inputs. The provider's `csrCertifiedTime` is decided at the first
/// upload (12 hours from capture); the rendition is signed before that, so what is signed is the capture
/// time and the signing time, and whether the capture was within the window at signing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeCertification {
    /// EXIF capture time (RFC 3339).
    pub capture_time: Option<String>,
    /// When the device signed (RFC 3339).
    pub signed_at: String,
    /// The window, seconds.
    pub window_s: i64,
    /// The capture time was within the window of the signing time.
    pub certified_at_signing: bool,
}

/// Everything the content credentials of one rendition say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoEvidence {
    /// The photo item's UUID (`uuId`).
    pub photo_uuid: String,
    /// The integration code.
    pub integration_code: String,
    /// The work order number.
    pub work_order_number: String,
    /// The task.
    pub task: String,
    /// `before`, `during` or `after`.
    pub evidence_type: String,
    /// The camera's file name.
    pub file_name: String,
    /// SHA-256 of the original (hex).
    pub original_sha256: String,
    /// This device's id.
    pub device_id: String,
    /// The EXIF camera model.
    pub camera_model: Option<String>,
    /// EXIF capture time.
    #[serde(skip)]
    pub capture_time: Option<Timestamp>,
    /// The GPS fix (device fix or EXIF).
    pub gps: Option<(f64, f64)>,
    /// Its accuracy, metres (device fix only).
    pub gps_accuracy_m: Option<f64>,
    /// Distance of the project's latest check-in to the property, metres.
    pub checkin_distance_m: Option<f64>,
    /// Location certification.
    pub location: LocationCertification,
    /// Time certification.
    pub time: TimeCertification,
}

/// `DDD,MM.mmmmK`, the XMP GPS coordinate form of the EXIF assertion.
fn xmp_coordinate(value: f64, positive: char, negative: char) -> String {
    let hemisphere = if value < 0.0 { negative } else { positive };
    let value = value.abs();
    let degrees = value.trunc();
    let minutes = (value - degrees) * 60.0;
    format!("{degrees:.0},{minutes:.6}{hemisphere}")
}

/// The app, as C2PA's `claim_generator_info` and `softwareAgent`.
fn software_agent() -> Value {
    json!({"name": "fieldsync", "version": env!("CARGO_PKG_VERSION")})
}

/// The C2PA manifest definition of a rendition (pure).
pub fn manifest_definition(evidence: &PhotoEvidence) -> Value {
    let capture_time = evidence.capture_time.map(format_timestamp);
    let mut exif = serde_json::Map::new();
    exif.insert(
        "@context".into(),
        json!({"exif": "http://ns.adobe.com/exif/1.0/"}),
    );
    if let Some(time) = &capture_time {
        exif.insert("exif:DateTimeOriginal".into(), json!(time));
    }
    if let Some((latitude, longitude)) = evidence.gps {
        exif.insert("exif:GPSVersionID".into(), json!("2.2.0.0"));
        exif.insert(
            "exif:GPSLatitude".into(),
            json!(xmp_coordinate(latitude, 'N', 'S')),
        );
        exif.insert(
            "exif:GPSLongitude".into(),
            json!(xmp_coordinate(longitude, 'E', 'W')),
        );
    }
    if let Some(accuracy) = evidence.gps_accuracy_m {
        exif.insert("exif:GPSHPositioningError".into(), json!(format!("{accuracy}")));
    }
    if let Some(model) = &evidence.camera_model {
        exif.insert("exif:Model".into(), json!(model));
    }
    let mut created = json!({
        "action": "c2pa.created",
        "digitalSourceType": DIGITAL_CAPTURE,
        "softwareAgent": software_agent(),
        "parameters": {
            "description": format!("photo taken on device {}", evidence.device_id),
            "com.fieldsync.device_id": evidence.device_id,
            "com.fieldsync.camera_model": evidence.camera_model,
        },
    });
    if let Some(time) = &capture_time {
        created["when"] = json!(time);
    }
    json!({
        "claim_generator_info": [software_agent()],
        "title": evidence.file_name,
        "format": "image/jpeg",
        "ingredients": [{
            "title": evidence.file_name,
            "format": "image/jpeg",
            "relationship": "componentOf",
            "label": "original",
            "instance_id": format!("sha256:{}", evidence.original_sha256),
            "description": "the original photo, kept on the device; identified by its SHA-256",
        }],
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                created,
                {
                    "action": "c2pa.resized",
                    "softwareAgent": software_agent(),
                    "parameters": {
                        "ingredientIds": ["original"],
                        "description": "upload rendition: oriented, resized, re-encoded; metadata reduced",
                    },
                },
            ]}},
            {"label": "stds.exif", "data": Value::Object(exif)},
            {"label": FIELDSYNC_ASSERTION, "data": fieldsync_assertion(evidence)},
        ],
    })
}

/// The fieldsync assertion's data (pure).
pub fn fieldsync_assertion(evidence: &PhotoEvidence) -> Value {
    json!({
        "integration_code": evidence.integration_code,
        "work_order_number": evidence.work_order_number,
        "task": evidence.task,
        "evidence_type": evidence.evidence_type,
        "photo_uuid": evidence.photo_uuid,
        "original_sha256": evidence.original_sha256,
        "checkin_distance_m": evidence.checkin_distance_m,
        "location_certification": evidence.location,
        "time_certification": evidence.time,
    })
}

/// Settings for writing: nothing fetched from the network, no verification of our own output (the
/// emulator and `fieldsync evidence verify` do that), no thumbnail (the rendition is the picture).
fn signing_context() -> Result<c2pa::Context, EvidenceError> {
    c2pa::Context::new()
        .with_settings(json!({
            "verify": {"verify_after_sign": false, "remote_manifest_fetch": false, "ocsp_fetch": false},
            "builder": {"thumbnail": {"enabled": false}},
        }))
        .map_err(|err| EvidenceError::Manifest(err.to_string()))
}

/// Signs `evidence` with `signer` and embeds it into the JPEG `rendition`; returns the new JPEG. A signer
/// failure comes back as [`EvidenceError::Signer`], typed.
pub fn embed(
    rendition: &[u8],
    evidence: &PhotoEvidence,
    signer: &dyn DeviceSigner,
) -> Result<Vec<u8>, EvidenceError> {
    let adapter = C2paSigner::new(signer)?;
    let definition: c2pa::ManifestDefinition = serde_json::from_value(manifest_definition(evidence))
        .map_err(|err| EvidenceError::Manifest(format!("manifest definition: {err}")))?;
    let mut builder = c2pa::Builder::from_context(signing_context()?)
        .with_definition(definition)
        .map_err(|err| EvidenceError::Manifest(err.to_string()))?;
    let mut source = Cursor::new(rendition);
    let mut dest = Cursor::new(Vec::with_capacity(rendition.len() + 32 * 1024));
    builder
        .sign(&adapter, "image/jpeg", &mut source, &mut dest)
        .map_err(|err| match adapter.take_failure() {
            Some(failure) => EvidenceError::Signer(failure),
            None => EvidenceError::Manifest(err.to_string()),
        })?;
    Ok(dest.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_written_in_the_xmp_form() {
        assert_eq!(xmp_coordinate(39.5, 'N', 'S'), "39,30.000000N");
        assert_eq!(xmp_coordinate(-89.25, 'E', 'W'), "89,15.000000W");
    }
}
