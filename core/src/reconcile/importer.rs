//! Applying a whole response: the per-order rules plus Full Import removal, over any project cache.
//!
//! The SQLite store and the in-memory model used by the property tests run this same code; only the
//! [`ProjectCache`] behind it differs.
//!
//! The report counts projects, not orders: a batch that names an order twice is applied in order, and the
//! project counts once, by its net effect (so a batch applied a second time reports no change).

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::model::{ImportKind, ImportReport, Project, ProjectId};
use crate::wire::WorkOrder;

use super::rules::{CachedBy, Change, ReconcileSettings, reconcile_numbered};

/// Where an import reads and writes projects of one integration.
pub trait ProjectCache {
    /// The cache's failure (SQLite, or `Infallible` in memory).
    type Error;
    /// The project with this work-order number, if any.
    fn get(&mut self, number: &str) -> Result<Option<Project>, Self::Error>;
    /// Inserts or replaces a project. `existing` is what [`ProjectCache::get`] returned for it just before
    /// (`None` for a new project), so that a cache can write only what changed.
    fn put(&mut self, project: &Project, existing: Option<&Project>) -> Result<(), Self::Error>;
    /// Removes a project and its tasks.
    fn remove(&mut self, number: &str) -> Result<(), Self::Error>;
    /// Marks a project a Full Import no longer lists but that holds pending field work.
    fn flag_removal_pending(&mut self, number: &str) -> Result<(), Self::Error>;
    /// True when the project has field work not yet delivered.
    fn has_pending_work(&mut self, number: &str) -> Result<bool, Self::Error>;
    /// The work-order numbers of every project of the integration, except those the cache itself recorded
    /// as listed by this import ([`ProjectCache::skipped`]) and those a Full Import must never remove.
    fn numbers(&mut self) -> Result<Vec<String>, Self::Error>;
    /// True when the cache skipped an order for this project as unchanged without telling the importer its
    /// number (it called [`Importer::count_skipped`]): the project was listed, and counted, already.
    fn skipped(&mut self, _number: &str) -> Result<bool, Self::Error> {
        Ok(false)
    }
    /// Which rules last wrote the project (an in-memory cache only ever holds current ones).
    fn cached_by(&mut self, _number: &str) -> Result<CachedBy, Self::Error> {
        Ok(CachedBy::CurrentRules)
    }
    /// The order just applied changed nothing in this existing project: a cache that remembers what it
    /// applied (fingerprints) may record it, so the same order is skipped next time.
    fn keep_unchanged(&mut self, _number: &str) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The net effect of a batch on one project, as counted in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    None,
    Created,
    Updated,
    Cancelled,
    Deleted,
    Unchanged,
}

/// What the batch knows about a project it has touched.
#[derive(Debug, Clone, Copy)]
struct Touch {
    /// The project before the batch: absent, or the hash of its state. `None` while unknown (every touch
    /// so far left it unchanged, so the current state is still the original).
    before: Option<Before>,
    effect: Effect,
}

/// The state hash is kept as two `u64`s: a `u128` would align every entry of `touched` (one per listed
/// order) to 16 bytes, 80 bytes per entry instead of 56.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    Absent,
    Hash([u64; 2]),
}

fn state_hash(project: &Project) -> [u64; 2] {
    /// Feeds the serialised project straight into the hasher (no buffer).
    struct Hasher(xxhash_rust::xxh3::Xxh3);
    impl std::io::Write for Hasher {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = Hasher(xxhash_rust::xxh3::Xxh3::new());
    serde_json::to_writer(&mut hasher, project).expect("plain data serialises");
    let hash = hasher.0.digest128();
    [hash as u64, (hash >> 64) as u64]
}

/// One import in progress: feed it orders in response order, then call [`Importer::finish`].
#[derive(Debug)]
pub struct Importer<'a> {
    settings: ReconcileSettings<'a>,
    kind: ImportKind,
    touched: HashMap<String, Touch>,
    /// Numbers of listed orders that were rejected: listed all the same, so never removed.
    rejected_numbers: HashSet<String>,
    /// True once an order without a usable number was rejected: it may be any project.
    unidentified_rejection: bool,
    report: ImportReport,
}

impl<'a> Importer<'a> {
    /// Starts an import.
    pub fn new(settings: ReconcileSettings<'a>, kind: ImportKind) -> Self {
        Self {
            settings,
            kind,
            touched: HashMap::new(),
            rejected_numbers: HashSet::new(),
            unidentified_rejection: false,
            report: ImportReport::default(),
        }
    }

    /// Makes room for `orders` projects without growing (a hint: the response's size, the cache's).
    pub fn reserve(&mut self, orders: usize) {
        self.touched.reserve(orders);
    }

    /// The settings this import applies.
    pub fn settings(&self) -> &ReconcileSettings<'a> {
        &self.settings
    }

    /// Applies one order.
    pub fn apply<C: ProjectCache>(&mut self, cache: &mut C, order: &WorkOrder) -> Result<(), C::Error> {
        self.apply_owned(cache, order.clone())
    }

    /// [`Importer::apply`] that consumes the order: its values move into the project (the import's path).
    pub fn apply_owned<C: ProjectCache>(
        &mut self,
        cache: &mut C,
        mut order: WorkOrder,
    ) -> Result<(), C::Error> {
        // Taken out (not copied): it becomes the key of `touched`.
        let number_text = order.work_order_number.take().unwrap_or_default();
        let number = number_text.as_str();
        let existing = if number.is_empty() {
            None
        } else {
            cache.get(number)?
        };
        let cached_by = if existing.is_some() {
            cache.cached_by(number)?
        } else {
            CachedBy::CurrentRules
        };
        let change = reconcile_numbered(existing.as_ref(), cached_by, number, order, &self.settings);
        let (stored, effect) = match change {
            Change::Rejected(rejection) => {
                // The provider listed this order: whatever is wrong with it, its project is not absent.
                if rejection.work_order_number.is_empty() {
                    self.unidentified_rejection = true;
                } else {
                    self.rejected_numbers.insert(rejection.work_order_number.clone());
                }
                self.report.rejected.push(rejection);
                return Ok(());
            }
            Change::Unchanged => (
                None,
                if existing.is_some() {
                    Effect::Unchanged
                } else {
                    Effect::None
                },
            ),
            Change::Created(project) => (Some(project), Effect::Created),
            Change::Updated(project) => (Some(project), Effect::Updated),
            Change::Cancelled(project) => (Some(project), Effect::Cancelled),
            Change::Deleted(project) => (Some(project), Effect::Deleted),
        };
        match &stored {
            Some(project) => cache.put(project, existing.as_ref())?,
            None if existing.is_some() => cache.keep_unchanged(number)?,
            None => {}
        }

        let mut previous = self.touched.get(number).copied();
        // Only a stored project can have been skipped by its fingerprint.
        if previous.is_none() && existing.is_some() && cache.skipped(number)? {
            previous = Some(Touch {
                before: None,
                effect: Effect::Unchanged,
            });
        }
        let before = match previous.and_then(|touch| touch.before) {
            Some(before) => Some(before),
            None if stored.is_none() => None,
            None => Some(
                existing
                    .as_ref()
                    .map_or(Before::Absent, |project| Before::Hash(state_hash(project))),
            ),
        };
        let effect = match (previous, before, &stored) {
            // A repeat within the batch: the net effect compares with the state before the batch.
            (Some(_), Some(Before::Hash(original)), Some(project)) if state_hash(project) == original => {
                Effect::Unchanged
            }
            (Some(_), Some(Before::Absent), _) => Effect::Created,
            (Some(previous), _, None) => previous.effect,
            _ => effect,
        };
        if let Some(previous) = previous {
            self.count(previous.effect, -1);
        }
        self.count(effect, 1);
        self.touched.insert(number_text, Touch { before, effect });
        Ok(())
    }

    /// Records an element of `workOrders` that is not a work order at all (not a JSON object).
    pub fn reject_unreadable(&mut self, reason: String) {
        let reason = format!("not a work order object: {reason}");
        self.unidentified_rejection = true;
        self.report.rejected.push(crate::model::Rejection {
            work_order_number: String::new(),
            reason,
            kept: false,
        });
    }

    /// Records an order the caller knows changes nothing (its fingerprint matched) without applying it.
    pub fn skip_unchanged(&mut self, number: &str) {
        if !self.touched.contains_key(number) {
            self.touched.insert(
                number.to_owned(),
                Touch {
                    before: None,
                    effect: Effect::Unchanged,
                },
            );
            self.count(Effect::Unchanged, 1);
        }
    }

    /// Counts an order the cache skipped as unchanged and recorded as listed itself (see
    /// [`ProjectCache::skipped`]); the cache counts each project once.
    pub fn count_skipped(&mut self) {
        self.count(Effect::Unchanged, 1);
    }

    fn count(&mut self, effect: Effect, delta: i64) {
        let counter = match effect {
            Effect::None => return,
            Effect::Created => &mut self.report.created,
            Effect::Updated => &mut self.report.updated,
            Effect::Cancelled => &mut self.report.cancelled,
            Effect::Deleted => &mut self.report.deleted,
            Effect::Unchanged => &mut self.report.unchanged,
        };
        *counter = counter.wrapping_add_signed(delta);
    }

    /// Ends the import. A Full Import removes every project it did not list, except those with pending
    /// field work: they are kept, flagged and reported. A rejected order was listed, so its project stays;
    /// a rejected order with no usable number might be any project, so then nothing is removed.
    pub fn finish<C: ProjectCache>(mut self, cache: &mut C) -> Result<ImportReport, C::Error> {
        if self.kind == ImportKind::FullImport {
            let mut absent: Vec<String> = cache
                .numbers()?
                .into_iter()
                .filter(|number| {
                    !self.rejected_numbers.contains(number)
                        && self
                            .touched
                            .get(number)
                            .is_none_or(|touch| touch.effect == Effect::None)
                })
                .collect();
            absent.sort();
            if self.unidentified_rejection && !absent.is_empty() {
                self.report.removal_note = Some(format!(
                    "{} unlisted project(s) not removed: an order without a usable workOrderNumber was \
                     rejected and may be one of them",
                    absent.len()
                ));
                return Ok(self.report);
            }
            for number in absent {
                if cache.has_pending_work(&number)? {
                    let project = cache.get(&number)?;
                    if project.is_some_and(|project| !project.removal_pending) {
                        cache.flag_removal_pending(&number)?;
                    }
                    self.report.kept += 1;
                    let id = ProjectId {
                        integration: self.settings.integration.to_owned(),
                        work_order_number: number,
                    };
                    self.report.kept_projects.push(id.to_string());
                } else {
                    cache.remove(&number)?;
                    self.report.removed += 1;
                }
            }
        }
        Ok(self.report)
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn a_touch_is_32_bytes() {
        // 48 with a `u128` hash (aligned to 16): a third more memory for the map of every listed number.
        assert_eq!(std::mem::size_of::<super::Touch>(), 32);
    }
}
