//! Running the emulator: in a background thread ([`start`]), in your own runtime ([`serve`]), or in the
//! foreground until Ctrl-C ([`serve_blocking`]).

pub(crate) mod conn;

use std::future::Future;
use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::admin::{self, Admin};
use crate::config::ProviderConfig;
use crate::error::ProviderError;
use crate::seed;
use crate::state::ProviderState;
use crate::wire;

/// The whole application: wire routes, push key URL and admin API.
fn app(state: ProviderState) -> Router {
    Router::new()
        .merge(wire::routes(&state))
        .nest("/admin", admin::http::routes())
        .fallback(|| async {
            wire::reply::json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "no such route"}),
            )
        })
        .with_state(state)
}

/// Serves the emulator on `listener` until the process ends.
pub async fn serve(listener: TcpListener, state: ProviderState) -> Result<(), ProviderError> {
    serve_with_shutdown(listener, state, std::future::pending()).await
}

/// Serves the emulator on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// (for a few seconds at most) and returns.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    state: ProviderState,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProviderError> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "fieldsync-provider listening");
    conn::accept_loop(listener, app(state), shutdown).await;
    tracing::info!(%addr, "fieldsync-provider stopped");
    Ok(())
}

fn check_addr(config: &ProviderConfig) -> Result<(), ProviderError> {
    if config.addr.ip().is_loopback() || config.allow_non_loopback {
        Ok(())
    } else {
        Err(ProviderError::NonLoopback(config.addr))
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ProviderError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("fieldsync-provider")
        .enable_all()
        .build()?)
}

fn urls(addr: SocketAddr) -> (String, String) {
    let root = format!("http://{addr}");
    (format!("{root}/api/v2"), root)
}

/// An emulator running on its own thread and tokio runtime. Dropping it stops it (like [`Self::stop`]).
#[derive(Debug)]
pub struct RunningProvider {
    addr: SocketAddr,
    state: ProviderState,
    admin: Admin,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), ProviderError>>>,
}

/// Starts an emulator on a background thread with its own tokio runtime, and returns once it is
/// listening. Usable from synchronous code (tests, the CLI).
///
/// Refuses a non-loopback address unless `config.allow_non_loopback` is set.
pub fn start(config: ProviderConfig) -> Result<RunningProvider, ProviderError> {
    check_addr(&config)?;
    let state = ProviderState::open(&config)?;
    let listener = std::net::TcpListener::bind(config.addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = runtime()?;
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let thread_state = state.clone();
    let thread = std::thread::Builder::new()
        .name("fieldsync-provider".to_owned())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = TcpListener::from_std(listener)?;
                serve_with_shutdown(listener, thread_state, async {
                    let _ = shutdown_rx.await;
                })
                .await
            });
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            result
        })?;
    Ok(RunningProvider {
        addr,
        admin: state.admin(),
        state,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

impl RunningProvider {
    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The wire base URL, `http://127.0.0.1:PORT/api/v2`; services are `POST {base_url}/{service}`.
    pub fn base_url(&self) -> String {
        urls(self.addr).0
    }

    /// The root URL, `http://127.0.0.1:PORT` (push key URL `{root}/push/{key}`, admin API `{root}/admin`).
    pub fn root_url(&self) -> String {
        urls(self.addr).1
    }

    /// The push key URL for a key: `{root}/push/{key}`.
    pub fn push_url(&self, push_key: &str) -> String {
        format!("{}/push/{push_key}", self.root_url())
    }

    /// The in-process admin API.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// The shared state (to host a second server on the same data, for example).
    pub fn state(&self) -> &ProviderState {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish (a few seconds at most) and joins the
    /// server thread.
    pub fn stop(mut self) -> Result<(), ProviderError> {
        self.shutdown_and_join()
    }

    fn shutdown_and_join(&mut self) -> Result<(), ProviderError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| ProviderError::Thread("server thread panicked".to_owned()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningProvider {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown_and_join() {
            tracing::warn!(error = %err, "emulator did not stop cleanly");
        }
    }
}

/// A future that resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM. The handlers are registered before it
/// returns, so a signal that arrives right after startup is not lost.
fn stop_signal() -> Result<impl Future<Output = ()>, ProviderError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// Runs an emulator in the foreground until Ctrl-C (or SIGTERM), printing its base URL (and the demo credentials
/// when `config.seed_demo` is set). This is what `fieldsync provider serve` and the
/// `fieldsync-provider` binary call.
pub fn serve_blocking(config: ProviderConfig) -> Result<(), ProviderError> {
    check_addr(&config)?;
    let state = ProviderState::open(&config)?;
    let runtime = runtime()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(config.addr).await?;
        let (base, root) = urls(listener.local_addr()?);
        println!("fieldsync-provider: wire base URL {base}");
        println!("fieldsync-provider: admin API {root}/admin (health: {root}/admin/health)");
        if config.seed_demo {
            println!(
                "fieldsync-provider: demo login {} / {} / token {}",
                seed::DEMO_USER,
                seed::DEMO_PASSWORD,
                seed::DEMO_TOKEN
            );
        }
        match &config.db_path {
            Some(path) => println!("fieldsync-provider: database {}", path.display()),
            None => println!("fieldsync-provider: temporary database (deleted on exit)"),
        }
        let stop = stop_signal()?;
        println!("fieldsync-provider: press Ctrl-C to stop");
        serve_with_shutdown(listener, state, stop).await
    })
}
