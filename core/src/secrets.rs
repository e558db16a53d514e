//! Credentials live behind [`SecretStore`], never in the cache database.
//!
//! The host app implements the trait with the Android Keystore or the iOS Keychain; the CLI uses
//! [`FileSecretStore`], a 0600 file beside the database; tests use [`MemorySecretStore`]. The password
//! itself is never kept: only its SHA-1 hex, which is what the wire protocol sends.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha1::{Digest, Sha1};

pub use crate::model::SecretKind;
use crate::{Error, Result};

/// A secure place for credentials, keyed by integration code.
pub trait SecretStore: Send + Sync {
    /// The secret, if set. A secret that is saved but cannot be read back (its key is gone, its file is
    /// damaged) is [`Error::SecretUnreadable`], never `None`: `None` would read as "never signed in".
    fn get(&self, integration: &str, kind: SecretKind) -> Result<Option<String>>;
    /// Sets or replaces a secret.
    fn set(&self, integration: &str, kind: SecretKind, value: &str) -> Result<()>;
    /// Forgets every secret of an integration.
    fn delete_all(&self, integration: &str) -> Result<()>;
}

/// The SHA-1 hex (lowercase) of a password, as the wire protocol wants it.
pub fn password_sha1(password: &str) -> String {
    hex::encode(Sha1::digest(password.as_bytes()))
}

type Secrets = BTreeMap<String, BTreeMap<String, String>>;

/// Secrets in memory, for tests.
#[derive(Debug, Default)]
pub struct MemorySecretStore(Mutex<Secrets>);

impl SecretStore for MemorySecretStore {
    fn get(&self, integration: &str, kind: SecretKind) -> Result<Option<String>> {
        let secrets = self.0.lock().map_err(|_| Error::Secrets("poisoned".into()))?;
        Ok(secrets
            .get(integration)
            .and_then(|entry| entry.get(kind.as_str()))
            .cloned())
    }

    fn set(&self, integration: &str, kind: SecretKind, value: &str) -> Result<()> {
        let mut secrets = self.0.lock().map_err(|_| Error::Secrets("poisoned".into()))?;
        secrets
            .entry(integration.to_owned())
            .or_default()
            .insert(kind.as_str().to_owned(), value.to_owned());
        Ok(())
    }

    fn delete_all(&self, integration: &str) -> Result<()> {
        let mut secrets = self.0.lock().map_err(|_| Error::Secrets("poisoned".into()))?;
        secrets.remove(integration);
        Ok(())
    }
}

/// Secrets in a JSON file readable only by its owner (mode 0600), rewritten atomically.
///
/// Safe across processes: every change is a read-modify-write under an exclusive lock on a sidecar file
/// (`<file>.lock`; the secrets file itself cannot carry the lock, it is replaced by a rename), and each
/// writer renames its own uniquely named temporary file into place. Readers need no lock: they see the old
/// file or the new one, never a half-written one.
#[derive(Debug)]
pub struct FileSecretStore {
    path: PathBuf,
    /// Keeps this process's threads in line before they contend for the file lock.
    lock: Mutex<()>,
}

impl FileSecretStore {
    /// The secret file beside a database: `fieldsync.db` → `fieldsync.db.secrets`.
    pub fn beside(database: &Path) -> Self {
        let mut path = database.as_os_str().to_owned();
        path.push(".secrets");
        Self {
            path: PathBuf::from(path),
            lock: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's secrets, or (inner `Err`) why it cannot be parsed. A missing file holds no secret.
    fn read(&self) -> Result<std::result::Result<Secrets, String>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes)
                .map_err(|err| format!("{} is damaged: {err}", self.path.display()))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Ok(Secrets::new())),
            Err(err) => Err(Error::io(&self.path, err)),
        }
    }

    fn directory(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }

    fn write(&self, secrets: &Secrets) -> Result<()> {
        let json = serde_json::to_vec_pretty(secrets).map_err(|err| Error::Secrets(err.to_string()))?;
        let directory = self.directory();
        // A unique name per writer (tempfile creates it 0600 on Unix): two writers never share a temporary
        // file, so neither renames the other's half-written one into place.
        let mut temp = tempfile::Builder::new()
            .prefix(".fieldsync-secrets-")
            .suffix(".tmp")
            .tempfile_in(directory)
            .map_err(|err| Error::io(directory, err))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|err| Error::io(temp.path(), err))?;
        }
        temp.write_all(&json)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|err| Error::io(temp.path(), err))?;
        temp.persist(&self.path)
            .map_err(|err| Error::io(&self.path, err.error))?;
        Ok(())
    }

    /// The sidecar lock file's path: `<file>.lock`.
    fn lock_path(&self) -> PathBuf {
        let mut path = self.path.as_os_str().to_owned();
        path.push(".lock");
        PathBuf::from(path)
    }

    fn update(&self, change: impl FnOnce(&mut Secrets)) -> Result<()> {
        let _guard = self.lock.lock().map_err(|_| Error::Secrets("poisoned".into()))?;
        let lock_path = self.lock_path();
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let lock_file = options
            .open(&lock_path)
            .map_err(|err| Error::io(&lock_path, err))?;
        // Held until `lock_file` is dropped at the end of this call (closing the file releases it, also
        // when the process dies).
        lock_file.lock().map_err(|err| Error::io(&lock_path, err))?;
        // Nothing in a damaged file can be read back: signing in again starts it over rather than failing
        // forever.
        let mut secrets = self.read()?.unwrap_or_else(|reason| {
            tracing::warn!(%reason, "the secrets file is replaced: its old contents cannot be read");
            Secrets::new()
        });
        change(&mut secrets);
        self.write(&secrets)
    }
}

impl SecretStore for FileSecretStore {
    fn get(&self, integration: &str, kind: SecretKind) -> Result<Option<String>> {
        match self.read()? {
            Ok(secrets) => Ok(secrets
                .get(integration)
                .and_then(|entry| entry.get(kind.as_str()))
                .cloned()),
            Err(reason) => Err(Error::SecretUnreadable {
                integration: integration.to_owned(),
                kind,
                reason,
            }),
        }
    }

    fn set(&self, integration: &str, kind: SecretKind, value: &str) -> Result<()> {
        self.update(|secrets| {
            secrets
                .entry(integration.to_owned())
                .or_default()
                .insert(kind.as_str().to_owned(), value.to_owned());
        })
    }

    fn delete_all(&self, integration: &str) -> Result<()> {
        self.update(|secrets| {
            secrets.remove(integration);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_is_sha1_hex() {
        assert_eq!(
            password_sha1("secret1"),
            "00cafd126182e8a9e7c01bb2f0dfd00496be724f"
        );
    }

    #[test]
    fn file_store_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::beside(&dir.path().join("f.db"));
        store.set("ACME", SecretKind::PasswordSha1, "abc").unwrap();
        store.set("ACME", SecretKind::Token, "tok").unwrap();
        assert_eq!(
            store.get("ACME", SecretKind::Token).unwrap().as_deref(),
            Some("tok")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.delete_all("ACME").unwrap();
        assert_eq!(store.get("ACME", SecretKind::Token).unwrap(), None);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_missing_secret_and_signing_in_again_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::beside(&dir.path().join("f.db"));
        store.set("ACME", SecretKind::PasswordSha1, "abc").unwrap();
        std::fs::write(store.path(), b"{\"ACME\": {\"password_sha1\": \"ab").unwrap();

        let err = store.get("ACME", SecretKind::PasswordSha1).unwrap_err();
        match &err {
            Error::SecretUnreadable {
                integration, kind, ..
            } => assert_eq!((integration.as_str(), *kind), ("ACME", SecretKind::PasswordSha1)),
            other => panic!("expected SecretUnreadable, got {other:?}"),
        }
        assert_eq!(
            err.class(),
            crate::FailureClass::Auth,
            "the user signs in again; no retry"
        );
        assert!(err.to_string().contains("sign in again"), "{err}");
        assert!(!err.to_string().contains("abc"), "never the value: {err}");

        store.set("ACME", SecretKind::PasswordSha1, "def").unwrap();
        assert_eq!(
            store.get("ACME", SecretKind::PasswordSha1).unwrap().as_deref(),
            Some("def")
        );
    }

    /// Separate store objects on one file (as separate processes have) lose no update. The CLI test
    /// `item13_parallel_integration_adds_all_keep_their_password` does it with real processes.
    #[test]
    fn item13_separate_stores_on_one_file_lose_no_update() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("f.db");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let store = FileSecretStore::beside(&db);
                    for round in 0..10 {
                        store
                            .set(&format!("C{i}-{round}"), SecretKind::PasswordSha1, "x")
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let store = FileSecretStore::beside(&db);
        for i in 0..8 {
            for round in 0..10 {
                let code = format!("C{i}-{round}");
                assert!(
                    store.get(&code, SecretKind::PasswordSha1).unwrap().is_some(),
                    "{code} lost"
                );
            }
        }
    }
}
