//! Configuration of an emulator instance.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Default request body limit: large enough for a full-resolution phone photo or a survey bundle.
///
/// axum's own default (2 MB) would answer 413 to a single 12 MP photo, so the limit is always set.
pub const DEFAULT_BODY_LIMIT: usize = 128 * 1024 * 1024;

/// How an emulator instance is started.
///
/// ```
/// use fieldsync_provider::ProviderConfig;
/// let config = ProviderConfig { seed_demo: true, ..ProviderConfig::default() };
/// assert!(config.addr.ip().is_loopback());
/// ```
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Address to listen on. `127.0.0.1:0` (the default) picks a free port.
    pub addr: SocketAddr,
    /// SQLite database file. `None` means a temporary database (and file store) in a temporary
    /// directory that is deleted when the last handle to the emulator is dropped.
    pub db_path: Option<PathBuf>,
    /// Where uploaded file bytes are written. `None` means `<db_path>-files/` next to the database, or a
    /// folder inside the temporary directory for a temporary database.
    pub files_dir: Option<PathBuf>,
    /// Maximum request body size in bytes (default [`DEFAULT_BODY_LIMIT`]).
    pub body_limit: usize,
    /// Seed the demo data set (user `vendor1` / `secret1` / `tok-1` and eight work orders) at startup.
    pub seed_demo: bool,
    /// The emulator speaks plain HTTP and receives credentials; by default it refuses to listen on
    /// anything but a loopback address. Set this to allow another address (for example a phone on the
    /// same desk reaching a laptop); you take responsibility for that network.
    pub allow_non_loopback: bool,
    /// Trust anchors (PEM) for the content credentials of received pictures; `None` checks their
    /// integrity only (a valid signature is then reported `valid` with `trusted: false`).
    pub trust_anchors: Option<String>,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            db_path: None,
            files_dir: None,
            body_limit: DEFAULT_BODY_LIMIT,
            seed_demo: false,
            allow_non_loopback: false,
            trust_anchors: None,
        }
    }
}
