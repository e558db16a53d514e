//! Auto-import: a background thread that refreshes the integrations with auto import on, on a jittered
//! interval, backing off after failures, paused while offline and after an authentication failure (until
//! the credentials change). Timing decisions are [`next_delay`]'s; this loop only waits and calls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::Rng;

use super::engine::SyncEngine;
use crate::model::{ImportKind, ImportReport};
use crate::outbox::NetworkState;
use crate::schedule::{AttemptOutcome, Schedule, next_delay};
use crate::{Error, Result};

/// How often the loop looks again at the list of integrations even when nothing is due.
const RESCAN: Duration = Duration::from_secs(30);

/// What the loop tells its host.
#[derive(Debug, Clone)]
pub enum AutoImportEvent {
    /// A refresh succeeded.
    Refreshed {
        /// Integration code.
        code: String,
        /// What it changed.
        report: ImportReport,
    },
    /// A refresh failed; the next attempt is `retry_in` from now, or never until the credentials change.
    Failed {
        /// Integration code.
        code: String,
        /// Why.
        error: String,
        /// When it tries again.
        retry_in: Option<Duration>,
    },
}

#[derive(Debug, Default)]
struct Control {
    stopped: Mutex<bool>,
    wake: Condvar,
    offline: AtomicBool,
}

/// The running loop. Dropping it stops the loop and waits for it.
#[derive(Debug)]
pub struct AutoImportHandle {
    control: Arc<Control>,
    thread: Option<JoinHandle<()>>,
}

impl AutoImportHandle {
    /// Tells the loop whether the device is online; offline, it attempts nothing. The engine's network
    /// ([`SyncEngine::set_network`]) counts too: with none, the loop is offline whatever this says.
    pub fn set_online(&self, online: bool) {
        self.control.offline.store(!online, Ordering::SeqCst);
        self.wake();
    }

    /// Makes the loop look at its integrations now (e.g. after an integration was added or edited).
    pub fn wake(&self) {
        self.control.wake.notify_all();
    }

    /// Stops the loop after the refresh in progress, if any, and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        *self
            .control
            .stopped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        self.control.wake.notify_all();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the auto-import thread panicked");
        }
    }
}

impl Drop for AutoImportHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Per-integration schedule state.
#[derive(Debug)]
struct Entry {
    next_at: Instant,
    failures: u32,
    /// Set after an auth failure: the credentials that failed. Attempts resume when they change.
    paused_on: Option<String>,
}

/// Starts the loop on its own thread; `on_event` is called from that thread.
pub fn spawn_auto_import(
    engine: Arc<SyncEngine>,
    schedule: Schedule,
    mut on_event: impl FnMut(AutoImportEvent) + Send + 'static,
) -> Result<AutoImportHandle> {
    let control = Arc::new(Control::default());
    let thread_control = control.clone();
    let thread = std::thread::Builder::new()
        .name("fieldsync-auto-import".into())
        .spawn(move || run(&engine, &schedule, &thread_control, &mut on_event))
        .map_err(|err| Error::io("auto-import thread", err))?;
    Ok(AutoImportHandle {
        control,
        thread: Some(thread),
    })
}

fn classify(result: &Result<ImportReport>) -> AttemptOutcome {
    match result {
        Ok(_) => AttemptOutcome::Success,
        // The disk may free up: try again later rather than wait a whole interval.
        Err(Error::Storage(_) | Error::Io { .. }) => AttemptOutcome::Transient { retry_after: None },
        Err(err) => match err.class() {
            crate::FailureClass::Auth => AttemptOutcome::Auth,
            crate::FailureClass::Transient(retry_after) => AttemptOutcome::Transient { retry_after },
            // Paused (or cancelled): not the provider's fault; try again soon after the resume.
            crate::FailureClass::Stopped => AttemptOutcome::Transient { retry_after: None },
            crate::FailureClass::Permanent | crate::FailureClass::Other => AttemptOutcome::Permanent,
        },
    }
}

/// `delay` from now, saturating: [`next_delay`] caps its delays, but `Instant` has no fixed range, so an
/// overflow means "as late as we can say" rather than a panic that would end the loop.
fn later(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay)
        .or_else(|| now.checked_add(crate::schedule::MAX_DELAY))
        .unwrap_or(now)
}

fn run(
    engine: &SyncEngine,
    schedule: &Schedule,
    control: &Control,
    on_event: &mut dyn FnMut(AutoImportEvent),
) {
    let mut entries: HashMap<String, Entry> = HashMap::new();
    let mut rng = rand::rng();
    loop {
        if *control
            .stopped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            return;
        }
        let codes: Vec<String> = match engine.store().list_integrations() {
            Ok(list) => list
                .into_iter()
                .filter(|integration| integration.auto_import)
                .map(|i| i.code)
                .collect(),
            Err(err) => {
                tracing::warn!(%err, "auto-import cannot list integrations");
                Vec::new()
            }
        };
        entries.retain(|code, _| codes.contains(code));
        let now = Instant::now();
        for code in &codes {
            entries.entry(code.clone()).or_insert(Entry {
                next_at: now,
                failures: 0,
                paused_on: None,
            });
        }
        // Offline: told so through the handle, or the engine's network is none.
        let offline = control.offline.load(Ordering::SeqCst) || engine.network() == NetworkState::None;
        if !offline {
            for code in &codes {
                let entry = entries.get_mut(code).expect("inserted above");
                if let Some(failed) = &entry.paused_on {
                    if engine.credentials_fingerprint(code).ok().as_ref() == Some(failed) {
                        continue;
                    }
                    entry.paused_on = None;
                    entry.next_at = Instant::now();
                }
                if entry.next_at > Instant::now() {
                    continue;
                }
                let result = engine.refresh(code, ImportKind::Refresh);
                let outcome = classify(&result);
                entry.failures = if outcome == AttemptOutcome::Success {
                    0
                } else {
                    entry.failures + 1
                };
                let delay = next_delay(schedule, outcome, entry.failures, rng.random::<f64>());
                match delay {
                    Some(delay) => entry.next_at = later(delay),
                    None => entry.paused_on = engine.credentials_fingerprint(code).ok(),
                }
                on_event(match result {
                    Ok(report) => AutoImportEvent::Refreshed {
                        code: code.clone(),
                        report,
                    },
                    Err(err) => AutoImportEvent::Failed {
                        code: code.clone(),
                        error: err.to_string(),
                        retry_in: delay,
                    },
                });
            }
        }
        let next_due = entries
            .values()
            .filter(|entry| entry.paused_on.is_none())
            .map(|entry| entry.next_at)
            .min();
        let wait = next_due.map_or(RESCAN, |at| {
            at.saturating_duration_since(Instant::now()).min(RESCAN)
        });
        let stopped = control
            .stopped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *stopped {
            return;
        }
        drop(
            control
                .wake
                .wait_timeout(stopped, wait.max(Duration::from_millis(10))),
        );
    }
}
