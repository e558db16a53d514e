//! `getWorkOrders`: the full or incremental list of a user's work orders, streamed from the stored
//! documents.

use std::io;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::auth::authenticate;
use super::body::ChunkBody;
use super::reply::WireError;
use super::request;
use crate::faults::{Endpoint, FaultText};
use crate::state::ProviderState;
use crate::store::write_feed;

/// Put in a request's extensions by the `serverTime` fault: the raw JSON token to answer as
/// `serverTime` instead of the provider clock.
#[derive(Debug, Clone, Copy)]
pub(super) struct ServerTimeOverride(pub(super) FaultText);

/// `POST /api/v2/getWorkOrders`: `{"error": "", "serverTime": N, "workOrders": [...]}`.
pub(super) async fn handle(State(state): State<ProviderState>, req: Request) -> Response {
    match run(&state, req).await {
        Ok(response) => response,
        Err(err) => err.respond(Endpoint::GetWorkOrders),
    }
}

async fn run(state: &ProviderState, req: Request) -> Result<Response, WireError> {
    let server_time_override = req.extensions().get::<ServerTimeOverride>().map(|o| o.0);
    let payload = request::read(req).await?.payload()?;
    let since = timestamp(&payload)?;
    let user = state
        .blocking(move |state| state.store().read(|conn| authenticate(conn, &payload)))
        .await?;

    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
    let feed_state = state.clone();
    tokio::task::spawn_blocking(move || {
        let result = feed_state.store().snapshot().and_then(|(reader, server_time)| {
            let server_time = match server_time_override {
                Some(token) => token.as_str().to_owned(),
                None => server_time.to_string(),
            };
            write_feed(&reader, user.id, since, &server_time, &mut |chunk| {
                tx.blocking_send(Ok(Bytes::from(chunk))).is_ok()
            })
        });
        match result {
            Ok(stats) => tracing::debug!(
                user = %user.username,
                since,
                orders = stats.orders,
                departures = stats.departures,
                bytes = stats.bytes,
                completed = stats.completed,
                "served getWorkOrders"
            ),
            Err(err) => {
                tracing::error!(error = %err, "getWorkOrders feed failed");
                let _ = tx.blocking_send(Err(io::Error::other("feed failed")));
            }
        }
    });
    let mut response = Response::new(Body::new(ChunkBody::new(rx)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// Reads `timestamp`: an integer, a numeric string, or `null`/absent/`""` for a full import.
fn timestamp(payload: &Map<String, Value>) -> Result<Option<i64>, WireError> {
    let invalid =
        || WireError::malformed("timestamp must be Unix seconds (an integer or a numeric string) or null");
    match payload.get("timestamp") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| integral(n.as_f64()?))
            .map(Some)
            .ok_or_else(invalid),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() || s.eq_ignore_ascii_case("null") {
                return Ok(None);
            }
            s.parse::<i64>()
                .ok()
                .or_else(|| integral(s.parse().ok()?))
                .map(Some)
                .ok_or_else(invalid)
        }
        Some(_) => Err(invalid()),
    }
}

/// An `f64` that holds a whole number of seconds in range.
#[allow(clippy::cast_possible_truncation)]
fn integral(value: f64) -> Option<i64> {
    (value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(value: Value) -> Option<Option<i64>> {
        let payload = json!({ "timestamp": value });
        timestamp(payload.as_object().unwrap()).ok()
    }

    #[test]
    fn timestamps_accept_the_tolerated_shapes() {
        assert_eq!(ts(Value::Null), Some(None));
        assert_eq!(ts(json!(1_700_000_000)), Some(Some(1_700_000_000)));
        assert_eq!(ts(json!("1700000000")), Some(Some(1_700_000_000)));
        assert_eq!(ts(json!(" 17 ")), Some(Some(17)));
        assert_eq!(ts(json!("")), Some(None));
        assert_eq!(ts(json!(1.0e9)), Some(Some(1_000_000_000)));
        assert_eq!(ts(json!(1.5)), None);
        assert_eq!(ts(json!("yesterday")), None);
        assert_eq!(ts(json!([1])), None);
        assert_eq!(timestamp(&Map::new()).ok(), Some(None));
    }
}
