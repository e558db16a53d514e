//! The active fault rules of an instance, and how one request consumes them (see [`crate::faults`] for
//! the rule semantics).

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::ProviderError;
use crate::faults::{Endpoint, Fault, FaultKind};

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
        self.rules().push(fault);
        Ok(())
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
