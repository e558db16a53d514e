//! A project's `fingerprint` column: the version of the reconcile rules that last wrote the project, and
//! the fingerprint of the order it applied. Shared by the import (which skips unchanged orders) and the
//! vendor's edits (which clear the fingerprint so the next import applies its rules again).

/// The version of the reconcile rules, stored as the first byte of a project's `fingerprint` column.
///
/// Version 2: external integrations take `description`, `instructions`, `dueDate` and a RUSH/REWORK
/// `status` from the wire. A project whose column holds no version (NULL, or the bare 16-byte fingerprint
/// that version 1 wrote) was last written by the earlier rules: its next import only fills those fields
/// (see `CachedBy::EarlierRules`), and it is never skipped by its old fingerprint, so existing caches
/// get the fill on their next import without a migration.
pub(crate) const RULES_VERSION: u8 = 2;

/// The `fingerprint` column's value: the rules version, then the fingerprint of the order last applied
/// (absent after a local edit, so the next import applies its rules again).
pub(crate) fn encode_fingerprint(fingerprint: Option<u128>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(17);
    bytes.push(RULES_VERSION);
    if let Some(fingerprint) = fingerprint {
        bytes.extend_from_slice(&fingerprint.to_le_bytes());
    }
    bytes
}

/// [`encode_fingerprint`] of an applied order, on the stack.
pub(crate) fn encode_applied(fingerprint: u128) -> [u8; 17] {
    let mut bytes = [RULES_VERSION; 17];
    bytes[1..].copy_from_slice(&fingerprint.to_le_bytes());
    bytes
}

/// What a project's `fingerprint` column says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Written by rules before [`RULES_VERSION`] (or by nothing that recorded a version).
    EarlierRules,
    /// Written by the current rules, with the fingerprint of the order applied (none after a local edit).
    Current(Option<u128>),
}

impl Stored {
    pub(crate) fn fingerprint(self) -> Option<u128> {
        match self {
            Stored::Current(fingerprint) => fingerprint,
            Stored::EarlierRules => None,
        }
    }
}

/// Reads a project's `fingerprint` column.
pub(crate) fn decode_fingerprint(bytes: Option<&[u8]>) -> Stored {
    match bytes {
        Some([version]) if *version == RULES_VERSION => Stored::Current(None),
        Some([version, rest @ ..]) if *version == RULES_VERSION && rest.len() == 16 => {
            Stored::Current(rest.try_into().ok().map(u128::from_le_bytes))
        }
        _ => Stored::EarlierRules,
    }
}
