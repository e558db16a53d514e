//! Response helpers and the mapping of errors to the wire's JSON error shapes.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::error::ProviderError;
use crate::faults::Endpoint;

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A failure in the shape each service uses: `validated: false` for `validate`, `status: false` for
/// `uploadPictures` and `status`, `response: false` for the push key URL, a bare `error` for
/// `getWorkOrders` (never an empty `workOrders`, which a client could take for a full import).
pub(crate) fn failure(endpoint: Endpoint, status: StatusCode, message: &str) -> Response {
    let body = match endpoint {
        Endpoint::Validate => json!({"validated": false, "error": message}),
        Endpoint::GetWorkOrders => json!({"error": message}),
        Endpoint::UploadPictures | Endpoint::Status => json!({"status": false, "error": message}),
        Endpoint::Push => json!({"response": false, "error": message}),
    };
    json(status, &body)
}

/// Why a wire request failed.
#[derive(Debug)]
pub(crate) enum WireError {
    /// Bad or missing credentials: 401.
    Unauthorized,
    /// Malformed request: 406 (or the given status for body-level rejections such as 413).
    Malformed(StatusCode, String),
    /// Well-formed but refused: 200 with `error` set.
    Refused(String),
    /// A `status` request named an unknown work order: 200 with an error object.
    UnknownOrder(String),
    /// Our own failure: 500, details only in the log.
    Internal(ProviderError),
}

impl WireError {
    /// A 406 with a message.
    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        WireError::Malformed(StatusCode::NOT_ACCEPTABLE, message.into())
    }

    /// The response for `endpoint`.
    pub(crate) fn respond(self, endpoint: Endpoint) -> Response {
        match self {
            WireError::Unauthorized => failure(
                endpoint,
                StatusCode::UNAUTHORIZED,
                "invalid username, password or token",
            ),
            WireError::Malformed(status, message) => failure(endpoint, status, &message),
            WireError::Refused(message) => failure(endpoint, StatusCode::OK, &message),
            WireError::UnknownOrder(number) if endpoint == Endpoint::Status => json(
                StatusCode::OK,
                &json!({"status": false, "error": {"workOrderNumber": number, "error": "unknown work order"}}),
            ),
            WireError::UnknownOrder(number) => {
                failure(endpoint, StatusCode::OK, &format!("unknown work order {number}"))
            }
            WireError::Internal(err) => {
                tracing::error!(endpoint = endpoint.name(), error = %err, "wire request failed");
                failure(endpoint, StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl From<rusqlite::Error> for WireError {
    fn from(err: rusqlite::Error) -> Self {
        WireError::Internal(err.into())
    }
}

impl From<ProviderError> for WireError {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::InvalidInput(message) => WireError::malformed(message),
            ProviderError::NotFound {
                kind: "work order",
                name,
            } => WireError::UnknownOrder(name),
            ProviderError::NotFound { kind, name } => WireError::Refused(format!("unknown {kind} {name}")),
            ProviderError::Conflict(message) => WireError::Refused(message),
            other => WireError::Internal(other),
        }
    }
}
