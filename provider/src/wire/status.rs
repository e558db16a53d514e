//! `status`: status updates of work orders sent by the vendor (for example "complete").

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::auth::authenticate;
use super::reply::{self, WireError};
use super::request::{self, text};
use crate::faults::Endpoint;
use crate::state::ProviderState;
use crate::store::{items, orders};

/// `POST /api/v2/status` with `workOrders: [{workOrderNumber, status}]`: `{"status": true, "error": null}`.
///
/// The request is all or nothing: if one order is unknown, nothing is recorded and the answer is
/// `{"status": false, "error": {"workOrderNumber": "...", "error": "unknown work order"}}`. A `uuId`
/// (or `uuid`) on the request or on an entry deduplicates retries per (uuid, order).
pub(super) async fn handle(State(state): State<ProviderState>, req: Request) -> Response {
    match run(&state, req).await {
        Ok(()) => reply::json(StatusCode::OK, &json!({"status": true, "error": null})),
        Err(err) => err.respond(Endpoint::Status),
    }
}

struct Update {
    uuid: Option<String>,
    number: String,
    status: String,
    entry: String,
}

fn uuid_of(object: &Map<String, Value>) -> Option<String> {
    ["uuId", "uuid", "UUID"]
        .iter()
        .find_map(|key| text(object, key))
        .filter(|u| !u.trim().is_empty())
}

fn updates_of(payload: &Map<String, Value>) -> Result<Vec<Update>, WireError> {
    let request_uuid = uuid_of(payload);
    let entries = match payload.get("workOrders") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(WireError::malformed("workOrders must be an array")),
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let Value::Object(object) = entry else {
                return Err(WireError::malformed(format!("workOrders[{i}] must be an object")));
            };
            let number = object
                .get("workOrderNumber")
                .ok_or_else(|| WireError::malformed(format!("workOrders[{i}].workOrderNumber is required")))
                .and_then(|v| orders::number_key(v).map_err(WireError::from))?;
            let status = text(object, "status")
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| WireError::malformed(format!("workOrders[{i}].status is required")))?;
            Ok(Update {
                uuid: uuid_of(object).or_else(|| request_uuid.clone()),
                number,
                status,
                entry: entry.to_string(),
            })
        })
        .collect()
}

async fn run(state: &ProviderState, req: Request) -> Result<(), WireError> {
    let payload = request::read(req).await?.payload()?;
    let updates = updates_of(&payload)?;
    state
        .blocking(move |state| {
            state.store().write(|tx, now| {
                let user = authenticate(tx, &payload)?;
                if let Some(unknown) = updates
                    .iter()
                    .find(|u| !orders::exists(tx, &u.number).unwrap_or(false))
                {
                    return Err(WireError::UnknownOrder(unknown.number.clone()));
                }
                for update in &updates {
                    items::insert_status(
                        tx,
                        now,
                        update.uuid.as_deref(),
                        &user.username,
                        &update.number,
                        &update.status,
                        &update.entry,
                    )?;
                }
                Ok(())
            })
        })
        .await
}
