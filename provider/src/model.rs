//! Plain data types returned by the admin API (in-process and as JSON over HTTP, in camelCase).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A provider login given to a vendor. The password and token are never returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Login name.
    pub username: String,
    /// The push key registered by the last successful `validate`, if any.
    pub push_key: Option<String>,
    /// Provider time of creation (Unix seconds).
    pub created_at: i64,
}

/// The outcome of a write to a work order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkOrderInfo {
    /// The order's number (string form of `workOrderNumber`).
    pub work_order_number: String,
    /// True when the order did not exist (or was deleted) before this write.
    pub created: bool,
    /// Login the order is assigned to, if any.
    pub assigned_to: Option<String>,
    /// Provider-side `updated_at` after the write (Unix seconds).
    pub updated_at: i64,
    /// True when the order is deleted.
    pub deleted: bool,
}

/// A stored work order with its provider-side metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkOrderRecord {
    /// The order's number (string form of `workOrderNumber`).
    pub work_order_number: String,
    /// Login the order is assigned to, if any.
    pub assigned_to: Option<String>,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Last change (Unix seconds); incremental `getWorkOrders` compares against it.
    pub updated_at: i64,
    /// Deletion time, when deleted.
    pub deleted_at: Option<i64>,
    /// The wire document served by `getWorkOrders`.
    pub doc: Value,
}

/// Filter for [`crate::Admin::list_work_orders`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkOrderFilter {
    /// Only orders assigned to this login.
    pub assigned_to: Option<String>,
    /// Include deleted orders.
    pub include_deleted: bool,
    /// At most this many orders (default 1000).
    pub limit: Option<u32>,
}

/// An item received through `uploadPictures` (a picture, a survey file or a check-in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedItem {
    /// The client's `uuId`: the idempotency key.
    pub uuid: String,
    /// Login that delivered it.
    pub username: String,
    /// `key2`: the work order number.
    pub work_order_number: String,
    /// `fileType`: `picture`, `survey` or `checkin`.
    pub file_type: String,
    /// `key4`: the task (service) name.
    pub task_name: Option<String>,
    /// `evidenceType`: `before`, `during`, `after`.
    pub evidence_type: Option<String>,
    /// `fileName` as sent.
    pub file_name: Option<String>,
    /// Size of the received file in bytes (none for a check-in).
    pub file_size: Option<u64>,
    /// Lowercase hex SHA-1 of the received file.
    pub file_sha1: Option<String>,
    /// Provider time of the first delivery.
    pub received_at: i64,
    /// How many times it was delivered (1 + retries deduplicated by `uuId`).
    pub deliveries: u32,
    /// The item JSON as received, without the credential fields.
    pub metadata: Value,
    /// For a picture: the emulator's verification of its C2PA content credentials, as
    /// `{"result": "valid" | "tampered" | "unsigned" | "untrusted" | "not_supported", ...}`.
    pub credentials: Option<Value>,
}

/// Filter for [`crate::Admin::received_items`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ItemFilter {
    /// Only items of this `fileType`.
    pub file_type: Option<String>,
    /// Only items for this work order.
    pub work_order_number: Option<String>,
    /// Only items delivered by this login.
    pub username: Option<String>,
}

/// A survey received through `uploadPictures` (`fileType` `survey`), with what the emulator indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedSurvey {
    /// The item's `uuId`.
    pub uuid: String,
    /// Login that delivered it.
    pub username: String,
    /// `key2`: the work order number.
    pub work_order_number: String,
    /// `key4`: the task (service) name.
    pub task_name: Option<String>,
    /// The survey template id: `survey.surveyId`, else the part of `template` after `::`.
    pub template_id: String,
    /// The item's `template` field as sent (`"CODE::templateId"`), if any.
    pub template: Option<String>,
    /// Number of entries in `survey.answers`.
    pub answer_count: u32,
    /// `survey.answers` as received.
    pub answers: Value,
    /// Photo item uuids referenced by the photo answers (`answerType` `photo`), in answer order,
    /// without repeats.
    pub photo_uuids: Vec<String>,
    /// True when every referenced photo had been received (as a `picture` item) before the survey.
    pub photos_received_before: bool,
    /// Referenced photos not received yet when the survey arrived.
    pub missing_photos: Vec<String>,
    /// Referenced photos still not received now (a subset of `missing_photos`).
    pub missing_photos_now: Vec<String>,
    /// True when the `file` part held the same JSON as the payload's `survey`.
    pub file_matches_survey: bool,
    /// Provider time of the first delivery.
    pub received_at: i64,
    /// How many times it was delivered (1 + retries deduplicated by `uuId`).
    pub deliveries: u32,
}

/// Filter for [`crate::Admin::surveys`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SurveyFilter {
    /// Only surveys for this work order.
    pub work_order_number: Option<String>,
    /// Only the survey item with this uuid.
    pub uuid: Option<String>,
}

/// One status update received through the `status` service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    /// Row id (order of arrival).
    pub id: i64,
    /// The request's `uuId`/`uuid`, if it carried one (deduplication key with the order number).
    pub uuid: Option<String>,
    /// Login that sent it.
    pub username: String,
    /// The work order.
    pub work_order_number: String,
    /// The new status.
    pub status: String,
    /// The entry's `reason` (for example why a completion was forced), if it carried one. Every other
    /// field of the entry is in `entry`.
    #[serde(default)]
    pub reason: Option<String>,
    /// The `workOrders[]` entry as received, every field kept.
    pub entry: Value,
    /// Provider time of the first delivery.
    pub received_at: i64,
    /// How many times it was delivered.
    pub deliveries: u32,
}

/// A hit on the push key URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushEvent {
    /// Row id (order of arrival).
    pub id: i64,
    /// Owner of the push key.
    pub username: String,
    /// `GET` (refresh trigger) or `POST` (work orders pushed).
    pub method: String,
    /// Number of work orders created or updated by a `POST`.
    pub work_orders: u32,
    /// Provider time.
    pub at: i64,
}

/// What [`crate::Admin::bulk_generate_with`] should generate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSpec {
    /// Login the orders are assigned to.
    pub username: String,
    /// How many orders.
    pub count: u32,
    /// Number prefix (default `BLK-`); numbers continue a per-database sequence so repeated calls
    /// never collide.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Seed of the pseudo-random content (default: fixed), so a data set can be reproduced.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// The outcome of a bulk generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkReport {
    /// Login the orders were assigned to.
    pub username: String,
    /// Number of orders generated.
    pub count: u32,
    /// First generated number.
    pub first_number: Option<String>,
    /// Last generated number.
    pub last_number: Option<String>,
    /// Total size of the generated JSON documents in bytes.
    pub json_bytes: u64,
    /// Wall time of the generation in milliseconds.
    pub elapsed_ms: u64,
}

/// The demo data set created by [`crate::Admin::seed_demo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedReport {
    /// Login of the demo vendor.
    pub username: String,
    /// Its password (demo only).
    pub password: String,
    /// Its API token (demo only).
    pub token: String,
    /// The seeded work orders.
    pub work_order_numbers: Vec<String>,
}

/// The answer of the health endpoint: liveness and a few counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Always true when the emulator answers.
    pub ok: bool,
    /// Provider time (Unix seconds).
    pub server_time: i64,
    /// Whether the clock is pinned by the admin.
    pub clock_pinned: bool,
    /// Number of users.
    pub users: u64,
    /// Number of live work orders.
    pub work_orders: u64,
    /// Number of deleted work orders (tombstones).
    pub deleted_work_orders: u64,
    /// Number of received items.
    pub items: u64,
    /// Number of recorded status updates.
    pub status_updates: u64,
    /// Number of recorded push key hits.
    pub push_events: u64,
    /// `trickle` responses still being sent (see [`crate::admin::Admin::active_trickles`]).
    #[serde(default)]
    pub active_trickles: u64,
}

/// Request-body accounting of the wire endpoints, overall or for one endpoint (see
/// [`crate::Admin::upload_traffic`]). Every wire request is counted, under a `slowBody` fault or not.
///
/// A client that gives up on a request (a cancelled upload) shows as: `in_flight` back to zero,
/// `abandoned` up by one, and `body_bytes_received` no longer growing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTraffic {
    /// Request-body bytes read by the server (under `slowBody`, as the pace lets them through).
    pub body_bytes_received: u64,
    /// Requests whose body is being read: from their arrival until their body was read to the end,
    /// failed, or was dropped.
    pub in_flight: u64,
    /// Requests whose client went away before their body was read to the end (the connection closed
    /// or was reset): abandoned, not processed.
    pub abandoned: u64,
    /// Requests whose body started being read (every request that reached an endpoint).
    pub requests: u64,
}
