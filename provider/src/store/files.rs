//! Uploaded file bytes, stored on disk by content (`<dir>/<sha1[0..2]>/<sha1>`).
//!
//! Metadata lives in SQLite (`received_items`); identical bytes are stored once. Files are written to a
//! temporary file in the same folder and renamed into place, so a reader never sees a partial file.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::error::ProviderError;

/// A content-addressed folder of uploaded files.
#[derive(Debug, Clone)]
pub(crate) struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Uses (creating) `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self, ProviderError> {
        std::fs::create_dir_all(dir)?;
        Ok(Self { dir: dir.to_owned() })
    }

    fn path_of(&self, sha1_hex: &str) -> Option<PathBuf> {
        let valid = sha1_hex.len() == 40 && sha1_hex.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| self.dir.join(&sha1_hex[..2]).join(sha1_hex))
    }

    /// Stores `bytes`; returns their lowercase hex SHA-1.
    pub(crate) fn put(&self, bytes: &[u8]) -> Result<String, ProviderError> {
        let sha1_hex = hex::encode(Sha1::digest(bytes));
        let Some(path) = self.path_of(&sha1_hex) else {
            return Err(ProviderError::invalid("bad digest"));
        };
        if path.exists() {
            return Ok(sha1_hex);
        }
        let folder = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(folder)?;
        let mut tmp = tempfile::NamedTempFile::new_in(folder)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_data()?;
        tmp.persist(&path).map_err(|err| ProviderError::Io(err.error))?;
        Ok(sha1_hex)
    }

    /// Reads the file with this digest, if present.
    pub(crate) fn get(&self, sha1_hex: &str) -> Result<Option<Vec<u8>>, ProviderError> {
        let Some(path) = self.path_of(sha1_hex) else {
            return Ok(None);
        };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}
