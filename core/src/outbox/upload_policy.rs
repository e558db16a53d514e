//! The upload policy and the upload log's reasons, pure: which entries may go under the network the host
//! reports and the vendor's upload policy, and why each undelivered entry waits.
//!
//! The policy:
//! - With no network, nothing goes.
//! - Check-ins and status items are small: they go on any network, whatever the policy. The pause switch
//!   and "photos on Wi-Fi only" never hold them.
//! - Photos and survey items are the large kinds. The pause switch holds them on every network; "photos
//!   on Wi-Fi only" holds them on a metered network. Survey items follow photos because a survey names
//!   its photos and must not reach the provider before them.
//!
//! Per-project order under the policy ([`Dispatcher::gated`](super::dispatch::Dispatcher::gated) applies
//! it, [`UploadLog`] reports it): while a photo or survey of a project is held by the policy, only the
//! project's check-ins may go past it. Its later status items (Complete among them) wait behind it, so the
//! provider sees the photos before the project's completion; its later photos and surveys are held by the
//! same rule anyway.
//!
//! [`UploadLog`] derives, for each undelivered entry in outbox order, one typed [`WaitReason`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{EntryKind, EntryState};
use crate::model::{InvalidInput, Timestamp};

/// The network the host reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkState {
    /// No network: nothing is sent.
    None,
    /// A metered network (mobile data): photos wait when the vendor asks for Wi-Fi only.
    Metered,
    /// An unmetered network (Wi-Fi). Until the host says otherwise, the network counts as unmetered
    /// (everything may go, as before the policy existed).
    #[default]
    Unmetered,
}

impl NetworkState {
    /// The name used by the CLI and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Metered => "metered",
            Self::Unmetered => "unmetered",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        match text {
            "none" => Ok(Self::None),
            "metered" => Ok(Self::Metered),
            "unmetered" => Ok(Self::Unmetered),
            other => Err(InvalidInput::new(
                "network",
                format!("unknown network `{other}` (none, metered or unmetered)"),
            )),
        }
    }
}

impl std::fmt::Display for NetworkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The vendor's upload policy, persisted on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct UploadPolicy {
    /// Photos and survey items wait for an unmetered network.
    #[serde(default)]
    pub photos_on_wifi_only: bool,
    /// Photos and survey items wait until the switch is off. Check-ins and statuses still go.
    #[serde(default)]
    pub paused: bool,
}

/// What a delivery run or the upload log knows about the moment: the network and the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UploadConditions {
    /// The network the host reports.
    pub network: NetworkState,
    /// The vendor's policy.
    pub policy: UploadPolicy,
}

/// Why the policy holds an entry back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hold {
    /// No network.
    NoNetwork,
    /// The pause switch (large kinds only).
    Paused,
    /// Wi-Fi only, on a metered network (large kinds only).
    WaitingForWifi,
}

impl Hold {
    /// The reason the upload log gives.
    pub fn reason(self) -> WaitReason {
        match self {
            Self::NoNetwork => WaitReason::WaitingForNetwork,
            Self::Paused => WaitReason::Paused,
            Self::WaitingForWifi => WaitReason::WaitingForWifi,
        }
    }
}

/// Whether an entry of this kind is large (photos and survey items): the pause switch and Wi-Fi only
/// apply to it.
pub fn is_large(kind: EntryKind) -> bool {
    matches!(kind, EntryKind::Photo | EntryKind::Survey)
}

/// Why an entry of `kind` may not go under `conditions`, or `None` when it may.
pub fn hold(kind: EntryKind, conditions: UploadConditions) -> Option<Hold> {
    if conditions.network == NetworkState::None {
        return Some(Hold::NoNetwork);
    }
    if !is_large(kind) {
        return None;
    }
    if conditions.policy.paused {
        Some(Hold::Paused)
    } else if conditions.policy.photos_on_wifi_only && conditions.network == NetworkState::Metered {
        Some(Hold::WaitingForWifi)
    } else {
        None
    }
}

/// Why an undelivered entry is not delivered yet, or when it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WaitReason {
    /// Nothing holds it: it goes at the next delivery run.
    Queued,
    /// A delivery run is sending it now.
    Sending,
    /// The host reports no network.
    WaitingForNetwork,
    /// The vendor's pause switch holds photos and survey items.
    Paused,
    /// "Photos on Wi-Fi only", and the network is metered.
    WaitingForWifi,
    /// A photo not processed yet (or whose processing failed and is retried).
    WaitingForProcessing,
    /// A processed photo whose content credentials the device could not sign yet (a locked keystore):
    /// tried again at the next processing pass, never lost.
    WaitingForSigner {
        /// Why the device could not sign.
        error: String,
    },
    /// A photo or survey item waiting for QA to approve it.
    WaitingForQa,
    /// A photo or survey item waiting for QA in a project whose `complete_mode` is `publish`: completing
    /// the project approves it (a reviewer may still approve it earlier).
    WaitingForCompletion,
    /// A check-in whose project requires a photo, until a photo of that project is relayed.
    PhotoOfItsProject,
    /// A survey whose answers reference photos still in processing or QA (or failed, or rejected).
    ReferencedPhotos,
    /// Its project was created on the device: it waits until an import brings the provider's order.
    ProviderOrder,
    /// An earlier entry of its project cannot go now (it needs attention or backs off).
    EarlierItem,
    /// A failure's backoff, until `until`; a sync the user asks for does not wait.
    Backoff {
        /// When it is tried again (Unix seconds).
        until: Timestamp,
    },
    /// It failed for good: the user retries or discards it.
    NeedsAttention {
        /// Why it failed.
        error: String,
    },
}

impl WaitReason {
    /// A stable short code (the JSON `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::WaitingForNetwork => "waiting_for_network",
            Self::Paused => "paused",
            Self::WaitingForWifi => "waiting_for_wifi",
            Self::WaitingForProcessing => "waiting_for_processing",
            Self::WaitingForSigner { .. } => "waiting_for_signer",
            Self::WaitingForQa => "waiting_for_qa",
            Self::WaitingForCompletion => "waiting_for_completion",
            Self::PhotoOfItsProject => "photo_of_its_project",
            Self::ReferencedPhotos => "referenced_photos",
            Self::ProviderOrder => "provider_order",
            Self::EarlierItem => "earlier_item",
            Self::Backoff { .. } => "backoff",
            Self::NeedsAttention { .. } => "needs_attention",
        }
    }
}

impl std::fmt::Display for WaitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Queued => f.write_str("goes at the next delivery"),
            Self::Sending => f.write_str("being sent"),
            Self::WaitingForNetwork => f.write_str("waiting for a network"),
            Self::Paused => f.write_str("paused"),
            Self::WaitingForWifi => f.write_str("waiting for Wi-Fi"),
            Self::WaitingForProcessing => f.write_str("waiting for processing"),
            Self::WaitingForSigner { error } => write!(f, "{error}"),
            Self::WaitingForQa => f.write_str("waiting for QA"),
            Self::WaitingForCompletion => f.write_str("waiting for the project's completion (or QA)"),
            Self::PhotoOfItsProject => f.write_str("waiting for a relayed photo of its project"),
            Self::ReferencedPhotos => f.write_str("waiting for the photos its answers reference"),
            Self::ProviderOrder => f.write_str("waiting for the provider's order"),
            Self::EarlierItem => f.write_str("waiting for an earlier item of its project"),
            Self::Backoff { until } => {
                write!(f, "backing off until {}", crate::model::format_timestamp(*until))
            }
            Self::NeedsAttention { error } => write!(f, "needs attention: {error}"),
        }
    }
}

/// What holds a `held` entry (a photo or survey item before the QA gate lets it go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldFor {
    /// The photo is not processed yet, or its processing failed.
    Processing,
    /// The photo's rendition waits for the device signer (the reason is the entry's `last_error`).
    Signing,
    /// Waiting for QA.
    Qa,
    /// Waiting for QA in a `publish` project not completed yet: completing approves it.
    Completion,
}

/// What the upload log needs to know about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    /// Its project's row id, if it has a project.
    pub project: Option<i64>,
    /// What it delivers.
    pub kind: EntryKind,
    /// Where it is.
    pub state: EntryState,
    /// Its project was created on the device and its order has not arrived.
    pub local: bool,
    /// For a `held` entry: what holds it.
    pub held_for: Option<HeldFor>,
    /// A survey whose answers reference photos that may not go yet.
    pub waits_for_referenced_photos: bool,
    /// A check-in whose project requires a photo, while none is relayed.
    pub waits_for_photo: bool,
    /// For `retry_wait`: when it is tried again.
    pub next_attempt_at: Option<Timestamp>,
    /// The last delivery error.
    pub last_error: Option<String>,
}

/// What the entries seen so far mean for a project's later ones.
#[derive(Debug, Clone, Copy, Default)]
struct Ahead {
    /// An earlier entry needs attention or backs off: the project is stuck behind it.
    stuck: bool,
    /// An earlier photo or survey is held by the policy: only check-ins go past it.
    large_held: Option<Hold>,
}

/// Derives the upload log's reasons, for entries given in outbox order (by `seq`).
#[derive(Debug)]
pub struct UploadLog {
    conditions: UploadConditions,
    now: Timestamp,
    projects: HashMap<i64, Ahead>,
}

impl UploadLog {
    /// A log under `conditions` at `now`.
    pub fn new(conditions: UploadConditions, now: Timestamp) -> Self {
        Self {
            conditions,
            now,
            projects: HashMap::new(),
        }
    }

    /// Why the entry waits (`None` once delivered). Call it for every entry, in outbox order.
    pub fn reason(&mut self, facts: &EntryFacts) -> Option<WaitReason> {
        let ahead = facts
            .project
            .and_then(|project| self.projects.get(&project).copied())
            .unwrap_or_default();
        let own_hold = hold(facts.kind, self.conditions);
        let reason = match facts.state {
            EntryState::Done => return None,
            EntryState::InFlight => WaitReason::Sending,
            _ if facts.local => WaitReason::ProviderOrder,
            EntryState::NeedsAttention => WaitReason::NeedsAttention {
                error: facts.last_error.clone().unwrap_or_default(),
            },
            EntryState::Held => match facts.held_for {
                Some(HeldFor::Processing) => WaitReason::WaitingForProcessing,
                Some(HeldFor::Signing) => WaitReason::WaitingForSigner {
                    error: facts.last_error.clone().unwrap_or_default(),
                },
                Some(HeldFor::Completion) => WaitReason::WaitingForCompletion,
                Some(HeldFor::Qa) | None => WaitReason::WaitingForQa,
            },
            EntryState::Queued | EntryState::RetryWait => {
                let backing_off = facts.state == EntryState::RetryWait
                    && facts.next_attempt_at.is_some_and(|at| at > self.now);
                if facts.waits_for_referenced_photos {
                    WaitReason::ReferencedPhotos
                } else if backing_off {
                    WaitReason::Backoff {
                        until: facts.next_attempt_at.unwrap_or(self.now),
                    }
                } else if let Some(hold) = own_hold {
                    hold.reason()
                } else if ahead.stuck {
                    WaitReason::EarlierItem
                } else if let (Some(hold), false) = (ahead.large_held, facts.kind == EntryKind::CheckIn) {
                    hold.reason()
                } else if facts.waits_for_photo {
                    WaitReason::PhotoOfItsProject
                } else {
                    WaitReason::Queued
                }
            }
        };
        // What this entry means for its project's later entries, as a delivery run plans it: an entry the
        // run would consider (not held, not waiting for its order or its referenced photos) that the
        // policy holds lets only check-ins past; one that needs attention or backs off stops the project.
        let planned = !facts.local
            && !facts.waits_for_referenced_photos
            && !matches!(facts.state, EntryState::Held | EntryState::Done);
        if let (Some(project), true) = (facts.project, planned) {
            let ahead = self.projects.entry(project).or_default();
            match (own_hold, &reason) {
                (Some(hold @ (Hold::Paused | Hold::WaitingForWifi)), _) => {
                    ahead.large_held.get_or_insert(hold);
                }
                (_, WaitReason::NeedsAttention { .. } | WaitReason::Backoff { .. }) => ahead.stuck = true,
                _ => {}
            }
        }
        Some(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_KINDS: [EntryKind; 4] = [
        EntryKind::Status,
        EntryKind::CheckIn,
        EntryKind::Photo,
        EntryKind::Survey,
    ];

    fn conditions(network: NetworkState, photos_on_wifi_only: bool, paused: bool) -> UploadConditions {
        UploadConditions {
            network,
            policy: UploadPolicy {
                photos_on_wifi_only,
                paused,
            },
        }
    }

    #[test]
    fn nothing_goes_without_a_network() {
        for kind in ALL_KINDS {
            for (wifi, paused) in [(false, false), (true, false), (false, true), (true, true)] {
                assert_eq!(
                    hold(kind, conditions(NetworkState::None, wifi, paused)),
                    Some(Hold::NoNetwork)
                );
            }
        }
    }

    #[test]
    fn check_ins_and_statuses_go_on_any_network_whatever_the_policy() {
        for kind in [EntryKind::CheckIn, EntryKind::Status] {
            for network in [NetworkState::Metered, NetworkState::Unmetered] {
                for (wifi, paused) in [(false, false), (true, false), (false, true), (true, true)] {
                    assert_eq!(
                        hold(kind, conditions(network, wifi, paused)),
                        None,
                        "{kind} {network}"
                    );
                }
            }
        }
    }

    #[test]
    fn wifi_only_holds_photos_and_surveys_on_a_metered_network_only() {
        for kind in [EntryKind::Photo, EntryKind::Survey] {
            assert_eq!(
                hold(kind, conditions(NetworkState::Metered, true, false)),
                Some(Hold::WaitingForWifi)
            );
            assert_eq!(hold(kind, conditions(NetworkState::Unmetered, true, false)), None);
            assert_eq!(hold(kind, conditions(NetworkState::Metered, false, false)), None);
        }
    }

    #[test]
    fn pause_holds_photos_and_surveys_on_every_network_and_wins_over_wifi_only() {
        for kind in [EntryKind::Photo, EntryKind::Survey] {
            for network in [NetworkState::Metered, NetworkState::Unmetered] {
                for wifi in [false, true] {
                    assert_eq!(hold(kind, conditions(network, wifi, true)), Some(Hold::Paused));
                }
            }
        }
    }

    #[test]
    fn the_default_conditions_hold_nothing() {
        for kind in ALL_KINDS {
            assert_eq!(hold(kind, UploadConditions::default()), None);
        }
    }

    #[test]
    fn network_names_round_trip() {
        for network in [NetworkState::None, NetworkState::Metered, NetworkState::Unmetered] {
            assert_eq!(NetworkState::parse(network.as_str()).unwrap(), network);
        }
        assert!(NetworkState::parse("wifi").is_err());
    }

    fn facts(project: i64, kind: EntryKind, state: EntryState) -> EntryFacts {
        EntryFacts {
            project: Some(project),
            kind,
            state,
            local: false,
            held_for: None,
            waits_for_referenced_photos: false,
            waits_for_photo: false,
            next_attempt_at: None,
            last_error: None,
        }
    }

    fn reasons(conditions: UploadConditions, entries: &[EntryFacts]) -> Vec<Option<WaitReason>> {
        let mut log = UploadLog::new(conditions, 1_000);
        entries.iter().map(|entry| log.reason(entry)).collect()
    }

    #[test]
    fn a_check_in_after_a_photo_held_for_wifi_goes_but_a_status_waits_behind_it() {
        let entries = [
            facts(1, EntryKind::Photo, EntryState::Queued),
            facts(1, EntryKind::CheckIn, EntryState::Queued),
            facts(1, EntryKind::Status, EntryState::Queued),
            facts(2, EntryKind::Status, EntryState::Queued),
        ];
        assert_eq!(
            reasons(conditions(NetworkState::Metered, true, false), &entries),
            [
                Some(WaitReason::WaitingForWifi),
                Some(WaitReason::Queued),
                Some(WaitReason::WaitingForWifi),
                Some(WaitReason::Queued),
            ]
        );
        assert_eq!(
            reasons(conditions(NetworkState::Unmetered, false, true), &entries)[2],
            Some(WaitReason::Paused)
        );
        assert!(
            reasons(conditions(NetworkState::None, false, false), &entries)
                .iter()
                .all(|reason| *reason == Some(WaitReason::WaitingForNetwork))
        );
        assert!(
            reasons(UploadConditions::default(), &entries)
                .iter()
                .all(|reason| *reason == Some(WaitReason::Queued))
        );
    }

    #[test]
    fn every_state_has_its_reason() {
        let held = |held_for| EntryFacts {
            held_for: Some(held_for),
            ..facts(1, EntryKind::Photo, EntryState::Held)
        };
        let entries = [
            facts(9, EntryKind::Status, EntryState::Done),
            facts(9, EntryKind::Status, EntryState::InFlight),
            held(HeldFor::Processing),
            held(HeldFor::Qa),
            held(HeldFor::Completion),
            EntryFacts {
                local: true,
                ..facts(2, EntryKind::CheckIn, EntryState::Queued)
            },
            EntryFacts {
                waits_for_referenced_photos: true,
                ..facts(3, EntryKind::Survey, EntryState::Queued)
            },
            EntryFacts {
                waits_for_photo: true,
                ..facts(4, EntryKind::CheckIn, EntryState::Queued)
            },
            EntryFacts {
                next_attempt_at: Some(2_000),
                ..facts(5, EntryKind::Status, EntryState::RetryWait)
            },
            facts(5, EntryKind::CheckIn, EntryState::Queued),
            EntryFacts {
                last_error: Some("refused".into()),
                ..facts(6, EntryKind::Status, EntryState::NeedsAttention)
            },
            facts(6, EntryKind::Photo, EntryState::Queued),
            EntryFacts {
                next_attempt_at: Some(500),
                ..facts(7, EntryKind::Status, EntryState::RetryWait)
            },
        ];
        assert_eq!(
            reasons(UploadConditions::default(), &entries),
            [
                None,
                Some(WaitReason::Sending),
                Some(WaitReason::WaitingForProcessing),
                Some(WaitReason::WaitingForQa),
                Some(WaitReason::WaitingForCompletion),
                Some(WaitReason::ProviderOrder),
                Some(WaitReason::ReferencedPhotos),
                Some(WaitReason::PhotoOfItsProject),
                Some(WaitReason::Backoff { until: 2_000 }),
                Some(WaitReason::EarlierItem),
                Some(WaitReason::NeedsAttention {
                    error: "refused".into()
                }),
                Some(WaitReason::EarlierItem),
                Some(WaitReason::Queued),
            ]
        );
    }

    #[test]
    fn held_entries_do_not_hold_back_their_project() {
        let entries = [
            EntryFacts {
                held_for: Some(HeldFor::Qa),
                ..facts(1, EntryKind::Photo, EntryState::Held)
            },
            facts(1, EntryKind::Status, EntryState::Queued),
        ];
        assert_eq!(
            reasons(UploadConditions::default(), &entries)[1],
            Some(WaitReason::Queued)
        );
    }

    #[test]
    fn reasons_serialise_with_their_data() {
        assert_eq!(
            serde_json::to_value(WaitReason::Backoff { until: 5 }).unwrap(),
            serde_json::json!({"reason": "backoff", "until": 5})
        );
        assert_eq!(
            serde_json::to_value(WaitReason::WaitingForWifi).unwrap(),
            serde_json::json!({"reason": "waiting_for_wifi"})
        );
        for reason in [
            WaitReason::Queued,
            WaitReason::NeedsAttention { error: "x".into() },
        ] {
            assert_eq!(serde_json::to_value(&reason).unwrap()["reason"], reason.code());
        }
    }
}
