//! The export of an integration's undelivered field work, written before a forced delete removes it.
//!
//! A forced delete removes the rows; the photo files they referred to are then unreferenced and the next
//! start-up sweep removes them. So the export is a folder holding the files themselves, not only their
//! metadata: `pending.json` (every undelivered outbox entry, and per photo its files with their SHA-256)
//! and, per pending photo, `<uuid>-original.jpg` and, once processed, `<uuid>-rendition.jpg`. Everything
//! is fsynced before the export is reported written, and it lives beside the database, outside the photo
//! store: no sweep ever touches it; it stays until the user deletes it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Store, integrations};
use crate::model::{InvalidInput, format_timestamp, now};
use crate::outbox::OutboxSummary;
use crate::photo::PhotoState;
use crate::photo::files::{Kind, PhotoFiles};
use crate::{Error, Result};

/// The file of the export folder that describes its content.
pub const EXPORT_MANIFEST: &str = "pending.json";

/// One exported photo file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedFile {
    /// Its name in the export folder.
    pub file: String,
    /// SHA-256 of its bytes (hex), checked while copying.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A pending photo in the export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedPhoto {
    /// The photo as the host saw it.
    #[serde(flatten)]
    pub photo: super::Photo,
    /// The camera's original.
    pub original: ExportedFile,
    /// The rendition that would have been uploaded, once processed.
    pub rendition: Option<ExportedFile>,
}

/// What a forced delete saved, in [`EXPORT_MANIFEST`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingExport {
    /// The integration deleted.
    pub integration: String,
    /// When (RFC 3339).
    pub exported_at: String,
    /// The export folder.
    pub folder: PathBuf,
    /// Every undelivered outbox entry.
    pub entries: Vec<OutboxSummary>,
    /// Every pending photo (not relayed, not rejected), with its files.
    pub photos: Vec<ExportedPhoto>,
}

impl PendingExport {
    /// The manifest as JSON text (what [`EXPORT_MANIFEST`] holds).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Where [`Store::export_pending_work`] writes for `database` and `code` at `timestamp`:
/// `<database>.CODE-pending-<timestamp>`.
pub fn export_folder(database: &Path, code: &str, timestamp: i64) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(format!(".{code}-pending-{timestamp}"));
    PathBuf::from(name)
}

impl Store {
    /// Writes every undelivered item of `code` to a new owner-only folder beside the database, with the
    /// pending photos' original and rendition files, and fsyncs it all. Call it before the rows go.
    pub fn export_pending_work(&self, files: &PhotoFiles, code: &str) -> Result<PendingExport> {
        self.export_work(files, code, None)
    }

    /// Like [`Store::export_pending_work`], for one project of the integration `code` (by row id), into a
    /// folder named after the integration too.
    pub(crate) fn export_work(
        &self,
        files: &PhotoFiles,
        code: &str,
        project: Option<(i64, &str)>,
    ) -> Result<PendingExport> {
        let mut entries = self.pending_outbox_entries(code)?;
        if let Some((_, project_id)) = project {
            entries.retain(|entry| entry.project.as_deref() == Some(project_id));
        }
        let project_row = project.map(|(row, _)| row);
        let pending: Vec<(super::Photo, Option<String>)> = self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            // Every photo that has not reached the provider and may still: not relayed, not rejected.
            let mut statement = connection.prepare(&format!(
                "SELECT id, rendition_sha256 FROM photos
                 WHERE integration_id = ?1 AND (?2 IS NULL OR project_id = ?2) AND state NOT IN ('{}', '{}')
                 ORDER BY created_at, rowid",
                PhotoState::Relayed.as_str(),
                PhotoState::Rejected.as_str(),
            ))?;
            let rows = statement.query_map(rusqlite::params![integration_id, project_row], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
            })?;
            let ids: Vec<(String, Option<String>)> = rows.collect::<rusqlite::Result<_>>()?;
            ids.into_iter()
                .map(|(uuid, rendition)| Ok((super::photos::find(connection, &uuid)?, rendition)))
                .collect()
        })?;
        let exported_at = now();
        let folder = create_new_folder(&export_folder(&self.path, code, exported_at))?;
        let mut photos = Vec::with_capacity(pending.len());
        for (photo, rendition) in pending {
            let original = copy_checked(
                &files.path(Kind::Original, &photo.sha256),
                &folder,
                &format!("{}-original.jpg", photo.uuid),
                &photo.sha256,
            )?;
            let rendition = rendition
                .map(|sha256| {
                    copy_checked(
                        &files.path(Kind::Rendition, &sha256),
                        &folder,
                        &format!("{}-rendition.jpg", photo.uuid),
                        &sha256,
                    )
                })
                .transpose()?;
            photos.push(ExportedPhoto {
                photo,
                original,
                rendition,
            });
        }
        let export = PendingExport {
            integration: code.to_owned(),
            exported_at: format_timestamp(exported_at),
            folder: folder.clone(),
            entries,
            photos,
        };
        write_synced(&folder.join(EXPORT_MANIFEST), export.to_json().as_bytes())?;
        sync_folder(&folder)?;
        if let Some(parent) = folder.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            sync_folder(parent)?;
        }
        Ok(export)
    }
}

/// Creates `wanted`, or `wanted-2`, `wanted-3`… when an export of the same second exists: an export is
/// never overwritten.
fn create_new_folder(wanted: &Path) -> Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, crate::files::PRIVATE_DIR_MODE);
    for attempt in 1..=100 {
        let mut candidate = wanted.as_os_str().to_owned();
        if attempt > 1 {
            candidate.push(format!("-{attempt}"));
        }
        let candidate = PathBuf::from(candidate);
        match builder.create(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(Error::io(&candidate, err)),
        }
    }
    Err(InvalidInput::new(
        "export",
        format!("{} and 99 more exist already", wanted.display()),
    )
    .into())
}

/// Copies a photo file into the export, hashing it on the way: a file whose bytes no longer match its
/// name is reported, never exported as if it were the photo.
fn copy_checked(source: &Path, folder: &Path, name: &str, sha256: &str) -> Result<ExportedFile> {
    let mut input = std::fs::File::open(source).map_err(|err| Error::io(source, err))?;
    let target = folder.join(name);
    let mut output = crate::files::private_file_options()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(|err| Error::io(&target, err))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut size = 0u64;
    loop {
        let count = input.read(&mut buffer).map_err(|err| Error::io(source, err))?;
        if count == 0 {
            break;
        }
        hasher.update(&buffer[..count]);
        output
            .write_all(&buffer[..count])
            .map_err(|err| Error::io(&target, err))?;
        size += count as u64;
    }
    output.sync_all().map_err(|err| Error::io(&target, err))?;
    let found = hex::encode(hasher.finalize());
    if found != sha256 {
        return Err(Error::io(
            source,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the photo file's SHA-256 is {found}, not {sha256}"),
            ),
        ));
    }
    Ok(ExportedFile {
        file: name.to_owned(),
        sha256: found,
        size,
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = crate::files::private_file_options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|err| Error::io(path, err))?;
    file.write_all(bytes).map_err(|err| Error::io(path, err))?;
    file.sync_all().map_err(|err| Error::io(path, err))
}

#[cfg(unix)]
fn sync_folder(folder: &Path) -> Result<()> {
    std::fs::File::open(folder)
        .and_then(|handle| handle.sync_all())
        .map_err(|err| Error::io(folder, err))
}

#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> Result<()> {
    Ok(())
}
