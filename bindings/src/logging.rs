//! Forwards the library's `tracing` output to the host's [`Logger`] (Logcat, OSLog, Python logging).

use std::fmt::Write;
use std::sync::{Arc, OnceLock};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::foreign::{LogLevel, Logger};

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Sends the library's logs at `level` and above to `logger`. Effective once per process (the first call
/// wins: the global subscriber cannot be replaced).
#[uniffi::export]
pub fn init_logging(logger: Arc<dyn Logger>, level: LogLevel) {
    INSTALLED.get_or_init(|| {
        let filter = match level {
            LogLevel::Error => tracing::level_filters::LevelFilter::ERROR,
            LogLevel::Warn => tracing::level_filters::LevelFilter::WARN,
            LogLevel::Info => tracing::level_filters::LevelFilter::INFO,
            LogLevel::Debug => tracing::level_filters::LevelFilter::DEBUG,
        };
        let layer = HostLayer { logger };
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

struct HostLayer {
    logger: Arc<dyn Logger>,
}

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
        let mut message = Message(String::new());
        event.record(&mut message);
        self.logger.log(level, metadata.target().to_owned(), message.0);
    }
}
