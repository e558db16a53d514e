//! Numbered schema migrations, applied in one `BEGIN IMMEDIATE` transaction.
//!
//! Opening a database that is already at [`LATEST_VERSION`] takes no write lock at all: a long import in
//! another process holds the writer, and the app must still open the cache to read it and to queue field
//! work (which then waits for the writer, see `Store::write_durable`).
//!
//! `PRAGMA user_version` holds the schema version. Migration N (1-based) turns version N-1 into N. A new
//! migration is a new file in `core/migrations/` appended here; existing files never change, and the
//! upgrade test in `tests/tests/migrations.rs` checks every older version (with rows) against a fresh database.

use rusqlite::{Connection, TransactionBehavior};

use crate::Result;

/// The migrations, in order: `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_outbox.sql"),
    include_str!("../../migrations/0003_effective_due_date.sql"),
    include_str!("../../migrations/0004_list_indexes.sql"),
    include_str!("../../migrations/0005_checkins.sql"),
    include_str!("../../migrations/0006_photos.sql"),
    include_str!("../../migrations/0007_outbox_leases.sql"),
    include_str!("../../migrations/0008_photo_processing_owner.sql"),
    include_str!("../../migrations/0009_field_work.sql"),
    include_str!("../../migrations/0010_photo_retention.sql"),
    include_str!("../../migrations/0011_photo_evidence.sql"),
    include_str!("../../migrations/0012_project_search.sql"),
    include_str!("../../migrations/0013_durable_write_pages.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`LATEST_VERSION`]; all steps commit together or not at all.
pub(crate) fn migrate(connection: &mut Connection) -> Result<()> {
    // Read first without a lock: the usual case (already current) needs no write transaction.
    let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found >= LATEST_VERSION {
        return Ok(());
    }
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let current: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let pending = usize::try_from(current).unwrap_or(usize::MAX);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(pending) {
        tx.execute_batch(sql)?;
        tracing::info!(version = index + 1, "applied schema migration");
    }
    if current < LATEST_VERSION {
        tx.pragma_update(None, "user_version", LATEST_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

/// Applies the first `version` migrations to an empty database (for upgrade tests and fixtures).
#[doc(hidden)]
pub fn create_at_version(connection: &mut Connection, version: i64) -> Result<()> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for sql in MIGRATIONS.iter().take(usize::try_from(version).unwrap_or(0)) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()?;
    Ok(())
}
