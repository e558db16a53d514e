//! Photos: the vendor's proof of work. Taken into a durable queue the moment the camera hands them over,
//! processed one at a time (orientation, resize, re-encode, thumbnail), certified, and relayed to the
//! provider only when QA allows.
//!
//! - [`files`]: the content-addressed photo directory, written atomically (temp file, fsync, rename);
//! - [`exif`] and [`process`]: the image pipeline, pure bytes in, bytes out, with decoding limits;
//! - [`certify`]: the time and location certification rules, pure;
//! - the store (`core::store`) records photos with their outbox entries and runs the QA gate.

pub mod certify;
mod error;
pub mod exif;
pub mod files;
#[cfg(test)]
mod fixtures;
pub mod lifecycle;
pub mod process;
pub mod retention;

pub use error::PhotoError;

use serde::{Deserialize, Serialize};

use crate::model::InvalidInput;

pub use crate::model::EvidenceType;

/// Where a photo is on its way to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoState {
    /// Taken and safe on disk; not processed yet.
    Processing,
    /// Processed; waits for a reviewer (auto relay off).
    PendingQa,
    /// Allowed; waits for delivery.
    Queued,
    /// Being sent.
    Uploading,
    /// The provider has it.
    Relayed,
    /// Processing or delivery failed; `message` says why; retryable.
    Failed,
    /// A reviewer rejected it; never relayed.
    Rejected,
}

impl PhotoState {
    /// The stored value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::PendingQa => "pending_qa",
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Relayed => "relayed",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
        }
    }

    /// Parses the stored value.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        Ok(match value {
            "processing" => Self::Processing,
            "pending_qa" => Self::PendingQa,
            "queued" => Self::Queued,
            "uploading" => Self::Uploading,
            "relayed" => Self::Relayed,
            "failed" => Self::Failed,
            "rejected" => Self::Rejected,
            other => {
                return Err(InvalidInput::new(
                    "state",
                    format!("unknown photo state `{other}`"),
                ));
            }
        })
    }
}

/// The documented defaults: 2048 px long edge, JPEG quality 85, 320 px thumbnails, EXIF capture time and
/// GPS kept, no date stamp; originals up to 64 MiB, 64 megapixels, 256 MiB of decoding memory.
pub fn default_settings() -> process::ProcessSettings {
    process::ProcessSettings::default()
}
