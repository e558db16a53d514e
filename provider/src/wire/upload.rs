//! `uploadPictures`: one item (picture, survey file or check-in) per request, deduplicated by `uuId`.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::auth::authenticate;
use super::reply::{self, WireError};
use super::request::{self, text};
use crate::faults::Endpoint;
use crate::state::ProviderState;
use crate::store::items::{self, NewItem};
use crate::store::orders;
use crate::surveys;

/// Fields removed from the stored metadata: they are credentials.
const SECRET_FIELDS: [&str; 3] = ["username", "password", "token"];

/// `POST /api/v2/uploadPictures` (multipart: `payload` + `file`): `{"status": true, "error": null}`.
///
/// A `uuId` already received answers success and stores nothing new (its delivery count goes up).
/// `picture` and `survey` items need a `file` part; a `checkin` has none. A `survey` item must carry a
/// `survey` object with a non-empty `answers` array (see [`crate::surveys`]); it is indexed with the
/// photo items its photo answers reference and whether they had arrived before it. The work order (`key2`)
/// must exist; it need not be assigned to the sender any more (field work done before an unassign is
/// still accepted).
pub(super) async fn handle(State(state): State<ProviderState>, req: Request) -> Response {
    match run(&state, req).await {
        Ok(()) => reply::json(StatusCode::OK, &json!({"status": true, "error": null})),
        Err(err) => err.respond(Endpoint::UploadPictures),
    }
}

/// The item fields the emulator indexes.
struct Item {
    uuid: String,
    work_order_number: String,
    file_type: String,
    task_name: Option<String>,
    evidence_type: Option<String>,
    file_name: Option<String>,
}

fn item_of(payload: &Map<String, Value>) -> Result<Item, WireError> {
    let uuid = ["uuId", "uuid", "UUID"]
        .iter()
        .find_map(|key| text(payload, key))
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| WireError::malformed("uuId is required"))?;
    let work_order_number = text(payload, "key2")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| WireError::malformed("key2 (work order number) is required"))?;
    let file_type = text(payload, "fileType")
        .map(|t| t.trim().to_ascii_lowercase())
        .ok_or_else(|| WireError::malformed("fileType is required"))?;
    if !matches!(file_type.as_str(), "picture" | "survey" | "checkin") {
        return Err(WireError::malformed(
            "fileType must be picture, survey or checkin",
        ));
    }
    Ok(Item {
        uuid: uuid.trim().to_owned(),
        work_order_number: work_order_number.trim().to_owned(),
        file_type,
        task_name: text(payload, "key4"),
        evidence_type: text(payload, "evidenceType"),
        file_name: text(payload, "fileName"),
    })
}

async fn run(state: &ProviderState, req: Request) -> Result<(), WireError> {
    let wire = request::read(req).await?;
    let payload = wire.payload()?;
    let item = item_of(&payload)?;
    let file = wire.file;
    if item.file_type != "checkin" && file.is_none() {
        return Err(WireError::malformed(format!(
            "a {} item needs a `file` part",
            item.file_type
        )));
    }
    let survey = if item.file_type == "survey" {
        Some(surveys::read_item(&payload, file.as_deref()).map_err(WireError::malformed)?)
    } else {
        None
    };
    state
        .blocking(move |state| {
            // First pass: credentials, the order, and whether this uuId was already received.
            let (user, seen) = state.store().write(|tx, _now| {
                let user = authenticate(tx, &payload)?;
                if !orders::exists(tx, &item.work_order_number)? {
                    return Err(WireError::UnknownOrder(item.work_order_number.clone()));
                }
                Ok::<_, WireError>((user, items::redelivered(tx, &item.uuid)?))
            })?;
            if seen {
                tracing::debug!(uuid = %item.uuid, "duplicate upload acknowledged");
                return Ok(());
            }
            // The bytes go to disk outside the transaction; identical bytes are stored once.
            let stored = match &file {
                Some(bytes) => Some((state.files().put(bytes)?, bytes.len() as u64)),
                None => None,
            };
            // Every picture is verified as it arrives: the result is what the provider would show its QA.
            let credentials = match (&file, item.file_type.as_str()) {
                (Some(bytes), "picture") => {
                    Some(crate::credentials::verify(bytes, state.trust_anchors()).to_string())
                }
                _ => None,
            };
            let mut metadata = payload;
            for key in SECRET_FIELDS {
                metadata.remove(key);
            }
            let metadata = serde_json::to_string(&metadata).map_err(crate::error::ProviderError::from)?;
            state.store().write(|tx, now| {
                let new = NewItem {
                    uuid: &item.uuid,
                    username: &user.username,
                    work_order_number: &item.work_order_number,
                    file_type: &item.file_type,
                    task_name: item.task_name.as_deref(),
                    evidence_type: item.evidence_type.as_deref(),
                    file_name: item.file_name.as_deref(),
                    file_sha1: stored.as_ref().map(|(sha1, _)| sha1.as_str()),
                    file_size: stored.as_ref().map(|(_, size)| *size),
                    metadata: &metadata,
                    credentials: credentials.as_deref(),
                };
                let first = items::insert_item(tx, now, &new)?;
                if let (true, Some(survey)) = (first, &survey) {
                    items::insert_survey(tx, &item.uuid, survey)?;
                }
                Ok::<_, WireError>(())
            })
        })
        .await
}
