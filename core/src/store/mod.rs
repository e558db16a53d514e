//! The SQLite cache: one file, one writer connection, reader connections, numbered migrations.
//!
//! Every write goes through the writer in a `BEGIN IMMEDIATE` transaction; reads use their own connections
//! so that a long import never blocks the app's lists (WAL). Cache data (projects re-downloadable from the
//! provider) commits with `synchronous=NORMAL`; field work commits with `synchronous=FULL` (see
//! [`Store::write_durable`]).

mod checkins;
mod cursor;
mod export;
mod field;
mod fingerprint;
mod import;
mod integrations;
mod migrations;
mod outbox;
mod photos;
mod projects;
mod retention;
mod surveys;
mod work_types;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::{Error, Result};

pub use crate::outbox::OutboxSummary;
pub use checkins::{BADGE_DEFAULT, CheckIn, CheckInRequest};
pub use export::{EXPORT_MANIFEST, ExportedFile, ExportedPhoto, PendingExport, export_folder};
pub use field::{COMPLETE_STATUS, Completion, DEVICE_OPTIONS, NewLocalProject};
pub use import::{ImportOptions, MAX_RESPONSE_BYTES};
pub use migrations::{LATEST_VERSION, MIGRATIONS, create_at_version};
pub use outbox::IntegrationQueue;
pub use photos::{AddPhoto, Photo, PhotoUpload};
pub use projects::ProjectSummary;
pub use retention::{
    CONVERT_MAX_BYTES, FileUsage, Maintenance, RetentionReport, StateUsage, StorageReport,
    VACUUM_PAGES_PER_CALL,
};
pub use surveys::{SurveySubmission, SurveyTemplateInfo, TaskSurvey, TemplateSource};

/// Page cache per connection, in KiB: large enough that a filtered first page stays in memory.
const CACHE_KIB: i64 = 32 * 1024;
/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Bytes the WAL file may keep after a checkpoint (`PRAGMA journal_size_limit`).
const WAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;
/// How long the post-import checkpoint waits for readers to move to the new snapshot.
const CHECKPOINT_WAIT_MS: u64 = 200;
/// Reader connections kept open for reuse.
const MAX_IDLE_READERS: usize = 4;

/// The project cache on disk.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl Store {
    /// Opens the database at `path`, creating it or upgrading its schema as needed.
    ///
    /// A database written by a newer fieldsync is refused with [`Error::SchemaTooNew`] and left
    /// byte-for-byte untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        // Owner-only before SQLite opens it: SQLite creates the `-wal` and `-shm` files with the database
        // file's permissions. Files left wider by an older build are narrowed.
        crate::files::ensure_private_file(&path)?;
        for suffix in ["-wal", "-shm"] {
            let mut sibling = path.as_os_str().to_owned();
            sibling.push(suffix);
            crate::files::restrict(Path::new(&sibling), crate::files::PRIVATE_FILE_MODE)?;
        }
        let mut writer = Connection::open(&path)?;
        // Check the version before anything that could write (WAL mode rewrites the header).
        let found: i64 = writer.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > LATEST_VERSION {
            return Err(Error::SchemaTooNew {
                path,
                found,
                supported: LATEST_VERSION,
            });
        }
        configure(&writer)?;
        // A new database gives its free pages back incrementally (`Store::maintain`); the mode can only be
        // chosen before the first table (an older database is converted by one VACUUM, see `maintain`).
        if found == 0 {
            let tables: i64 = writer.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))?;
            if tables == 0 {
                writer.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
            }
        }
        // Switching to WAL takes a lock; a database already in WAL mode (every one this code created) is
        // left alone, so opening never waits for another process's write transaction.
        let mode: String = writer.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            writer.pragma_update(None, "journal_mode", "WAL")?;
        }
        // After a large import the WAL is checkpointed and truncated to this size (disk hygiene).
        writer.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        migrations::migrate(&mut writer)?;
        Ok(Self {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in a write transaction (cache data: `synchronous=NORMAL`).
    pub(crate) fn write<T>(&self, work: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut writer = self.writer()?;
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `work` in a write transaction that is on disk before this returns (`synchronous=FULL`): field
    /// work must survive a power loss, not only a crash.
    pub(crate) fn write_durable<T>(&self, work: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut writer = self.writer()?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        let result = (|| {
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        result
    }

    /// Copies the WAL into the database and truncates it, so that a large import does not leave tens of
    /// megabytes of WAL on the phone's disk. Best effort: a reader still on an old snapshot makes SQLite
    /// stop early, and `journal_size_limit` trims the file at a later checkpoint instead.
    pub(crate) fn shrink_wal(&self) {
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        let size = std::fs::metadata(&wal).map_or(0, |meta| meta.len());
        if size <= WAL_SIZE_LIMIT as u64 {
            return;
        }
        let Ok(writer) = self.writer() else { return };
        // Wait only briefly for readers: field work queued behind the writer must not wait for this.
        let short = std::time::Duration::from_millis(CHECKPOINT_WAIT_MS);
        let result = writer.busy_timeout(short).and_then(|()| {
            writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
        });
        let _ = writer.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS));
        match result {
            Ok((busy, log, done)) => tracing::debug!(busy, log, done, "checkpointed the WAL"),
            Err(err) => tracing::debug!(%err, "WAL checkpoint skipped"),
        }
    }

    /// Runs `work` on a reader connection.
    pub(crate) fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let connection = self.take_reader()?;
        let result = work(&connection);
        if let Ok(mut idle) = self.readers.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(connection);
        }
        result
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>> {
        // A panic while holding the writer leaves SQLite consistent (the transaction rolls back on drop).
        Ok(self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    fn take_reader(&self) -> Result<Connection> {
        if let Some(connection) = self.readers.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(connection);
        }
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        configure(&connection)?;
        Ok(connection)
    }
}

fn configure(connection: &Connection) -> Result<()> {
    connection.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "cache_size", -CACHE_KIB)?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    // Keep prepared statements' plans: without it SQLite re-prepares some cached statements on every use
    // (measured: the task query of every project an import touches).
    connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Builds an `IN`-free `LIKE` pattern that matches `text` literally anywhere.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests;
