//! The SQLite cache: one file, one writer connection, reader connections, numbered migrations.
//!
//! Every write goes through the writer in a `BEGIN IMMEDIATE` transaction; reads use their own connections
//! so that a long import never blocks the app's lists (WAL). Cache data (projects re-downloadable from the
//! provider) commits with `synchronous=NORMAL`; field work commits with `synchronous=FULL` (see
//! [`Store::write_durable`]).

mod changes;
mod checkins;
mod cursor;
mod evidence;
mod export;
mod field;
mod fingerprint;
mod import;
mod integrations;
mod migrations;
mod options;
mod outbox;
mod photos;
mod projects;
mod retention;
mod search;
mod surveys;
mod work_types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::{Error, Result};

pub use crate::outbox::OutboxSummary;
pub use changes::{ChangeHub, ChangeSubscription, Changes};
pub use checkins::{BADGE_DEFAULT, CheckIn, CheckInRequest};
pub use evidence::PhotoFlags;
pub use export::{EXPORT_MANIFEST, ExportedFile, ExportedPhoto, PendingExport, export_folder};
pub use field::{COMPLETE_STATUS, Completion, DEVICE_OPTIONS, NewLocalProject};
pub use import::{ImportOptions, MAX_RESPONSE_BYTES};
pub use migrations::{LATEST_VERSION, MIGRATIONS, create_at_version};
pub use outbox::{IntegrationQueue, UploadTotals};
pub use photos::{AddPhoto, Photo, PhotoUpload};
pub use projects::ProjectSummary;
pub use retention::{
    CONVERT_MAX_BYTES, FileUsage, Maintenance, RetentionReport, StateUsage, StorageReport,
    VACUUM_PAGES_PER_CALL,
};
#[doc(hidden)]
pub use surveys::{SurveySubmission, SurveyTemplateInfo, TaskSurvey, TemplateSource};

/// Page cache per connection, in KiB: large enough that a filtered first page stays in memory.
const CACHE_KIB: i64 = 32 * 1024;
/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// WAL frames after which a commit runs SQLite's checkpoint (`PRAGMA wal_autocheckpoint`, SQLite's default
/// 1,000). The commit that crosses the mark pays for the checkpoint (two more fsyncs), so the mark decides
/// how many durable writes are slow: a check-in appends about 8 frames, so this is one check-in in 250
/// rather than one in 125, which was inside the slowest 1 % (docs/BENCHMARKS.md). An import also checkpoints
/// after its commit, and `pause()` (closing the last connection) lets SQLite checkpoint, when no user waits.
const AUTOCHECKPOINT_FRAMES: i64 = 2_000;
/// Bytes the WAL file may keep after a checkpoint (`PRAGMA journal_size_limit`): room for
/// [`AUTOCHECKPOINT_FRAMES`] frames of 4 KiB pages (8.2 MB). A smaller limit cuts the file at every
/// checkpoint, and then every commit that grows it again also has its fsync write the file's new size:
/// measured +50 % on the median durable commit.
const WAL_SIZE_LIMIT: i64 = 9 * 1024 * 1024;
/// How long the post-import checkpoint waits for readers to move to the new snapshot.
const CHECKPOINT_WAIT_MS: u64 = 200;
/// Reader connections kept open for reuse.
const MAX_IDLE_READERS: usize = 4;

/// The project cache on disk.
///
/// **Closing and reopening** ([`Store::close`], [`Store::reopen`]): an app suspended by iOS while it holds
/// a lock on a file is killed (`0xdead10cc`), so the app's `pause()` closes every connection. While closed,
/// every call fails at once with [`Error::Paused`] (it never waits for a resume that may not come before
/// the system kills the process); calls under way when it closes finish first.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    readers: Mutex<ReaderPool>,
    /// Signalled when a reader connection is given back (close waits for all of them).
    reader_returned: Condvar,
    /// Who hears about committed changes ([`changes`]).
    changes: Arc<ChangeHub>,
    /// What the writer's hooks have marked.
    hooks: Arc<changes::HookState>,
    /// The host's device signer (content credentials on renditions), if set.
    signer: evidence::SignerSlot,
    /// The perceptual hashes of the cache, loaded incrementally (`store/evidence.rs`).
    reuse: Mutex<crate::evidence::phash::ReuseIndex>,
}

/// Idle reader connections, and how many are in use.
#[derive(Debug, Default)]
struct ReaderPool {
    idle: Vec<Connection>,
    in_use: usize,
    closed: bool,
}

/// The writer connection, held for one transaction. Given back, it publishes what was committed.
pub(crate) struct Writer<'s> {
    guard: Option<MutexGuard<'s, Option<Connection>>>,
    store: &'s Store,
}

impl std::ops::Deref for Writer<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.guard
            .as_ref()
            .and_then(|guard| guard.as_ref())
            .expect("a Writer exists only while the store is open")
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.guard
            .as_mut()
            .and_then(|guard| guard.as_mut())
            .expect("a Writer exists only while the store is open")
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // The writer is free before anyone hears: a subscriber may write in turn.
        drop(self.guard.take());
        self.store.changes.publish(self.store.hooks.take_committed());
    }
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
        let mut writer = open_writer(&path)?;
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
        configure_writer(&writer)?;
        migrations::migrate(&mut writer)?;
        let hooks = Arc::new(changes::HookState::default());
        hooks.install(&mut writer)?;
        Ok(Self {
            path,
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(ReaderPool::default()),
            reader_returned: Condvar::new(),
            changes: Arc::new(ChangeHub::default()),
            hooks,
            signer: evidence::SignerSlot::default(),
            reuse: Mutex::new(crate::evidence::phash::ReuseIndex::default()),
        })
    }

    /// Who hears about committed changes: subscribe with [`ChangeHub::subscribe`].
    pub fn changes(&self) -> &Arc<ChangeHub> {
        &self.changes
    }

    /// Closes every connection, so that this process holds no descriptor of the database, its WAL or its
    /// shared-memory file, and no lock on them. A transaction under way finishes first; a read under way
    /// finishes within `wait` (returns whether every reader was given back; one still out is closed when
    /// it is). Later calls fail with [`Error::Paused`] until [`Self::reopen`].
    pub fn close(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut pool = self.pool();
        pool.closed = true;
        pool.idle.clear();
        drop(pool);
        // Closing the last connection checkpoints the WAL and deletes the WAL and SHM files.
        drop(self.lock_writer().take());
        let mut pool = self.pool();
        while pool.in_use > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            pool = self
                .reader_returned
                .wait_timeout(pool, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }

    /// Opens the connections again after [`Self::close`] (the schema is already current). A store that
    /// is open is left as it is.
    pub fn reopen(&self) -> Result<()> {
        let mut writer = self.lock_writer();
        if writer.is_none() {
            let mut connection = open_writer(&self.path)?;
            configure(&connection)?;
            configure_writer(&connection)?;
            self.hooks.install(&mut connection)?;
            *writer = Some(connection);
        }
        self.pool().closed = false;
        Ok(())
    }

    /// Whether [`Self::close`] was called without a [`Self::reopen`] since.
    pub fn is_closed(&self) -> bool {
        self.pool().closed
    }

    fn pool(&self) -> MutexGuard<'_, ReaderPool> {
        self.readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_writer(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the writer leaves SQLite consistent (the transaction rolls back on drop).
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        // Given back however `work` ends (a panic included), so that `close` never waits for it in vain.
        let reader = Reader {
            store: self,
            connection: Some(connection),
        };
        work(reader.connection.as_ref().expect("set above"))
    }

    fn writer(&self) -> Result<Writer<'_>> {
        let writer = self.lock_writer();
        if writer.is_none() {
            return Err(Error::Paused);
        }
        Ok(Writer {
            guard: Some(writer),
            store: self,
        })
    }

    /// The writer if nobody holds it now (upkeep that must never wait); `Ok(None)` when busy.
    pub(crate) fn try_writer(&self) -> Result<Option<Writer<'_>>> {
        let writer = match self.writer.try_lock() {
            Ok(writer) => writer,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        };
        if writer.is_none() {
            return Err(Error::Paused);
        }
        Ok(Some(Writer {
            guard: Some(writer),
            store: self,
        }))
    }

    fn take_reader(&self) -> Result<Connection> {
        let mut pool = self.pool();
        if pool.closed {
            return Err(Error::Paused);
        }
        pool.in_use += 1;
        if let Some(connection) = pool.idle.pop() {
            return Ok(connection);
        }
        drop(pool);
        let opened = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(Error::from)
        .and_then(|connection| configure(&connection).map(|()| connection));
        if opened.is_err() {
            self.give_back(None);
        }
        opened
    }

    /// A reader connection is done: kept for reuse unless the store closed meanwhile.
    fn give_back(&self, connection: Option<Connection>) {
        let mut pool = self.pool();
        pool.in_use -= 1;
        if let Some(connection) = connection
            && !pool.closed
            && pool.idle.len() < MAX_IDLE_READERS
        {
            pool.idle.push(connection);
        }
        self.reader_returned.notify_all();
    }
}

/// A reader connection in use.
struct Reader<'s> {
    store: &'s Store,
    connection: Option<Connection>,
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.store.give_back(self.connection.take());
    }
}

/// The writer connection, not yet configured.
fn open_writer(path: &Path) -> Result<Connection> {
    Ok(Connection::open(path)?)
}

/// The writer's WAL settings: when a commit checkpoints, and what the file keeps afterwards (disk
/// hygiene: after a large import the WAL is checkpointed and cut to this size, see [`Store::shrink_wal`]).
fn configure_writer(writer: &Connection) -> Result<()> {
    writer.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_FRAMES)?;
    writer.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    Ok(())
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
    search::register(connection)?;
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
