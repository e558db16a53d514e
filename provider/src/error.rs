//! Typed errors of the emulator.

use std::net::SocketAddr;

/// Everything that can go wrong in the emulator's Rust API.
///
/// Messages never contain passwords, tokens or push keys.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A file-system or socket operation failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The SQLite store failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A JSON document could not be encoded or decoded.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// The caller's input is not acceptable; the message says why.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The named thing does not exist.
    #[error("{kind} not found: {name}")]
    NotFound {
        /// What was looked up (`user`, `work order`, `item`).
        kind: &'static str,
        /// The name or number looked up.
        name: String,
    },
    /// The operation conflicts with the current state (for example a user that already exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The configured address is not a loopback address and `allow_non_loopback` is off.
    #[error("refusing to listen on non-loopback address {0} (set allow_non_loopback to override)")]
    NonLoopback(SocketAddr),
    /// The server thread panicked or could not be joined.
    #[error("server thread failed: {0}")]
    Thread(String),
}

impl ProviderError {
    /// Shorthand for [`ProviderError::InvalidInput`].
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// Shorthand for [`ProviderError::NotFound`].
    pub(crate) fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Self::NotFound {
            kind,
            name: name.into(),
        }
    }
}
