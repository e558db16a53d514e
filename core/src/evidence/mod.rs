//! Evidence anyone can verify: C2PA content credentials on every relayed photo, signed by the device, and
//! the detection of reused photos. See `docs/EVIDENCE.md`.
//!
//! - [`signer`]: the host's [`DeviceSigner`] (the private key never enters the core) and its adapter to c2pa;
//! - [`software`]: a software signer and a development certificate authority (CLI, emulator, tests);
//! - [`manifest`]: what a rendition's credentials say ([`PhotoEvidence`]) and [`embed`];
//! - [`verify`](mod@verify): [`verify()`], a typed verdict from the bytes alone;
//! - [`detached`]: the COSE signature of check-in and survey items;
//! - [`phash`]: the perceptual hash of a thumbnail and the near-duplicate index.

pub mod detached;
pub mod manifest;
pub mod phash;
pub mod signer;
pub mod software;
pub mod verify;

pub use manifest::{PhotoEvidence, embed};
pub use signer::{DeviceSigner, SignerError};
pub use software::SoftwareSigner;
pub use verify::{Outcome, TamperedPart, Verification, verify};

/// Why content credentials could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The device could not sign (the photo waits).
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// A key or certificate is missing or unreadable.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The manifest could not be built or embedded.
    #[error("content credentials: {0}")]
    Manifest(String),
    /// A file could not be written.
    #[error("{0}")]
    Io(String),
}
