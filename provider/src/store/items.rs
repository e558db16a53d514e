//! What the client delivered: uploaded items (pictures, surveys, check-ins), status updates, push hits.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::ProviderError;
use crate::model::{ItemFilter, PushEvent, ReceivedItem, ReceivedSurvey, StatusUpdate, SurveyFilter};
use crate::surveys::SurveyItem;

/// A new item to record.
#[derive(Debug)]
pub(crate) struct NewItem<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) username: &'a str,
    pub(crate) work_order_number: &'a str,
    pub(crate) file_type: &'a str,
    pub(crate) task_name: Option<&'a str>,
    pub(crate) evidence_type: Option<&'a str>,
    pub(crate) file_name: Option<&'a str>,
    pub(crate) file_sha1: Option<&'a str>,
    pub(crate) file_size: Option<u64>,
    /// The verification of a picture's content credentials, JSON.
    pub(crate) credentials: Option<&'a str>,
    pub(crate) metadata: &'a str,
}

/// Counts one more delivery of an item already received; returns false when the uuid is new.
pub(crate) fn redelivered(conn: &Connection, uuid: &str) -> Result<bool, ProviderError> {
    let changed = conn
        .prepare_cached("UPDATE received_items SET deliveries = deliveries + 1 WHERE uuid = ?1")?
        .execute([uuid])?;
    Ok(changed > 0)
}

/// Records an item; a uuid seen before only counts one more delivery. Returns true when new.
pub(crate) fn insert_item(conn: &Connection, now: i64, item: &NewItem<'_>) -> Result<bool, ProviderError> {
    let deliveries: i64 = conn
        .prepare_cached(
            "INSERT INTO received_items (uuid, username, work_order_number, file_type, task_name,
                 evidence_type, file_name, file_sha1, file_size, metadata, received_at, credentials)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (uuid) DO UPDATE SET deliveries = deliveries + 1
             RETURNING deliveries",
        )?
        .query_row(
            params![
                item.uuid,
                item.username,
                item.work_order_number,
                item.file_type,
                item.task_name,
                item.evidence_type,
                item.file_name,
                item.file_sha1,
                item.file_size.map(|size| i64::try_from(size).unwrap_or(i64::MAX)),
                item.metadata,
                now,
                item.credentials
            ],
            |row| row.get(0),
        )?;
    Ok(deliveries == 1)
}

/// Received items matching a filter, in order of arrival.
pub(crate) fn list_items(conn: &Connection, filter: &ItemFilter) -> Result<Vec<ReceivedItem>, ProviderError> {
    let mut stmt = conn.prepare(
        "SELECT uuid, username, work_order_number, file_type, task_name, evidence_type, file_name,
                file_size, file_sha1, received_at, deliveries, metadata, credentials
           FROM received_items
          WHERE (?1 IS NULL OR file_type = ?1) AND (?2 IS NULL OR work_order_number = ?2)
            AND (?3 IS NULL OR username = ?3)
          ORDER BY id",
    )?;
    let rows = stmt.query_map(
        params![filter.file_type, filter.work_order_number, filter.username],
        |row| {
            Ok((
                ReceivedItem {
                    uuid: row.get(0)?,
                    username: row.get(1)?,
                    work_order_number: row.get(2)?,
                    file_type: row.get(3)?,
                    task_name: row.get(4)?,
                    evidence_type: row.get(5)?,
                    file_name: row.get(6)?,
                    file_size: row.get::<_, Option<i64>>(7)?.map(super::unsigned),
                    file_sha1: row.get(8)?,
                    received_at: row.get(9)?,
                    deliveries: row.get(10)?,
                    metadata: serde_json::Value::Null,
                    credentials: row
                        .get::<_, Option<String>>(12)?
                        .and_then(|text| serde_json::from_str(&text).ok()),
                },
                row.get::<_, String>(11)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (mut item, metadata) = row?;
        item.metadata = serde_json::from_str(&metadata)?;
        out.push(item);
    }
    Ok(out)
}

/// The stored file digest of an item: `None` when the item is unknown, `Some(None)` when it has no file.
pub(crate) fn item_sha1(conn: &Connection, uuid: &str) -> Result<Option<Option<String>>, ProviderError> {
    Ok(conn
        .query_row(
            "SELECT file_sha1 FROM received_items WHERE uuid = ?1",
            [uuid],
            |row| row.get(0),
        )
        .optional()?)
}

/// Whether a picture item with this uuid was received.
fn picture_received(conn: &Connection, uuid: &str) -> Result<bool, ProviderError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM received_items WHERE uuid = ?1 AND file_type = 'picture'")?
        .query_row([uuid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Indexes a survey item just recorded (its `received_items` row is new): the photos it references
/// that were not received yet are remembered as missing on arrival.
pub(crate) fn insert_survey(conn: &Connection, uuid: &str, survey: &SurveyItem) -> Result<(), ProviderError> {
    let mut missing = Vec::new();
    for photo in &survey.photo_uuids {
        if !picture_received(conn, photo)? {
            missing.push(photo.as_str());
        }
    }
    conn.prepare_cached(
        "INSERT INTO survey_items (uuid, template_id, template, answer_count, answers, photo_uuids,
             missing_photos, file_matches)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        uuid,
        survey.template_id,
        survey.template,
        survey.answer_count,
        survey.answers.to_string(),
        serde_json::to_string(&survey.photo_uuids)?,
        serde_json::to_string(&missing)?,
        survey.file_matches,
    ])?;
    Ok(())
}

/// Received surveys matching a filter, in order of arrival.
pub(crate) fn list_surveys(
    conn: &Connection,
    filter: &SurveyFilter,
) -> Result<Vec<ReceivedSurvey>, ProviderError> {
    let mut stmt = conn.prepare(
        "SELECT r.uuid, r.username, r.work_order_number, r.task_name, s.template_id, s.template,
                s.answer_count, s.answers, s.photo_uuids, s.missing_photos, s.file_matches,
                r.received_at, r.deliveries
           FROM survey_items s JOIN received_items r ON r.uuid = s.uuid
          WHERE (?1 IS NULL OR r.work_order_number = ?1) AND (?2 IS NULL OR r.uuid = ?2)
          ORDER BY r.id",
    )?;
    let rows = stmt.query_map(params![filter.work_order_number, filter.uuid], |row| {
        Ok((
            ReceivedSurvey {
                uuid: row.get(0)?,
                username: row.get(1)?,
                work_order_number: row.get(2)?,
                task_name: row.get(3)?,
                template_id: row.get(4)?,
                template: row.get(5)?,
                answer_count: row.get(6)?,
                answers: serde_json::Value::Null,
                photo_uuids: Vec::new(),
                photos_received_before: false,
                missing_photos: Vec::new(),
                missing_photos_now: Vec::new(),
                file_matches_survey: row.get(10)?,
                received_at: row.get(11)?,
                deliveries: row.get(12)?,
            },
            row.get::<_, String>(7)?,
            row.get::<_, String>(8)?,
            row.get::<_, String>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut survey, answers, photos, missing) = row?;
        survey.answers = serde_json::from_str(&answers)?;
        survey.photo_uuids = serde_json::from_str(&photos)?;
        survey.missing_photos = serde_json::from_str(&missing)?;
        survey.photos_received_before = survey.missing_photos.is_empty();
        for photo in &survey.missing_photos {
            if !picture_received(conn, photo)? {
                survey.missing_photos_now.push(photo.clone());
            }
        }
        out.push(survey);
    }
    Ok(out)
}

/// Records a status update; with a uuid, a repeat of (uuid, order) only counts one more delivery.
/// Returns true when new.
pub(crate) fn insert_status(
    conn: &Connection,
    now: i64,
    uuid: Option<&str>,
    username: &str,
    work_order_number: &str,
    status: &str,
    entry: &str,
) -> Result<bool, ProviderError> {
    let deliveries: i64 = conn
        .prepare_cached(
            "INSERT INTO status_updates (uuid, username, work_order_number, status, entry, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (uuid, work_order_number) DO UPDATE SET deliveries = deliveries + 1
             RETURNING deliveries",
        )?
        .query_row(
            params![uuid, username, work_order_number, status, entry, now],
            |row| row.get(0),
        )?;
    Ok(deliveries == 1)
}

/// Every status update, in order of arrival.
pub(crate) fn list_status(conn: &Connection) -> Result<Vec<StatusUpdate>, ProviderError> {
    let mut stmt = conn.prepare(
        "SELECT id, uuid, username, work_order_number, status, entry, received_at, deliveries
           FROM status_updates ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            StatusUpdate {
                id: row.get(0)?,
                uuid: row.get(1)?,
                username: row.get(2)?,
                work_order_number: row.get(3)?,
                status: row.get(4)?,
                reason: None,
                entry: serde_json::Value::Null,
                received_at: row.get(6)?,
                deliveries: row.get(7)?,
            },
            row.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut update, entry) = row?;
        update.entry = serde_json::from_str(&entry)?;
        update.reason = match update.entry.get("reason") {
            Some(serde_json::Value::String(reason)) => Some(reason.clone()),
            Some(serde_json::Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        out.push(update);
    }
    Ok(out)
}

/// Records a push key hit.
pub(crate) fn insert_push(
    conn: &Connection,
    now: i64,
    username: &str,
    method: &str,
    work_orders: u32,
) -> Result<(), ProviderError> {
    conn.execute(
        "INSERT INTO push_events (username, method, work_orders, at) VALUES (?1, ?2, ?3, ?4)",
        params![username, method, work_orders, now],
    )?;
    Ok(())
}

/// Every push key hit, in order of arrival.
pub(crate) fn list_push(conn: &Connection) -> Result<Vec<PushEvent>, ProviderError> {
    let mut stmt =
        conn.prepare("SELECT id, username, method, work_orders, at FROM push_events ORDER BY id")?;
    let rows = stmt.query_map([], |row| {
        Ok(PushEvent {
            id: row.get(0)?,
            username: row.get(1)?,
            method: row.get(2)?,
            work_orders: row.get(3)?,
            at: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// (items, status updates, push events) counts.
pub(crate) fn counts(conn: &Connection) -> Result<(u64, u64, u64), ProviderError> {
    let (items, updates, pushes): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM received_items), (SELECT count(*) FROM status_updates),
                (SELECT count(*) FROM push_events)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    Ok((
        super::unsigned(items),
        super::unsigned(updates),
        super::unsigned(pushes),
    ))
}
