//! Change notifications: which tables each commit changed, told to whoever subscribed, so that a screen
//! re-reads its query after a commit that can change it and never polls.
//!
//! The writer connection carries three SQLite hooks: the update hook marks the table of every row
//! written, the commit hook moves the marks of the transaction to "committed", the rollback hook drops
//! them. When the writer is given back after its transaction, the committed marks are published to the
//! [`ChangeHub`]. Subscribers are called on the writing thread, after the commit and after the writer is
//! free again: a callback must only note the change (signal a task), never do the re-read itself.
//!
//! Limits, by SQLite's design: `WITHOUT ROWID` tables (`tasks`, `survey_drafts`) fire no update hook; a
//! task changes only with its project row (which does), and drafts are read by the screen that writes
//! them. Commits of another process are not seen (no process on a phone shares the database with the
//! app's own).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A set of changed tables (and the engine's own state), as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Changes(u32);

impl Changes {
    /// Nothing.
    pub const NONE: Self = Self(0);
    /// `projects` (and with them their tasks).
    pub const PROJECTS: Self = Self(1);
    /// `integrations` (status, last refresh, last error).
    pub const INTEGRATIONS: Self = Self(1 << 1);
    /// `outbox`: field work recorded, sent, failed, delivered.
    pub const OUTBOX: Self = Self(1 << 2);
    /// `photos`.
    pub const PHOTOS: Self = Self(1 << 3);
    /// `checkins`.
    pub const CHECK_INS: Self = Self(1 << 4);
    /// `surveys` and `survey_templates`.
    pub const SURVEYS: Self = Self(1 << 5);
    /// `work_types`.
    pub const WORK_TYPES: Self = Self(1 << 6);
    /// `user_defaults`: device settings (options, upload policy).
    pub const SETTINGS: Self = Self(1 << 7);
    /// The engine's state that is not in a table: the network, pause and resume.
    pub const ENGINE: Self = Self(1 << 8);
    /// Everything.
    pub const ALL: Self = Self(u32::MAX);

    /// The bit of a table, by its name (unknown tables: none).
    pub fn of_table(name: &str) -> Self {
        match name {
            "projects" => Self::PROJECTS,
            "integrations" => Self::INTEGRATIONS,
            "outbox" => Self::OUTBOX,
            "photos" => Self::PHOTOS,
            "checkins" => Self::CHECK_INS,
            "surveys" | "survey_templates" => Self::SURVEYS,
            "work_types" => Self::WORK_TYPES,
            "user_defaults" => Self::SETTINGS,
            _ => Self::NONE,
        }
    }

    /// Both sets together.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether the sets share a table.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether nothing is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for Changes {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        self.union(other)
    }
}

/// The marks the hooks of one writer connection keep.
#[derive(Debug, Default)]
pub(crate) struct HookState {
    /// Tables written by the transaction under way.
    pending: AtomicU32,
    /// Tables of committed transactions not yet published.
    committed: AtomicU32,
}

impl HookState {
    /// Installs the hooks on the writer connection.
    pub(crate) fn install(self: &Arc<Self>, connection: &mut rusqlite::Connection) -> rusqlite::Result<()> {
        let state = self.clone();
        connection.update_hook(Some(
            move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
                state
                    .pending
                    .fetch_or(Changes::of_table(table).0, Ordering::Relaxed);
            },
        ))?;
        let state = self.clone();
        connection.commit_hook(Some(move || {
            let pending = state.pending.swap(0, Ordering::Relaxed);
            state.committed.fetch_or(pending, Ordering::Relaxed);
            false // let the commit go on
        }))?;
        let state = self.clone();
        connection.rollback_hook(Some(move || {
            state.pending.store(0, Ordering::Relaxed);
        }))
    }

    /// Takes what was committed since the last call.
    pub(crate) fn take_committed(&self) -> Changes {
        Changes(self.committed.swap(0, Ordering::Relaxed))
    }
}

type Callback = Arc<dyn Fn(Changes) + Send + Sync>;

/// Who wants to hear about which changes.
#[derive(Default)]
pub struct ChangeHub {
    next_id: AtomicU64,
    subscribers: Mutex<Vec<(u64, Changes, Callback)>>,
}

impl std::fmt::Debug for ChangeHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeHub")
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

impl ChangeHub {
    /// Calls `callback` with the changed set after every commit that changes one of `interest`, until the
    /// returned subscription is dropped.
    pub fn subscribe(
        self: &Arc<Self>,
        interest: Changes,
        callback: impl Fn(Changes) + Send + Sync + 'static,
    ) -> ChangeSubscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, interest, Arc::new(callback)));
        ChangeSubscription {
            id,
            hub: Arc::downgrade(self),
        }
    }

    /// Tells every interested subscriber (outside the lock: a callback may subscribe or unsubscribe).
    pub fn publish(&self, changes: Changes) {
        if changes.is_empty() {
            return;
        }
        let interested: Vec<Callback> = self
            .lock()
            .iter()
            .filter(|(_, interest, _)| interest.intersects(changes))
            .map(|(_, _, callback)| callback.clone())
            .collect();
        for callback in interested {
            callback(changes);
        }
    }

    /// How many subscriptions are live (tests check that cancelled watches leak none).
    pub fn subscriber_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Changes, Callback)>> {
        self.subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A live subscription; dropping it unsubscribes.
#[derive(Debug)]
pub struct ChangeSubscription {
    id: u64,
    hub: Weak<ChangeHub>,
}

impl Drop for ChangeSubscription {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.lock().retain(|(id, _, _)| *id != self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn tables_map_to_their_bits_and_sets_combine() {
        assert_eq!(Changes::of_table("projects"), Changes::PROJECTS);
        assert_eq!(Changes::of_table("survey_templates"), Changes::SURVEYS);
        assert_eq!(Changes::of_table("sqlite_sequence"), Changes::NONE);
        let set = Changes::PROJECTS | Changes::OUTBOX;
        assert!(set.intersects(Changes::OUTBOX));
        assert!(!set.intersects(Changes::PHOTOS));
        assert!(Changes::NONE.is_empty());
    }

    #[test]
    fn subscribers_hear_what_interests_them_until_dropped() {
        let hub = Arc::new(ChangeHub::default());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        let subscription = hub.subscribe(Changes::PROJECTS | Changes::OUTBOX, move |changes| {
            sink.lock().unwrap().push(changes);
        });
        hub.publish(Changes::PHOTOS);
        hub.publish(Changes::OUTBOX | Changes::PHOTOS);
        hub.publish(Changes::NONE);
        assert_eq!(*heard.lock().unwrap(), vec![Changes::OUTBOX | Changes::PHOTOS]);
        assert_eq!(hub.subscriber_count(), 1);
        drop(subscription);
        assert_eq!(hub.subscriber_count(), 0);
        hub.publish(Changes::PROJECTS);
        assert_eq!(heard.lock().unwrap().len(), 1);
    }
}
