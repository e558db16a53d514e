//! Credentials check: `username`, `password` (hex SHA-1, compared case-insensitively) and `token`.

use rusqlite::Connection;
use serde_json::{Map, Value};

use super::reply::WireError;
use super::request::text;
use crate::store::users::{self, UserRow};

/// Finds the user the payload's credentials name; anything wrong is `Unauthorized` (no detail, so the
/// answer does not tell which part was wrong).
pub(crate) fn authenticate(conn: &Connection, payload: &Map<String, Value>) -> Result<UserRow, WireError> {
    let username = text(payload, "username").ok_or(WireError::Unauthorized)?;
    let password = text(payload, "password").unwrap_or_default();
    let token = text(payload, "token").unwrap_or_default();
    let user = users::find(conn, username.trim())
        .map_err(WireError::Internal)?
        .ok_or(WireError::Unauthorized)?;
    if user.password_sha1.eq_ignore_ascii_case(password.trim()) && user.token == token.trim() {
        Ok(user)
    } else {
        Err(WireError::Unauthorized)
    }
}
