//! Storage that cleans itself, through the bindings: the photo retention policy, the storage report and
//! SQLite upkeep (the core's `store::retention` and `photo::retention`).
//!
//! Typed for the host: durations are durations, byte counts and file counts are signed 64-bit integers
//! (Kotlin `Long`, Swift `Int64`, Python `int`), the vacuum mode and the reasons are enums.

use std::time::Duration;

use fieldsync_core::photo::files::Kind;
use fieldsync_core::photo::retention as core;
use fieldsync_core::store as core_store;

use crate::error::FieldSyncError;
use crate::records::PhotoState;

/// A day, the unit the core counts the originals' age in.
const DAY_SECS: u64 = 86_400;

fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Which photo files may go once the provider has the photos. Only the files of relayed photos and of
/// photos QA rejected ever go; nothing of a photo not yet relayed or not yet decided by QA is deleted.
/// Set in `FieldSyncConfig.retention` (applied at open and after every delivery run that delivered
/// something), or passed to `FieldSync.apply_retention`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RetentionPolicy {
    /// Delete the upload rendition of a relayed or rejected photo at once. Off, renditions stay until the
    /// byte cap needs the space, so that QA publishing a relayed photo again sends it at once (on, it is
    /// made again from the original).
    #[uniffi(default = false)]
    pub delete_decided_renditions: bool,
    /// Keep the originals of relayed and rejected photos this long after the relay (the rejection: after
    /// the photo was taken); `None`: no age limit. Counted in whole days, rounded up.
    #[uniffi(default = None)]
    pub keep_originals_for: Option<Duration>,
    /// Keep the photo store under this many bytes by deleting decided photos' files, oldest first
    /// (renditions before originals of the same age); `None`: no cap. Never negative.
    #[uniffi(default = None)]
    pub max_photo_bytes: Option<i64>,
}

impl RetentionPolicy {
    /// The core's policy; `InvalidInput` for a negative cap or an age beyond range.
    pub(crate) fn into_core(self) -> Result<core::RetentionPolicy, FieldSyncError> {
        let keep_originals_days = self
            .keep_originals_for
            .map(|keep| {
                let secs = keep.as_secs().saturating_add(u64::from(keep.subsec_nanos() > 0));
                let days = secs.div_ceil(DAY_SECS);
                u32::try_from(days).map_err(|_| FieldSyncError::InvalidInput {
                    reason: format!("keep_originals_for is too long: {days} days"),
                })
            })
            .transpose()?;
        let max_photo_bytes = self
            .max_photo_bytes
            .map(|cap| {
                u64::try_from(cap).map_err(|_| FieldSyncError::InvalidInput {
                    reason: format!("max_photo_bytes cannot be negative: {cap}"),
                })
            })
            .transpose()?;
        Ok(core::RetentionPolicy {
            evict_decided_renditions: self.delete_decided_renditions,
            keep_originals_days,
            max_photo_bytes,
        })
    }
}

impl From<core::RetentionPolicy> for RetentionPolicy {
    fn from(policy: core::RetentionPolicy) -> Self {
        Self {
            delete_decided_renditions: policy.evict_decided_renditions,
            keep_originals_for: policy
                .keep_originals_days
                .map(|days| Duration::from_secs(u64::from(days) * DAY_SECS)),
            max_photo_bytes: policy.max_photo_bytes.map(signed),
        }
    }
}

/// The policy an app gets unless it sets one: renditions of relayed photos stay until the cap needs the
/// space, originals of relayed and rejected photos go after 30 days, photo files weigh at most 2 GiB.
#[uniffi::export]
pub fn default_retention_policy() -> RetentionPolicy {
    core::RetentionPolicy {
        evict_decided_renditions: false,
        ..core::RetentionPolicy::default()
    }
    .into()
}

/// A kind of file of the photo store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoFileKind {
    /// As the camera gave it.
    Original,
    /// What is uploaded.
    Rendition,
    /// For the app's lists.
    Thumbnail,
}

impl From<Kind> for PhotoFileKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Original => Self::Original,
            Kind::Rendition => Self::Rendition,
            Kind::Thumbnail => Self::Thumbnail,
        }
    }
}

/// Why the retention policy deleted a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EvictionReason {
    /// The rendition of a relayed or rejected photo.
    DecidedRendition,
    /// An original kept longer than `keep_originals_for`.
    Expired,
    /// Deleted to bring the photo store under `max_photo_bytes`.
    OverCap,
}

impl From<core::EvictionReason> for EvictionReason {
    fn from(reason: core::EvictionReason) -> Self {
        match reason {
            core::EvictionReason::DecidedRendition => Self::DecidedRendition,
            core::EvictionReason::Expired => Self::Expired,
            core::EvictionReason::OverCap => Self::OverCap,
        }
    }
}

/// One file the retention policy deleted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Eviction {
    /// Original or rendition.
    pub kind: PhotoFileKind,
    /// The file's SHA-256 (hex), its name in the photo store.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: i64,
    /// Why it went.
    pub reason: EvictionReason,
    /// The photos (UUIDs) that referred to it, all relayed or rejected.
    pub photos: Vec<String>,
}

/// What applying the retention policy did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RetentionReport {
    /// Renditions deleted.
    pub renditions_deleted: i64,
    /// Originals deleted.
    pub originals_deleted: i64,
    /// Bytes freed.
    pub bytes_freed: i64,
    /// Photo bytes left (originals, renditions and thumbnails, each file once).
    pub photo_bytes: i64,
    /// The byte cap is met: false only when photos not yet relayed or decided weigh more by themselves.
    pub cap_met: bool,
    /// Every file deleted.
    pub evictions: Vec<Eviction>,
}

impl From<core_store::RetentionReport> for RetentionReport {
    fn from(report: core_store::RetentionReport) -> Self {
        Self {
            renditions_deleted: signed(report.renditions_deleted),
            originals_deleted: signed(report.originals_deleted),
            bytes_freed: signed(report.bytes_freed),
            photo_bytes: signed(report.photo_bytes),
            cap_met: report.cap_met,
            evictions: report
                .evictions
                .into_iter()
                .map(|eviction| Eviction {
                    kind: eviction.kind.into(),
                    sha256: eviction.sha256,
                    bytes: signed(eviction.size),
                    reason: eviction.reason.into(),
                    photos: eviction.photos,
                })
                .collect(),
        }
    }
}

/// Files of one kind and their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct FileUsage {
    /// Files.
    pub files: i64,
    /// Their bytes.
    pub bytes: i64,
}

impl From<core_store::FileUsage> for FileUsage {
    fn from(usage: core_store::FileUsage) -> Self {
        Self {
            files: signed(usage.files),
            bytes: signed(usage.bytes),
        }
    }
}

/// The photos in one state and what their files weigh on disk (a file two of them share counts once).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PhotoStateUsage {
    /// The state.
    pub state: PhotoState,
    /// Photos in it.
    pub photos: i64,
    /// Their originals still on disk.
    pub originals: FileUsage,
    /// Their renditions still on disk.
    pub renditions: FileUsage,
    /// Their thumbnails.
    pub thumbnails: FileUsage,
}

/// SQLite's auto-vacuum mode of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AutoVacuum {
    /// Free pages stay in the file until a full vacuum (a cache created by an old version).
    None,
    /// Free pages go back at every commit.
    Full,
    /// Free pages go back a bounded amount at each `maintain()` (what fieldsync sets up).
    Incremental,
}

impl AutoVacuum {
    fn parse(mode: &str) -> Self {
        match mode {
            "full" => Self::Full,
            "incremental" => Self::Incremental,
            _ => Self::None,
        }
    }
}

/// Where the device's storage goes: the cache's files and the photo store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StorageReport {
    /// The SQLite file.
    pub database_bytes: i64,
    /// Its write-ahead log.
    pub wal_bytes: i64,
    /// Its shared-memory index.
    pub shm_bytes: i64,
    /// Bytes inside the database a vacuum would give back.
    pub free_bytes: i64,
    /// The database's vacuum mode.
    pub auto_vacuum: AutoVacuum,
    /// Originals in the photo store.
    pub originals: FileUsage,
    /// Renditions in the photo store.
    pub renditions: FileUsage,
    /// Thumbnails in the photo store.
    pub thumbnails: FileUsage,
    /// All photo files.
    pub photo_bytes: i64,
    /// Per photo state (only states that have photos), in lifecycle order.
    pub by_state: Vec<PhotoStateUsage>,
    /// Photos whose original the retention policy deleted.
    pub originals_evicted: i64,
    /// Photos whose rendition the retention policy deleted.
    pub renditions_evicted: i64,
}

impl From<core_store::StorageReport> for StorageReport {
    fn from(report: core_store::StorageReport) -> Self {
        Self {
            database_bytes: signed(report.database_bytes),
            wal_bytes: signed(report.wal_bytes),
            shm_bytes: signed(report.shm_bytes),
            free_bytes: signed(report.free_bytes),
            auto_vacuum: AutoVacuum::parse(&report.auto_vacuum),
            originals: report.originals.into(),
            renditions: report.renditions.into(),
            thumbnails: report.thumbnails.into(),
            photo_bytes: signed(report.photo_bytes),
            by_state: report
                .by_state
                .into_iter()
                .map(|usage| PhotoStateUsage {
                    state: usage.state.into(),
                    photos: signed(usage.photos),
                    originals: usage.originals.into(),
                    renditions: usage.renditions.into(),
                    thumbnails: usage.thumbnails.into(),
                })
                .collect(),
            originals_evicted: signed(report.originals_evicted),
            renditions_evicted: signed(report.renditions_evicted),
        }
    }
}

/// What one round of database upkeep did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Maintenance {
    /// `PRAGMA optimize` ran.
    pub optimized: bool,
    /// The cache was switched to incremental vacuum now (one full `VACUUM`, for a small old cache).
    pub converted: bool,
    /// Free pages given back to the file system.
    pub pages_freed: i64,
    /// The vacuum mode after.
    pub auto_vacuum: AutoVacuum,
    /// Why nothing was done (the database was busy: an import, field work being saved). Try later.
    pub skipped: Option<String>,
}

impl From<core_store::Maintenance> for Maintenance {
    fn from(done: core_store::Maintenance) -> Self {
        Self {
            optimized: done.optimized,
            converted: done.converted,
            pages_freed: signed(done.pages_freed),
            auto_vacuum: AutoVacuum::parse(&done.auto_vacuum),
            skipped: done.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_counts_whole_days_rounded_up_and_refuses_a_negative_cap() {
        let policy = |keep: Option<Duration>, cap: Option<i64>| RetentionPolicy {
            delete_decided_renditions: true,
            keep_originals_for: keep,
            max_photo_bytes: cap,
        };
        let core = policy(Some(Duration::from_secs(DAY_SECS + 1)), Some(10))
            .into_core()
            .unwrap();
        assert_eq!(core.keep_originals_days, Some(2));
        assert_eq!(core.max_photo_bytes, Some(10));
        let zero = policy(Some(Duration::ZERO), None).into_core().unwrap();
        assert_eq!(zero.keep_originals_days, Some(0), "zero keeps none");
        let tiny = policy(Some(Duration::from_millis(1)), None).into_core().unwrap();
        assert_eq!(tiny.keep_originals_days, Some(1));
        let refused = policy(None, Some(-1)).into_core();
        assert!(
            matches!(refused, Err(FieldSyncError::InvalidInput { .. })),
            "{refused:?}"
        );
        let back: RetentionPolicy = core::RetentionPolicy::default().into();
        assert_eq!(back.keep_originals_for, Some(Duration::from_secs(30 * DAY_SECS)));
        assert_eq!(back.into_core().unwrap(), core::RetentionPolicy::default());
    }
}
