//! Photos end to end with real JPEGs: durable ingest, processing, the QA gate, relay to the emulator
//! exactly once, hostile files refused with nothing written.

use std::ops::Deref;
use std::path::Path;

use fieldsync_core::Error;
use fieldsync_core::checkin::LocationFix;
use fieldsync_core::model::{NewIntegration, ProjectId};
use fieldsync_core::photo::{EvidenceType, PhotoState, default_settings};
use fieldsync_core::store::{AddPhoto, CheckInRequest};
use fieldsync_core::sync::SyncEvent;
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{self, CODE, Device, fixture_photo, order_with, provider_with_orders};
use serde_json::json;

/// The shared world: orders 1 and 2 (tasks Lawn Cut and Debris; a check-in at 2 requires a photo), a device
/// taking photos with `auto_relay`, after a Full Import.
struct World(world::World);

impl Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.0
    }
}

fn world(auto_relay: bool) -> World {
    let provider = provider_with_orders(["1", "2"].map(|number| {
        order_with(
            number,
            json!({"options": {"check_in_photo_required": number == "2"},
                "services": [{"serviceName": "Lawn Cut"}, {"serviceName": "Debris"}]}),
        )
    }));
    let mut new = NewIntegration::new(CODE, provider.base_url(), "vendor1");
    new.auto_relay = auto_relay;
    let device = Device::with_photos(new, |engine| engine);
    device.full_import();
    World(world::World { provider, device })
}

impl World {
    fn add(
        &self,
        number: &str,
        file: &Path,
        evidence: EvidenceType,
    ) -> Result<fieldsync_core::store::Photo, Error> {
        let fix = LocationFix {
            latitude: 39.7818,
            longitude: -89.6502,
            accuracy_m: 6.0,
            altitude_m: None,
            fix_time_ms: fieldsync_core::model::now() * 1000,
            is_mock: false,
        };
        self.add_photo(number, file, evidence, Some(fix))
    }

    fn state(&self, uuid: &str) -> PhotoState {
        self.store.photo(uuid).unwrap().state
    }

    fn received(&self) -> Vec<fieldsync_provider::ReceivedItem> {
        self.provider.admin().received_pictures().unwrap()
    }

    fn original_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("photos/originals"))
            .unwrap()
            .count()
    }
}

#[test]
fn with_auto_relay_a_processed_photo_relays_without_approval() {
    let world = world(true);
    let photo = world
        .add("1", &fixture_photo("phone/jolla.jpg"), EvidenceType::Before)
        .unwrap();
    assert_eq!(photo.state, PhotoState::Queued);
    assert!(photo.width.unwrap().max(photo.height.unwrap()) <= 2048);
    assert_eq!(photo.location_certified, Some(true));
    let report = world.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(world.state(&photo.uuid), PhotoState::Relayed);
    let photo_events: Vec<SyncEvent> = world
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|event| matches!(event, SyncEvent::Upload { .. } | SyncEvent::PhotoState { .. }))
        .cloned()
        .collect();
    assert!(
        matches!(&photo_events[..], [SyncEvent::Upload { uuid: started, bytes }, SyncEvent::PhotoState { uuid: ended, state: PhotoState::Relayed }]
            if *started == photo.uuid && *ended == photo.uuid && *bytes > 0),
        "the host hears the upload start and the relay: {photo_events:?}"
    );
    let received = world.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].uuid, photo.uuid);
    assert_eq!(received[0].evidence_type.as_deref(), Some("before"));
    assert_eq!(received[0].task_name.as_deref(), Some("Lawn Cut"));
    let rendition = world
        .photo_files()
        .read(
            fieldsync_core::photo::files::Kind::Rendition,
            &rendition_sha(&world, &photo.uuid),
        )
        .unwrap();
    assert_eq!(
        received[0].file_size,
        Some(rendition.len() as u64),
        "the rendition is what travels"
    );
    assert!(world.store.photo(&photo.uuid).unwrap().time_certified.is_some());
}

fn rendition_sha(world: &World, uuid: &str) -> String {
    let connection = rusqlite::Connection::open(world.dir.path().join("device.db")).unwrap();
    connection
        .query_row(
            "SELECT rendition_sha256 FROM photos WHERE id = ?1",
            [uuid],
            |row| row.get(0),
        )
        .unwrap()
}

#[test]
fn without_auto_relay_only_approved_photos_relay_and_rejected_never() {
    let world = world(false);
    let approved = world
        .add("1", &fixture_photo("gps/DSCN0010.jpg"), EvidenceType::Before)
        .unwrap();
    let rejected = world
        .add("1", &fixture_photo("gps/DSCN0012.jpg"), EvidenceType::During)
        .unwrap();
    let by_project = world
        .add("1", &fixture_photo("gps/DSCN0021.jpg"), EvidenceType::After)
        .unwrap();
    for photo in [&approved, &rejected, &by_project] {
        assert_eq!(photo.state, PhotoState::PendingQa);
    }
    assert_eq!(
        world.engine.push_outbox(CODE, true).unwrap().delivered,
        0,
        "nothing moves before QA"
    );
    world.store.approve_photo(&approved.uuid).unwrap();
    let rejected_now = world.store.reject_photo(&rejected.uuid, "blurry").unwrap();
    assert_eq!(rejected_now.message.as_deref(), Some("blurry"));
    assert_eq!(
        world
            .store
            .approve_project_photos(&ProjectId::parse("ACME::1").unwrap())
            .unwrap(),
        1
    );
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 2);
    let mut received: Vec<String> = world.received().into_iter().map(|item| item.uuid).collect();
    received.sort();
    let mut expected = vec![approved.uuid.clone(), by_project.uuid.clone()];
    expected.sort();
    assert_eq!(received, expected);
    assert!(
        matches!(
            world.store.approve_photo(&rejected.uuid),
            Err(Error::PhotoState { .. })
        ),
        "rejected stays rejected"
    );
    assert!(
        matches!(
            world.store.reject_photo(&approved.uuid, "late"),
            Err(Error::PhotoState { .. })
        ),
        "relayed cannot be unsent"
    );

    // Publishing again never duplicates at the provider.
    world.store.approve_photo(&approved.uuid).unwrap();
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let again = world.received();
    assert_eq!(again.len(), 2);
    assert_eq!(
        again
            .iter()
            .find(|item| item.uuid == approved.uuid)
            .unwrap()
            .deliveries,
        2
    );
}

#[test]
fn the_same_bytes_twice_are_one_photo() {
    let world = world(true);
    let first = world
        .add("1", &fixture_photo("phone/jolla.jpg"), EvidenceType::Before)
        .unwrap();
    let second = world
        .add("1", &fixture_photo("phone/jolla.jpg"), EvidenceType::After)
        .unwrap();
    assert!(second.duplicate);
    assert_eq!(second.uuid, first.uuid);
    assert_eq!(world.store.photos(None).unwrap().len(), 1);
    assert_eq!(world.original_files(), 1);
    world.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(world.received().len(), 1);
}

#[test]
fn hostile_and_broken_files_are_refused_with_nothing_written() {
    let world = world(true);
    let scratch = tempfile::tempdir().unwrap();
    let empty = scratch.path().join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let text = scratch.path().join("notes.jpg");
    std::fs::write(&text, b"this is not an image at all").unwrap();
    let truncated = scratch.path().join("truncated.jpg");
    let jolla = std::fs::read(fixture_photo("phone/jolla.jpg")).unwrap();
    std::fs::write(&truncated, &jolla[..jolla.len() / 3]).unwrap();
    for file in [empty, text, fixture_photo("phone/iphone_13_pro_max.HEIC")] {
        let err = world.add("1", &file, EvidenceType::Before).unwrap_err();
        assert!(matches!(err, Error::PhotoRefused(_)), "{}: {err}", file.display());
    }
    for missing in [scratch.path().join("gone.jpg"), scratch.path().to_path_buf()] {
        let err = world.add("1", &missing, EvidenceType::Before).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput(_)),
            "a path that is not a readable file is the host's mistake: {err}"
        );
    }
    assert!(world.store.photos(None).unwrap().is_empty());
    assert_eq!(world.original_files(), 0);
    assert!(world.store.outbox_entries(true).unwrap().is_empty());

    // A truncated JPEG may pass the quick check; if so its processing fails visibly, never silently.
    if let Ok(photo) = world.add("1", &truncated, EvidenceType::Before) {
        assert!(
            matches!(photo.state, PhotoState::Failed | PhotoState::Queued),
            "{photo:?}"
        );
    }
    // Every file of invalid/: a clear error or a processed photo; never a panic.
    for entry in std::fs::read_dir(fixture_photo("invalid")).unwrap() {
        let path = entry.unwrap().path();
        match world.add("2", &path, EvidenceType::Before) {
            Ok(photo) => assert!(
                matches!(photo.state, PhotoState::Queued | PhotoState::Failed),
                "{photo:?}"
            ),
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
}

#[test]
fn a_photo_to_an_unknown_task_or_closed_project_is_refused() {
    let world = world(true);
    let mut request = AddPhoto {
        project: ProjectId::parse("ACME::1").unwrap(),
        task: "Pool".into(),
        evidence: EvidenceType::Before,
        source: &fixture_photo("phone/jolla.jpg"),
        fix: None,
        device_id: "d".into(),
        device_time: fieldsync_core::model::now(),
    };
    let limits = default_settings().limits;
    let err = world
        .store
        .add_photo(world.photo_files(), &request, &limits)
        .unwrap_err();
    assert!(err.to_string().contains("no task `Pool`"), "{err}");
    assert_eq!(world.original_files(), 0, "a refused photo leaves no file behind");
    world
        .store
        .close_project(&ProjectId::parse("ACME::2").unwrap())
        .unwrap();
    request.task = "Lawn Cut".into();
    request.project = ProjectId::parse("ACME::2").unwrap();
    assert!(matches!(
        world.store.add_photo(world.photo_files(), &request, &limits),
        Err(Error::ProjectClosed(_))
    ));
    request.project = ProjectId::parse("ACME::404").unwrap();
    assert!(matches!(
        world.store.add_photo(world.photo_files(), &request, &limits),
        Err(Error::UnknownProject(_))
    ));
    assert!(world.store.photos(None).unwrap().is_empty());
    assert_eq!(world.original_files(), 0);
}

#[test]
fn a_check_in_that_requires_a_photo_waits_for_it() {
    let world = world(false);
    let now = fieldsync_core::model::now();
    let check_in = world
        .store
        .check_in(&CheckInRequest {
            project: ProjectId::parse("ACME::2").unwrap(),
            fix: LocationFix {
                latitude: 39.7818,
                longitude: -89.6502,
                accuracy_m: 5.0,
                altitude_m: None,
                fix_time_ms: now * 1000,
                is_mock: false,
            },
            badge: None,
            user: None,
            device_time: now,
            device_id: "d".into(),
        })
        .unwrap();
    assert_eq!(
        world.engine.push_outbox(CODE, true).unwrap().delivered,
        0,
        "waits: no photo relayed yet"
    );
    let waiting = world.store.pending_outbox_entries(CODE).unwrap();
    assert_eq!(
        waiting
            .iter()
            .find(|entry| entry.id == check_in.uuid)
            .unwrap()
            .waits_for,
        Some(fieldsync_core::outbox::WaitReason::PhotoOfItsProject),
        "the outbox says why it waits"
    );
    let photo = world
        .add("2", &fixture_photo("phone/jolla.jpg"), EvidenceType::Before)
        .unwrap();
    world.store.approve_photo(&photo.uuid).unwrap();
    let report = world.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(
        report.delivered, 2,
        "the photo, then the check-in that waited for it"
    );
    assert_eq!(
        world.provider.admin().received_checkins().unwrap()[0].uuid,
        check_in.uuid
    );
}

#[test]
fn a_relay_dropped_after_storing_is_retried_without_a_duplicate() {
    let world = world(true);
    let photo = world
        .add("1", &fixture_photo("phone/jolla.jpg"), EvidenceType::Before)
        .unwrap();
    world
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1))
        .unwrap();
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 0);
    assert_eq!(
        world.state(&photo.uuid),
        PhotoState::Queued,
        "back in the queue, retryable"
    );
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let received = world.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].deliveries, 2);
    assert_eq!(world.state(&photo.uuid), PhotoState::Relayed);
}
