//! Work orders: the stored wire documents and their assignment to logins.
//!
//! The document's `assignedTo` mirrors the assignment: it holds the login the order is assigned to, or is
//! absent when the order is unassigned. Each write bumps `updated_at`. When an order leaves a user's list
//! (reassigned elsewhere, unassigned, deleted) a row in `departures` remembers it, so that an incremental
//! `getWorkOrders` can tell that user `Cancelled` or `Deleted`.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use crate::error::ProviderError;
use crate::model::{WorkOrderFilter, WorkOrderInfo, WorkOrderRecord};
use crate::store::users;

/// What a write does to the order's assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Assignment {
    /// Keep the current assignee (none for a new order).
    Keep,
    /// Assign to this user (id, login).
    To(i64, String),
    /// Leave it unassigned.
    Unassign,
}

/// Reads the assignment asked by an object's `assignedTo` field: absent keeps, `null` or `""`
/// unassigns, a login assigns (an unknown login is an error).
pub(crate) fn assignment_in(
    conn: &Connection,
    object: &Map<String, Value>,
) -> Result<Assignment, ProviderError> {
    match object.get("assignedTo") {
        None => Ok(Assignment::Keep),
        Some(Value::Null) => Ok(Assignment::Unassign),
        Some(Value::String(name)) if name.trim().is_empty() => Ok(Assignment::Unassign),
        Some(Value::String(name)) => {
            let user = users::require(conn, name.trim())?;
            Ok(Assignment::To(user.id, user.username))
        }
        Some(_) => Err(ProviderError::invalid(
            "assignedTo must be a login name, \"\" or null",
        )),
    }
}

/// The string key and the JSON text of a document's `workOrderNumber`.
pub(crate) fn number_of(doc: &Map<String, Value>) -> Result<(String, String), ProviderError> {
    let value = doc
        .get("workOrderNumber")
        .ok_or_else(|| ProviderError::invalid("workOrderNumber is required"))?;
    let key = number_key(value)?;
    Ok((key, serde_json::to_string(value)?))
}

/// The string key of a `workOrderNumber` value (a non-empty string or an integer).
pub(crate) fn number_key(value: &Value) -> Result<String, ProviderError> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        _ => Err(ProviderError::invalid(
            "workOrderNumber must be a non-empty string or an integer",
        )),
    }
}

/// The stored state of one order.
struct Existing {
    number_json: String,
    doc: String,
    assigned_to: Option<i64>,
    assigned_name: Option<String>,
    created_at: i64,
    updated_at: i64,
    deleted_at: Option<i64>,
}

impl Existing {
    fn doc_object(&self) -> Result<Map<String, Value>, ProviderError> {
        match serde_json::from_str(&self.doc)? {
            Value::Object(map) => Ok(map),
            _ => Err(ProviderError::invalid("stored document is not an object")),
        }
    }
}

fn load(conn: &Connection, number: &str) -> Result<Option<Existing>, ProviderError> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.number_json, w.doc, w.assigned_to, u.username, w.created_at, w.updated_at, w.deleted_at
           FROM work_orders w LEFT JOIN users u ON u.id = w.assigned_to
          WHERE w.number = ?1",
    )?;
    let row = stmt
        .query_row([number], |row| {
            Ok(Existing {
                number_json: row.get(0)?,
                doc: row.get(1)?,
                assigned_to: row.get(2)?,
                assigned_name: row.get(3)?,
                created_at: row.get(4)?,
                updated_at: row.get(5)?,
                deleted_at: row.get(6)?,
            })
        })
        .optional()?;
    Ok(row)
}

fn require_live(conn: &Connection, number: &str) -> Result<Existing, ProviderError> {
    let existing = load(conn, number)?.ok_or_else(|| ProviderError::not_found("work order", number))?;
    if existing.deleted_at.is_some() {
        return Err(ProviderError::Conflict(format!(
            "work order {number} is deleted; create it again to bring it back"
        )));
    }
    Ok(existing)
}

fn record_departure(
    conn: &Connection,
    now: i64,
    number: &str,
    user_id: i64,
    kind: &str,
) -> Result<(), ProviderError> {
    conn.prepare_cached("INSERT INTO departures (number, user_id, kind, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![number, user_id, kind, now])?;
    Ok(())
}

/// Writes a document (creating, replacing or re-creating the order) with the given assignment.
fn save(
    conn: &Connection,
    now: i64,
    number: &str,
    number_json: &str,
    mut doc: Map<String, Value>,
    assignment: Assignment,
) -> Result<WorkOrderInfo, ProviderError> {
    let existing = load(conn, number)?;
    let live = existing.as_ref().filter(|e| e.deleted_at.is_none());
    let current = existing
        .as_ref()
        .and_then(|e| e.assigned_to.zip(e.assigned_name.clone()));
    let assignee = match assignment {
        Assignment::Keep => current.clone(),
        Assignment::To(id, name) => Some((id, name)),
        Assignment::Unassign => None,
    };
    if let (Some(_), Some((old_id, _))) = (live, &current)
        && assignee.as_ref().map(|(id, _)| id) != Some(old_id)
    {
        record_departure(conn, now, number, *old_id, "unassigned")?;
    }
    match &assignee {
        Some((_, name)) => doc.insert("assignedTo".to_owned(), Value::String(name.clone())),
        None => doc.remove("assignedTo"),
    };
    let text = serde_json::to_string(&doc)?;
    conn.prepare_cached(
        "INSERT INTO work_orders (number, number_json, doc, assigned_to, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (number) DO UPDATE SET number_json = excluded.number_json, doc = excluded.doc,
             assigned_to = excluded.assigned_to, updated_at = excluded.updated_at, deleted_at = NULL",
    )?
    .execute(params![
        number,
        number_json,
        text,
        assignee.as_ref().map(|(id, _)| *id),
        now
    ])?;
    Ok(WorkOrderInfo {
        work_order_number: number.to_owned(),
        created: live.is_none(),
        assigned_to: assignee.map(|(_, name)| name),
        updated_at: now,
        deleted: false,
    })
}

/// Creates or replaces an order from a wire document. `forced` overrides the document's `assignedTo`
/// (a push assigns to the push key's owner).
pub(crate) fn upsert(
    conn: &Connection,
    now: i64,
    doc: Value,
    forced: Option<Assignment>,
) -> Result<WorkOrderInfo, ProviderError> {
    let Value::Object(doc) = doc else {
        return Err(ProviderError::invalid("a work order must be a JSON object"));
    };
    let (number, number_json) = number_of(&doc)?;
    let assignment = match forced {
        Some(assignment) => assignment,
        None => assignment_in(conn, &doc)?,
    };
    save(conn, now, &number, &number_json, doc, assignment)
}

/// Applies a JSON merge patch (RFC 7386) to an order's document.
pub(crate) fn patch(
    conn: &Connection,
    now: i64,
    number: &str,
    patch: Value,
) -> Result<WorkOrderInfo, ProviderError> {
    let Value::Object(patch) = patch else {
        return Err(ProviderError::invalid("a patch must be a JSON object"));
    };
    if let Some(value) = patch.get("workOrderNumber")
        && number_key(value)? != number
    {
        return Err(ProviderError::invalid("a patch cannot change workOrderNumber"));
    }
    let existing = require_live(conn, number)?;
    let assignment = assignment_in(conn, &patch)?;
    let mut doc = Value::Object(existing.doc_object()?);
    merge_patch(&mut doc, &Value::Object(patch));
    let Value::Object(doc) = doc else {
        return Err(ProviderError::invalid("patched document is not an object"));
    };
    save(conn, now, number, &existing.number_json, doc, assignment)
}

/// Replaces an order's `options` object.
pub(crate) fn set_options(
    conn: &Connection,
    now: i64,
    number: &str,
    options: Value,
) -> Result<WorkOrderInfo, ProviderError> {
    if !options.is_object() {
        return Err(ProviderError::invalid("options must be a JSON object"));
    }
    let existing = require_live(conn, number)?;
    let mut doc = existing.doc_object()?;
    doc.insert("options".to_owned(), options);
    save(conn, now, number, &existing.number_json, doc, Assignment::Keep)
}

/// Changes the fields of one service of an order (the first whose `serviceName` is `service_name`):
/// `change` receives the service object and edits it in place.
pub(crate) fn edit_service(
    conn: &Connection,
    now: i64,
    number: &str,
    service_name: &str,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<(), ProviderError>,
) -> Result<WorkOrderInfo, ProviderError> {
    let existing = require_live(conn, number)?;
    let mut doc = existing.doc_object()?;
    let service = doc
        .get_mut("services")
        .and_then(Value::as_array_mut)
        .and_then(|services| {
            services.iter_mut().find_map(|service| match service {
                Value::Object(object)
                    if object.get("serviceName").and_then(Value::as_str) == Some(service_name) =>
                {
                    Some(object)
                }
                _ => None,
            })
        })
        .ok_or_else(|| ProviderError::not_found("service", format!("{number} / {service_name}")))?;
    change(service)?;
    save(conn, now, number, &existing.number_json, doc, Assignment::Keep)
}

/// Assigns an order to a login (a no-op when it already is).
pub(crate) fn assign(
    conn: &Connection,
    now: i64,
    number: &str,
    username: &str,
) -> Result<WorkOrderInfo, ProviderError> {
    let user = users::require(conn, username)?;
    let existing = require_live(conn, number)?;
    if existing.assigned_to == Some(user.id) {
        return Ok(info_of(number, &existing, false));
    }
    let doc = existing.doc_object()?;
    save(
        conn,
        now,
        number,
        &existing.number_json,
        doc,
        Assignment::To(user.id, user.username),
    )
}

/// Unassigns an order (a no-op when it is not assigned).
pub(crate) fn unassign(conn: &Connection, now: i64, number: &str) -> Result<WorkOrderInfo, ProviderError> {
    let existing = require_live(conn, number)?;
    if existing.assigned_to.is_none() {
        return Ok(info_of(number, &existing, false));
    }
    let doc = existing.doc_object()?;
    save(
        conn,
        now,
        number,
        &existing.number_json,
        doc,
        Assignment::Unassign,
    )
}

/// Deletes an order (kept as a tombstone so its assignee learns `Deleted`); deleting twice is a no-op.
pub(crate) fn delete(conn: &Connection, now: i64, number: &str) -> Result<WorkOrderInfo, ProviderError> {
    let existing = load(conn, number)?.ok_or_else(|| ProviderError::not_found("work order", number))?;
    if existing.deleted_at.is_some() {
        return Ok(info_of(number, &existing, false));
    }
    conn.prepare_cached("UPDATE work_orders SET deleted_at = ?2, updated_at = ?2 WHERE number = ?1")?
        .execute(params![number, now])?;
    if let Some(user_id) = existing.assigned_to {
        record_departure(conn, now, number, user_id, "deleted")?;
    }
    Ok(WorkOrderInfo {
        work_order_number: number.to_owned(),
        created: false,
        assigned_to: existing.assigned_name,
        updated_at: now,
        deleted: true,
    })
}

fn info_of(number: &str, existing: &Existing, created: bool) -> WorkOrderInfo {
    WorkOrderInfo {
        work_order_number: number.to_owned(),
        created,
        assigned_to: existing.assigned_name.clone(),
        updated_at: existing.updated_at,
        deleted: existing.deleted_at.is_some(),
    }
}

fn record_of(number: String, existing: Existing) -> Result<WorkOrderRecord, ProviderError> {
    Ok(WorkOrderRecord {
        work_order_number: number,
        doc: serde_json::from_str(&existing.doc)?,
        assigned_to: existing.assigned_name,
        created_at: existing.created_at,
        updated_at: existing.updated_at,
        deleted_at: existing.deleted_at,
    })
}

/// One order with its metadata (deleted ones included).
pub(crate) fn get(conn: &Connection, number: &str) -> Result<Option<WorkOrderRecord>, ProviderError> {
    load(conn, number)?
        .map(|existing| record_of(number.to_owned(), existing))
        .transpose()
}

/// Whether an order with this number exists (deleted or not).
pub(crate) fn exists(conn: &Connection, number: &str) -> Result<bool, ProviderError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM work_orders WHERE number = ?1")?
        .query_row([number], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Orders matching a filter, by number.
pub(crate) fn list(
    conn: &Connection,
    filter: &WorkOrderFilter,
) -> Result<Vec<WorkOrderRecord>, ProviderError> {
    let user_id = match &filter.assigned_to {
        Some(name) => Some(users::require(conn, name)?.id),
        None => None,
    };
    let mut stmt = conn.prepare(
        "SELECT w.number, w.number_json, w.doc, w.assigned_to, u.username, w.created_at, w.updated_at, w.deleted_at
           FROM work_orders w LEFT JOIN users u ON u.id = w.assigned_to
          WHERE (?1 IS NULL OR w.assigned_to = ?1) AND (?2 OR w.deleted_at IS NULL)
          ORDER BY w.number LIMIT ?3",
    )?;
    let limit = filter.limit.unwrap_or(1000);
    let rows = stmt.query_map(params![user_id, filter.include_deleted, limit], |row| {
        Ok((
            row.get::<_, String>(0)?,
            Existing {
                number_json: row.get(1)?,
                doc: row.get(2)?,
                assigned_to: row.get(3)?,
                assigned_name: row.get(4)?,
                created_at: row.get(5)?,
                updated_at: row.get(6)?,
                deleted_at: row.get(7)?,
            },
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (number, existing) = row?;
        out.push(record_of(number, existing)?);
    }
    Ok(out)
}

/// (live, deleted) order counts.
pub(crate) fn counts(conn: &Connection) -> Result<(u64, u64), ProviderError> {
    let (live, deleted): (i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE deleted_at IS NOT NULL)
           FROM work_orders",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok((super::unsigned(live), super::unsigned(deleted)))
}

/// Inserts new orders assigned to `user_id` in the caller's transaction; a number that already exists is
/// an error. Used by bulk generation, which takes its numbers from a fresh sequence.
pub(crate) struct BulkInserter<'c> {
    stmt: rusqlite::CachedStatement<'c>,
    user_id: i64,
    now: i64,
}

impl<'c> BulkInserter<'c> {
    /// Prepares the insert.
    pub(crate) fn new(conn: &'c Connection, now: i64, user_id: i64) -> Result<Self, ProviderError> {
        let stmt = conn.prepare_cached(
            "INSERT INTO work_orders (number, number_json, doc, assigned_to, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?;
        Ok(Self { stmt, user_id, now })
    }

    /// Inserts one order.
    pub(crate) fn insert(&mut self, number: &str, number_json: &str, doc: &str) -> Result<(), ProviderError> {
        self.stmt
            .execute(params![number, number_json, doc, self.user_id, self.now])
            .map_err(|err| match err {
                rusqlite::Error::SqliteFailure(e, _)
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    ProviderError::Conflict(format!("work order {number} already exists"))
                }
                other => other.into(),
            })?;
        Ok(())
    }
}

/// Reads and writes a small named value in the `meta` table.
pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>, ProviderError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
        .optional()?)
}

/// Sets a named value in the `meta` table.
pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<(), ProviderError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` removes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(&mut doc, &json!({"a": null, "b": {"c": 9}, "e": [2], "f": "x"}));
        assert_eq!(doc, json!({"b": {"c": 9, "d": 3}, "e": [2], "f": "x"}));
    }

    #[test]
    fn number_keys_accept_strings_and_integers_only() {
        assert_eq!(number_key(&json!("WO-1")).unwrap(), "WO-1");
        assert_eq!(number_key(&json!(17)).unwrap(), "17");
        assert!(number_key(&json!(1.5)).is_err());
        assert!(number_key(&json!("  ")).is_err());
        assert!(number_key(&json!(null)).is_err());
    }
}
