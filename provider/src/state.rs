//! The shared state of one emulator instance.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::ProviderConfig;
use crate::error::ProviderError;
use crate::fault_table::FaultTable;
use crate::seed;
use crate::store::{FileStore, Store};
use crate::traffic::Traffic;

/// The state of an emulator: its store, file folder, clock, fault table and request-body counters. Cheap to clone.
///
/// Open one with [`ProviderState::open`] to host the emulator in your own runtime with
/// [`crate::server::serve`]; [`crate::server::start`] does both for you on a background thread.
#[derive(Clone)]
pub struct ProviderState {
    inner: Arc<Inner>,
}

struct Inner {
    // Field order matters: the store and files close before the temporary directory is removed.
    store: Store,
    files: FileStore,
    faults: FaultTable,
    traffic: Arc<Traffic>,
    body_limit: usize,
    trust_anchors: Option<String>,
    db_path: PathBuf,
    files_dir: PathBuf,
    _temp_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for ProviderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderState").finish_non_exhaustive()
    }
}

impl ProviderState {
    /// Opens the database (creating it if needed) and the file folder named by `config`, or a temporary
    /// pair deleted when the last clone of this state is dropped. Seeds the demo data when asked.
    pub fn open(config: &ProviderConfig) -> Result<Self, ProviderError> {
        let clock = Arc::new(Clock::default());
        let (temp_dir, db_path, default_files) = match &config.db_path {
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                let mut files = path.clone().into_os_string();
                files.push("-files");
                (None, path.clone(), files.into())
            }
            None => {
                let dir = tempfile::Builder::new().prefix("fieldsync-provider-").tempdir()?;
                let db = dir.path().join("provider.db");
                let files = dir.path().join("files");
                (Some(dir), db, files)
            }
        };
        let files_dir = config.files_dir.clone().unwrap_or(default_files);
        let store = Store::open(&db_path, clock)?;
        let files = FileStore::open(&files_dir)?;
        tracing::debug!(db = %db_path.display(), files = %files_dir.display(), "emulator store opened");
        let state = Self {
            inner: Arc::new(Inner {
                store,
                files,
                faults: FaultTable::default(),
                traffic: Arc::default(),
                body_limit: config.body_limit,
                trust_anchors: config.trust_anchors.clone(),
                db_path,
                files_dir,
                _temp_dir: temp_dir,
            }),
        };
        if config.seed_demo {
            state.store().write(|tx, now| seed::demo(tx, now))?;
        }
        Ok(state)
    }

    /// The SQLite database file (inside a temporary directory for a temporary emulator).
    pub fn db_path(&self) -> &Path {
        &self.inner.db_path
    }

    /// The folder of uploaded files.
    pub fn files_dir(&self) -> &Path {
        &self.inner.files_dir
    }

    /// The trust anchors for received pictures' content credentials.
    pub(crate) fn trust_anchors(&self) -> Option<&str> {
        self.inner.trust_anchors.as_deref()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn files(&self) -> &FileStore {
        &self.inner.files
    }

    pub(crate) fn faults(&self) -> &FaultTable {
        &self.inner.faults
    }

    pub(crate) fn traffic(&self) -> &Arc<Traffic> {
        &self.inner.traffic
    }

    pub(crate) fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// Runs a blocking store operation off the async workers.
    pub(crate) async fn blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<ProviderError> + Send + 'static,
        F: FnOnce(&ProviderState) -> Result<T, E> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|err| E::from(ProviderError::Thread(format!("blocking task failed: {err}"))))?
    }
}
