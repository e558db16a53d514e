//! Storage that cleans itself, end to end with real JPEGs through the emulator: relayed photos lose their
//! rendition at once and their original once old; photos not yet relayed or waiting for QA keep every file,
//! even a file they share with a relayed photo; the storage report matches the files on disk; a relayed
//! photo published again is made again from its original, or refused once both files are gone.

use std::path::Path;

use fieldsync_core::Error;
use fieldsync_core::model::{NewIntegration, now};
use fieldsync_core::photo::files::Kind;
use fieldsync_core::photo::retention::RetentionPolicy;
use fieldsync_core::photo::{EvidenceType, PhotoState, default_settings};
use fieldsync_tests::world::{self, CODE, Device, fixture_photo, order_with, provider_with_orders};
use serde_json::json;

const DAY: i64 = 86_400;

fn world() -> world::World {
    let provider = provider_with_orders(
        ["1", "2"].map(|number| order_with(number, json!({"services": [{"serviceName": "Lawn Cut"}]}))),
    );
    let device = Device::with_photos(
        NewIntegration::new(CODE, provider.base_url(), "vendor1"),
        |engine| engine,
    );
    device.full_import();
    world::World { provider, device }
}

/// (original, rendition, thumbnail) SHA-256 of a photo, from its row.
fn files_of(world: &world::World, uuid: &str) -> (String, String, String) {
    let connection = rusqlite::Connection::open(world.dir.path().join("device.db")).unwrap();
    connection
        .query_row(
            "SELECT original_sha256, rendition_sha256, thumbnail_sha256 FROM photos WHERE id = ?1",
            [uuid],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap()
}

/// Files and bytes in a folder of the photo store, as the disk says.
fn on_disk(folder: &Path) -> (u64, u64) {
    std::fs::read_dir(folder)
        .unwrap()
        .fold((0, 0), |(count, bytes), entry| {
            (count + 1, bytes + entry.unwrap().metadata().unwrap().len())
        })
}

#[test]
fn relayed_photos_give_their_files_back_and_nothing_undecided_is_touched() {
    let world = world();
    let files = world.photo_files().clone();
    let jolla = fixture_photo("phone/jolla.jpg");
    let nokia = fixture_photo("phone/HMD_Nokia_8.3_5G.jpg");
    // A and B relayed; C (A's bytes in another project) waits for QA and shares A's files.
    let a = world.add_photo("1", &jolla, EvidenceType::Before, None).unwrap();
    let b = world.add_photo("1", &nokia, EvidenceType::After, None).unwrap();
    world.store.approve_photo(&a.uuid).unwrap();
    world.store.approve_photo(&b.uuid).unwrap();
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 2);
    let c = world.add_photo("2", &jolla, EvidenceType::Before, None).unwrap();
    assert_eq!(c.state, PhotoState::PendingQa);
    assert_eq!(world.store.photo(&b.uuid).unwrap().state, PhotoState::Relayed);
    let (a_files, b_files, c_files) = (
        files_of(&world, &a.uuid),
        files_of(&world, &b.uuid),
        files_of(&world, &c.uuid),
    );
    assert_eq!(a_files.0, c_files.0, "the same bytes are one original file");

    // Today: the renditions of relayed photos go, unless a photo still waiting needs the same file.
    let report = world
        .store
        .apply_retention(&files, &RetentionPolicy::default())
        .unwrap();
    assert!(
        !files.path(Kind::Rendition, &b_files.1).exists(),
        "B's rendition went"
    );
    assert!(
        files.path(Kind::Original, &b_files.0).exists(),
        "B's original is young"
    );
    for (kind, sha) in [
        (Kind::Original, &c_files.0),
        (Kind::Rendition, &c_files.1),
        (Kind::Thumbnail, &c_files.2),
    ] {
        assert!(
            files.path(kind, sha).exists(),
            "C (pending QA) keeps its {kind:?}"
        );
    }
    assert!(
        files.path(Kind::Thumbnail, &b_files.2).exists(),
        "thumbnails stay"
    );
    assert!(
        report.renditions_deleted >= 1 && report.originals_deleted == 0,
        "{report:?}"
    );
    assert_eq!(
        world.store.sweep_photo_files(&files).unwrap(),
        0,
        "the rows and the disk agree"
    );

    // Published again, B is made again from its original and goes without a second review.
    let republished = world.store.approve_photo(&b.uuid).unwrap();
    assert_eq!(republished.state, PhotoState::Processing);
    world
        .store
        .process_pending_photos(&files, &default_settings())
        .unwrap();
    assert_eq!(world.store.photo(&b.uuid).unwrap().state, PhotoState::Queued);
    assert!(
        files.path(Kind::Rendition, &b_files.1).exists(),
        "the rendition is back"
    );
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let received = world.provider.admin().received_pictures().unwrap();
    assert_eq!(received.len(), 2, "the provider keeps one per UUID: {received:?}");

    // 31 days later: B's original is old and goes; A's is shared with C, which QA has not decided.
    let later = world
        .store
        .apply_retention_at(&files, &RetentionPolicy::default(), now() + 31 * DAY)
        .unwrap();
    assert!(
        !files.path(Kind::Original, &b_files.0).exists(),
        "B's old original went"
    );
    assert!(!files.path(Kind::Rendition, &b_files.1).exists());
    assert!(
        files.path(Kind::Original, &a_files.0).exists(),
        "shared with C, pending QA"
    );
    assert!(files.path(Kind::Rendition, &c_files.1).exists());
    assert!(later.originals_deleted >= 1, "{later:?}");
    assert_eq!(world.store.sweep_photo_files(&files).unwrap(), 0);
    // Both files gone: publishing B again is refused, with a typed error.
    match world.store.approve_photo(&b.uuid) {
        Err(Error::PhotoFilesEvicted(uuid)) => assert_eq!(uuid, b.uuid),
        other => panic!("expected PhotoFilesEvicted, got {other:?}"),
    }

    // The report matches the disk.
    let storage = world.store.storage_report(&files).unwrap();
    let root = world.dir.path().join("photos");
    for (usage, folder) in [
        (storage.originals, "originals"),
        (storage.renditions, "renditions"),
        (storage.thumbnails, "thumbnails"),
    ] {
        assert_eq!(
            (usage.files, usage.bytes),
            on_disk(&root.join(folder)),
            "{folder}"
        );
    }
    let state = |state| {
        storage
            .by_state
            .iter()
            .find(|usage| usage.state == state)
            .unwrap()
    };
    let pending = state(PhotoState::PendingQa);
    assert_eq!(pending.photos, 1);
    let size = |kind, sha: &str| std::fs::metadata(files.path(kind, sha)).unwrap().len();
    assert_eq!(pending.originals.bytes, size(Kind::Original, &c_files.0));
    assert_eq!(pending.renditions.bytes, size(Kind::Rendition, &c_files.1));
    assert_eq!(pending.thumbnails.bytes, size(Kind::Thumbnail, &c_files.2));
    let relayed = state(PhotoState::Relayed);
    assert_eq!(relayed.photos, 2);
    // A's rendition stays only when it is the very file C (pending QA) needs.
    let shared = u64::from(a_files.1 == c_files.1);
    assert_eq!(
        relayed.renditions.files, shared,
        "no other relayed rendition is left"
    );
    assert_eq!(storage.renditions_evicted, 2 - shared);
    assert_eq!(storage.originals_evicted, 1);
    assert!(storage.database_bytes > 0 && storage.wal_bytes > 0);
}

#[test]
fn under_a_byte_cap_the_oldest_relayed_originals_go_first_and_the_cap_never_reaches_undecided_photos() {
    let world = world();
    let files = world.photo_files().clone();
    let a = world
        .add_photo("1", &fixture_photo("phone/jolla.jpg"), EvidenceType::Before, None)
        .unwrap();
    world.store.approve_photo(&a.uuid).unwrap();
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let b = world
        .add_photo(
            "2",
            &fixture_photo("phone/HMD_Nokia_8.3_5G.jpg"),
            EvidenceType::Before,
            None,
        )
        .unwrap();
    let (a_files, b_files) = (files_of(&world, &a.uuid), files_of(&world, &b.uuid));
    let policy = RetentionPolicy {
        evict_decided_renditions: false,
        keep_originals_days: None,
        max_photo_bytes: Some(1),
    };
    let report = world.store.apply_retention(&files, &policy).unwrap();
    assert!(!report.cap_met, "B (pending QA) alone weighs more than one byte");
    assert!(!files.path(Kind::Original, &a_files.0).exists());
    assert!(!files.path(Kind::Rendition, &a_files.1).exists());
    assert!(files.path(Kind::Original, &b_files.0).exists());
    assert!(files.path(Kind::Rendition, &b_files.1).exists());
    assert_eq!(
        report.photo_bytes,
        world.store.storage_report(&files).unwrap().photo_bytes
    );
}
