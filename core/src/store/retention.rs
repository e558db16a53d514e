//! Storage that cleans itself: the photo retention policy applied to the photo store, the storage report,
//! and SQLite upkeep (`PRAGMA optimize`, a bounded incremental vacuum).
//!
//! What may go is decided by the pure planner `crate::photo::retention::plan`; this module reads its input
//! from the `photos` rows, records every eviction in the rows (`original_evicted_at`,
//! `rendition_evicted_at`) in a durable transaction, and deletes the files only after that commit. A crash
//! in between leaves files no row refers to any more; the start-up sweep (`Store::sweep_photo_files`)
//! removes them. A row never points to a missing file it still needs.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior, params};
use serde::Serialize;

use super::Store;
use crate::model::{Timestamp, now};
use crate::photo::PhotoState;
use crate::photo::files::{Kind, PhotoFiles};
use crate::photo::retention::{self, Eviction, PhotoRecord, RetentionPolicy, StoredFile};
use crate::{Error, Result};

/// Pages one upkeep call returns to the file system at most (`PRAGMA incremental_vacuum(N)`): 1024 pages
/// of 4 KiB, a few milliseconds of writing, so that field work never waits long for the writer.
pub const VACUUM_PAGES_PER_CALL: u32 = 1024;
/// A database without incremental auto-vacuum (created before this version) is converted by one full
/// `VACUUM` only while it is at most this big (it holds the writer for the whole rewrite).
pub const CONVERT_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// How long upkeep waits for another process's write lock before giving up for this time.
const UPKEEP_BUSY_MS: u64 = 200;

/// What [`Store::apply_retention`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Renditions deleted.
    pub renditions_deleted: u64,
    /// Originals deleted.
    pub originals_deleted: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Photo bytes left (originals, renditions and thumbnails, each file once).
    pub photo_bytes: u64,
    /// The byte cap is met (false only when undecided photos alone weigh more).
    pub cap_met: bool,
    /// Every file deleted, with why and for which photos.
    pub evictions: Vec<Eviction>,
}

/// Bytes on disk of one kind of photo file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileUsage {
    /// Files.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The photos of one state and what their files weigh (a file shared by two photos of the state counts
/// once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateUsage {
    /// The state.
    pub state: PhotoState,
    /// Photos in it.
    pub photos: u64,
    /// Their originals still on disk.
    pub originals: FileUsage,
    /// Their renditions still on disk.
    pub renditions: FileUsage,
    /// Their thumbnails.
    pub thumbnails: FileUsage,
}

/// Where the device's storage goes: the cache's files and the photo store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageReport {
    /// The SQLite file.
    pub database_bytes: u64,
    /// Its write-ahead log (`-wal`).
    pub wal_bytes: u64,
    /// Its shared-memory index (`-shm`).
    pub shm_bytes: u64,
    /// Bytes inside the database that a vacuum would give back (free pages).
    pub free_bytes: u64,
    /// `none`, `full` or `incremental`.
    pub auto_vacuum: String,
    /// Originals in the photo store (every file in the folder).
    pub originals: FileUsage,
    /// Renditions in the photo store.
    pub renditions: FileUsage,
    /// Thumbnails in the photo store.
    pub thumbnails: FileUsage,
    /// All photo files.
    pub photo_bytes: u64,
    /// Per photo state (only states with photos), in lifecycle order.
    pub by_state: Vec<StateUsage>,
    /// Photos whose original the retention policy deleted.
    pub originals_evicted: u64,
    /// Photos whose rendition the retention policy deleted.
    pub renditions_evicted: u64,
}

/// What [`Store::maintain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Maintenance {
    /// `PRAGMA optimize` ran.
    pub optimized: bool,
    /// The database was switched to incremental auto-vacuum by a full `VACUUM` now.
    pub converted: bool,
    /// Free pages given back to the file system.
    pub pages_freed: u64,
    /// `none`, `full` or `incremental`, after.
    pub auto_vacuum: String,
    /// Why nothing was done (the writer was busy: an import, field work).
    pub skipped: Option<String>,
}

/// One row as the planner sees it, plus the column facts the report needs.
struct Row {
    record: PhotoRecord,
}

const STATES: [PhotoState; 7] = [
    PhotoState::Processing,
    PhotoState::PendingQa,
    PhotoState::Queued,
    PhotoState::Uploading,
    PhotoState::Relayed,
    PhotoState::Failed,
    PhotoState::Rejected,
];

/// Every photo row with the files it still has (thumbnail sizes read from disk: the row does not keep
/// them).
fn load(connection: &Connection, files: &PhotoFiles) -> Result<Vec<Row>> {
    let mut statement = connection.prepare(
        "SELECT id, state, relayed_at, created_at, original_sha256, original_size,
                original_evicted_at IS NOT NULL, rendition_sha256, rendition_size,
                rendition_evicted_at IS NOT NULL, thumbnail_sha256
         FROM photos ORDER BY rowid",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<i64>>(2)?,
            row.get::<_, i64>(3)?,
            (
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, bool>(6)?,
            ),
            (
                row.get::<_, Option<String>>(7)?,
                row.get::<_, Option<i64>>(8)?,
                row.get::<_, bool>(9)?,
            ),
            row.get::<_, Option<String>>(10)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (uuid, state, relayed_at, created_at, original, rendition, thumbnail) = row?;
        let state = PhotoState::parse(&state)?;
        let size = |value: i64| u64::try_from(value).unwrap_or(0);
        let decided_at: Timestamp = match state {
            PhotoState::Relayed => relayed_at.unwrap_or(created_at),
            _ => created_at,
        };
        out.push(Row {
            record: PhotoRecord {
                uuid,
                state,
                decided_at,
                original: (!original.2).then(|| StoredFile {
                    sha256: original.0,
                    size: size(original.1),
                }),
                rendition: match rendition {
                    (Some(sha256), Some(bytes), false) => Some(StoredFile {
                        sha256,
                        size: size(bytes),
                    }),
                    _ => None,
                },
                thumbnail: thumbnail.and_then(|sha256| {
                    files
                        .size(Kind::Thumbnail, &sha256)
                        .map(|size| StoredFile { sha256, size })
                }),
            },
        });
    }
    Ok(out)
}

fn file_size(path: &Path, suffix: &str) -> u64 {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::fs::metadata(Path::new(&name)).map_or(0, |meta| meta.len())
}

fn auto_vacuum_name(value: i64) -> String {
    match value {
        1 => "full",
        2 => "incremental",
        _ => "none",
    }
    .to_owned()
}

impl Store {
    /// Applies the photo retention policy now (see [`Store::apply_retention_at`]).
    pub fn apply_retention(&self, files: &PhotoFiles, policy: &RetentionPolicy) -> Result<RetentionReport> {
        self.apply_retention_at(files, policy, now())
    }

    /// Applies the photo retention policy as of `now`: plans from the rows
    /// ([`crate::photo::retention::plan`]), records the evictions in the rows in one durable transaction,
    /// then deletes the files. Only relayed and rejected photos lose files; a file shared with any other
    /// photo stays.
    pub fn apply_retention_at(
        &self,
        files: &PhotoFiles,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> Result<RetentionReport> {
        let mut writer = self.writer()?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        let planned = (|| {
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let records: Vec<PhotoRecord> = load(&tx, files)?.into_iter().map(|row| row.record).collect();
            let plan = retention::plan(&records, policy, now);
            for eviction in &plan.evictions {
                let column = match eviction.kind {
                    Kind::Original => "original_evicted_at",
                    Kind::Rendition => "rendition_evicted_at",
                    Kind::Thumbnail => continue,
                };
                let mut statement = tx.prepare_cached(&format!(
                    "UPDATE photos SET {column} = ?2 WHERE id = ?1 AND {column} IS NULL"
                ))?;
                for uuid in &eviction.photos {
                    statement.execute(params![uuid, now])?;
                }
            }
            tx.commit()?;
            Ok::<_, Error>(plan)
        })();
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        let plan = planned?;
        // The rows say the files are gone; now they go. The writer is still held: no write of this process
        // (an approval that makes a rendition again) comes between the commit and the deletions.
        let mut report = RetentionReport {
            photo_bytes: plan.bytes_after,
            cap_met: plan.cap_met,
            ..RetentionReport::default()
        };
        for eviction in &plan.evictions {
            match files.remove(eviction.kind, &eviction.sha256) {
                Ok(_) => {}
                // The row no longer refers to it: the next start-up sweep removes it.
                Err(err) => tracing::warn!(%err, "a photo file could not be deleted"),
            }
            match eviction.kind {
                Kind::Original => report.originals_deleted += 1,
                _ => report.renditions_deleted += 1,
            }
            report.bytes_freed += eviction.size;
        }
        for kind in [Kind::Original, Kind::Rendition] {
            if plan.evictions.iter().any(|eviction| eviction.kind == kind) {
                files.sync(kind)?;
            }
        }
        drop(writer);
        report.evictions = plan.evictions;
        if report.bytes_freed > 0 {
            tracing::info!(
                originals = report.originals_deleted,
                renditions = report.renditions_deleted,
                bytes = report.bytes_freed,
                "photo retention freed space"
            );
        }
        Ok(report)
    }

    /// Where the storage goes: the database, its WAL and shared-memory files, and the photo files by kind
    /// and by photo state.
    pub fn storage_report(&self, files: &PhotoFiles) -> Result<StorageReport> {
        let (rows, evicted, free_bytes, auto_vacuum) = self.read(|connection| {
            let rows = load(connection, files)?;
            let evicted: (u64, u64) = connection.query_row(
                "SELECT count(original_evicted_at), count(rendition_evicted_at) FROM photos",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let page_size: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
            let free_pages: i64 = connection.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
            let auto_vacuum: i64 = connection.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
            let free = u64::try_from(page_size.saturating_mul(free_pages)).unwrap_or(0);
            Ok((rows, evicted, free, auto_vacuum))
        })?;
        let mut by_state = Vec::new();
        for state in STATES {
            let mut usage = StateUsage {
                state,
                photos: 0,
                originals: FileUsage::default(),
                renditions: FileUsage::default(),
                thumbnails: FileUsage::default(),
            };
            let mut seen: HashSet<(u8, &str)> = HashSet::new();
            for row in rows.iter().filter(|row| row.record.state == state) {
                usage.photos += 1;
                let record = &row.record;
                for (rank, kind, file) in [
                    (0, Kind::Original, &record.original),
                    (1, Kind::Rendition, &record.rendition),
                    (2, Kind::Thumbnail, &record.thumbnail),
                ] {
                    let Some(file) = file else { continue };
                    if !seen.insert((rank, file.sha256.as_str())) {
                        continue;
                    }
                    // What is on disk, not what the row says.
                    let Some(bytes) = files.size(kind, &file.sha256) else {
                        continue;
                    };
                    let slot = match kind {
                        Kind::Original => &mut usage.originals,
                        Kind::Rendition => &mut usage.renditions,
                        Kind::Thumbnail => &mut usage.thumbnails,
                    };
                    slot.files += 1;
                    slot.bytes += bytes;
                }
            }
            if usage.photos > 0 {
                by_state.push(usage);
            }
        }
        let usage = |kind| files.usage(kind).map(|(files, bytes)| FileUsage { files, bytes });
        let (originals, renditions, thumbnails) = (
            usage(Kind::Original)?,
            usage(Kind::Rendition)?,
            usage(Kind::Thumbnail)?,
        );
        Ok(StorageReport {
            database_bytes: file_size(&self.path, ""),
            wal_bytes: file_size(&self.path, "-wal"),
            shm_bytes: file_size(&self.path, "-shm"),
            free_bytes,
            auto_vacuum: auto_vacuum_name(auto_vacuum),
            originals,
            renditions,
            thumbnails,
            photo_bytes: originals.bytes + renditions.bytes + thumbnails.bytes,
            by_state,
            originals_evicted: evicted.0,
            renditions_evicted: evicted.1,
        })
    }

    /// SQLite upkeep at a safe moment: `PRAGMA optimize`, then at most `max_pages` free pages given back
    /// (`PRAGMA incremental_vacuum`). A database created before incremental auto-vacuum existed here is
    /// switched over by one full `VACUUM` when `convert` is set and it is at most [`CONVERT_MAX_BYTES`].
    ///
    /// Never waits: when this process's writer is in use (an import, field work being saved) or another
    /// process holds the write lock for more than a moment, it does nothing and says so in `skipped`.
    pub fn maintain(&self, max_pages: u32, convert: bool) -> Result<Maintenance> {
        let Some(writer) = self.try_writer()? else {
            return Ok(Maintenance {
                skipped: Some("the database is busy".into()),
                ..Maintenance::default()
            });
        };
        writer.busy_timeout(std::time::Duration::from_millis(UPKEEP_BUSY_MS))?;
        let result = upkeep(&writer, &self.path, max_pages, convert);
        writer.busy_timeout(std::time::Duration::from_millis(super::BUSY_TIMEOUT_MS))?;
        match result {
            Ok(done) => Ok(done),
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Ok(Maintenance {
                    skipped: Some("another process is writing".into()),
                    ..Maintenance::default()
                })
            }
            Err(err) => Err(err.into()),
        }
    }
}

fn upkeep(writer: &Connection, path: &Path, max_pages: u32, convert: bool) -> rusqlite::Result<Maintenance> {
    let mut done = Maintenance::default();
    writer.execute_batch("PRAGMA optimize")?;
    done.optimized = true;
    let mut mode: i64 = writer.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
    if mode == 0 && convert && file_size(path, "") <= CONVERT_MAX_BYTES {
        writer.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM")?;
        mode = writer.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
        done.converted = mode == 2;
        if done.converted {
            tracing::info!("the cache now gives free pages back incrementally");
        }
    }
    if mode == 2 && max_pages > 0 {
        let free = |writer: &Connection| -> rusqlite::Result<i64> {
            writer.query_row("PRAGMA freelist_count", [], |row| row.get(0))
        };
        let before = free(writer)?;
        if before > 0 {
            // Each step frees one page: step the statement to its end.
            let mut statement = writer.prepare(&format!("PRAGMA incremental_vacuum({max_pages})"))?;
            let mut rows = statement.query([])?;
            while rows.next()?.is_some() {}
            drop(rows);
            done.pages_freed = u64::try_from(before - free(writer)?).unwrap_or(0);
        }
    }
    done.auto_vacuum = auto_vacuum_name(mode);
    Ok(done)
}
