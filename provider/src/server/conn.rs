//! The accept loop: each TCP connection is served by hyper directly, so that a fault can close it.
//!
//! `axum::serve` owns its connections and gives a handler no way to drop one. Here every connection gets
//! a [`ConnControl`] in its requests' extensions; [`ConnControl::kill`] makes the connection's task stop
//! polling and drop the hyper connection together with its socket: the client sees the connection close
//! (FIN, or RST when unread request bytes remain) with no HTTP response at all.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How long a shutdown waits for in-flight requests before closing their connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on the connection a request arrived on.
#[derive(Debug, Clone)]
pub(crate) struct ConnControl {
    kill: Arc<Notify>,
    stop: watch::Receiver<bool>,
    /// Set when hyper ended the connection on its own (the client closed or reset it), just before the
    /// requests still in progress on it are dropped.
    ended: Arc<AtomicBool>,
}

impl ConnControl {
    fn new(stop: watch::Receiver<bool>) -> Self {
        Self {
            kill: Arc::default(),
            stop,
            ended: Arc::default(),
        }
    }

    /// Resolves once the server is stopping (or gone). A response that would otherwise go on for long
    /// (a trickle) ends early on it, so that stopping does not wait for the whole drain timeout.
    pub(crate) async fn server_stopping(&self) {
        let mut stop = self.stop.clone();
        // An error means the accept loop is gone: stopping as well.
        let _ = stop.wait_for(|stopping| *stopping).await;
    }

    /// Closes the connection now, without sending anything more.
    pub(crate) fn kill(&self) {
        self.kill.notify_one();
    }

    /// Whether the connection ended under its requests because of the client (it closed or reset the
    /// connection), not because of a fault or the server stopping. A request dropped while this is set was
    /// abandoned by its client.
    pub(crate) fn client_left(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    async fn killed(&self) {
        self.kill.notified().await;
    }
}

/// The hyper service of one connection: the app router, with the connection's control added to each
/// request.
#[derive(Clone)]
struct ConnService {
    router: Router,
    control: ConnControl,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as tower_service::Service<Request<Incoming>>>::Future;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.control.clone());
        let mut router = self.router.clone();
        tower_service::Service::call(&mut router, req)
    }
}

/// Accepts connections until `shutdown` resolves, then lets in-flight requests finish (up to
/// [`DRAIN_TIMEOUT`]) and closes every connection.
pub(crate) async fn accept_loop(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, router.clone(), stop_rx.clone()));
                }
                Err(err) => {
                    // Typically EMFILE: back off a little instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("closing connections still busy after the drain timeout");
        connections.shutdown().await;
    }
}

async fn serve_connection(stream: TcpStream, router: Router, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let control = ConnControl::new(stop.clone());
    let service = ConnService {
        router,
        control: control.clone(),
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // No header timeout: hyper would also apply it to idle keep-alive connections and close them
        // after 30 s, racing with a client reusing the connection. Loopback only, so no slowloris risk.
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                // hyper ends a connection under a busy request when the client closes it (an
                // unexpected EOF); the request is dropped with the connection, just below.
                control.ended.store(true, Ordering::SeqCst);
                break;
            }
            () = control.killed() => {
                tracing::debug!("connection dropped by an injected fault");
                break;
            }
            _ = stop.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
