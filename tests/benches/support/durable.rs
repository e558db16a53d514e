//! The floor of every durable write the benches time: one `synchronous=FULL` commit of one small row, in
//! WAL mode, on a raw connection. What a user who writes field work by hand, and must not lose it, pays.

/// A raw connection whose every commit is fsync'd, with one table `t (id, payload)` to commit rows to.
pub fn fsync_floor(path: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.execute_batch("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, payload TEXT NOT NULL)")?;
    Ok(connection)
}
