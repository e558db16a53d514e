//! The wire side: the Pruvan v2 services a client calls, and the push key URL.
//!
//! Every service is `POST /api/v2/{service}` with the JSON request in form field `payload`
//! (`application/x-www-form-urlencoded` or `multipart/form-data`; a bare `application/json` body is
//! accepted too). Bad credentials answer 401, a malformed request 406, both with a JSON `error`.

mod auth;
mod body;
pub(crate) mod inject;
mod metered;
mod push;
pub(crate) mod reply;
mod request;
mod status;
mod upload;
mod validate;
mod work_orders;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, post};

use crate::faults::Endpoint;
use crate::state::ProviderState;

fn with_faults(
    state: &ProviderState,
    endpoint: Endpoint,
    route: MethodRouter<ProviderState>,
) -> MethodRouter<ProviderState> {
    route.layer(axum::middleware::from_fn_with_state(
        (state.clone(), endpoint),
        inject::inject,
    ))
}

/// The wire routes: `/api/v2/{service}` and `/push/{pushkey}`, with fault injection and the body limit.
pub(crate) fn routes(state: &ProviderState) -> Router<ProviderState> {
    let api = Router::new()
        .route(
            "/validate",
            with_faults(state, Endpoint::Validate, post(validate::handle)),
        )
        .route(
            "/getWorkOrders",
            with_faults(state, Endpoint::GetWorkOrders, post(work_orders::handle)),
        )
        .route(
            "/uploadPictures",
            with_faults(state, Endpoint::UploadPictures, post(upload::handle)),
        )
        .route(
            "/status",
            with_faults(state, Endpoint::Status, post(status::handle)),
        )
        .fallback(|| async {
            reply::json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "unknown service"}),
            )
        });
    Router::new()
        .nest("/api/v2", api)
        .route(
            "/push/{pushkey}",
            with_faults(state, Endpoint::Push, push::routes()),
        )
        .layer(DefaultBodyLimit::max(state.body_limit()))
}
