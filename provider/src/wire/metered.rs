//! The request body as the endpoints read it: counted (see [`crate::traffic`]) and, under a `slowBody`
//! fault, let through at a pace.
//!
//! A slow body still takes what the client sends off the connection as it arrives (keeping it until the
//! pace lets it through, up to the body limit), for two reasons. On loopback the client's kernel accepts
//! megabytes before the server reads a byte, so reading the socket slowly would not slow a client down for
//! a photo anyway; and a client that gives up (a cancelled upload closes its connection) is only visible
//! after everything it sent before leaving has been read: reading it promptly is what lets the server
//! notice the departure at once. Either hyper's body then fails (the client left mid-body), or, when
//! the whole body had arrived, hyper sees the end of the connection under the busy request and ends the
//! connection, which drops the request before it is processed.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Body as _, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::server::conn::ConnControl;
use crate::traffic::BodyTicket;

/// How fast a slow body is read: `piece` bytes every `every`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyPace {
    pub(crate) piece: usize,
    pub(crate) every: Duration,
}

/// A request body that counts what is read of it.
pub(crate) struct MeteredBody {
    inner: Body,
    ticket: BodyTicket,
    control: Option<ConnControl>,
    slow: Option<Slow>,
}

/// The state of a slow read.
struct Slow {
    pace: BodyPace,
    /// Received from the client, not yet let through.
    ahead: VecDeque<Bytes>,
    ahead_len: usize,
    /// Reading ahead stops past this many bytes (the request will be refused as too large anyway).
    read_ahead_limit: usize,
    /// The client's body has been received to its end.
    received_all: bool,
    /// The next piece is let through when this fires (created at the first read).
    tick: Option<Pin<Box<Sleep>>>,
    /// Resolves when the server starts stopping: the read then ends at once instead of holding the
    /// shutdown for its drain timeout.
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl MeteredBody {
    /// Counts `inner` on `ticket`; with `pace`, lets it through at that pace.
    pub(crate) fn new(
        inner: Body,
        ticket: BodyTicket,
        control: Option<ConnControl>,
        pace: Option<BodyPace>,
        read_ahead_limit: usize,
    ) -> Self {
        let slow = pace.map(|pace| {
            let stop = control.clone();
            Slow {
                pace,
                ahead: VecDeque::new(),
                ahead_len: 0,
                read_ahead_limit,
                received_all: false,
                tick: None,
                stopping: Box::pin(async move {
                    match stop {
                        Some(control) => control.server_stopping().await,
                        None => std::future::pending().await,
                    }
                }),
            }
        });
        Self {
            inner,
            ticket,
            control,
            slow,
        }
    }
}

/// Whether a body error means that the client went away (the connection closed or was reset before the
/// body's end), rather than a malformed body.
fn client_went_away(err: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = cause {
        if let Some(hyper_error) = error.downcast_ref::<hyper::Error>()
            && (hyper_error.is_incomplete_message() || hyper_error.is_closed())
        {
            return true;
        }
        if let Some(io_error) = error.downcast_ref::<io::Error>() {
            return matches!(
                io_error.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            );
        }
        cause = error.source();
    }
    false
}

type PollFrame = Poll<Option<Result<Frame<Bytes>, axum::Error>>>;

/// Reads the body as it comes, counting its bytes.
fn poll_direct(inner: &mut Body, ticket: &mut BodyTicket, cx: &mut Context<'_>) -> PollFrame {
    match ready!(Pin::new(inner).poll_frame(cx)) {
        Some(Ok(frame)) => {
            if let Some(data) = frame.data_ref() {
                ticket.received(data.len());
            }
            Poll::Ready(Some(Ok(frame)))
        }
        Some(Err(err)) => {
            ticket.finish(client_went_away(&err));
            Poll::Ready(Some(Err(err)))
        }
        None => {
            ticket.finish(false);
            Poll::Ready(None)
        }
    }
}

/// Receives what has arrived, then lets at most one piece through per tick, counting it.
fn poll_slow(inner: &mut Body, ticket: &mut BodyTicket, slow: &mut Slow, cx: &mut Context<'_>) -> PollFrame {
    if slow.stopping.as_mut().poll(cx).is_ready() {
        ticket.finish(false);
        return Poll::Ready(Some(Err(axum::Error::new(io::Error::other(
            "server stopping during a slow body read",
        )))));
    }
    while !slow.received_all && slow.ahead_len <= slow.read_ahead_limit {
        match Pin::new(&mut *inner).poll_frame(cx) {
            Poll::Pending => break,
            Poll::Ready(None) => slow.received_all = true,
            // Trailers (a chunked body's) are dropped: no endpoint reads them.
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    slow.ahead_len += data.len();
                    slow.ahead.push_back(data);
                }
            }
            Poll::Ready(Some(Err(err))) => {
                // What was received is not let through: the request is abandoned.
                ticket.finish(client_went_away(&err));
                return Poll::Ready(Some(Err(err)));
            }
        }
    }
    if slow.ahead.is_empty() {
        if slow.received_all {
            ticket.finish(false);
            return Poll::Ready(None);
        }
        return Poll::Pending;
    }
    let every = slow.pace.every;
    let tick = slow
        .tick
        .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
    ready!(tick.as_mut().poll(cx));
    tick.as_mut().reset(Instant::now() + every);
    let mut piece = match slow.ahead.pop_front() {
        Some(chunk) => chunk,
        None => return Poll::Pending, // not empty: checked above
    };
    if piece.len() > slow.pace.piece {
        slow.ahead.push_front(piece.split_off(slow.pace.piece));
    }
    slow.ahead_len -= piece.len();
    ticket.received(piece.len());
    Poll::Ready(Some(Ok(Frame::data(piece))))
}

impl http_body::Body for MeteredBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> PollFrame {
        let this = self.get_mut();
        if !this.ticket.is_open() {
            return Poll::Ready(None);
        }
        match this.slow.as_mut() {
            None => poll_direct(&mut this.inner, &mut this.ticket, cx),
            Some(slow) => poll_slow(&mut this.inner, &mut this.ticket, slow, cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.slow {
            None => !self.ticket.is_open() || self.inner.is_end_stream(),
            Some(slow) => {
                !self.ticket.is_open()
                    || (slow.ahead.is_empty() && (slow.received_all || self.inner.is_end_stream()))
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.inner.size_hint();
        let ahead = self.slow.as_ref().map_or(0, |slow| slow.ahead_len as u64);
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(ahead));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(ahead));
        }
        hint
    }
}

impl Drop for MeteredBody {
    fn drop(&mut self) {
        if !self.ticket.is_open() {
            return;
        }
        // Dropped before its end. The client left if hyper ended the connection under the request (the
        // client closed or reset it); otherwise the server dropped it (a handler that stopped reading, a
        // fault closing the connection).
        let unread = match &self.slow {
            Some(slow) => !slow.ahead.is_empty() || !(slow.received_all || self.inner.is_end_stream()),
            None => !self.inner.is_end_stream(),
        };
        let client_left = self.control.as_ref().is_some_and(ConnControl::client_left);
        self.ticket.finish(unread && client_left);
    }
}
