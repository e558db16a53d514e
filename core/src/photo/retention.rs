//! Which photo files may go, as one pure function: plain data in (every photo row with its files and the
//! policy), a plan out (which files to delete and why). The store applies the plan
//! (`Store::apply_retention`); nothing here touches the disk or the database.
//!
//! The rules (see `docs/DOMAIN.md`, "Storage and retention"):
//! 1. Only the files of **decided** photos may go: `relayed` (the provider has it) and `rejected` (QA
//!    decided it is never relayed). Nothing of a photo that is `processing`, `pending_qa`, `queued`,
//!    `uploading` or `failed` is ever deleted.
//! 2. A file is content-addressed and may be shared by several rows (the same bytes in two projects): it
//!    is deleted only when **every** row that has it is decided.
//! 3. Renditions of decided photos go at once ([`RetentionPolicy::evict_decided_renditions`]); a relayed
//!    photo approved again is processed again from its original (see `Store::approve_photo`).
//! 4. Originals of decided photos go once older than [`RetentionPolicy::keep_originals_days`] (age from the
//!    relay, or from the photo's creation for a rejected one; for a shared file, from its newest row).
//! 5. Then, while the photo files still on disk (originals, renditions, thumbnails) weigh more than
//!    [`RetentionPolicy::max_photo_bytes`], the remaining deletable files go, oldest first (renditions
//!    before originals of the same age).
//! 6. Thumbnails are never deleted here: they are small and the app lists them; the start-up sweep removes
//!    them when their row is gone.
//!
//! The plan is deterministic: the same input gives the same plan, whatever the order of the rows.

use std::collections::BTreeMap;

use serde::Serialize;

use super::PhotoState;
use super::files::Kind;
use crate::model::Timestamp;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// What may be kept on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    /// Delete the upload rendition of a relayed or rejected photo at once (default: yes).
    pub evict_decided_renditions: bool,
    /// Keep the originals of relayed and rejected photos this many days (`None`: no age limit).
    pub keep_originals_days: Option<u32>,
    /// Keep the photo store under this many bytes by deleting decided photos' files, oldest first
    /// (`None`: no cap).
    pub max_photo_bytes: Option<u64>,
}

/// The default byte cap: 2 GiB.
pub const DEFAULT_MAX_PHOTO_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The default age limit of decided originals, in days.
pub const DEFAULT_KEEP_ORIGINALS_DAYS: u32 = 30;

impl Default for RetentionPolicy {
    /// Renditions of decided photos go, originals are kept 30 days, photos weigh at most 2 GiB.
    fn default() -> Self {
        Self {
            evict_decided_renditions: true,
            keep_originals_days: Some(DEFAULT_KEEP_ORIGINALS_DAYS),
            max_photo_bytes: Some(DEFAULT_MAX_PHOTO_BYTES),
        }
    }
}

/// A file of the photo store, as a row refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    /// SHA-256 hex: its name.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A photo row and the files it has on disk (`None`: never made, or already evicted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRecord {
    /// The photo's UUID.
    pub uuid: String,
    /// Where it is.
    pub state: PhotoState,
    /// When it was decided: relayed (its relay time) or, for other states, when it was taken.
    pub decided_at: Timestamp,
    /// The camera's original.
    pub original: Option<StoredFile>,
    /// The upload rendition.
    pub rendition: Option<StoredFile>,
    /// The thumbnail.
    pub thumbnail: Option<StoredFile>,
}

impl PhotoRecord {
    /// QA and delivery are done with it: its files may go.
    pub fn is_decided(&self) -> bool {
        is_decided(self.state)
    }

    fn file(&self, kind: Kind) -> Option<&StoredFile> {
        match kind {
            Kind::Original => self.original.as_ref(),
            Kind::Rendition => self.rendition.as_ref(),
            Kind::Thumbnail => self.thumbnail.as_ref(),
        }
    }
}

/// Relayed or rejected: the only states whose files may be deleted.
pub const fn is_decided(state: PhotoState) -> bool {
    matches!(state, PhotoState::Relayed | PhotoState::Rejected)
}

/// Why a file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictionReason {
    /// The rendition of a relayed or rejected photo: it is never sent again as it is.
    DecidedRendition,
    /// An original kept longer than `keep_originals_days`.
    Expired,
    /// Deleted to bring the photo store under `max_photo_bytes`.
    OverCap,
}

/// One file to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eviction {
    /// Original or rendition.
    #[serde(serialize_with = "serialize_kind")]
    pub kind: Kind,
    /// The file.
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// Why.
    pub reason: EvictionReason,
    /// The rows that refer to it (all decided), sorted.
    pub photos: Vec<String>,
}

fn serialize_kind<S: serde::Serializer>(kind: &Kind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match kind {
        Kind::Original => "original",
        Kind::Rendition => "rendition",
        Kind::Thumbnail => "thumbnail",
    })
}

/// What [`plan`] decided.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RetentionPlan {
    /// The files to delete, in the order decided.
    pub evictions: Vec<Eviction>,
    /// Photo bytes on disk before (every distinct file once).
    pub bytes_before: u64,
    /// Photo bytes on disk once the plan is applied.
    pub bytes_after: u64,
    /// `bytes_after` is within the cap (or there is none). False only when the files of undecided photos
    /// (and thumbnails) alone weigh more.
    pub cap_met: bool,
}

/// A distinct file and what its rows say.
struct FileFacts {
    size: u64,
    all_decided: bool,
    /// The newest `decided_at` of its rows.
    newest: Timestamp,
    photos: Vec<String>,
}

/// Decides which files go under `policy` at `now`.
pub fn plan(photos: &[PhotoRecord], policy: &RetentionPolicy, now: Timestamp) -> RetentionPlan {
    // Every distinct file, in a sorted map: the plan does not depend on the rows' order.
    let mut files: BTreeMap<(u8, String), FileFacts> = BTreeMap::new();
    for photo in photos {
        for kind in [Kind::Original, Kind::Rendition, Kind::Thumbnail] {
            let Some(file) = photo.file(kind) else { continue };
            let facts = files
                .entry((kind_rank(kind), file.sha256.clone()))
                .or_insert(FileFacts {
                    size: file.size,
                    all_decided: true,
                    newest: photo.decided_at,
                    photos: Vec::new(),
                });
            facts.all_decided &= photo.is_decided();
            facts.newest = facts.newest.max(photo.decided_at);
            facts.photos.push(photo.uuid.clone());
        }
    }
    let bytes_before: u64 = files.values().map(|facts| facts.size).sum();
    let mut total = bytes_before;
    let mut evictions = Vec::new();
    let mut evict = |key: &(u8, String), facts: &mut FileFacts, reason, total: &mut u64| {
        let mut rows = std::mem::take(&mut facts.photos);
        rows.sort();
        rows.dedup();
        *total -= facts.size;
        evictions.push(Eviction {
            kind: rank_kind(key.0),
            sha256: key.1.clone(),
            size: facts.size,
            reason,
            photos: rows,
        });
    };
    let deletable = |key: &(u8, String), facts: &FileFacts| {
        facts.all_decided && key.0 != kind_rank(Kind::Thumbnail) && !facts.photos.is_empty()
    };
    let expired_before = policy
        .keep_originals_days
        .map(|days| now.saturating_sub(i64::from(days).saturating_mul(DAY)));
    for (key, facts) in &mut files {
        if !deletable(key, facts) {
            continue;
        }
        if key.0 == kind_rank(Kind::Rendition) && policy.evict_decided_renditions {
            evict(key, facts, EvictionReason::DecidedRendition, &mut total);
        } else if key.0 == kind_rank(Kind::Original)
            && expired_before.is_some_and(|limit| facts.newest <= limit)
        {
            evict(key, facts, EvictionReason::Expired, &mut total);
        }
    }
    if let Some(cap) = policy.max_photo_bytes
        && total > cap
    {
        let mut candidates: Vec<(Timestamp, u8, String)> = files
            .iter()
            .filter(|(key, facts)| deletable(key, facts))
            .map(|(key, facts)| (facts.newest, key.0, key.1.clone()))
            .collect();
        // Oldest first; renditions before originals of the same age; then by name.
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        for (_, rank, sha256) in candidates {
            if total <= cap {
                break;
            }
            let key = (rank, sha256);
            if let Some(facts) = files.get_mut(&key) {
                evict(&key, facts, EvictionReason::OverCap, &mut total);
            }
        }
    }
    RetentionPlan {
        evictions,
        bytes_before,
        bytes_after: total,
        cap_met: policy.max_photo_bytes.is_none_or(|cap| total <= cap),
    }
}

fn kind_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Original => 0,
        Kind::Rendition => 1,
        Kind::Thumbnail => 2,
    }
}

fn rank_kind(rank: u8) -> Kind {
    match rank {
        0 => Kind::Original,
        1 => Kind::Rendition,
        _ => Kind::Thumbnail,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use PhotoState::*;

    const NOW: Timestamp = 1_800_000_000;

    fn file(name: &str, size: u64) -> Option<StoredFile> {
        Some(StoredFile {
            sha256: name.to_owned(),
            size,
        })
    }

    fn photo(uuid: &str, state: PhotoState, days_ago: i64) -> PhotoRecord {
        PhotoRecord {
            uuid: uuid.to_owned(),
            state,
            decided_at: NOW - days_ago * DAY,
            original: file(&format!("o-{uuid}"), 1000),
            rendition: file(&format!("r-{uuid}"), 100),
            thumbnail: file(&format!("t-{uuid}"), 10),
        }
    }

    fn no_cap() -> RetentionPolicy {
        RetentionPolicy {
            max_photo_bytes: None,
            ..RetentionPolicy::default()
        }
    }

    fn evicted(plan: &RetentionPlan) -> Vec<(Kind, String, EvictionReason)> {
        plan.evictions
            .iter()
            .map(|e| (e.kind, e.sha256.clone(), e.reason))
            .collect()
    }

    #[test]
    fn the_rendition_of_a_relayed_photo_goes_at_once_and_its_original_stays_while_young() {
        let plan = plan(&[photo("a", Relayed, 1)], &no_cap(), NOW);
        assert_eq!(
            evicted(&plan),
            vec![(Kind::Rendition, "r-a".into(), EvictionReason::DecidedRendition)]
        );
        assert_eq!((plan.bytes_before, plan.bytes_after), (1110, 1010));
    }

    #[test]
    fn renditions_are_kept_when_the_policy_says_so() {
        let policy = RetentionPolicy {
            evict_decided_renditions: false,
            ..no_cap()
        };
        assert!(plan(&[photo("a", Relayed, 1)], &policy, NOW).evictions.is_empty());
    }

    #[test]
    fn an_original_older_than_the_limit_goes() {
        let plan = plan(
            &[photo("old", Relayed, 31), photo("new", Relayed, 29)],
            &no_cap(),
            NOW,
        );
        let originals: Vec<_> = evicted(&plan)
            .into_iter()
            .filter(|(kind, ..)| *kind == Kind::Original)
            .collect();
        assert_eq!(
            originals,
            vec![(Kind::Original, "o-old".into(), EvictionReason::Expired)]
        );
        let exactly = super::plan(&[photo("edge", Relayed, 30)], &no_cap(), NOW);
        assert!(
            exactly.evictions.iter().any(|e| e.sha256 == "o-edge"),
            "30 days is old enough"
        );
    }

    #[test]
    fn without_an_age_limit_originals_stay() {
        let policy = RetentionPolicy {
            keep_originals_days: None,
            ..no_cap()
        };
        let plan = plan(&[photo("old", Relayed, 400)], &policy, NOW);
        assert!(plan.evictions.iter().all(|e| e.kind == Kind::Rendition));
    }

    #[test]
    fn nothing_of_an_undecided_photo_ever_goes() {
        let policy = RetentionPolicy {
            evict_decided_renditions: true,
            keep_originals_days: Some(0),
            max_photo_bytes: Some(0),
        };
        let photos: Vec<_> = [Processing, PendingQa, Queued, Uploading, Failed]
            .into_iter()
            .enumerate()
            .map(|(i, state)| photo(&format!("p{i}"), state, 1000))
            .collect();
        let plan = plan(&photos, &policy, NOW);
        assert!(plan.evictions.is_empty());
        assert!(!plan.cap_met);
    }

    #[test]
    fn a_rejected_photo_is_decided_its_rendition_goes_and_its_original_ages() {
        let plan = plan(&[photo("x", Rejected, 31)], &no_cap(), NOW);
        assert_eq!(
            evicted(&plan),
            vec![
                (Kind::Original, "o-x".into(), EvictionReason::Expired),
                (Kind::Rendition, "r-x".into(), EvictionReason::DecidedRendition),
            ]
        );
    }

    #[test]
    fn a_file_shared_with_an_undecided_photo_stays() {
        let relayed = photo("a", Relayed, 100);
        let mut pending = photo("b", PendingQa, 100);
        pending.original = relayed.original.clone();
        pending.rendition = relayed.rendition.clone();
        let plan = plan(&[relayed.clone(), pending], &no_cap(), NOW);
        assert!(plan.evictions.is_empty(), "{plan:?}");
        // Shared by two decided rows: it goes once, naming both.
        let mut other = photo("c", Relayed, 100);
        other.original = relayed.original.clone();
        let plan = super::plan(&[relayed, other], &no_cap(), NOW);
        let original = plan.evictions.iter().find(|e| e.sha256 == "o-a").unwrap();
        assert_eq!(original.photos, vec!["a".to_owned(), "c".to_owned()]);
    }

    #[test]
    fn a_shared_original_ages_from_its_newest_row() {
        let old = photo("a", Relayed, 100);
        let mut young = photo("b", Relayed, 2);
        young.original = old.original.clone();
        let plan = plan(&[old, young], &no_cap(), NOW);
        assert!(plan.evictions.iter().all(|e| e.kind == Kind::Rendition));
    }

    #[test]
    fn over_the_cap_the_oldest_decided_originals_go_first_until_it_is_met() {
        let policy = RetentionPolicy {
            keep_originals_days: None,
            max_photo_bytes: Some(2200),
            ..RetentionPolicy::default()
        };
        // After the renditions: 3 originals (3000) + 3 thumbnails (30) + one pending photo (1110).
        let photos = [
            photo("mid", Relayed, 5),
            photo("oldest", Relayed, 9),
            photo("newest", Relayed, 1),
            photo("waiting", PendingQa, 20),
        ];
        let plan = plan(&photos, &policy, NOW);
        let over: Vec<_> = plan
            .evictions
            .iter()
            .filter(|e| e.reason == EvictionReason::OverCap)
            .map(|e| e.sha256.as_str())
            .collect();
        assert_eq!(over, vec!["o-oldest", "o-mid"]);
        assert_eq!(plan.bytes_after, 2140);
        assert!(plan.cap_met);
        // A cap below what undecided photos and thumbnails weigh cannot be met: everything allowed goes.
        let tight = RetentionPolicy {
            max_photo_bytes: Some(100),
            ..policy
        };
        let plan = super::plan(&photos, &tight, NOW);
        assert_eq!(plan.bytes_after, 1110 + 30);
        assert!(!plan.cap_met);
    }

    #[test]
    fn thumbnails_are_never_evicted() {
        let policy = RetentionPolicy {
            evict_decided_renditions: true,
            keep_originals_days: Some(0),
            max_photo_bytes: Some(0),
        };
        let plan = plan(&[photo("a", Relayed, 1)], &policy, NOW);
        assert!(plan.evictions.iter().all(|e| e.kind != Kind::Thumbnail));
        assert_eq!(plan.bytes_after, 10);
    }

    #[test]
    fn files_already_gone_are_not_planned_again() {
        let mut done = photo("a", Relayed, 100);
        done.original = None;
        done.rendition = None;
        assert!(
            plan(&[done], &RetentionPolicy::default(), NOW)
                .evictions
                .is_empty()
        );
    }

    const STATES: [PhotoState; 7] = [
        Processing, PendingQa, Queued, Uploading, Relayed, Failed, Rejected,
    ];

    fn arbitrary_photos() -> impl Strategy<Value = Vec<PhotoRecord>> {
        // A small pool of names makes shared files common.
        let name = |prefix: &'static str| {
            prop::option::weighted(0.85, (0u8..8).prop_map(move |n| format!("{prefix}{n}")))
        };
        prop::collection::vec((0usize..7, 0i64..90, name("o"), name("r"), name("t")), 0..24).prop_map(
            |rows| {
                rows.into_iter()
                    .enumerate()
                    .map(|(i, (state, days, original, rendition, thumbnail))| {
                        // A file's size follows from its name: same content, same size.
                        let sized = |name: Option<String>| {
                            name.map(|sha256| {
                                let size = 50 + u64::from(sha256.as_bytes()[1]) * 37 + sha256.len() as u64;
                                StoredFile { sha256, size }
                            })
                        };
                        PhotoRecord {
                            uuid: format!("photo-{i:02}"),
                            state: STATES[state],
                            decided_at: NOW - days * DAY,
                            original: sized(original),
                            rendition: sized(rendition),
                            thumbnail: sized(thumbnail),
                        }
                    })
                    .collect()
            },
        )
    }

    fn arbitrary_policy() -> impl Strategy<Value = RetentionPolicy> {
        (
            any::<bool>(),
            prop::option::of(0u32..60),
            prop::option::of(0u64..6000),
        )
            .prop_map(|(renditions, days, cap)| RetentionPolicy {
                evict_decided_renditions: renditions,
                keep_originals_days: days,
                max_photo_bytes: cap,
            })
    }

    proptest! {
        #[test]
        fn the_plan_is_safe_meets_the_cap_when_it_can_and_is_deterministic(
            photos in arbitrary_photos(),
            policy in arbitrary_policy(),
            rotate in 0usize..24,
        ) {
            let planned = plan(&photos, &policy, NOW);
            // Never a file an undecided row needs, never a thumbnail.
            let needed: HashSet<(u8, &str)> = photos
                .iter()
                .filter(|photo| !photo.is_decided())
                .flat_map(|photo| {
                    [Kind::Original, Kind::Rendition, Kind::Thumbnail]
                        .into_iter()
                        .filter_map(move |kind| photo.file(kind).map(|f| (kind_rank(kind), f.sha256.as_str())))
                })
                .collect();
            for eviction in &planned.evictions {
                prop_assert_ne!(eviction.kind, Kind::Thumbnail);
                prop_assert!(!needed.contains(&(kind_rank(eviction.kind), eviction.sha256.as_str())), "{eviction:?}");
            }
            // Each file at most once; the byte counts add up.
            let distinct: HashSet<_> = planned.evictions.iter().map(|e| (kind_rank(e.kind), &e.sha256)).collect();
            prop_assert_eq!(distinct.len(), planned.evictions.len());
            let freed: u64 = planned.evictions.iter().map(|e| e.size).sum();
            prop_assert_eq!(planned.bytes_before - freed, planned.bytes_after);
            // The cap is met whenever deleting every allowed file would meet it.
            if let Some(cap) = policy.max_photo_bytes {
                let everything = plan(&photos, &RetentionPolicy {
                    evict_decided_renditions: true,
                    keep_originals_days: Some(0),
                    max_photo_bytes: None,
                }, NOW + 1);
                if everything.bytes_after <= cap {
                    prop_assert!(planned.cap_met && planned.bytes_after <= cap, "{planned:?}");
                }
            }
            // Deterministic, whatever the rows' order.
            let mut rotated = photos.clone();
            if !rotated.is_empty() {
                let by = rotate % rotated.len();
                rotated.rotate_left(by);
            }
            prop_assert_eq!(&plan(&rotated, &policy, NOW), &planned);
        }
    }
}
