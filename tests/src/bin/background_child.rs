//! `background_child DB CODE PASSWORD BUDGET_MS`: opens the app on the cache at `DB` (the composition root,
//! with its start-up recovery) and runs one background sync with a deadline `BUDGET_MS` from now, then
//! prints the result as JSON.
//!
//! The background crash test (`tests/tests/e2e/background_crash.rs`) kills it with SIGKILL at random
//! moments and checks that nothing is lost or sent twice.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_core::app::{App, AppConfig};
use fieldsync_core::cancel::Stop;
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::sync::{BackgroundReason, BackgroundRequest};
use fieldsync_core::{SecretKind, SecretStore};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, code, password, budget_ms] = args.as_slice() else {
        eprintln!("usage: background_child DB CODE PASSWORD BUDGET_MS");
        return ExitCode::from(2);
    };
    let Ok(budget_ms) = budget_ms.parse::<u64>() else {
        eprintln!("background_child: BUDGET_MS must be a number of milliseconds");
        return ExitCode::from(2);
    };
    let result = (|| -> fieldsync_core::Result<String> {
        let secrets = Arc::new(MemorySecretStore::default());
        secrets.set(code, SecretKind::PasswordSha1, &password_sha1(password))?;
        let app = App::open(AppConfig::new(db, secrets))?;
        let request = BackgroundRequest {
            reason: BackgroundReason::Scheduled,
            deadline: Instant::now() + Duration::from_millis(budget_ms),
            refresh_older_than: Duration::from_secs(15 * 60),
        };
        let result = app.run_background_sync(&request, &Stop::never())?;
        Ok(serde_json::to_string(&result).unwrap_or_default())
    })();
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("background_child: {err}");
            ExitCode::FAILURE
        }
    }
}
