//! Delivers events to the host's listener from one dedicated thread, coalescing bursts.
//!
//! Producers (sync runs on worker threads, the auto-import loop) never call the host directly: they queue
//! events here and return. The delivery thread takes everything queued, keeps only the latest status of each
//! integration, and calls the listener in order.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use crate::foreign::EventListener;
use crate::records::FieldSyncEvent;

/// The queue to the delivery thread; dropping it ends the thread after the last delivery.
pub(crate) struct EventHub {
    sender: Option<Sender<FieldSyncEvent>>,
    thread: Option<JoinHandle<()>>,
}

impl EventHub {
    pub(crate) fn new(listener: Option<Arc<dyn EventListener>>) -> Self {
        let Some(listener) = listener else {
            return Self {
                sender: None,
                thread: None,
            };
        };
        let (sender, receiver) = channel();
        let thread = std::thread::Builder::new()
            .name("fieldsync-events".into())
            .spawn(move || deliver(&receiver, listener.as_ref()))
            .ok();
        Self {
            sender: Some(sender),
            thread,
        }
    }

    pub(crate) fn sender(&self) -> Option<Sender<FieldSyncEvent>> {
        self.sender.clone()
    }

    /// Delivers what is queued and stops the thread.
    pub(crate) fn close(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the event listener panicked");
        }
    }
}

impl Drop for EventHub {
    fn drop(&mut self) {
        self.close();
    }
}

fn deliver(receiver: &Receiver<FieldSyncEvent>, listener: &dyn EventListener) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        batch.extend(receiver.try_iter());
        for event in coalesce(batch) {
            listener.on_event(event);
        }
    }
}

/// Keeps every event in order, except that a status is dropped when a later status of the same
/// integration is in the batch.
pub(crate) fn coalesce(batch: Vec<FieldSyncEvent>) -> Vec<FieldSyncEvent> {
    let is_superseded = |index: usize, code: &str| {
        batch[index + 1..]
            .iter()
            .any(|later| matches!(later, FieldSyncEvent::IntegrationStatus { code: c, .. } if c == code))
    };
    batch
        .iter()
        .enumerate()
        .filter(|(index, event)| match event {
            FieldSyncEvent::IntegrationStatus { code, .. } => !is_superseded(*index, code),
            _ => true,
        })
        .map(|(_, event)| event.clone())
        .collect()
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
