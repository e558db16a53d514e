//! The `getWorkOrders` response, written straight from the stored JSON texts in chunks.
//!
//! No `serde_json::Value` is built: the stored documents are copied between `[`, `,` and `]`, so a
//! response of 100,000 orders costs one indexed scan and a memory copy.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};

use crate::error::ProviderError;

/// Chunk size handed to the HTTP body.
pub(crate) const CHUNK: usize = 256 * 1024;

/// What a feed contained.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FeedStats {
    /// Full orders sent.
    pub(crate) orders: u64,
    /// Minimal `Cancelled`/`Deleted` entries sent.
    pub(crate) departures: u64,
    /// Body size in bytes.
    pub(crate) bytes: u64,
    /// False when the receiver went away before the end.
    pub(crate) completed: bool,
}

struct Writer<'a> {
    buf: Vec<u8>,
    first: bool,
    stats: FeedStats,
    emit: &'a mut dyn FnMut(Vec<u8>) -> bool,
}

impl Writer<'_> {
    /// Appends one array element; returns false when the receiver is gone.
    fn element(&mut self, json: &[u8]) -> bool {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.extend_from_slice(json);
        if self.buf.len() >= CHUNK {
            self.flush()
        } else {
            true
        }
    }

    fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        self.stats.bytes += self.buf.len() as u64;
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 4096));
        (self.emit)(chunk)
    }
}

/// The bytes of a TEXT (or BLOB) column.
fn text(value: ValueRef<'_>) -> Result<&[u8], ProviderError> {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Ok(bytes),
        _ => Err(ProviderError::invalid("expected a text column")),
    }
}

/// Writes `{"error":"","serverTime":N,"workOrders":[...]}` for a user to `emit`, chunk by chunk.
///
/// `since = None` is a full import: every live order assigned to the user. `Some(ts)` adds the orders
/// changed at or after `ts` and, as minimal entries, the orders that left the user's list at or after
/// `ts` (`Cancelled` when unassigned, `Deleted` when deleted), unless the order is back in the list.
/// `conn` should be inside a read transaction so the parts are consistent. `server_time` is written
/// verbatim as the `serverTime` JSON value (normally the snapshot's clock reading; a fault may choose
/// any token).
pub(crate) fn write_feed(
    conn: &Connection,
    user_id: i64,
    since: Option<i64>,
    server_time: &str,
    emit: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<FeedStats, ProviderError> {
    let mut out = Writer {
        buf: Vec::with_capacity(CHUNK + 4096),
        first: true,
        stats: FeedStats::default(),
        emit,
    };
    out.buf
        .extend_from_slice(format!(r#"{{"error":"","serverTime":{server_time},"workOrders":["#).as_bytes());

    let mut orders = conn.prepare_cached(
        "SELECT doc FROM work_orders
          WHERE assigned_to = ?1 AND deleted_at IS NULL AND updated_at >= ?2",
    )?;
    let mut rows = orders.query(params![user_id, since.unwrap_or(i64::MIN)])?;
    while let Some(row) = rows.next()? {
        let doc = text(row.get_ref(0)?)?;
        out.stats.orders += 1;
        if !out.element(doc) {
            return Ok(out.stats);
        }
    }
    drop(rows);

    if let Some(since) = since {
        let mut departures = conn.prepare_cached(
            "SELECT w.number_json, d.kind
               FROM departures d JOIN work_orders w ON w.number = d.number
              WHERE d.user_id = ?1 AND d.at >= ?2
                AND d.id = (SELECT max(id) FROM departures d2 WHERE d2.user_id = ?1 AND d2.number = d.number)
                AND NOT (w.assigned_to IS ?1 AND w.deleted_at IS NULL)",
        )?;
        let mut rows = departures.query(params![user_id, since])?;
        while let Some(row) = rows.next()? {
            let number_json = String::from_utf8_lossy(text(row.get_ref(0)?)?);
            let status = if text(row.get_ref(1)?)? == b"deleted" {
                "Deleted"
            } else {
                "Cancelled"
            };
            let entry = format!(r#"{{"workOrderNumber":{number_json},"clientStatus":"{status}"}}"#);
            out.stats.departures += 1;
            if !out.element(entry.as_bytes()) {
                return Ok(out.stats);
            }
        }
    }

    out.buf.extend_from_slice(b"]}");
    out.stats.completed = out.flush();
    Ok(out.stats)
}
