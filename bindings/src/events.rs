//! Delivers events to the host's listener from one dedicated thread, coalescing bursts.
//!
//! Producers (sync runs on worker threads, the auto-import loop) never call the host directly: they queue
//! events here and return. The delivery thread takes everything queued, keeps only the latest status of each
//! integration and the latest upload progress of each photo, and calls the listener in order.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use crate::foreign::EventListener;
use crate::records::FieldSyncEvent;

/// What the delivery thread receives.
pub(crate) enum Message {
    /// An event for the listener.
    Event(FieldSyncEvent),
    /// Deliver what came before, then stop (other senders may still exist: the engine keeps one).
    Stop,
}

/// A producer's handle on the queue.
#[derive(Clone)]
pub(crate) struct EventSender(Sender<Message>);

impl EventSender {
    /// Queues an event; silently dropped once the hub is closed.
    pub(crate) fn send(&self, event: FieldSyncEvent) {
        let _ = self.0.send(Message::Event(event));
    }
}

/// The queue to the delivery thread.
pub(crate) struct EventHub {
    sender: Option<Sender<Message>>,
    thread: Option<JoinHandle<()>>,
    /// The hub's own reference to the listener, released by whoever closes the hub (which holds the host
    /// runtime's lock, e.g. Python's GIL), never by the delivery thread: a foreign object freed from that
    /// thread while the host shuts down (Python finalizing) would kill the process.
    listener: Option<Arc<dyn EventListener>>,
}

impl EventHub {
    pub(crate) fn new(listener: Option<Arc<dyn EventListener>>) -> Self {
        let Some(listener) = listener else {
            return Self {
                sender: None,
                thread: None,
                listener: None,
            };
        };
        let (sender, receiver) = channel();
        let delivering = listener.clone();
        let thread = std::thread::Builder::new()
            .name("fieldsync-events".into())
            .spawn(move || deliver(&receiver, delivering.as_ref()))
            .ok();
        Self {
            sender: Some(sender),
            thread,
            listener: Some(listener),
        }
    }

    pub(crate) fn sender(&self) -> Option<EventSender> {
        self.sender.clone().map(EventSender)
    }

    /// Delivers what is queued and stops the thread.
    pub(crate) fn close(&mut self) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Message::Stop);
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the event listener panicked");
        }
        self.listener = None;
    }
}

impl Drop for EventHub {
    fn drop(&mut self) {
        self.close();
    }
}

fn deliver(receiver: &Receiver<Message>, listener: &dyn EventListener) {
    while let Ok(first) = receiver.recv() {
        let mut stop = false;
        let mut batch = Vec::new();
        for message in std::iter::once(first).chain(receiver.try_iter()) {
            match message {
                Message::Event(event) if !stop => batch.push(event),
                Message::Event(_) => {}
                Message::Stop => stop = true,
            }
        }
        for event in coalesce(batch) {
            // A host listener that throws must not end delivery for good: uniffi turns the failure into a
            // panic, which is caught here, logged, and the next events still go out.
            let delivered =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener.on_event(event)));
            if delivered.is_err() {
                tracing::error!("the host's event listener failed; later events are still delivered");
            }
        }
        if stop {
            return;
        }
    }
}

/// Keeps every event in order, except that a status is dropped when a later status of the same
/// integration is in the batch, and an upload progress when a later progress of the same photo is.
pub(crate) fn coalesce(batch: Vec<FieldSyncEvent>) -> Vec<FieldSyncEvent> {
    let mut statuses = std::collections::HashSet::new();
    let mut uploads = std::collections::HashSet::new();
    // From the end: the first of each key met is the latest, later ones (earlier in time) are dropped.
    let mut kept: Vec<FieldSyncEvent> = batch
        .into_iter()
        .rev()
        .filter(|event| match event {
            FieldSyncEvent::IntegrationStatus { code, .. } => statuses.insert(code.clone()),
            FieldSyncEvent::UploadProgress { uuid, .. } => uploads.insert(uuid.clone()),
            _ => true,
        })
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::IntegrationStatus;

    fn status(code: &str, status: IntegrationStatus) -> FieldSyncEvent {
        FieldSyncEvent::IntegrationStatus {
            code: code.into(),
            status,
            last_error: None,
        }
    }

    fn progress(uuid: &str, sent: u64, overall: u64) -> FieldSyncEvent {
        FieldSyncEvent::UploadProgress {
            uuid: uuid.into(),
            bytes_sent: sent,
            bytes_total: 100,
            overall_sent: overall,
            overall_total: 200,
        }
    }

    #[test]
    fn only_the_latest_progress_of_each_photo_survives_a_burst() {
        let started = FieldSyncEvent::UploadStarted {
            uuid: "b".into(),
            bytes: 100,
        };
        let batch = vec![
            progress("a", 0, 0),
            progress("a", 50, 50),
            started.clone(),
            progress("b", 0, 50),
            progress("a", 100, 100),
            progress("b", 30, 130),
        ];
        assert_eq!(
            coalesce(batch),
            vec![started, progress("a", 100, 100), progress("b", 30, 130)]
        );
    }

    #[test]
    fn only_the_latest_status_of_each_integration_survives_a_burst() {
        let finished = FieldSyncEvent::ImportFinished {
            code: "A".into(),
            created: 1,
            updated: 0,
            cancelled: 0,
            deleted: 0,
            removed: 0,
            rejected: 0,
        };
        let batch = vec![
            status("A", IntegrationStatus::Pending),
            status("B", IntegrationStatus::Running),
            status("A", IntegrationStatus::Running),
            finished.clone(),
            status("A", IntegrationStatus::Idle),
        ];
        assert_eq!(
            coalesce(batch),
            vec![
                status("B", IntegrationStatus::Running),
                finished,
                status("A", IntegrationStatus::Idle)
            ]
        );
    }
}
