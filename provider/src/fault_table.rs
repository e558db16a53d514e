//! The active fault rules of an instance, and how one request consumes them (see [`crate::faults`] for
//! the rule semantics).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::{HeaderName, HeaderValue, header};

use crate::error::ProviderError;
use crate::faults::{Endpoint, Fault, FaultKind, FaultText};

/// What the middleware must do for one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) latency_ms: u64,
    pub(crate) action: Option<FaultKind>,
}

/// The active fault rules of an instance.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Mutex<Vec<Fault>>,
    /// Trickled responses still being sent (see [`TrickleGuard`]).
    trickling: Arc<AtomicUsize>,
}

/// Counts one trickled response while it is being sent; dropping it (when the trickle ends, for any
/// reason) uncounts it. The count lets a test check that a trickle stopped after its client left.
#[derive(Debug)]
pub(crate) struct TrickleGuard(Arc<AtomicUsize>);

impl Drop for TrickleGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FaultTable {
    fn rules(&self) -> MutexGuard<'_, Vec<Fault>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a rule after the existing ones.
    pub(crate) fn add(&self, fault: Fault) -> Result<(), ProviderError> {
        if fault.times == Some(0) {
            return Err(ProviderError::invalid(
                "times must be at least 1 (omit it for a lasting fault)",
            ));
        }
        check(&fault)?;
        self.rules().push(fault);
        Ok(())
    }

    /// Counts a trickled response until the returned guard is dropped.
    pub(crate) fn trickle_started(&self) -> TrickleGuard {
        self.trickling.fetch_add(1, Ordering::SeqCst);
        TrickleGuard(Arc::clone(&self.trickling))
    }

    /// How many trickled responses are still being sent.
    pub(crate) fn trickling(&self) -> usize {
        self.trickling.load(Ordering::SeqCst)
    }

    /// Removes the rules of one endpoint (`Some`) or every rule (`None`).
    pub(crate) fn clear(&self, endpoint: Option<Endpoint>) {
        match endpoint {
            Some(endpoint) => self.rules().retain(|rule| rule.endpoint != Some(endpoint)),
            None => self.rules().clear(),
        }
    }

    /// The active rules, with their remaining counts.
    pub(crate) fn list(&self) -> Vec<Fault> {
        self.rules().clone()
    }

    /// Consumes the rules that apply to one request to `endpoint`.
    pub(crate) fn take(&self, endpoint: Endpoint) -> Plan {
        let mut rules = self.rules();
        let mut plan = Plan::default();
        for rule in rules.iter_mut().filter(|rule| rule.matches(endpoint)) {
            match rule.kind {
                FaultKind::Latency { ms } => plan.latency_ms = plan.latency_ms.saturating_add(ms),
                kind if plan.action.is_none() => plan.action = Some(kind),
                _ => continue,
            }
            rule.times = rule.times.map(|n| n.saturating_sub(1));
        }
        rules.retain(|rule| rule.times != Some(0));
        plan
    }
}

/// Refuses a rule the middleware could not carry out, so that the mistake shows when the rule is added
/// (an admin 400) rather than as a puzzling answer in the middle of a test.
fn check(fault: &Fault) -> Result<(), ProviderError> {
    match fault.kind {
        FaultKind::Redirect { status, location } => {
            if ![301, 302, 303, 307, 308].contains(&status) {
                return Err(ProviderError::invalid(
                    "a redirect status must be 301, 302, 303, 307 or 308",
                ));
            }
            header_value("location", location)
        }
        FaultKind::Trickle { bytes, every_ms, .. } => {
            if bytes == 0 || every_ms == 0 {
                return Err(ProviderError::invalid(
                    "a trickle needs bytes >= 1 and everyMs >= 1",
                ));
            }
            Ok(())
        }
        FaultKind::SlowBody { bytes, every_ms } => {
            if bytes == 0 || every_ms == 0 {
                return Err(ProviderError::invalid(
                    "a slowBody needs bytes >= 1 and everyMs >= 1",
                ));
            }
            Ok(())
        }
        FaultKind::ExactBody { status, headers, .. } => {
            answer_status(status)?;
            for (name, value) in headers.iter() {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| ProviderError::invalid(format!("invalid header name {name:?}")))?;
                if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
                    return Err(ProviderError::invalid(format!(
                        "{name} is set by the server (use the truncate fault for a short body)"
                    )));
                }
                header_value(name.as_str(), FaultText::new(value))?;
            }
            Ok(())
        }
        FaultKind::ServerTime { server_time } => {
            if fault.endpoint != Some(Endpoint::GetWorkOrders) {
                return Err(ProviderError::invalid(
                    "a serverTime fault needs \"endpoint\": \"getWorkOrders\"",
                ));
            }
            if server_time.as_str().trim().is_empty() {
                return Err(ProviderError::invalid("serverTime must not be empty"));
            }
            Ok(())
        }
        FaultKind::RetryAfter { status, retry_after } => {
            answer_status(status)?;
            header_value("retry-after", retry_after)
        }
        FaultKind::Latency { .. }
        | FaultKind::Http500
        | FaultKind::Http503 { .. }
        | FaultKind::Http401
        | FaultKind::DropBefore
        | FaultKind::DropAfter
        | FaultKind::Truncate => Ok(()),
    }
}

/// A final status the emulator can answer with (informational 1xx would not end the exchange).
fn answer_status(status: u16) -> Result<(), ProviderError> {
    if (200..=599).contains(&status) {
        Ok(())
    } else {
        Err(ProviderError::invalid(format!(
            "status must be an HTTP status from 200 to 599, not {status}"
        )))
    }
}

/// Header values may hold any byte but controls (obs-text included, so garbage is possible on purpose).
fn header_value(name: &str, value: FaultText) -> Result<(), ProviderError> {
    HeaderValue::from_bytes(value.as_str().as_bytes())
        .map(|_| ())
        .map_err(|_| ProviderError::invalid(format!("invalid {name} header value {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_in_order_and_clear_themselves() {
        let table = FaultTable::default();
        table
            .add(Fault::new(Endpoint::Status, FaultKind::Http503 { retry_after: 2 }).times(2))
            .unwrap();
        table
            .add(Fault::new(Endpoint::Status, FaultKind::DropBefore).times(1))
            .unwrap();
        table
            .add(Fault::everywhere(FaultKind::Latency { ms: 5 }).times(1))
            .unwrap();
        let first = table.take(Endpoint::Status);
        assert_eq!(
            first,
            Plan {
                latency_ms: 5,
                action: Some(FaultKind::Http503 { retry_after: 2 })
            }
        );
        assert_eq!(table.take(Endpoint::Validate), Plan::default());
        assert_eq!(
            table.take(Endpoint::Status).action,
            Some(FaultKind::Http503 { retry_after: 2 })
        );
        assert_eq!(table.take(Endpoint::Status).action, Some(FaultKind::DropBefore));
        assert_eq!(table.take(Endpoint::Status), Plan::default());
        assert!(table.list().is_empty());
    }

    #[test]
    fn zero_times_is_refused() {
        let table = FaultTable::default();
        assert!(
            table
                .add(Fault::new(Endpoint::Push, FaultKind::Http500).times(0))
                .is_err()
        );
        assert!(table.list().is_empty());
    }
}
