//! Reconciliation: how a pulled work order changes the vendor's project cache.
//!
//! Pure logic over plain data: [`reconcile`] decides one order, [`Importer`] applies a whole response over
//! any [`ProjectCache`] (SQLite in production, [`MemoryCache`] in tests). See `docs/RECONCILE.md`.

mod importer;
mod memory;
mod rules;

pub use importer::{Importer, ProjectCache};
pub use memory::MemoryCache;
pub use rules::{
    CANCELLED, CachedBy, Change, DELETED, ReconcileSettings, reconcile, reconcile_cached, reconcile_owned,
    terminal_client_status,
};

#[cfg(test)]
pub(crate) mod tests;
