//! Forwards the library's `tracing` output to the host's [`Logger`] (Logcat, OSLog, Python logging).

use std::fmt::Write;
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::foreign::{LogLevel, Logger};

static INSTALLED: OnceLock<()> = OnceLock::new();

/// The host's logger. Every log call holds the read lock while it calls the host, so that
/// [`detach_logger`] can wait for the calls in progress and stop the later ones.
static LOGGER: RwLock<Option<Arc<dyn Logger>>> = RwLock::new(None);

/// Sends the library's logs at `level` and above to `logger`. The level is set once per process (the
/// global subscriber cannot be replaced); the logger is the first one given, or the next one given after
/// `shutdown_all()` detached it.
#[uniffi::export]
pub fn init_logging(logger: Arc<dyn Logger>, level: LogLevel) {
    {
        let mut slot = LOGGER.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            *slot = Some(logger);
        }
    }
    INSTALLED.get_or_init(|| {
        let filter = match level {
            LogLevel::Error => tracing::level_filters::LevelFilter::ERROR,
            LogLevel::Warn => tracing::level_filters::LevelFilter::WARN,
            LogLevel::Info => tracing::level_filters::LevelFilter::INFO,
            LogLevel::Debug => tracing::level_filters::LevelFilter::DEBUG,
        };
        let layer = HostLayer;
        if tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .try_init()
            .is_err()
        {
            // Another subscriber (the host's own Rust code) is installed: keep it.
        }
    });
}

/// Stops forwarding logs to the host: waits for the log calls in progress, and drops later lines (any
/// thread may log: the network runtime's too, which is never joined).
pub(crate) fn detach_logger() {
    let detached = LOGGER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    // Released here, on the host's thread, not by a library thread.
    drop(detached);
}

struct HostLayer;

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for HostLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _context: Context<'_, S>) {
        let metadata = event.metadata();
        let level = match *metadata.level() {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            _ => LogLevel::Debug,
        };
        let Ok(logger) = LOGGER.read() else { return };
        let Some(logger) = logger.as_ref() else { return };
        let mut message = Message(String::new());
        event.record(&mut message);
        logger.log(level, metadata.target().to_owned(), message.0);
    }
}
