//! Photo relay to the real emulator over 127.0.0.1: byte progress events per photo and over the run;
//! several projects relayed in parallel, each project's entries in order.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::Path;

use fieldsync_core::checkin::LocationFix;
use fieldsync_core::model::{NewIntegration, ProjectId};
use fieldsync_core::photo::EvidenceType;
use fieldsync_core::store::CheckInRequest;
use fieldsync_core::sync::SyncEvent;
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{
    self, CODE, Configure, Device, fixture_photo, order_with, provider_with_orders,
};
use serde_json::json;

/// The shared world: orders 1, 2 and 3 (a check-in at 2 requires a photo), a device taking photos with auto
/// relay on and its engine set up by `configure`, after a Full Import.
struct World(world::World);

impl Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.0
    }
}

fn world(configure: Configure) -> World {
    let provider = provider_with_orders(["1", "2", "3"].map(|number| {
        order_with(
            number,
            json!({"options": {"check_in_photo_required": number == "2"}}),
        )
    }));
    let mut new = NewIntegration::new(CODE, provider.base_url(), "vendor1");
    new.auto_relay = true;
    let device = Device::with_photos(new, configure);
    device.full_import();
    World(world::World { provider, device })
}

impl World {
    fn add(&self, number: &str, file: &Path) -> String {
        self.add_photo(number, file, EvidenceType::Before, None)
            .unwrap()
            .uuid
    }

    /// (uuid, bytes_sent, bytes_total, overall_sent, overall_total) of every progress event, in order.
    fn progress(&self) -> Vec<(String, u64, u64, u64, u64)> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(SyncEvent::upload_progress)
            .map(|(uuid, sent, total, overall_sent, overall_total)| {
                (uuid.to_owned(), sent, total, overall_sent, overall_total)
            })
            .collect()
    }
}

/// Checks what a host showing progress relies on, for the run's photos `sizes` (uuid → bytes received).
fn assert_progress_sound(progress: &[(String, u64, u64, u64, u64)], sizes: &HashMap<String, u64>) {
    let total: u64 = sizes.values().sum();
    for (uuid, size) in sizes {
        let mine: Vec<_> = progress.iter().filter(|event| &event.0 == uuid).collect();
        assert_eq!(mine.first().unwrap().1, 0, "{uuid} starts at 0");
        assert!(
            mine.windows(2).all(|pair| pair[0].1 < pair[1].1),
            "{uuid}: bytes sent increase"
        );
        assert!(
            mine.iter().all(|event| event.2 == *size),
            "{uuid}: its total is what arrived"
        );
        assert_eq!(mine.last().unwrap().1, *size, "{uuid} ends at its total");
        assert!(
            mine.len() as u64 <= 2 + (size / (64 * 1024)).min(100),
            "{uuid}: {} events for {size} bytes is not throttled",
            mine.len()
        );
    }
    assert!(
        progress.windows(2).all(|pair| pair[0].3 <= pair[1].3),
        "overall bytes sent never go down"
    );
    assert!(
        progress
            .iter()
            .all(|event| event.3 <= event.4 && event.4 == total)
    );
    assert_eq!(progress.last().unwrap().3, total, "the run ends at its total");
}

#[test]
fn relay_progress_is_monotonic_and_ends_at_the_totals() {
    let world = world(|engine| engine);
    let photos = [
        world.add("1", &fixture_photo("phone/jolla.jpg")),
        world.add("3", &fixture_photo("phone/HMD_Nokia_8.3_5G.jpg")),
        world.add("1", &fixture_photo("gps/DSCN0010.jpg")),
    ];
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 3);
    let received = world.provider.admin().received_pictures().unwrap();
    let sizes: HashMap<String, u64> = received
        .iter()
        .map(|item| (item.uuid.clone(), item.file_size.unwrap()))
        .collect();
    assert_eq!(sizes.len(), 3);
    assert!(
        sizes.values().any(|size| *size > 256 * 1024),
        "a phone rendition spans several progress steps: {sizes:?}"
    );
    assert_progress_sound(&world.progress(), &sizes);
    let started: Vec<String> = world
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|event| match event {
            SyncEvent::Upload { uuid, .. } => Some(uuid.clone()),
            _ => None,
        })
        .collect();
    let mut expected = photos.to_vec();
    expected.sort();
    let mut started_sorted = started.clone();
    started_sorted.sort();
    assert_eq!(started_sorted, expected, "one start per photo");

    // A run with nothing to relay says nothing; the next run counts only its own photos.
    world.events.lock().unwrap().clear();
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 0);
    assert!(world.progress().is_empty());
    let late = world.add("3", &fixture_photo("gps/DSCN0012.jpg"));
    assert_eq!(world.engine.push_outbox(CODE, true).unwrap().delivered, 1);
    let size = world
        .provider
        .admin()
        .received_pictures()
        .unwrap()
        .into_iter()
        .find(|item| item.uuid == late)
        .unwrap()
        .file_size
        .unwrap();
    assert_progress_sound(&world.progress(), &HashMap::from([(late, size)]));
}

#[test]
fn projects_relay_in_parallel_each_in_order_and_a_check_in_after_its_photo() {
    const LATENCY_MS: u64 = 500;
    let world = world(|engine| engine.with_relay_concurrency(2));
    // Recorded before any photo: it waits for one of project 2 to be relayed, without blocking the rest.
    let now = fieldsync_core::model::now();
    let check_in = world
        .store
        .check_in(&CheckInRequest {
            project: ProjectId::parse(&format!("{CODE}::2")).unwrap(),
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
            device_id: "phone-1".into(),
        })
        .unwrap()
        .uuid;
    let files = [
        "gps/DSCN0010.jpg",
        "gps/DSCN0012.jpg",
        "gps/DSCN0021.jpg",
        "gps/DSCN0025.jpg",
        "gps/DSCN0027.jpg",
        "gps/DSCN0029.jpg",
    ];
    let mut queued: HashMap<&str, Vec<String>> = HashMap::new();
    for (index, file) in files.iter().enumerate() {
        let number = if index % 2 == 0 { "1" } else { "2" };
        queued
            .entry(number)
            .or_default()
            .push(world.add(number, &fixture_photo(file)));
    }
    world
        .provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::UploadPictures,
            FaultKind::Latency { ms: LATENCY_MS },
        ))
        .unwrap();

    let started = std::time::Instant::now();
    let report = world.engine.push_outbox(CODE, true).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(report.delivered, 7, "{report:?}");
    // One at a time: 7 answers x 500 ms = 3.5 s. Two at a time, projects 1 (3 photos) and 2 (3 photos and
    // the check-in) overlap: about 4 x 500 ms = 2 s.
    assert!(
        elapsed < std::time::Duration::from_millis(7 * LATENCY_MS - 700),
        "no parallelism: {elapsed:?}"
    );

    let arrived = world
        .provider
        .admin()
        .received_items(&fieldsync_provider::ItemFilter::default())
        .unwrap();
    assert!(arrived.iter().all(|item| item.deliveries == 1), "exactly once");
    for number in ["1", "2"] {
        let photos: Vec<&String> = arrived
            .iter()
            .filter(|item| item.work_order_number == number && item.file_type == "picture")
            .map(|item| &item.uuid)
            .collect();
        let expected: Vec<&String> = queued[number].iter().collect();
        assert_eq!(photos, expected, "project {number} in the order taken");
    }
    let pictures: Vec<_> = arrived
        .iter()
        .filter(|item| item.file_type == "picture")
        .collect();
    assert_ne!(
        pictures[0].work_order_number, pictures[1].work_order_number,
        "the first two in flight together are of different projects"
    );
    let position = |uuid: &str| arrived.iter().position(|item| item.uuid == uuid).unwrap();
    assert!(
        position(&check_in) > position(&queued["2"][0]),
        "the check-in waited for its project's photo"
    );
    assert!(
        position(&check_in) < position(&queued["2"][1]),
        "then went in its place, before the later photos of its project"
    );
    assert_progress_sound(
        &world.progress(),
        &pictures
            .iter()
            .map(|item| (item.uuid.clone(), item.file_size.unwrap()))
            .collect(),
    );
}
