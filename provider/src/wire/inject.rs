//! The fault middleware in front of each wire endpoint: it consumes the matching rules of the instance's
//! fault table (see [`crate::faults`]) and carries out the chosen fault.
//!
//! Dropped connections are real: the emulator serves each TCP connection itself (see
//! [`crate::server::conn`]) and a drop makes that connection's task return, which closes the socket
//! without a (complete) HTTP response. A truncated body sends valid headers whose `Content-Length` is
//! larger than what follows, then aborts the connection. A trickled body is fed by a task that stops as
//! soon as hyper drops the body (the client went away) or the server starts stopping.
//!
//! Every request body is counted on its way to the handler (see [`crate::traffic`]); a slow body is let
//! through at its pace (see [`super::metered`]).

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::body::{ChunkBody, drain};
use super::metered::{BodyPace, MeteredBody};
use super::reply;
use super::work_orders::ServerTimeOverride;
use crate::fault_table::TrickleGuard;
use crate::faults::{Endpoint, FaultKind, FaultText};
use crate::server::conn::ConnControl;
use crate::state::ProviderState;

/// Middleware state: the instance and the endpoint the route serves.
pub(crate) type FaultContext = (ProviderState, Endpoint);

/// The fault middleware in front of each wire endpoint.
pub(crate) async fn inject(
    State((state, endpoint)): State<FaultContext>,
    req: Request,
    next: Next,
) -> Response {
    let plan = state.faults().take(endpoint);
    let control = req.extensions().get::<ConnControl>().cloned();
    // Every request body is counted (GET /admin/traffic); a slowBody fault also paces it.
    let pace = match plan.action {
        Some(FaultKind::SlowBody { bytes, every_ms }) => Some(BodyPace {
            piece: usize::try_from(bytes).unwrap_or(usize::MAX),
            every: Duration::from_millis(every_ms),
        }),
        _ => None,
    };
    let ticket = state.traffic().started(endpoint);
    let read_ahead_limit = state.body_limit();
    let req = req.map(|body| {
        Body::new(MeteredBody::new(
            body,
            ticket,
            control.clone(),
            pace,
            read_ahead_limit,
        ))
    });
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    let Some(action) = plan.action else {
        return next.run(req).await;
    };
    tracing::info!(endpoint = endpoint.name(), fault = ?action, "injecting fault");
    match action {
        // The handler reads the paced body before it processes anything.
        FaultKind::Latency { .. } | FaultKind::SlowBody { .. } => next.run(req).await,
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
        FaultKind::Redirect { status, location } => {
            drain(req.into_body()).await;
            let mut response = reply::failure(endpoint, status_code(status), "injected fault: moved");
            insert_raw(&mut response, header::LOCATION, location);
            response
        }
        FaultKind::RetryAfter { status, retry_after } => {
            drain(req.into_body()).await;
            let mut response = reply::failure(
                endpoint,
                status_code(status),
                "injected fault: service unavailable",
            );
            insert_raw(&mut response, header::RETRY_AFTER, retry_after);
            response
        }
        FaultKind::ExactBody {
            status,
            headers,
            body,
        } => {
            drain(req.into_body()).await;
            let mut response = Response::new(Body::from(body.as_str()));
            *response.status_mut() = status_code(status);
            for (name, value) in headers.iter() {
                // Checked when the rule was added; `append` keeps a repeated name repeated.
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_bytes(value.as_bytes()),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        FaultKind::ServerTime { server_time } => {
            let mut req = req;
            req.extensions_mut().insert(ServerTimeOverride(server_time));
            next.run(req).await
        }
        FaultKind::Trickle {
            bytes,
            every_ms,
            body,
        } => {
            let response = match body {
                Some(body) => {
                    drain(req.into_body()).await;
                    let mut response = Response::new(Body::from(body.as_str()));
                    response
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    response
                }
                None => next.run(req).await,
            };
            let pace = Pace {
                piece: usize::try_from(bytes).unwrap_or(usize::MAX),
                every: Duration::from_millis(every_ms),
            };
            trickle(response, pace, state.faults().trickle_started(), control).await
        }
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

/// A status checked when the rule was added (see `fault_table`); 500 should that ever not hold.
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Sets a header to a raw value checked when the rule was added.
fn insert_raw(response: &mut Response, name: HeaderName, value: FaultText) {
    if let Ok(value) = HeaderValue::from_bytes(value.as_str().as_bytes()) {
        response.headers_mut().insert(name, value);
    }
}

/// How fast a trickle goes: `piece` bytes every `every`.
#[derive(Debug, Clone, Copy)]
struct Pace {
    piece: usize,
    every: Duration,
}

/// Sends the headers of `response` with its full length at once, then its body at `pace`.
///
/// The body is fed by a task that ends when everything is sent, when hyper drops the body (the client
/// disconnected: hyper's next write failed and the connection task ended), or when the server starts
/// stopping (the body is then aborted, which closes the connection, so the shutdown is not held for the
/// whole drain timeout). `guard` counts the task while it runs.
async fn trickle(
    response: Response,
    pace: Pace,
    guard: TrickleGuard,
    control: Option<ConnControl>,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let _counted = guard;
        let stopping = async {
            match &control {
                Some(control) => control.server_stopping().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stopping);
        let mut sent = 0;
        while sent < bytes.len() {
            let end = sent.saturating_add(pace.piece).min(bytes.len());
            let piece = bytes.slice(sent..end);
            tokio::select! {
                () = tokio::time::sleep(pace.every) => {}
                () = tx.closed() => return,
                () = &mut stopping => break,
            }
            tokio::select! {
                sent_ok = tx.send(Ok(piece)) => if sent_ok.is_err() { return },
                () = &mut stopping => break,
            }
            sent = end;
        }
        if sent < bytes.len() {
            // Stopping: an error frame makes hyper abort the connection now.
            let _ = tx.try_send(Err(io::Error::other("server stopping during a trickle")));
        }
    });
    Response::from_parts(parts, Body::new(ChunkBody::new(rx)))
}
