//! EXIF: what a photo says about itself, and the minimal block the pipeline writes back.
//!
//! - `read.rs`: walks the JPEG or PNG headers without decoding a pixel and reads the capture time, GPS,
//!   camera, orientation and size ([`read_metadata`], [`PhotoMetadata`]);
//! - `write.rs`: builds the `APP1` payload of a rendition from a [`PhotoMetadata`] (`exif_segment`).
//!
//! The writer depends on the reader's [`PhotoMetadata`]; the reader knows nothing of the writer, and
//! neither knows the image pipeline (`process`), which uses both. Errors are `PhotoError`s
//! (`photo/error.rs`).

mod read;
mod write;

pub(crate) use read::{Format, Probe, probe};
// The pipeline only reads frames from a `Probe`; its tests also build them.
#[cfg(test)]
pub(crate) use read::JpegFrame;
pub use read::{PhotoMetadata, read_metadata};
pub(crate) use write::exif_segment;
