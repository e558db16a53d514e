//! The upload policy and the upload log against the emulator: Wi-Fi only holds photos on a metered
//! network and sends check-ins, unmetered sends the photos exactly once, no network sends nothing, the
//! pause switch holds photos, each undelivered item carries its reason, and "retry all failed" and
//! "clean up delivered" do what they say (never removing an undelivered item).

use std::ops::Deref;

use fieldsync_core::model::{NewIntegration, ProjectEdit};
use fieldsync_core::outbox::delivery::NO_NETWORK;
use fieldsync_core::outbox::{EntryKind, EntryState, NetworkState, UploadPolicy, WaitReason};
use fieldsync_core::photo::{EvidenceType, PhotoState};
use fieldsync_core::store::{NewLocalProject, OutboxSummary};
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{self, CODE, Device, fixture_photo, order_with, project, provider_with_orders};
use serde_json::json;

/// Orders 1 and 2 (order 2 in `publish` complete mode, its check-ins requiring a photo), a device taking
/// photos with `auto_relay`, after a Full Import.
struct World(world::World);

impl Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.0
    }
}

fn world(auto_relay: bool) -> World {
    let provider = provider_with_orders([
        order_with("1", json!({})),
        order_with(
            "2",
            json!({"options": {"complete_mode": "publish", "check_in_photo_required": true}}),
        ),
    ]);
    let mut new = NewIntegration::new(CODE, provider.base_url(), "vendor1");
    new.auto_relay = auto_relay;
    let device = Device::with_photos(new, |engine| engine);
    device.full_import();
    World(world::World { provider, device })
}

impl World {
    fn photo(&self, number: &str) -> String {
        self.add_photo(
            number,
            &fixture_photo("phone/jolla.jpg"),
            EvidenceType::Before,
            None,
        )
        .unwrap()
        .uuid
    }

    fn policy(&self, photos_on_wifi_only: bool, paused: bool) {
        self.store
            .set_upload_policy(UploadPolicy {
                photos_on_wifi_only,
                paused,
            })
            .unwrap();
    }

    /// Delivers on `network` (a sync the user asked for: backoff ignored).
    fn push(&self, network: NetworkState) -> fieldsync_core::outbox::DeliveryReport {
        self.engine.set_network(network);
        self.engine.push_outbox(CODE, true).unwrap()
    }

    fn log(&self, network: NetworkState) -> Vec<OutboxSummary> {
        self.store.upload_log(network).unwrap()
    }

    fn reason(&self, network: NetworkState, id: &str) -> WaitReason {
        self.log(network)
            .into_iter()
            .find(|entry| entry.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the upload log"))
            .waits_for
            .unwrap()
    }

    fn pictures(&self) -> Vec<fieldsync_provider::ReceivedItem> {
        self.provider.admin().received_pictures().unwrap()
    }

    fn check_ins(&self) -> usize {
        self.provider.admin().received_checkins().unwrap().len()
    }

    fn statuses(&self) -> usize {
        self.provider.admin().status_updates().unwrap().len()
    }

    fn set_status(&self, number: &str, status: &str) -> String {
        self.store
            .edit_project(
                &project(number),
                &ProjectEdit {
                    status: Some(status.into()),
                    ..ProjectEdit::default()
                },
            )
            .unwrap();
        let log = self.log(NetworkState::Unmetered);
        log.iter()
            .rev()
            .find(|entry| entry.kind == EntryKind::Status)
            .unwrap()
            .id
            .clone()
    }
}

#[test]
fn wifi_only_holds_photos_on_metered_but_sends_check_ins_and_unmetered_sends_the_photos_once() {
    let world = world(true);
    world.policy(true, false);
    let photo = world.photo("1");
    let check_in = world.check_in("1", fieldsync_core::model::now()).unwrap().uuid;
    let status = world.set_status("1", "In Progress");

    let report = world.push(NetworkState::Metered);
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(world.check_ins(), 1, "the check-in queued after the photo went");
    assert!(world.pictures().is_empty(), "the photo waits for Wi-Fi");
    assert_eq!(
        world.statuses(),
        0,
        "the status does not overtake the photo before it"
    );
    assert_eq!(
        world.reason(NetworkState::Metered, &photo),
        WaitReason::WaitingForWifi
    );
    assert_eq!(
        world.reason(NetworkState::Metered, &status),
        WaitReason::WaitingForWifi
    );
    assert!(
        !world
            .log(NetworkState::Metered)
            .iter()
            .any(|entry| entry.id == check_in)
    );
    assert_eq!(world.reason(NetworkState::Unmetered, &photo), WaitReason::Queued);

    let report = world.push(NetworkState::Unmetered);
    assert_eq!(report.delivered, 2, "{report:?}");
    let pictures = world.pictures();
    assert_eq!(pictures.len(), 1);
    assert_eq!(pictures[0].uuid, photo);
    assert_eq!(pictures[0].deliveries, 1);
    assert_eq!(world.statuses(), 1);
    assert_eq!(world.store.photo(&photo).unwrap().state, PhotoState::Relayed);

    assert_eq!(world.push(NetworkState::Unmetered).delivered, 0);
    assert_eq!(world.pictures()[0].deliveries, 1, "exactly once");
    assert_eq!(world.check_ins(), 1);
    assert!(world.log(NetworkState::Unmetered).is_empty());
}

#[test]
fn no_network_sends_nothing() {
    let world = world(true);
    let photo = world.photo("1");
    let check_in = world.check_in("1", fieldsync_core::model::now()).unwrap().uuid;
    let report = world.push(NetworkState::None);
    assert_eq!(report.delivered, 0);
    assert_eq!(report.stopped.as_deref(), Some(NO_NETWORK));
    assert!(world.pictures().is_empty());
    assert_eq!(world.check_ins(), 0);
    for id in [&photo, &check_in] {
        assert_eq!(
            world.reason(NetworkState::None, id),
            WaitReason::WaitingForNetwork
        );
    }
    assert_eq!(
        world.push(NetworkState::Metered).delivered,
        2,
        "any network sends both"
    );
}

#[test]
fn pause_holds_photos_but_not_check_ins_until_it_is_off() {
    let world = world(true);
    world.policy(false, true);
    let photo = world.photo("1");
    world.check_in("1", fieldsync_core::model::now()).unwrap();
    assert_eq!(world.push(NetworkState::Unmetered).delivered, 1);
    assert_eq!(world.check_ins(), 1);
    assert!(world.pictures().is_empty());
    assert_eq!(world.reason(NetworkState::Unmetered, &photo), WaitReason::Paused);
    world.policy(false, false);
    assert_eq!(world.push(NetworkState::Unmetered).delivered, 1);
    assert_eq!(world.pictures().len(), 1);
}

#[test]
fn the_upload_log_gives_every_item_its_reason_and_failed_items_can_all_be_retried() {
    let world = world(false);
    let waiting_qa = world.photo("1");
    let waiting_completion = world.photo("2");
    let waiting_photo = world.check_in("2", fieldsync_core::model::now()).unwrap().uuid;
    world
        .store
        .create_local_project(&NewLocalProject {
            integration: CODE.into(),
            work_order_number: "9".into(),
            address1: Some("1 Main St".into()),
            city: Some("Springfield".into()),
            state: Some("IL".into()),
            zip: Some("62701".into()),
            tasks: vec!["Lawn Cut".into()],
        })
        .unwrap();
    let waiting_order = world.check_in("9", fieldsync_core::model::now()).unwrap().uuid;
    let check_in = world.check_in("1", fieldsync_core::model::now()).unwrap().uuid;
    assert_eq!(
        world.reason(NetworkState::Unmetered, &waiting_qa),
        WaitReason::WaitingForQa
    );
    assert_eq!(
        world.reason(NetworkState::Unmetered, &waiting_completion),
        WaitReason::WaitingForCompletion
    );
    assert_eq!(
        world.reason(NetworkState::Unmetered, &waiting_photo),
        WaitReason::PhotoOfItsProject
    );
    assert_eq!(
        world.reason(NetworkState::Unmetered, &waiting_order),
        WaitReason::ProviderOrder
    );
    assert_eq!(
        world.reason(NetworkState::Unmetered, &check_in),
        WaitReason::Queued
    );

    // The check-in fails for good (a permanent refusal, three times); a status of the other project
    // fails on the network and backs off.
    world
        .provider
        .admin()
        .set_fault(
            Fault::new(
                Endpoint::UploadPictures,
                FaultKind::exact_body(200, &[], r#"{"status": false, "error": "bad item"}"#),
            )
            .times(3),
        )
        .unwrap();
    for _ in 0..3 {
        world.push(NetworkState::Unmetered);
    }
    let attention = world.reason(NetworkState::Unmetered, &check_in);
    assert!(
        matches!(&attention, WaitReason::NeedsAttention { error } if error.contains("bad item")),
        "{attention:?}"
    );
    world
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::Status, FaultKind::Http500).times(1))
        .unwrap();
    let status = world.set_status("2", "In Progress");
    world.engine.push_outbox(CODE, false).unwrap();
    let backoff = world.reason(NetworkState::Unmetered, &status);
    assert!(
        matches!(backoff, WaitReason::Backoff { until } if until > fieldsync_core::model::now()),
        "{backoff:?}"
    );

    assert_eq!(world.store.retry_all_failed().unwrap(), 2);
    assert_eq!(
        world.reason(NetworkState::Unmetered, &check_in),
        WaitReason::Queued
    );
    assert_eq!(world.reason(NetworkState::Unmetered, &status), WaitReason::Queued);
    assert_eq!(
        world.reason(NetworkState::Unmetered, &waiting_qa),
        WaitReason::WaitingForQa
    );
    assert_eq!(world.store.retry_all_failed().unwrap(), 0);
    world.engine.push_outbox(CODE, false).unwrap();
    assert_eq!(world.check_ins(), 1);
    assert_eq!(world.statuses(), 1);
}

#[test]
fn clean_up_removes_delivered_rows_only_and_a_relayed_photo_can_still_be_published_again() {
    let world = world(true);
    let photo = world.photo("1");
    world.check_in("1", fieldsync_core::model::now()).unwrap();
    world.push(NetworkState::Unmetered);
    // Undelivered work of every kind, held for Wi-Fi, waiting for its order, or queued.
    world.policy(true, false);
    let held_photo = world.photo("2");
    let queued_check_in = world.check_in("1", fieldsync_core::model::now()).unwrap().uuid;
    let undelivered: Vec<OutboxSummary> = world.log(NetworkState::Metered);
    assert_eq!(undelivered.len(), 2);

    let removed = world.store.clean_up_delivered().unwrap();
    assert_eq!(
        removed, 1,
        "the delivered check-in; the relayed photo's row stays"
    );
    assert_eq!(
        world.log(NetworkState::Metered),
        undelivered,
        "undelivered items are untouched"
    );
    let all = world.store.outbox_entries(true).unwrap();
    assert!(
        all.iter()
            .any(|entry| entry.id == photo && entry.state == EntryState::Done)
    );
    assert!(all.iter().any(|entry| entry.id == held_photo));
    assert!(all.iter().any(|entry| entry.id == queued_check_in));
    assert_eq!(world.store.clean_up_delivered().unwrap(), 0);

    // QA publishes the relayed photo again: it goes under the same UUID.
    world.policy(false, false);
    world.store.approve_photo(&photo).unwrap();
    world.push(NetworkState::Unmetered);
    let pictures = world.pictures();
    let again = pictures.iter().find(|item| item.uuid == photo).unwrap();
    assert_eq!(again.deliveries, 2);
    assert!(pictures.iter().any(|item| item.uuid == held_photo));
}
