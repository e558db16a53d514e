//! The emulator's SQLite store: one writer connection, a small pool of reader connections, WAL.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction under the writer lock and takes its timestamp
//! from the provider clock inside that lock, so timestamps are ordered like commits. A `getWorkOrders`
//! feed takes its `serverTime` and starts its read snapshot under the same lock (see [`Store::snapshot`]):
//! any change committed after the snapshot has `updated_at >= serverTime`, so a client that asks again
//! from `serverTime` never misses a change (it may see one twice, which is harmless).

mod feed;
mod files;
pub(crate) mod items;
pub(crate) mod orders;
mod schema;
pub(crate) mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::clock::Clock;
use crate::error::ProviderError;

pub(crate) use feed::write_feed;
pub(crate) use files::FileStore;

/// A SQLite count or size (never negative) as `u64`.
pub(crate) fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// How many idle reader connections are kept.
const READER_POOL: usize = 4;

/// The SQLite store.
pub(crate) struct Store {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
    clock: Arc<Clock>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn configure(conn: &Connection) -> Result<(), ProviderError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub(crate) fn open(path: &Path, clock: Arc<Clock>) -> Result<Self, ProviderError> {
        let mut writer = Connection::open(path)?;
        let mode: String = writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite did not switch to WAL mode");
        }
        configure(&writer)?;
        schema::migrate(&mut writer)?;
        Ok(Self {
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            path: path.to_owned(),
            clock,
        })
    }

    /// The provider clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Runs `f` in one immediate write transaction with the provider time of the write.
    /// An error makes the transaction roll back.
    pub(crate) fn write<T, E: From<ProviderError>>(
        &self,
        f: impl FnOnce(&Transaction<'_>, i64) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ProviderError::from)?;
        let now = self.clock.now();
        let out = f(&tx, now)?;
        tx.commit().map_err(ProviderError::from)?;
        Ok(out)
    }

    /// Runs `f` on a pooled reader connection.
    pub(crate) fn read<T, E: From<ProviderError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let reader = self.reader()?;
        f(&reader)
    }

    /// A reader connection inside an open read transaction, and the provider time at which its
    /// snapshot was taken. Holding the writer lock while both happen orders the snapshot against
    /// writes (see the module docs).
    pub(crate) fn snapshot(&self) -> Result<(Reader<'_>, i64), ProviderError> {
        let reader = self.reader()?;
        let writer = lock(&self.writer);
        let now = self.clock.now();
        reader.execute_batch("BEGIN DEFERRED")?;
        // A deferred transaction takes its snapshot at the first read.
        let started: Result<i64, _> = reader.query_row("SELECT count(*) FROM meta", [], |row| row.get(0));
        drop(writer);
        if let Err(err) = started {
            let _ = reader.execute_batch("ROLLBACK");
            return Err(err.into());
        }
        Ok((reader, now))
    }

    fn reader(&self) -> Result<Reader<'_>, ProviderError> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )?;
                configure(&conn)?;
                conn
            }
        };
        Ok(Reader {
            conn: Some(conn),
            store: self,
        })
    }
}

/// A pooled reader connection, returned to the pool on drop (after ending any open transaction).
pub(crate) struct Reader<'a> {
    conn: Option<Connection>,
    store: &'a Store,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Invariant: `conn` is only taken in `drop`.
        match &self.conn {
            Some(conn) => conn,
            None => unreachable!("reader used after drop"),
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
                return;
            }
            let mut pool = lock(&self.store.readers);
            if pool.len() < READER_POOL {
                pool.push(conn);
            }
        }
    }
}
