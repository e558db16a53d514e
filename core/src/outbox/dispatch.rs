//! Per-project ordering, as a pure planner over a snapshot of the queue.
//!
//! The rules:
//! - Entries go oldest first (by `seq`), and an entry waits while an earlier entry of its project is not
//!   done. Entries without a project are independent of each other.
//! - `held` entries (photos before processing and QA) are not sent and do not hold back later ones.
//! - A check-in whose project requires a photo waits until a photo of that project is relayed, without
//!   holding back later entries (the photo it waits for is usually one of them). Once a photo of the
//!   project is delivered in this run, it goes.
//! - An entry is tried at most once per run; one that failed (or is in flight in another run, or waits
//!   out its backoff, or needs attention) holds back the rest of its project for this run. A stuck
//!   project never blocks another.
//! - At most one entry per project is in flight, so each project reaches the provider strictly in order
//!   while different projects go in parallel.
//!
//! - Under the upload policy ([`super::upload_policy`], [`Dispatcher::gated`]): an entry whose kind may
//!   not go now is not sent, and while a photo or survey of a project is held by the policy only the
//!   project's check-ins may go past it (a status waits behind the photos before it, so the provider sees
//!   them before the project's completion). The plan leaves such entries out when it is built.
//!
//! The planner is built once per snapshot, in O(n log n), and each step costs O(log n): a delivery run over
//! n entries is O(n log n) whatever the number of done, held or waiting entries.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::upload_policy::{UploadConditions, hold};
use super::{EntryKind, EntryState};

/// One undelivered, not held entry, as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Client UUID.
    pub id: String,
    /// Its project's row id, if it has a project.
    pub project: Option<i64>,
    /// Position in the outbox (order of recording).
    pub seq: i64,
    /// What it delivers.
    pub kind: EntryKind,
    /// Where it is.
    pub state: EntryState,
    /// For `retry_wait`: its backoff is over (or the user asked to ignore backoff).
    pub due: bool,
    /// A check-in whose project requires a photo, while no photo of that project is relayed.
    pub waits_for_photo: bool,
    /// Already tried in this delivery run.
    pub attempted: bool,
}

impl Pending {
    fn claimable(&self) -> bool {
        !self.attempted
            && match self.state {
                EntryState::Queued => true,
                EntryState::RetryWait => self.due,
                _ => false,
            }
    }
}

/// How a dispatched entry ended, as far as ordering cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The provider has it: the project's next entry may go.
    Delivered,
    /// Not delivered (failed, or claimed by someone else first): the project waits for the next run.
    NotDelivered,
}

/// Independent delivery order: a project, or an entry without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Lane {
    Project(i64),
    Alone(i64),
}

#[derive(Debug, Default)]
struct LaneQueue {
    entries: VecDeque<Pending>,
    /// An entry of this lane is in flight.
    busy: bool,
    /// The lane's head cannot go in this run.
    stuck: bool,
    /// A photo of this project was delivered in this run.
    photo_relayed: bool,
    /// An entry of this lane is held by the upload policy: only check-ins go past it.
    policy_held: bool,
}

impl LaneQueue {
    /// The entry that goes next, if the lane may move: the first entry that is not a check-in waiting for
    /// a photo, when it is claimable.
    fn head(&self) -> Option<&Pending> {
        if self.busy || self.stuck {
            return None;
        }
        self.first_in_line().filter(|first| first.claimable())
    }

    /// The first entry that is not a check-in still waiting for a photo.
    fn first_in_line(&self) -> Option<&Pending> {
        self.entries
            .iter()
            .find(|entry| !entry.waits_for_photo || self.photo_relayed)
    }
}

/// Hands out the entries of one snapshot in delivery order.
#[derive(Debug, Default)]
pub struct Dispatcher {
    lanes: HashMap<Lane, LaneQueue>,
    /// Lanes whose head may go now, by the head's `seq`: the oldest goes first.
    ready: BTreeSet<(i64, Lane)>,
    /// Entry id -> its lane, for entries handed out and not finished.
    dispatched: HashMap<String, Lane>,
}

impl Dispatcher {
    /// A planner over `entries` (any order; held and done entries are ignored), with nothing held by the
    /// upload policy.
    pub fn new(entries: Vec<Pending>) -> Self {
        Self::gated(entries, UploadConditions::default())
    }

    /// A planner over `entries` under the upload policy: entries whose kind may not go under
    /// `conditions` are left out, and so is every later entry but a check-in of a project with such an
    /// entry. One pass over the sorted entries: every later step stays O(log n).
    pub fn gated(mut entries: Vec<Pending>, conditions: UploadConditions) -> Self {
        entries.sort_by_key(|entry| entry.seq);
        let mut lanes: HashMap<Lane, LaneQueue> = HashMap::with_capacity(entries.len().min(1024));
        for entry in entries {
            if matches!(entry.state, EntryState::Held | EntryState::Done) {
                continue;
            }
            let lane = match entry.project {
                Some(project) => Lane::Project(project),
                None => Lane::Alone(entry.seq),
            };
            let queue = lanes.entry(lane).or_default();
            if hold(entry.kind, conditions).is_some() {
                queue.policy_held = true;
                continue;
            }
            if queue.policy_held && entry.kind != EntryKind::CheckIn {
                continue;
            }
            queue.entries.push_back(entry);
        }
        let mut dispatcher = Self {
            lanes,
            ready: BTreeSet::new(),
            dispatched: HashMap::new(),
        };
        let lanes: Vec<Lane> = dispatcher.lanes.keys().copied().collect();
        for lane in lanes {
            dispatcher.refresh(lane);
        }
        dispatcher
    }

    /// Puts the lane in `ready` when its head may go, or marks it stuck when its head cannot go in this
    /// run (in flight elsewhere, waiting out a backoff, needing attention, already tried).
    fn refresh(&mut self, lane: Lane) {
        let Some(queue) = self.lanes.get_mut(&lane) else {
            return;
        };
        if queue.busy || queue.stuck {
            return;
        }
        match queue.first_in_line() {
            None => {}
            Some(entry) if entry.claimable() => {
                self.ready.insert((entry.seq, lane));
            }
            Some(_) => queue.stuck = true,
        }
    }

    /// The next entry to send, oldest first among the lanes that may move. It counts as in flight until
    /// [`Self::finish`].
    pub fn next_entry(&mut self) -> Option<Pending> {
        let (seq, lane) = self.ready.pop_first()?;
        let queue = self.lanes.get_mut(&lane)?;
        let entry = queue.head().filter(|entry| entry.seq == seq)?.clone();
        queue.busy = true;
        self.dispatched.insert(entry.id.clone(), lane);
        Some(entry)
    }

    /// Records how a dispatched entry ended, which may let its project's next entry go.
    pub fn finish(&mut self, id: &str, finished: Finished) {
        let Some(lane) = self.dispatched.remove(id) else {
            return;
        };
        let Some(queue) = self.lanes.get_mut(&lane) else {
            return;
        };
        queue.busy = false;
        match finished {
            Finished::Delivered => {
                if let Some(position) = queue.entries.iter().position(|entry| entry.id == id) {
                    let entry = queue.entries.remove(position);
                    if entry.is_some_and(|entry| entry.kind == EntryKind::Photo) {
                        queue.photo_relayed = true;
                    }
                }
                self.refresh(lane);
            }
            Finished::NotDelivered => queue.stuck = true,
        }
    }

    /// Whether any entry may still be handed out (now, or once those in flight finish).
    pub fn has_work(&self) -> bool {
        !self.ready.is_empty() || !self.dispatched.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::upload_policy::{NetworkState, UploadPolicy};

    fn entry(id: &str, project: Option<i64>, seq: i64, kind: EntryKind, state: EntryState) -> Pending {
        Pending {
            id: id.into(),
            project,
            seq,
            kind,
            state,
            due: false,
            waits_for_photo: false,
            attempted: false,
        }
    }

    fn queued(id: &str, project: i64, seq: i64) -> Pending {
        entry(id, Some(project), seq, EntryKind::CheckIn, EntryState::Queued)
    }

    /// Sends everything one at a time, each delivered, and returns the order.
    fn drain(dispatcher: &mut Dispatcher) -> Vec<String> {
        let mut order = Vec::new();
        while let Some(next) = dispatcher.next_entry() {
            dispatcher.finish(&next.id, Finished::Delivered);
            order.push(next.id);
        }
        order
    }

    #[test]
    fn entries_go_oldest_first_across_projects() {
        let mut dispatcher = Dispatcher::new(vec![queued("c", 2, 3), queued("a", 1, 1), queued("b", 2, 2)]);
        assert_eq!(drain(&mut dispatcher), ["a", "b", "c"]);
    }

    #[test]
    fn one_entry_per_project_in_flight_and_projects_in_parallel() {
        let mut dispatcher =
            Dispatcher::new(vec![queued("a1", 1, 1), queued("a2", 1, 2), queued("b1", 2, 3)]);
        let first = dispatcher.next_entry().unwrap();
        let second = dispatcher.next_entry().unwrap();
        assert_eq!((first.id.as_str(), second.id.as_str()), ("a1", "b1"));
        assert!(dispatcher.next_entry().is_none(), "a2 waits for a1");
        dispatcher.finish("a1", Finished::Delivered);
        assert_eq!(dispatcher.next_entry().unwrap().id, "a2");
    }

    #[test]
    fn a_failed_entry_holds_back_its_project_but_not_others() {
        let mut dispatcher =
            Dispatcher::new(vec![queued("a1", 1, 1), queued("a2", 1, 2), queued("b1", 2, 3)]);
        let first = dispatcher.next_entry().unwrap();
        dispatcher.finish(&first.id, Finished::NotDelivered);
        assert_eq!(drain(&mut dispatcher), ["b1"]);
        assert!(!dispatcher.has_work());
    }

    #[test]
    fn held_entries_neither_go_nor_hold_back() {
        let held = entry("photo", Some(1), 1, EntryKind::Photo, EntryState::Held);
        let mut dispatcher = Dispatcher::new(vec![held, queued("status", 1, 2)]);
        assert_eq!(drain(&mut dispatcher), ["status"]);
    }

    #[test]
    fn entries_waiting_out_a_backoff_or_needing_attention_hold_back_their_project() {
        let waiting = entry("wait", Some(1), 1, EntryKind::Status, EntryState::RetryWait);
        let stuck = entry("stuck", Some(2), 2, EntryKind::Status, EntryState::NeedsAttention);
        let in_flight = entry("busy", Some(3), 3, EntryKind::Status, EntryState::InFlight);
        let due = Pending {
            due: true,
            ..entry("due", Some(4), 4, EntryKind::Status, EntryState::RetryWait)
        };
        let mut dispatcher = Dispatcher::new(vec![
            waiting,
            queued("after-wait", 1, 5),
            stuck,
            queued("after-stuck", 2, 6),
            in_flight,
            queued("after-busy", 3, 7),
            due,
        ]);
        assert_eq!(drain(&mut dispatcher), ["due"]);
    }

    #[test]
    fn a_check_in_waiting_for_a_photo_goes_once_the_photo_is_delivered() {
        let check_in = Pending {
            waits_for_photo: true,
            ..queued("checkin", 1, 1)
        };
        let photo = entry("photo", Some(1), 2, EntryKind::Photo, EntryState::Queued);
        let mut dispatcher = Dispatcher::new(vec![check_in, photo]);
        assert_eq!(drain(&mut dispatcher), ["photo", "checkin"]);
    }

    #[test]
    fn a_check_in_waiting_for_a_photo_that_never_comes_stays() {
        let check_in = Pending {
            waits_for_photo: true,
            ..queued("checkin", 1, 1)
        };
        let mut dispatcher = Dispatcher::new(vec![check_in, queued("status", 1, 2)]);
        assert_eq!(drain(&mut dispatcher), ["status"]);
    }

    #[test]
    fn entries_tried_in_this_run_are_not_tried_again() {
        let tried = Pending {
            attempted: true,
            ..queued("tried", 1, 1)
        };
        let mut dispatcher = Dispatcher::new(vec![tried, queued("later", 1, 2), queued("other", 2, 3)]);
        assert_eq!(drain(&mut dispatcher), ["other"]);
    }

    #[test]
    fn entries_without_a_project_are_independent() {
        let lone = |id: &str, seq| entry(id, None, seq, EntryKind::Status, EntryState::Queued);
        let mut dispatcher = Dispatcher::new(vec![lone("x", 1), lone("y", 2)]);
        let first = dispatcher.next_entry().unwrap();
        let second = dispatcher.next_entry().unwrap();
        assert_eq!((first.id.as_str(), second.id.as_str()), ("x", "y"));
    }

    fn gated(entries: Vec<Pending>, network: NetworkState, wifi_only: bool, paused: bool) -> Vec<String> {
        let conditions = UploadConditions {
            network,
            policy: UploadPolicy {
                photos_on_wifi_only: wifi_only,
                paused,
            },
        };
        drain(&mut Dispatcher::gated(entries, conditions))
    }

    fn project_work() -> Vec<Pending> {
        vec![
            entry("photo", Some(1), 1, EntryKind::Photo, EntryState::Queued),
            queued("checkin", 1, 2),
            entry("survey", Some(1), 3, EntryKind::Survey, EntryState::Queued),
            entry("status", Some(1), 4, EntryKind::Status, EntryState::Queued),
            queued("late-checkin", 1, 5),
            entry("other-status", Some(2), 6, EntryKind::Status, EntryState::Queued),
        ]
    }

    #[test]
    fn wifi_only_on_a_metered_network_lets_check_ins_past_held_photos_but_not_statuses() {
        assert_eq!(
            gated(project_work(), NetworkState::Metered, true, false),
            ["checkin", "late-checkin", "other-status"]
        );
        assert_eq!(
            gated(project_work(), NetworkState::Unmetered, true, false),
            [
                "photo",
                "checkin",
                "survey",
                "status",
                "late-checkin",
                "other-status"
            ]
        );
    }

    #[test]
    fn pause_holds_photos_and_surveys_on_any_network() {
        for network in [NetworkState::Metered, NetworkState::Unmetered] {
            assert_eq!(
                gated(project_work(), network, false, true),
                ["checkin", "late-checkin", "other-status"]
            );
        }
    }

    #[test]
    fn no_network_sends_nothing() {
        assert!(gated(project_work(), NetworkState::None, false, false).is_empty());
    }

    #[test]
    fn a_held_photo_after_a_status_does_not_hold_the_status_back() {
        let entries = vec![
            entry("status", Some(1), 1, EntryKind::Status, EntryState::Queued),
            entry("photo", Some(1), 2, EntryKind::Photo, EntryState::Queued),
        ];
        assert_eq!(gated(entries, NetworkState::Metered, true, false), ["status"]);
    }

    #[test]
    fn a_long_single_project_queue_drains_in_order() {
        let entries: Vec<Pending> = (0..20_000)
            .map(|seq| queued(&format!("e{seq}"), 1, seq))
            .collect();
        let mut dispatcher = Dispatcher::new(entries);
        let order = drain(&mut dispatcher);
        assert_eq!(order.len(), 20_000);
        assert!(
            order
                .iter()
                .enumerate()
                .all(|(index, id)| *id == format!("e{index}"))
        );
    }
}

/// The first pass of a background run (field work before photos): each project's entries up to, not
/// including, its first photo, so that check-ins, statuses and surveys reach the provider before the large
/// uploads without any entry overtaking an earlier one of its project. `entries` are in `seq` order.
pub fn before_first_photo(entries: Vec<Pending>) -> Vec<Pending> {
    let mut photo_seen: std::collections::HashSet<i64> = std::collections::HashSet::new();
    entries
        .into_iter()
        .filter(|entry| {
            let photo = entry.kind == EntryKind::Photo;
            match entry.project {
                Some(project) if photo_seen.contains(&project) => false,
                Some(project) if photo => {
                    photo_seen.insert(project);
                    false
                }
                _ => !photo,
            }
        })
        .collect()
}

#[cfg(test)]
mod first_pass_tests {
    use super::*;

    fn entry(seq: i64, project: Option<i64>, kind: EntryKind) -> Pending {
        Pending {
            id: format!("e{seq}"),
            project,
            seq,
            kind,
            state: EntryState::Queued,
            due: true,
            waits_for_photo: false,
            attempted: false,
        }
    }

    #[test]
    fn the_first_pass_stops_each_project_at_its_first_photo() {
        let entries = vec![
            entry(1, Some(1), EntryKind::CheckIn),
            entry(2, Some(1), EntryKind::Photo),
            entry(3, Some(1), EntryKind::Status),
            entry(4, Some(2), EntryKind::Survey),
            entry(5, Some(2), EntryKind::Status),
            entry(6, None, EntryKind::Photo),
            entry(7, None, EntryKind::CheckIn),
            entry(8, Some(1), EntryKind::CheckIn),
        ];
        let kept: Vec<i64> = before_first_photo(entries)
            .iter()
            .map(|entry| entry.seq)
            .collect();
        assert_eq!(
            kept,
            vec![1, 4, 5, 7],
            "the status after project 1's photo waits for it"
        );
    }
}
