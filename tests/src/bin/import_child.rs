//! `import_child DB CODE RESPONSE full|refresh`: opens the cache at `DB` and imports the getWorkOrders
//! response in `RESPONSE` for the integration `CODE`, then prints the import report as JSON.
//!
//! The crash test (`tests/tests/e2e/crash.rs`) runs it as a separate process so that it can kill it with SIGKILL at a
//! random moment, as the OS kills a backgrounded app, and then inspect what the database holds.

use std::path::Path;
use std::process::ExitCode;

use fieldsync_core::Store;
use fieldsync_core::model::ImportKind;
use fieldsync_core::store::ImportOptions;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, code, response, kind] = args.as_slice() else {
        eprintln!("usage: import_child DB CODE RESPONSE full|refresh");
        return ExitCode::from(2);
    };
    let kind = match kind.as_str() {
        "full" => ImportKind::FullImport,
        "refresh" => ImportKind::Refresh,
        other => {
            eprintln!("import_child: unknown import kind `{other}` (full or refresh)");
            return ExitCode::from(2);
        }
    };
    let result = Store::open(db)
        .and_then(|store| store.import_file(code, Path::new(response), &ImportOptions::new(kind)));
    match result {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("import_child: cannot print the report: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("import_child: {err}");
            ExitCode::FAILURE
        }
    }
}
