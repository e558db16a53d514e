//! The photo directory: originals, renditions and thumbnails, content-addressed by SHA-256.
//!
//! Every file is written to a temporary name in its final folder, fsynced, renamed into place and the
//! folder fsynced, so a crash leaves either no file or a whole one. A temporary file or a file no photo
//! refers to (a crash between the file and the database commit) is removed by [`PhotoFiles::sweep`].
//!
//! Photos show people's homes and carry GPS positions: folders are `0700` and files `0600` whatever the
//! umask (see [`crate::files`]).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Which file of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// As the camera gave it.
    Original,
    /// What is uploaded.
    Rendition,
    /// For the app's lists.
    Thumbnail,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Self::Original => "originals",
            Self::Rendition => "renditions",
            Self::Thumbnail => "thumbnails",
        }
    }
}

const TEMP_SUFFIX: &str = ".partial";

/// The photo directory.
#[derive(Debug, Clone)]
pub struct PhotoFiles {
    root: PathBuf,
}

impl PhotoFiles {
    /// The directory at `root` (created when missing), owner-only.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        crate::files::create_private_dir(&root)?;
        for kind in [Kind::Original, Kind::Rendition, Kind::Thumbnail] {
            crate::files::create_private_dir(&root.join(kind.folder()))?;
        }
        Ok(Self { root })
    }

    /// Where a file lives.
    pub fn path(&self, kind: Kind, sha256: &str) -> PathBuf {
        self.root.join(kind.folder()).join(format!("{sha256}.jpg"))
    }

    /// Copies `source`, a regular file, into the store (at most `max_bytes`), returning its SHA-256 hex and
    /// size. The same content stored twice is one file.
    pub fn store_file(&self, kind: Kind, source: &Path, max_bytes: u64) -> Result<(String, u64)> {
        let (input, _) = crate::files::open_regular_file(source, max_bytes, "photo")?;
        // Bounded whatever the metadata said: the file may grow while it is copied.
        let mut input = input.take(max_bytes.saturating_add(1));
        self.store_with(kind, |out, hasher| {
            let mut buffer = vec![0; 256 * 1024];
            let mut total = 0u64;
            loop {
                let count = input.read(&mut buffer).map_err(|err| Error::io(source, err))?;
                if count == 0 {
                    return Ok(());
                }
                total += count as u64;
                if total > max_bytes {
                    return Err(crate::model::InvalidInput::new(
                        "photo",
                        format!("{} is larger than {max_bytes} bytes", source.display()),
                    )
                    .into());
                }
                hasher.update(&buffer[..count]);
                out.write_all(&buffer[..count])
                    .map_err(|err| Error::io("photo file", err))?;
            }
        })
    }

    /// Stores bytes, returning their SHA-256 hex and size.
    pub fn store_bytes(&self, kind: Kind, bytes: &[u8]) -> Result<(String, u64)> {
        self.store_with(kind, |out, hasher| {
            hasher.update(bytes);
            out.write_all(bytes).map_err(|err| Error::io("photo file", err))?;
            Ok(())
        })
    }

    fn store_with(
        &self,
        kind: Kind,
        write: impl FnOnce(&mut File, &mut Sha256) -> Result<()>,
    ) -> Result<(String, u64)> {
        let folder = self.root.join(kind.folder());
        let temp = folder.join(format!("{}{TEMP_SUFFIX}", uuid::Uuid::new_v4().simple()));
        let result = (|| {
            let mut out = crate::files::private_file_options()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(|err| Error::io(&temp, err))?;
            let mut hasher = Sha256::new();
            write(&mut out, &mut hasher)?;
            out.sync_all().map_err(|err| Error::io(&temp, err))?;
            let size = out.metadata().map_err(|err| Error::io(&temp, err))?.len();
            let sha256 = hex::encode(hasher.finalize());
            let path = self.path(kind, &sha256);
            if path.exists() {
                fs::remove_file(&temp).map_err(|err| Error::io(&temp, err))?;
            } else {
                fs::rename(&temp, &path).map_err(|err| Error::io(&path, err))?;
                sync_folder(&folder)?;
            }
            Ok((sha256, size))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Reads a stored file.
    pub fn read(&self, kind: Kind, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path(kind, sha256);
        fs::read(&path).map_err(|err| Error::io(&path, err))
    }

    /// The size of a stored file, `None` when it is not there.
    pub fn size(&self, kind: Kind, sha256: &str) -> Option<u64> {
        fs::metadata(self.path(kind, sha256))
            .ok()
            .filter(fs::Metadata::is_file)
            .map(|meta| meta.len())
    }

    /// Deletes a stored file; `false` when it was not there. The folder is fsynced afterwards by
    /// [`PhotoFiles::sync`].
    pub fn remove(&self, kind: Kind, sha256: &str) -> Result<bool> {
        let path = self.path(kind, sha256);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(Error::io(&path, err)),
        }
    }

    /// Fsyncs a kind's folder (after deletions).
    pub fn sync(&self, kind: Kind) -> Result<()> {
        sync_folder(&self.root.join(kind.folder()))
    }

    /// How many stored files of a kind there are and what they weigh (temporary files left out).
    pub fn usage(&self, kind: Kind) -> Result<(u64, u64)> {
        let folder = self.root.join(kind.folder());
        let entries = fs::read_dir(&folder).map_err(|err| Error::io(&folder, err))?;
        let (mut count, mut bytes) = (0, 0);
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().ends_with(".jpg") {
                continue;
            }
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
            {
                count += 1;
                bytes += meta.len();
            }
        }
        Ok((count, bytes))
    }

    /// Removes temporary files and files whose SHA-256 is not in `referenced` (per kind). Returns how many
    /// files went.
    pub fn sweep(&self, referenced: &[(Kind, HashSet<String>)]) -> Result<u64> {
        let mut removed = 0;
        for (kind, keep) in referenced {
            let folder = self.root.join(kind.folder());
            let entries = fs::read_dir(&folder).map_err(|err| Error::io(&folder, err))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let orphan = name.ends_with(TEMP_SUFFIX)
                    || name
                        .strip_suffix(".jpg")
                        .is_none_or(|sha256| !keep.contains(sha256));
                if orphan {
                    fs::remove_file(entry.path()).map_err(|err| Error::io(entry.path(), err))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(unix)]
fn sync_folder(folder: &Path) -> Result<()> {
    File::open(folder)
        .and_then(|handle| handle.sync_all())
        .map_err(|err| Error::io(folder, err))
}

#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_content_addressed_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::open(dir.path()).unwrap();
        let (first, size) = files.store_bytes(Kind::Original, b"jpeg bytes").unwrap();
        let (second, _) = files.store_bytes(Kind::Original, b"jpeg bytes").unwrap();
        assert_eq!(first, second);
        assert_eq!(size, 10);
        assert_eq!(first, hex::encode(Sha256::digest(b"jpeg bytes")));
        assert_eq!(files.read(Kind::Original, &first).unwrap(), b"jpeg bytes");
        assert_eq!(fs::read_dir(dir.path().join("originals")).unwrap().count(), 1);
    }

    #[test]
    fn a_sweep_removes_temporary_and_unreferenced_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::open(dir.path()).unwrap();
        let (kept, _) = files.store_bytes(Kind::Original, b"kept").unwrap();
        files.store_bytes(Kind::Original, b"orphan").unwrap();
        fs::write(
            dir.path().join("originals").join(format!("x{TEMP_SUFFIX}")),
            b"half",
        )
        .unwrap();
        let removed = files
            .sweep(&[(Kind::Original, HashSet::from([kept.clone()]))])
            .unwrap();
        assert_eq!(removed, 2);
        assert!(files.path(Kind::Original, &kept).exists());
    }

    #[test]
    fn an_oversized_source_is_refused_before_copying() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::open(dir.path().join("store")).unwrap();
        let source = dir.path().join("big.jpg");
        fs::write(&source, vec![0u8; 2048]).unwrap();
        assert!(files.store_file(Kind::Original, &source, 1024).is_err());
        assert_eq!(
            fs::read_dir(dir.path().join("store/originals")).unwrap().count(),
            0
        );
    }
}
