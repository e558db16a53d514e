//! Fault injection on the wire endpoints.
//!
//! Faults are rules in a table, checked by a middleware in front of each wire endpoint. For each request,
//! every matching `latency` rule adds its delay, then the first matching rule of another kind (in the
//! order they were added) decides the outcome. A rule with `times: Some(n)` clears itself after `n`
//! requests; without `times` it stays until cleared. Rules can therefore be queued: "two 503s, then a
//! dropped connection" is three rules added in that order (the first with `times: 2`).
//!
//! Dropped connections are real: the emulator serves each TCP connection itself (see
//! [`crate::server`]) and a drop makes that connection's task return, which closes the socket without a
//! (complete) HTTP response. A truncated body sends valid headers whose `Content-Length` is larger than
//! what follows, then aborts the connection.

use std::io;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::error::ProviderError;
use crate::server::ConnControl;
use crate::state::ProviderState;
use crate::wire::{ChunkBody, drain, reply};

/// A wire endpoint that faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    /// `POST /api/v2/validate`
    Validate,
    /// `POST /api/v2/getWorkOrders`
    GetWorkOrders,
    /// `POST /api/v2/uploadPictures`
    UploadPictures,
    /// `POST /api/v2/status`
    Status,
    /// `GET` and `POST /push/{pushkey}`
    Push,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 5] = [
        Endpoint::Validate,
        Endpoint::GetWorkOrders,
        Endpoint::UploadPictures,
        Endpoint::Status,
        Endpoint::Push,
    ];

    /// The wire name (`validate`, `getWorkOrders`, `uploadPictures`, `status`, `push`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::GetWorkOrders => "getWorkOrders",
            Endpoint::UploadPictures => "uploadPictures",
            Endpoint::Status => "status",
            Endpoint::Push => "push",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// What a fault does. In JSON, the variant is the `kind` field, in camelCase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum FaultKind {
    /// Wait `ms` milliseconds before handling the request (combines with another fault).
    Latency {
        /// Added delay in milliseconds.
        ms: u64,
    },
    /// Answer HTTP 500 without processing the request.
    Http500,
    /// Answer HTTP 503 with `Retry-After: retry_after` seconds, without processing the request.
    Http503 {
        /// Value of the `Retry-After` header in seconds (default 1).
        #[serde(default = "default_retry_after")]
        retry_after: u64,
    },
    /// Answer HTTP 401 without processing the request.
    Http401,
    /// Close the connection before the request is processed: nothing is stored, no response is sent.
    DropBefore,
    /// Process the request (store the item), then close the connection without a response.
    DropAfter,
    /// Process the request, send the headers with the full `Content-Length` and half of the body, then
    /// close the connection.
    Truncate,
}

fn default_retry_after() -> u64 {
    1
}

/// A fault rule.
///
/// ```
/// use fieldsync_provider::{Endpoint, Fault, FaultKind};
/// let rule = Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1);
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json, serde_json::json!({"endpoint": "uploadPictures", "kind": "dropAfter", "times": 1}));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// The endpoint it applies to; `None` means every wire endpoint.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// What it does.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it applies to before clearing itself; `None` means until cleared. When listing
    /// active faults, this is the remaining count.
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on one endpoint, until cleared.
    pub fn new(endpoint: Endpoint, kind: FaultKind) -> Self {
        Self {
            endpoint: Some(endpoint),
            kind,
            times: None,
        }
    }

    /// A fault on every wire endpoint, until cleared.
    pub fn everywhere(kind: FaultKind) -> Self {
        Self {
            endpoint: None,
            kind,
            times: None,
        }
    }

    /// Limits the fault to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    fn matches(&self, endpoint: Endpoint) -> bool {
        self.endpoint.is_none_or(|e| e == endpoint)
    }
}

/// What the middleware must do for one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) latency_ms: u64,
    pub(crate) action: Option<FaultKind>,
}

/// The active fault rules of an instance.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Mutex<Vec<Fault>>,
}

impl FaultTable {
    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a rule after the existing ones.
    pub(crate) fn add(&self, fault: Fault) -> Result<(), ProviderError> {
        if fault.times == Some(0) {
            return Err(ProviderError::invalid(
                "times must be at least 1 (omit it for a lasting fault)",
            ));
        }
        self.rules().push(fault);
        Ok(())
    }

    /// Removes the rules of one endpoint (`Some`) or every rule (`None`).
    pub(crate) fn clear(&self, endpoint: Option<Endpoint>) {
        match endpoint {
            Some(endpoint) => self.rules().retain(|rule| rule.endpoint != Some(endpoint)),
            None => self.rules().clear(),
        }
    }

    /// The active rules, with their remaining counts.
    pub(crate) fn list(&self) -> Vec<Fault> {
        self.rules().clone()
    }

    /// Consumes the rules that apply to one request to `endpoint`.
    pub(crate) fn take(&self, endpoint: Endpoint) -> Plan {
        let mut rules = self.rules();
        let mut plan = Plan::default();
        for rule in rules.iter_mut().filter(|rule| rule.matches(endpoint)) {
            match rule.kind {
                FaultKind::Latency { ms } => plan.latency_ms = plan.latency_ms.saturating_add(ms),
                kind if plan.action.is_none() => plan.action = Some(kind),
                _ => continue,
            }
            rule.times = rule.times.map(|n| n.saturating_sub(1));
        }
        rules.retain(|rule| rule.times != Some(0));
        plan
    }
}

/// Middleware state: the instance and the endpoint the route serves.
pub(crate) type FaultContext = (ProviderState, Endpoint);

/// The fault middleware in front of each wire endpoint.
pub(crate) async fn inject(
    State((state, endpoint)): State<FaultContext>,
    req: Request,
    next: Next,
) -> Response {
    let plan = state.faults().take(endpoint);
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    let Some(action) = plan.action else {
        return next.run(req).await;
    };
    tracing::info!(endpoint = endpoint.name(), fault = ?action, "injecting fault");
    let control = req.extensions().get::<ConnControl>().cloned();
    match action {
        FaultKind::Latency { .. } => next.run(req).await,
        // The HTTP error faults read the request (like a real server) but do not process it.
        FaultKind::Http500 => {
            drain(req.into_body()).await;
            reply::failure(
                endpoint,
                StatusCode::INTERNAL_SERVER_ERROR,
                "injected fault: internal server error",
            )
        }
        FaultKind::Http503 { retry_after } => {
            drain(req.into_body()).await;
            let mut response = reply::failure(
                endpoint,
                StatusCode::SERVICE_UNAVAILABLE,
                "injected fault: service unavailable",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        FaultKind::Http401 => {
            drain(req.into_body()).await;
            reply::failure(endpoint, StatusCode::UNAUTHORIZED, "injected fault: unauthorized")
        }
        FaultKind::DropBefore => {
            drop(req);
            drop_connection(control).await
        }
        FaultKind::DropAfter => {
            let response = next.run(req).await;
            // The handler has done its work (an upload is stored); a streamed body is simply dropped.
            drop(response);
            drop_connection(control).await
        }
        FaultKind::Truncate => truncate(next.run(req).await).await,
    }
}

/// Closes the request's connection without a response. Never returns when the connection is under the
/// emulator's control (the connection task drops this future with the socket).
async fn drop_connection(control: Option<ConnControl>) -> Response {
    match control {
        Some(control) => {
            control.kill();
            std::future::pending::<Response>().await
        }
        // Not served by our connection loop: the best we can do is a body that fails at once, which makes
        // hyper abort the connection.
        None => {
            let (tx, rx) = mpsc::channel(1);
            let _ = tx.try_send(Err(io::Error::other("injected fault: dropped connection")));
            Response::new(Body::new(ChunkBody::new(rx)))
        }
    }
}

/// Sends the headers of `response` with its full length, half of its body, then aborts.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let sent: Bytes = bytes.slice(..bytes.len() / 2);
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        if !sent.is_empty() && tx.send(Ok(sent)).await.is_err() {
            return;
        }
        // Give hyper time to flush the partial body before the error aborts the connection.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = tx
            .send(Err(io::Error::other("injected fault: truncated body")))
            .await;
    });
    Response::from_parts(parts, Body::new(ChunkBody::new(rx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_and_clear_themselves() {
        let table = FaultTable::default();
        table
            .add(Fault::new(Endpoint::Status, FaultKind::Http503 { retry_after: 2 }).times(2))
            .unwrap();
        table
            .add(Fault::new(Endpoint::Status, FaultKind::DropBefore).times(1))
            .unwrap();
        table
            .add(Fault::everywhere(FaultKind::Latency { ms: 5 }).times(1))
            .unwrap();
        let first = table.take(Endpoint::Status);
        assert_eq!(
            first,
            Plan {
                latency_ms: 5,
                action: Some(FaultKind::Http503 { retry_after: 2 })
            }
        );
        assert_eq!(table.take(Endpoint::Validate), Plan::default());
        assert_eq!(
            table.take(Endpoint::Status).action,
            Some(FaultKind::Http503 { retry_after: 2 })
        );
        assert_eq!(table.take(Endpoint::Status).action, Some(FaultKind::DropBefore));
        assert_eq!(table.take(Endpoint::Status), Plan::default());
        assert!(table.list().is_empty());
    }

    #[test]
    fn zero_times_is_refused_and_json_shape_is_stable() {
        let table = FaultTable::default();
        assert!(
            table
                .add(Fault::new(Endpoint::Push, FaultKind::Http500).times(0))
                .is_err()
        );
        let parsed: Fault =
            serde_json::from_str(r#"{"endpoint":"getWorkOrders","kind":"http503","retryAfter":7}"#).unwrap();
        assert_eq!(
            parsed,
            Fault::new(Endpoint::GetWorkOrders, FaultKind::Http503 { retry_after: 7 })
        );
        let parsed: Fault = serde_json::from_str(r#"{"kind":"latency","ms":250,"times":3}"#).unwrap();
        assert_eq!(parsed, Fault::everywhere(FaultKind::Latency { ms: 250 }).times(3));
    }
}
