//! `deliver_child DB CODE PASSWORD`: opens the cache at `DB` and delivers the integration's outbox once (a
//! user-initiated delivery: backoff ignored), then prints the delivery report as JSON.
//!
//! The delivery crash test (`tests/tests/e2e/delivery_crash.rs`) kills it with SIGKILL at random moments while the
//! emulator drops responses after storing items, and checks that nothing is lost or duplicated.

use std::process::ExitCode;
use std::sync::Arc;

use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::sync::SyncEngine;
use fieldsync_core::{SecretKind, SecretStore, Store};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, code, password] = args.as_slice() else {
        eprintln!("usage: deliver_child DB CODE PASSWORD");
        return ExitCode::from(2);
    };
    let result = (|| -> fieldsync_core::Result<String> {
        let store = Arc::new(Store::open(db)?);
        let secrets = Arc::new(MemorySecretStore::default());
        secrets.set(code, SecretKind::PasswordSha1, &password_sha1(password))?;
        let directory = std::path::Path::new(db)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        let report = SyncEngine::new(store, secrets, directory).push_outbox(code, true)?;
        Ok(serde_json::to_string(&report).unwrap_or_default())
    })();
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("deliver_child: {err}");
            ExitCode::FAILURE
        }
    }
}
