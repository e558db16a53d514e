//! Request-body accounting per wire endpoint: bytes read, bodies being read, bodies abandoned by their
//! client (see [`crate::UploadTraffic`]). Every wire request's body is counted by the fault middleware
//! (`wire::inject`), under a `slowBody` fault or not.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::faults::Endpoint;
use crate::model::UploadTraffic;

/// The counters of one endpoint.
#[derive(Debug, Default)]
struct Counters {
    body_bytes_received: AtomicU64,
    in_flight: AtomicU64,
    abandoned: AtomicU64,
    requests: AtomicU64,
}

impl Counters {
    /// Reads `in_flight` first: a body is uncounted from it only after its bytes and its abandonment
    /// were counted, so a reader that sees `in_flight == 0` also sees the final bytes and abandonments.
    fn snapshot(&self) -> UploadTraffic {
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        UploadTraffic {
            in_flight,
            body_bytes_received: self.body_bytes_received.load(Ordering::SeqCst),
            abandoned: self.abandoned.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
        }
    }
}

/// The request-body counters of an instance, one set per wire endpoint.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    endpoints: [Counters; Endpoint::ALL.len()],
}

fn index(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::Validate => 0,
        Endpoint::GetWorkOrders => 1,
        Endpoint::UploadPictures => 2,
        Endpoint::Status => 3,
        Endpoint::Push => 4,
    }
}

impl Traffic {
    /// Counts a request to `endpoint` whose body starts being received; the ticket counts its bytes and
    /// uncounts it from `in_flight` when it ends.
    pub(crate) fn started(self: &Arc<Self>, endpoint: Endpoint) -> BodyTicket {
        let counters = &self.endpoints[index(endpoint)];
        counters.requests.fetch_add(1, Ordering::SeqCst);
        counters.in_flight.fetch_add(1, Ordering::SeqCst);
        BodyTicket {
            traffic: Arc::clone(self),
            index: index(endpoint),
            open: true,
        }
    }

    /// The counters of one endpoint.
    pub(crate) fn of(&self, endpoint: Endpoint) -> UploadTraffic {
        self.endpoints[index(endpoint)].snapshot()
    }

    /// The counters summed over every endpoint.
    pub(crate) fn total(&self) -> UploadTraffic {
        Endpoint::ALL.into_iter().map(|endpoint| self.of(endpoint)).fold(
            UploadTraffic::default(),
            |sum, one| UploadTraffic {
                body_bytes_received: sum.body_bytes_received.saturating_add(one.body_bytes_received),
                in_flight: sum.in_flight.saturating_add(one.in_flight),
                abandoned: sum.abandoned.saturating_add(one.abandoned),
                requests: sum.requests.saturating_add(one.requests),
            },
        )
    }

    /// Zeroes the byte, request and abandonment counts (not `in_flight`, which counts live requests).
    pub(crate) fn reset(&self) {
        for counters in &self.endpoints {
            counters.body_bytes_received.store(0, Ordering::SeqCst);
            counters.abandoned.store(0, Ordering::SeqCst);
            counters.requests.store(0, Ordering::SeqCst);
        }
    }
}

/// One request body being received (counted in `in_flight` until [`BodyTicket::finish`] or drop).
#[derive(Debug)]
pub(crate) struct BodyTicket {
    traffic: Arc<Traffic>,
    index: usize,
    open: bool,
}

impl BodyTicket {
    fn counters(&self) -> &Counters {
        &self.traffic.endpoints[self.index]
    }

    /// Counts `n` body bytes read.
    pub(crate) fn received(&self, n: usize) {
        self.counters()
            .body_bytes_received
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// Whether the body is still being received.
    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    /// The body ended (read to its end, failed, or dropped); `abandoned` when its client went away
    /// before the request was processed. Only the first call counts.
    pub(crate) fn finish(&mut self, abandoned: bool) {
        if !self.open {
            return;
        }
        self.open = false;
        let counters = self.counters();
        if abandoned {
            counters.abandoned.fetch_add(1, Ordering::SeqCst);
        }
        counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for BodyTicket {
    fn drop(&mut self) {
        self.finish(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_count_bytes_in_flight_and_abandoned_per_endpoint() {
        let traffic = Arc::new(Traffic::default());
        let mut upload = traffic.started(Endpoint::UploadPictures);
        let status = traffic.started(Endpoint::Status);
        upload.received(100);
        upload.received(28);
        status.received(5);
        assert_eq!(
            traffic.of(Endpoint::UploadPictures),
            UploadTraffic {
                body_bytes_received: 128,
                in_flight: 1,
                abandoned: 0,
                requests: 1
            }
        );
        upload.finish(true);
        upload.finish(true); // counted once
        drop(status);
        assert_eq!(
            traffic.total(),
            UploadTraffic {
                body_bytes_received: 133,
                in_flight: 0,
                abandoned: 1,
                requests: 2
            }
        );
        assert_eq!(traffic.of(Endpoint::Validate), UploadTraffic::default());
        let live = traffic.started(Endpoint::Push);
        traffic.reset();
        assert_eq!(
            traffic.total(),
            UploadTraffic {
                in_flight: 1,
                ..UploadTraffic::default()
            }
        );
        drop(live);
        assert_eq!(traffic.total(), UploadTraffic::default());
    }
}
