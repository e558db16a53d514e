//! Which delivery run owns an `in_flight` entry.
//!
//! A run claims entries under its lease: a random owner id, and an exclusive lock on the file
//! `<owner>.lock` in the lease directory (beside the database) held for as long as the run lives. The
//! operating system releases the lock when the process dies, however it dies, so another process (a second
//! CLI, a WorkManager job) can tell a live run's entries, which it must leave alone, from a dead run's,
//! which go back to the queue. No clock is involved: a crashed run's entries are recovered at once, and a
//! slow live one is never robbed.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// A live delivery run's ownership of the entries it claims. Dropping it releases them to recovery.
#[derive(Debug)]
pub struct RunLease {
    owner: String,
    path: PathBuf,
    file: File,
}

impl RunLease {
    /// Starts a run's lease: creates its lock file in `directory` (owner-only) and locks it.
    pub fn acquire(directory: &Path) -> io::Result<Self> {
        create_private_dir(directory)?;
        let owner = uuid::Uuid::new_v4().simple().to_string();
        let path = directory.join(format!("{owner}.lock"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        file.lock()?;
        Ok(Self { owner, path, file })
    }

    /// The owner id written on claimed entries.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}

impl Drop for RunLease {
    fn drop(&mut self) {
        // Remove first, then unlock: a recovering process that opens the file before the removal finds
        // it locked and leaves the entries, which this run has already recorded anyway.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether the run `owner` is alive: its lock file exists and someone holds its lock. A lock file found
/// unlocked belongs to a dead run and is removed.
pub fn is_alive(directory: &Path, owner: &str) -> bool {
    if owner.is_empty() || !owner.chars().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    let path = directory.join(format!("{owner}.lock"));
    let Ok(file) = OpenOptions::new().write(true).open(&path) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = std::fs::remove_file(&path);
            false
        }
        Err(TryLockError::WouldBlock) => true,
        // Cannot tell: assume alive, so that nothing is sent twice; the entry waits for the next check.
        Err(TryLockError::Error(_)) => true,
    }
}

/// Removes lock files of dead runs (left by killed processes).
pub fn sweep(directory: &Path) -> io::Result<u64> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|name| name.strip_suffix(".lock"))
            .filter(|owner| !owner.is_empty() && owner.chars().all(|c| c.is_ascii_hexdigit()))
        else {
            continue;
        };
        if !is_alive(directory, owner) {
            removed += 1;
        }
    }
    Ok(removed)
}

fn create_private_dir(directory: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(directory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_lease_is_alive_and_a_dropped_one_is_not() {
        let directory = tempfile::tempdir().unwrap();
        let lease = RunLease::acquire(directory.path()).unwrap();
        let owner = lease.owner().to_owned();
        assert!(is_alive(directory.path(), &owner));
        drop(lease);
        assert!(!is_alive(directory.path(), &owner));
    }

    #[test]
    fn a_lock_file_left_by_a_dead_run_is_dead_and_swept() {
        let directory = tempfile::tempdir().unwrap();
        // What a killed process leaves: the file, with nobody holding its lock.
        std::fs::write(directory.path().join("0123abcd.lock"), b"").unwrap();
        assert!(!is_alive(directory.path(), "0123abcd"));
        std::fs::write(directory.path().join("0123abce.lock"), b"").unwrap();
        let live = RunLease::acquire(directory.path()).unwrap();
        assert_eq!(sweep(directory.path()).unwrap(), 1);
        assert!(is_alive(directory.path(), live.owner()));
    }

    #[test]
    fn unknown_or_malformed_owners_are_dead() {
        let directory = tempfile::tempdir().unwrap();
        assert!(!is_alive(directory.path(), ""));
        assert!(!is_alive(directory.path(), "../../etc/passwd"));
        assert!(!is_alive(directory.path(), "abcdef"));
    }
}
