//! The one error of the photo code, shared by the EXIF reader and the pipeline. A leaf: it uses nothing
//! else of `photo`, so both sides can depend on it without depending on each other.

/// Why a photo cannot be read or processed. Messages are meant for the person who took the photo.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than `process::DecodeLimits::max_file_bytes`.
    #[error("the file is {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The image declares more pixels than `process::DecodeLimits::max_pixels`.
    #[error("the image is {width}x{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// Processing the image would need more memory than `process::DecodeLimits::max_alloc_bytes` (estimated from
    /// its headers before decoding).
    #[error(
        "processing this {width}x{height} image needs about {needed} bytes of memory, more than the limit of \
         {limit} bytes"
    )]
    TooMuchMemory {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The estimate.
        needed: u64,
        /// The limit.
        limit: u64,
    },
    /// A recognised image format (or variant) this pipeline does not decode; `hint` says what to do.
    #[error("{format} images are not supported: {hint}")]
    Unsupported {
        /// The format, e.g. `HEIC`.
        format: String,
        /// What the host or the person can do.
        hint: String,
    },
    /// The image is damaged or truncated.
    #[error("the image is damaged: {0}")]
    Corrupt(String),
    /// The bytes are not an image (JPEG or PNG expected).
    #[error("the file is not an image (a JPEG or PNG photo is expected)")]
    NotAnImage,
    /// The rendition or thumbnail could not be produced.
    #[error("the processed photo could not be written: {0}")]
    Encode(String),
    /// The file could not be read (`process::process_file` only).
    #[error("the photo file could not be read: {0}")]
    Io(String),
}
