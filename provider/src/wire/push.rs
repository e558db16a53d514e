//! The push key URL: `GET /push/{pushkey}` triggers a refresh; `POST` with form field `workOrders`
//! creates or updates orders assigned to the key's owner.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use super::reply::{self, WireError};
use super::request;
use crate::faults::Endpoint;
use crate::state::ProviderState;
use crate::store::orders::{self, Assignment};
use crate::store::{items, users};

/// `GET` and `POST /push/{pushkey}`.
pub(super) fn routes() -> MethodRouter<ProviderState> {
    get(hit).post(push_orders)
}

fn success() -> Response {
    reply::json(StatusCode::OK, &json!({"response": true, "error": "success"}))
}

fn unknown_key() -> WireError {
    WireError::Refused("unknown push key".to_owned())
}

/// `GET`: records a push event for the key's owner.
async fn hit(State(state): State<ProviderState>, Path(key): Path<String>) -> Response {
    let result = state
        .blocking(move |state| {
            state.store().write(|tx, now| {
                let user = users::find_by_push_key(tx, &key)?.ok_or_else(unknown_key)?;
                items::insert_push(tx, now, &user.username, "GET", 0)?;
                Ok::<_, WireError>(())
            })
        })
        .await;
    match result {
        Ok(()) => success(),
        Err(err) => err.respond(Endpoint::Push),
    }
}

/// `POST`: creates or updates the orders in form field `workOrders` (a JSON array), assigned to the
/// key's owner; all or nothing.
async fn push_orders(State(state): State<ProviderState>, Path(key): Path<String>, req: Request) -> Response {
    match run_push(&state, key, req).await {
        Ok(()) => success(),
        Err(err) => err.respond(Endpoint::Push),
    }
}

async fn run_push(state: &ProviderState, key: String, req: Request) -> Result<(), WireError> {
    let wire = request::read(req).await?;
    let field = wire
        .fields
        .get("workOrders")
        .ok_or_else(|| WireError::malformed("missing form field `workOrders`"))?;
    let docs = match serde_json::from_str(field) {
        Ok(Value::Array(docs)) => docs,
        Ok(Value::Null) => Vec::new(),
        Ok(_) => return Err(WireError::malformed("workOrders must be a JSON array")),
        Err(err) => {
            return Err(WireError::malformed(format!(
                "workOrders is not valid JSON: {err}"
            )));
        }
    };
    state
        .blocking(move |state| {
            state.store().write(|tx, now| {
                let user = users::find_by_push_key(tx, &key)?.ok_or_else(unknown_key)?;
                let count = u32::try_from(docs.len()).unwrap_or(u32::MAX);
                for (i, doc) in docs.into_iter().enumerate() {
                    let assignment = Assignment::To(user.id, user.username.clone());
                    orders::upsert(tx, now, doc, Some(assignment)).map_err(|err| match err {
                        crate::error::ProviderError::InvalidInput(msg) => {
                            WireError::malformed(format!("workOrders[{i}]: {msg}"))
                        }
                        other => other.into(),
                    })?;
                }
                items::insert_push(tx, now, &user.username, "POST", count)?;
                Ok(())
            })
        })
        .await
}
