//! A photo's lifecycle as one pure function, like the integration status machine: every state change of a
//! photo row goes through [`next_photo_state`], whichever room causes it (ingest, processing, QA, the
//! outbox's delivery records, crash recovery).
//!
//! ```text
//! processing ──processed──▶ pending_qa ──approved──▶ queued ──upload started──▶ uploading ──done──▶ relayed
//!     │        (auto relay: straight to queued)        ▲                          │  ├─ retry ─▶ queued
//!     └─failed─▶ failed ──approved (reprocess/resend)──┘                          │  └─ gave up ─▶ failed
//!                                                                                  └─ run died ─▶ queued
//! any state but relayed ──rejected──▶ rejected (never relayed; wins over a delivery recorded later)
//! relayed ──approved again──▶ queued (republished under the same UUID; the provider keeps one), or
//!          processing when the retention policy deleted its rendition (made again from the original)
//! ```

use super::PhotoState;

/// Where a delivery attempt left a photo's upload (the outbox's view, in the photo's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadResult {
    /// The provider has it.
    Delivered,
    /// It will be tried again.
    WillRetry,
    /// It needs the user's attention.
    GaveUp,
}

/// What happens to a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoEvent {
    /// Processing finished; with auto relay it goes straight to the queue.
    Processed {
        /// The integration relays without QA.
        auto_relay: bool,
    },
    /// Processing failed (the reason is stored beside the state).
    ProcessingFailed,
    /// QA approved (published) it. A photo whose processing failed, or a relayed one whose rendition the
    /// retention policy deleted, is processed again.
    Approved {
        /// The photo has a rendition on disk (processing succeeded before, and retention left it).
        processed: bool,
    },
    /// QA rejected it.
    Rejected,
    /// A delivery run started sending it.
    UploadStarted,
    /// The outbox recorded a delivery attempt.
    DeliveryRecorded(UploadResult),
    /// The run sending it died; its entry is back in the queue.
    UploadAbandoned,
}

/// Why an event does not apply to a photo in its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a photo that is {} cannot be {}", .from.as_str(), .action)]
pub struct PhotoTransitionRefused {
    /// Where the photo is.
    pub from: PhotoState,
    /// What was asked, as a verb (`approved`, `rejected`, ...).
    pub action: &'static str,
}

impl PhotoEvent {
    fn action(self) -> &'static str {
        match self {
            Self::Processed { .. } => "processed",
            Self::ProcessingFailed => "failed in processing",
            Self::Approved { .. } => "approved",
            Self::Rejected => "rejected",
            Self::UploadStarted => "uploaded",
            Self::DeliveryRecorded(_) => "delivered",
            Self::UploadAbandoned => "put back in the queue",
        }
    }
}

/// The state after `event`, or why the event does not apply.
pub fn next_photo_state(from: PhotoState, event: PhotoEvent) -> Result<PhotoState, PhotoTransitionRefused> {
    use PhotoState::{Failed, PendingQa, Processing, Queued, Rejected, Relayed, Uploading};
    let refused = Err(PhotoTransitionRefused {
        from,
        action: event.action(),
    });
    match (from, event) {
        (Processing, PhotoEvent::Processed { auto_relay: true }) => Ok(Queued),
        (Processing, PhotoEvent::Processed { auto_relay: false }) => Ok(PendingQa),
        (Processing, PhotoEvent::ProcessingFailed) => Ok(Failed),
        // A failed photo, or a relayed one whose rendition the retention policy deleted, is made again.
        (Failed | Relayed, PhotoEvent::Approved { processed: false }) => Ok(Processing),
        (PendingQa | Queued | Relayed | Failed, PhotoEvent::Approved { .. }) => Ok(Queued),
        (Relayed, PhotoEvent::Rejected) => refused,
        (_, PhotoEvent::Rejected) => Ok(Rejected),
        (Queued | Uploading | Failed | Relayed, PhotoEvent::UploadStarted) => Ok(Uploading),
        (Uploading, PhotoEvent::DeliveryRecorded(UploadResult::Delivered)) => Ok(Relayed),
        (Uploading, PhotoEvent::DeliveryRecorded(UploadResult::GaveUp)) => Ok(Failed),
        (Uploading, PhotoEvent::DeliveryRecorded(UploadResult::WillRetry)) => Ok(Queued),
        (Uploading, PhotoEvent::UploadAbandoned) => Ok(Queued),
        _ => refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PhotoState::*;

    #[test]
    fn processing_leads_to_qa_or_straight_to_the_queue() {
        assert_eq!(
            next_photo_state(Processing, PhotoEvent::Processed { auto_relay: false }),
            Ok(PendingQa)
        );
        assert_eq!(
            next_photo_state(Processing, PhotoEvent::Processed { auto_relay: true }),
            Ok(Queued)
        );
        assert_eq!(
            next_photo_state(Processing, PhotoEvent::ProcessingFailed),
            Ok(Failed)
        );
    }

    #[test]
    fn approval_queues_and_republishes_and_reprocesses_a_failed_photo() {
        assert_eq!(
            next_photo_state(PendingQa, PhotoEvent::Approved { processed: true }),
            Ok(Queued)
        );
        assert_eq!(
            next_photo_state(Relayed, PhotoEvent::Approved { processed: true }),
            Ok(Queued)
        );
        assert_eq!(
            next_photo_state(Failed, PhotoEvent::Approved { processed: false }),
            Ok(Processing)
        );
        assert_eq!(
            next_photo_state(Relayed, PhotoEvent::Approved { processed: false }),
            Ok(Processing),
            "a relayed photo whose rendition was evicted is made again"
        );
        for refused in [Rejected, Uploading, Processing] {
            assert!(next_photo_state(refused, PhotoEvent::Approved { processed: true }).is_err());
        }
    }

    #[test]
    fn rejection_applies_to_any_photo_not_yet_relayed_and_wins_over_a_later_delivery() {
        for state in [Processing, PendingQa, Queued, Uploading, Failed, Rejected] {
            assert_eq!(
                next_photo_state(state, PhotoEvent::Rejected),
                Ok(Rejected),
                "{state:?}"
            );
        }
        let refused = next_photo_state(Relayed, PhotoEvent::Rejected).unwrap_err();
        assert_eq!(refused.to_string(), "a photo that is relayed cannot be rejected");
        for recorded in [
            UploadResult::Delivered,
            UploadResult::WillRetry,
            UploadResult::GaveUp,
        ] {
            assert!(next_photo_state(Rejected, PhotoEvent::DeliveryRecorded(recorded)).is_err());
        }
    }

    #[test]
    fn delivery_records_move_an_uploading_photo() {
        let recorded = |state| next_photo_state(Uploading, PhotoEvent::DeliveryRecorded(state));
        assert_eq!(recorded(UploadResult::Delivered), Ok(Relayed));
        assert_eq!(recorded(UploadResult::WillRetry), Ok(Queued));
        assert_eq!(recorded(UploadResult::GaveUp), Ok(Failed));
        assert_eq!(
            next_photo_state(Uploading, PhotoEvent::UploadAbandoned),
            Ok(Queued)
        );
    }
}
