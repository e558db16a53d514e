//! A response body fed chunk by chunk through a channel (used to stream `getWorkOrders` and to abort
//! a response midway for fault injection).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::Frame;
use tokio::sync::mpsc;

/// A body whose chunks arrive on a channel. An `Err` chunk aborts the response (hyper closes the
/// connection); the end of the channel ends the body.
#[derive(Debug)]
pub(crate) struct ChunkBody {
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
}

impl ChunkBody {
    /// A body reading from `rx`.
    pub(crate) fn new(rx: mpsc::Receiver<Result<Bytes, io::Error>>) -> Self {
        Self { rx }
    }
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|result| result.map(Frame::data)))
    }
}

/// Reads and discards a request body, so that an early answer does not leave unread bytes behind (the
/// connection would then be closed under a client still sending, which it may report instead of the
/// answer). Errors just end the drain.
pub(crate) async fn drain(mut body: axum::body::Body) {
    use http_body::Body as _;
    while let Some(Ok(_)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {}
}
