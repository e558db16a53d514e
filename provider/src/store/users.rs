//! Provider logins.

use rusqlite::{Connection, OptionalExtension, Row, params};
use sha1::{Digest, Sha1};

use crate::error::ProviderError;
use crate::model::UserInfo;

/// Lowercase hex SHA-1 of a password, as the wire carries it (and as the store keeps it).
pub fn password_sha1(password: &str) -> String {
    hex::encode(Sha1::digest(password.as_bytes()))
}

/// A user row, secrets included (never leaves the crate).
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) password_sha1: String,
    pub(crate) token: String,
    pub(crate) push_key: Option<String>,
    pub(crate) created_at: i64,
}

impl UserRow {
    /// The public view, without secrets.
    pub(crate) fn info(&self) -> UserInfo {
        UserInfo {
            username: self.username.clone(),
            push_key: self.push_key.clone(),
            created_at: self.created_at,
        }
    }
}

const COLUMNS: &str = "id, username, password_sha1, token, push_key, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: row.get(0)?,
        username: row.get(1)?,
        password_sha1: row.get(2)?,
        token: row.get(3)?,
        push_key: row.get(4)?,
        created_at: row.get(5)?,
    })
}

/// Inserts a user; a taken username is a conflict.
pub(crate) fn insert(
    conn: &Connection,
    now: i64,
    username: &str,
    password_sha1: &str,
    token: &str,
) -> Result<UserRow, ProviderError> {
    if find(conn, username)?.is_some() {
        return Err(ProviderError::Conflict(format!("user {username} already exists")));
    }
    conn.execute(
        "INSERT INTO users (username, password_sha1, token, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![username, password_sha1, token, now],
    )?;
    Ok(UserRow {
        id: conn.last_insert_rowid(),
        username: username.to_owned(),
        password_sha1: password_sha1.to_owned(),
        token: token.to_owned(),
        push_key: None,
        created_at: now,
    })
}

/// Looks a user up by login name.
pub(crate) fn find(conn: &Connection, username: &str) -> Result<Option<UserRow>, ProviderError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([username], from_row)
        .optional()?)
}

/// Looks a user up by login name; absent is an error.
pub(crate) fn require(conn: &Connection, username: &str) -> Result<UserRow, ProviderError> {
    find(conn, username)?.ok_or_else(|| ProviderError::not_found("user", username))
}

/// Looks a user up by registered push key.
pub(crate) fn find_by_push_key(conn: &Connection, push_key: &str) -> Result<Option<UserRow>, ProviderError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE push_key = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([push_key], from_row)
        .optional()?)
}

/// Registers `push_key` for a user; a key registered by another user moves to this one.
pub(crate) fn set_push_key(conn: &Connection, user_id: i64, push_key: &str) -> Result<(), ProviderError> {
    conn.execute(
        "UPDATE users SET push_key = NULL WHERE push_key = ?1 AND id <> ?2",
        params![push_key, user_id],
    )?;
    conn.execute(
        "UPDATE users SET push_key = ?1 WHERE id = ?2",
        params![push_key, user_id],
    )?;
    Ok(())
}

/// All users, by name.
pub(crate) fn list(conn: &Connection) -> Result<Vec<UserInfo>, ProviderError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?.info());
    }
    Ok(out)
}

/// Counts users.
pub(crate) fn count(conn: &Connection) -> Result<u64, ProviderError> {
    let count: i64 = conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0))?;
    Ok(super::unsigned(count))
}

/// Resets a user's password hash and token.
pub(crate) fn set_credentials(
    conn: &Connection,
    user_id: i64,
    password_sha1: &str,
    token: &str,
) -> Result<(), ProviderError> {
    conn.execute(
        "UPDATE users SET password_sha1 = ?1, token = ?2 WHERE id = ?3",
        params![password_sha1, token, user_id],
    )?;
    Ok(())
}
