//! Photos under SIGKILL: a child taking photos is killed at random moments (50 runs), then a child relaying
//! them is (50 runs, while the emulator drops responses after storing). After recovery: no photo whose add
//! returned is lost, none is duplicated at the provider, the photo store has no orphan or half-written
//! file, and the database passes `integrity_check`.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fieldsync_core::Store;
use fieldsync_core::model::NewIntegration;
use fieldsync_core::photo::files::PhotoFiles;
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{CODE, Device, provider_with_orders};
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

const KILLS: usize = 50;

fn photos() -> Vec<PathBuf> {
    let root = fieldsync_tests::photos::photo_fixtures().unwrap();
    let mut files: Vec<PathBuf> = ["gps", "orientation"]
        .iter()
        .flat_map(|folder| {
            std::fs::read_dir(root.join(folder))
                .unwrap()
                .map(|entry| entry.unwrap().path())
        })
        .collect();
    files.sort();
    files
}

fn child(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_photo_child"));
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::null());
    command
}

/// Every file in the store is whole and referenced; no temporary file is left.
fn assert_store_clean(db: &Path, photo_dir: &Path) {
    let store = Store::open(db).unwrap();
    store
        .sweep_photo_files(&PhotoFiles::open(photo_dir).unwrap())
        .unwrap();
    let connection = rusqlite::Connection::open(db).unwrap();
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    for (folder, column) in [
        ("originals", "original_sha256"),
        ("renditions", "rendition_sha256"),
        ("thumbnails", "thumbnail_sha256"),
    ] {
        let referenced: HashSet<String> = connection
            .prepare(&format!("SELECT {column} FROM photos WHERE {column} IS NOT NULL"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for entry in std::fs::read_dir(photo_dir.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(referenced.contains(&name), "orphan {}", path.display());
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                name,
                "half-written {}",
                path.display()
            );
        }
        for sha in &referenced {
            assert!(
                photo_dir.join(folder).join(format!("{sha}.jpg")).exists(),
                "{folder}/{sha} missing"
            );
        }
    }
}

#[test]
fn killed_ingests_and_relays_lose_nothing_and_duplicate_nothing() {
    let provider = provider_with_orders([json!({"workOrderNumber": "1", "address1": "1 Elm",
        "city": "Springfield", "state": "IL", "zip": "62701", "services": [{"serviceName": "Lawn Cut"}],
        "assignedTo": "vendor1"})]);
    let mut new = NewIntegration::new(CODE, provider.base_url(), "vendor1");
    new.auto_relay = true;
    let device = Device::with_photos(new, |engine| engine);
    device.full_import();
    let (dir, db) = device.close();
    let photo_dir = dir.path().join("photos");
    let files = photos();
    let file_args: Vec<String> = files
        .iter()
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    let (db_arg, photo_arg) = (
        db.to_str().unwrap().to_owned(),
        photo_dir.to_str().unwrap().to_owned(),
    );
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(rand::random);
    println!("CRASH_SEED={seed}");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);

    // Ingest: each run adds every file (duplicates are recognised), killed at a random moment.
    let mut acknowledged = HashSet::new();
    for _ in 0..KILLS {
        let mut args = vec!["add", &db_arg, &photo_arg, CODE, "1"];
        args.extend(file_args.iter().map(String::as_str));
        let mut running = child(&args).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..1500)));
        let _ = running.kill();
        let mut output = String::new();
        running
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut output)
            .unwrap();
        running.wait().unwrap();
        acknowledged.extend(
            output
                .lines()
                .filter_map(|line| line.strip_prefix("ADDED "))
                .map(str::to_owned),
        );
        assert_store_clean(&db, &photo_dir);
    }
    let mut args = vec!["add", &db_arg, &photo_arg, CODE, "1"];
    args.extend(file_args.iter().map(String::as_str));
    let finished = child(&args).output().unwrap();
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let store = Store::open(&db).unwrap();
    let stored: HashSet<String> = store
        .photos(None)
        .unwrap()
        .into_iter()
        .map(|photo| photo.uuid)
        .collect();
    assert!(
        acknowledged.is_subset(&stored),
        "a photo whose add returned was lost"
    );
    assert_eq!(stored.len(), files.len(), "one photo per distinct file");
    drop(store);

    // Relay: the provider stores each item but drops the answer once per run.
    for _ in 0..KILLS {
        provider
            .admin()
            .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1))
            .unwrap();
        let mut running = child(&["relay", &db_arg, &photo_arg, CODE, "pw1"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..600)));
        let _ = running.kill();
        running.wait().unwrap();
    }
    provider.admin().clear_faults();
    for _ in 0..10 {
        assert!(
            child(&["relay", &db_arg, &photo_arg, CODE, "pw1"])
                .status()
                .unwrap()
                .success()
        );
        if Store::open(&db)
            .unwrap()
            .outbox_entries(false)
            .unwrap()
            .is_empty()
        {
            break;
        }
    }
    assert_store_clean(&db, &photo_dir);
    let received = provider.admin().received_pictures().unwrap();
    let received_uuids: HashSet<String> = received.iter().map(|item| item.uuid.clone()).collect();
    assert_eq!(
        received.len(),
        received_uuids.len(),
        "no duplicate at the provider"
    );
    assert_eq!(received_uuids, stored, "every photo relayed exactly once");
    let resent: u32 = received.iter().map(|item| item.deliveries - 1).sum();
    println!(
        "{} photos, {KILLS} ingest kills, {KILLS} relay kills, {resent} deduplicated re-sends",
        stored.len()
    );
}
