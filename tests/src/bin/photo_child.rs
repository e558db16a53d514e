//! `photo_child add DB PHOTOS CODE NUMBER FILE...` adds the files as photos of project CODE::NUMBER and
//! processes them, printing `ADDED <uuid>` after each add returned; `photo_child relay DB PHOTOS CODE
//! PASSWORD` relays the integration's outbox once. The photo crash test kills it with SIGKILL at random.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use fieldsync_core::model::ProjectId;
use fieldsync_core::photo::files::PhotoFiles;
use fieldsync_core::photo::{EvidenceType, default_settings};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::store::AddPhoto;
use fieldsync_core::sync::SyncEngine;
use fieldsync_core::{SecretKind, SecretStore, Store};

fn run(args: &[String]) -> fieldsync_core::Result<()> {
    let settings = default_settings();
    match args {
        [mode, db, photos, code, number, files @ ..] if mode == "add" => {
            let store = Store::open(db)?;
            let photo_files = PhotoFiles::open(photos)?;
            let project = ProjectId::parse(&format!("{code}::{number}"))?;
            for file in files {
                let request = AddPhoto {
                    project: project.clone(),
                    task: "Lawn Cut".into(),
                    evidence: EvidenceType::After,
                    source: Path::new(file),
                    fix: None,
                    device_id: "crash-phone".into(),
                    device_time: fieldsync_core::model::now(),
                };
                let photo = store.add_photo(&photo_files, &request, &settings.limits)?;
                println!("ADDED {}", photo.uuid);
                let _ = std::io::stdout().flush();
                store.process_pending_photos(&photo_files, &settings)?;
            }
            Ok(())
        }
        [mode, db, photos, code, password] if mode == "relay" => {
            let store = Arc::new(Store::open(db)?);
            let secrets = Arc::new(MemorySecretStore::default());
            secrets.set(code, SecretKind::PasswordSha1, &password_sha1(password))?;
            let directory = Path::new(db).parent().unwrap_or(Path::new("."));
            let engine = SyncEngine::new(store.clone(), secrets, directory)
                .with_photo_files(PhotoFiles::open(photos)?);
            store.process_pending_photos(&PhotoFiles::open(photos)?, &settings)?;
            engine.push_outbox(code, true)?;
            Ok(())
        }
        _ => Err(fieldsync_core::model::InvalidInput::new("arguments", "photo_child add|relay ...").into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("photo_child: {err}");
            ExitCode::FAILURE
        }
    }
}
