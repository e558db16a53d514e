//! `validate`: checks the credentials and registers the integration's push key.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::auth::authenticate;
use super::reply::{self, WireError};
use super::request::{self, text};
use crate::faults::Endpoint;
use crate::state::ProviderState;
use crate::store::users;

/// `POST /api/v2/validate`: `{"validated": true, "error": ""}`; bad credentials answer 401 with
/// `{"validated": false, "error": "..."}`.
pub(super) async fn handle(State(state): State<ProviderState>, req: Request) -> Response {
    match run(&state, req).await {
        Ok(()) => reply::json(StatusCode::OK, &json!({"validated": true, "error": ""})),
        Err(err) => err.respond(Endpoint::Validate),
    }
}

async fn run(state: &ProviderState, req: Request) -> Result<(), WireError> {
    let payload = request::read(req).await?.payload()?;
    let push_key = text(&payload, "pushkey")
        .or_else(|| text(&payload, "pushKey"))
        .filter(|k| !k.trim().is_empty());
    state
        .blocking(move |state| {
            state.store().write(|tx, _now| {
                let user = authenticate(tx, &payload)?;
                if let Some(key) = push_key {
                    users::set_push_key(tx, user.id, key.trim())?;
                }
                Ok(())
            })
        })
        .await
}
