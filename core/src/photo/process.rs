//! Photo processing (being written by the photo pipeline work; this stub keeps the build green).

use super::exif::PhotoMetadata;

/// Why a photo cannot be processed.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Not an image.
    #[error("not an image")]
    NotAnImage,
}

/// Decoding limits.
#[derive(Debug, Clone, Default)]
pub struct DecodeLimits {
    /// Largest file.
    pub max_file_bytes: u64,
    /// Most pixels.
    pub max_pixels: u64,
    /// Largest allocation.
    pub max_alloc_bytes: u64,
}

/// Processing settings.
#[derive(Debug, Clone, Default)]
pub struct ProcessSettings {
    /// Long edge of the rendition.
    pub long_edge: u32,
    /// JPEG quality.
    pub quality: u8,
    /// Long edge of the thumbnail.
    pub thumbnail_edge: u32,
    /// Keep the capture time in EXIF.
    pub keep_capture_time: bool,
    /// Keep GPS in EXIF.
    pub keep_gps: bool,
    /// Date-stamp overlay text.
    pub date_stamp: Option<String>,
    /// Limits.
    pub limits: DecodeLimits,
}

/// A processed photo.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Upload rendition (JPEG).
    pub rendition: Vec<u8>,
    /// Its width.
    pub rendition_width: u32,
    /// Its height.
    pub rendition_height: u32,
    /// Thumbnail (JPEG).
    pub thumbnail: Vec<u8>,
    /// What the original said.
    pub metadata: PhotoMetadata,
}

/// Processes a photo.
pub fn process(_bytes: &[u8], _settings: &ProcessSettings) -> Result<Processed, PhotoError> {
    Err(PhotoError::NotAnImage)
}
