//! What an import did, for the person who asked for it and for the host app's events.

use serde::Serialize;

/// Refresh asks for what changed; Full Import asks for everything and removes what is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// Incremental: only orders created or changed since the last import.
    Refresh,
    /// Everything currently assigned; absent projects are removed (unless they hold pending field work).
    FullImport,
}

/// One work order of a response that was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The order's number, or an empty string when it had none.
    pub work_order_number: String,
    /// Why it was rejected.
    pub reason: String,
    /// True when the cache holds this project: the order was listed, so the project stays, unchanged (a
    /// Full Import does not remove it).
    pub kept: bool,
}

/// The outcome of applying one getWorkOrders response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Projects created.
    pub created: u64,
    /// Projects whose fields changed.
    pub updated: u64,
    /// Orders that changed nothing (including repeats and Cancelled/Deleted for unknown projects).
    pub unchanged: u64,
    /// Projects that became `Cancelled` (unassigned by the provider).
    pub cancelled: u64,
    /// Projects that became `Deleted` (deleted by the provider).
    pub deleted: u64,
    /// Projects removed because a Full Import no longer lists them.
    pub removed: u64,
    /// Projects a Full Import no longer lists but that hold pending field work: kept and flagged.
    pub kept: u64,
    /// Projects the crew created on the device (`local`) whose order arrived: the provider's fields were
    /// applied to the existing row (same row id, so its field work stays linked) and it is no longer local.
    pub adopted: u64,
    /// `CODE::NUMBER` of the kept projects.
    pub kept_projects: Vec<String>,
    /// Orders that could not be applied, with the reason.
    pub rejected: Vec<Rejection>,
    /// Why a Full Import removed nothing although some projects were not listed (an order it could not
    /// identify was rejected, and it may have been one of them). `None` when removal ran normally.
    pub removal_note: Option<String>,
    /// Why the sync cursor was not taken from this response's `serverTime` (an implausible provider
    /// clock), and what was kept or used instead. `None` when the cursor moved normally.
    pub cursor_note: Option<String>,
}

impl ImportReport {
    /// True when the import changed nothing in the cache.
    pub fn is_no_op(&self) -> bool {
        self.created == 0
            && self.updated == 0
            && self.cancelled == 0
            && self.deleted == 0
            && self.removed == 0
            && self.adopted == 0
    }
}
