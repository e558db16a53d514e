//! EXIF reading (being written by the photo pipeline work; this stub keeps the build green).

/// What a photo says about itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhotoMetadata {
    /// Capture time, Unix seconds.
    pub capture_time: Option<i64>,
    /// GPS latitude and longitude.
    pub gps: Option<(f64, f64)>,
    /// Camera model.
    pub camera_model: Option<String>,
    /// EXIF orientation 1..8.
    pub orientation: u16,
    /// Stored width.
    pub width: u32,
    /// Stored height.
    pub height: u32,
}

/// Reads a photo's metadata.
pub fn read_metadata(_bytes: &[u8]) -> Result<PhotoMetadata, super::process::PhotoError> {
    Err(super::process::PhotoError::NotAnImage)
}
