//! Check-ins end to end: captured offline, kept across a restart, delivered to the emulator exactly once, in
//! order, with their original times; stuck entries visible and never blocking other projects.

use fieldsync_core::Error;
use fieldsync_core::checkin::LocationFix;
use fieldsync_core::model::{CheckInSettings, ImportKind, IntegrationEdit, ProjectEdit, ProjectId};
use fieldsync_core::outbox::{EntryKind, EntryState};
use fieldsync_core::store::CheckInRequest;
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{CODE, Device, HOME, fix, order, provider_with_orders};
use serde_json::json;

const DEAD_URL: &str = "http://127.0.0.1:9/api/v2";

fn now() -> i64 {
    fieldsync_core::model::now()
}

#[test]
fn offline_check_ins_survive_a_restart_and_arrive_exactly_once_in_order_with_their_capture_times() {
    let provider = provider_with_orders(["1", "2"].map(order));
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();

    device.point_at(DEAD_URL);
    let start = now() - 3_600;
    let plan = [
        ("1", start),
        ("2", start + 60),
        ("1", start + 120),
        ("2", start + 180),
        ("1", start + 240),
    ];
    let mut uuids = Vec::new();
    for (number, at) in plan {
        // Captured an hour ago, with the device's clock of that moment: stale for certification purposes
        // is fine; what matters is that the original times travel.
        let check_in = device.check_in(number, at).unwrap();
        assert_eq!(check_in.state, "queued");
        uuids.push(check_in.uuid);
    }
    let summary = device.engine.sync(std::time::Duration::ZERO).unwrap();
    let (_, delivery) = &summary.deliveries[0];
    assert!(
        delivery.as_ref().unwrap().stopped.is_some(),
        "the provider is unreachable"
    );
    assert_eq!(provider.admin().received_checkins().unwrap().len(), 0);

    let device = device.restart();
    assert_eq!(
        device.store.outbox_entries(false).unwrap().len(),
        5,
        "nothing lost across the restart"
    );
    device.point_at(&provider.base_url());
    let summary = device.engine.sync(std::time::Duration::ZERO).unwrap();
    assert_eq!(summary.deliveries[0].1.as_ref().unwrap().delivered, 5);

    let received = provider.admin().received_checkins().unwrap();
    // Ordered per project (projects are delivered in parallel, so not across projects).
    for project in ["1", "2"] {
        let arrived: Vec<&str> = received
            .iter()
            .filter(|item| item.work_order_number == project)
            .map(|item| item.uuid.as_str())
            .collect();
        let captured: Vec<&str> = plan
            .iter()
            .zip(&uuids)
            .filter(|((number, _), _)| *number == project)
            .map(|(_, uuid)| uuid.as_str())
            .collect();
        assert_eq!(arrived, captured, "project {project} in capture order");
    }
    assert_eq!(received.len(), plan.len());
    for ((_, at), uuid) in plan.iter().zip(&uuids) {
        let item = received.iter().find(|item| &item.uuid == uuid).unwrap();
        assert_eq!(item.deliveries, 1);
        assert_eq!(item.file_type, "checkin");
        assert_eq!(
            item.metadata["gpsTimestamp"],
            json!(fieldsync_core::model::format_timestamp(*at))
        );
        assert_eq!(
            item.metadata["creationDate"],
            json!(fieldsync_core::model::format_timestamp(at + 2))
        );
        assert_eq!(item.metadata["checkInId"], json!("B-7731"));
        assert!((item.metadata["locationDifference"].as_f64().unwrap() - 11.1).abs() < 0.5);
    }

    device.engine.sync(std::time::Duration::ZERO).unwrap();
    assert_eq!(
        provider.admin().received_checkins().unwrap().len(),
        5,
        "a second sync sends nothing again"
    );
    assert!(device.store.outbox_entries(false).unwrap().is_empty());
}

#[test]
fn a_response_dropped_after_storing_is_retried_and_deduplicated() {
    let provider = provider_with_orders(["1"].map(order));
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    let uuid = device.check_in("1", now() - 5).unwrap().uuid;
    provider
        .admin()
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1))
        .unwrap();
    let first = device.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(first.delivered, 0);
    assert_eq!(
        device.store.outbox_entries(false).unwrap()[0].state,
        EntryState::RetryWait
    );
    let second = device.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(second.delivered, 1);
    let received = provider.admin().received_checkins().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].uuid, uuid);
    assert_eq!(received[0].deliveries, 2, "sent twice, stored once");
}

#[test]
fn an_automatic_retry_waits_for_its_backoff_but_a_user_sync_does_not() {
    let provider = provider_with_orders(["1"].map(order));
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    device.check_in("1", now() - 5).unwrap();
    provider
        .admin()
        .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::Http503 { retry_after: 600 }).times(1))
        .unwrap();
    device.engine.push_outbox(CODE, false).unwrap();
    assert_eq!(
        device.engine.push_outbox(CODE, false).unwrap().delivered,
        0,
        "backing off (Retry-After 600 s)"
    );
    assert_eq!(device.engine.push_outbox(CODE, true).unwrap().delivered, 1);
}

#[test]
fn a_permanently_failing_entry_needs_attention_without_blocking_other_projects() {
    let provider = provider_with_orders(["1", "2"].map(order));
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    // A project the provider never had (imported from a file): its status update is refused for good.
    let body = json!({"workOrders": [{"workOrderNumber": "GHOST", "address1": "1 Elm", "city": "Springfield",
        "state": "IL", "zip": "62701", "gpsLatitude": HOME.0, "gpsLongitude": HOME.1,
        "services": [{"serviceName": "Lawn Cut"}]}]});
    let options = fieldsync_core::store::ImportOptions::new(ImportKind::Refresh);
    device
        .store
        .import_response(CODE, body.to_string().as_bytes(), None, &options)
        .unwrap();
    let ghost = ProjectId::parse("ACME::GHOST").unwrap();
    device
        .store
        .edit_project(
            &ghost,
            &ProjectEdit {
                status: Some("Complete".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let stuck_followup = device.check_in("GHOST", now() - 5).unwrap().uuid;
    let other = device.check_in("2", now() - 5).unwrap().uuid;
    for _ in 0..3 {
        device.engine.push_outbox(CODE, true).unwrap();
    }
    let entries = device.store.outbox_entries(false).unwrap();
    let status = entries
        .iter()
        .find(|entry| entry.kind == EntryKind::Status)
        .unwrap();
    assert_eq!(status.state, EntryState::NeedsAttention);
    assert!(
        status.last_error.as_deref().unwrap().contains("refused"),
        "{:?}",
        status.last_error
    );
    assert!(
        entries
            .iter()
            .any(|entry| entry.id == stuck_followup && entry.state == EntryState::Queued),
        "waits behind it, in order"
    );
    let received: Vec<String> = provider
        .admin()
        .received_checkins()
        .unwrap()
        .into_iter()
        .map(|item| item.uuid)
        .collect();
    assert_eq!(received, [other], "project 2 was not blocked");

    // The user gives up on the status: the check-in behind it is attempted at last (and refused too: the
    // provider does not know this order either).
    device.store.discard_outbox_entry(&status.id).unwrap();
    device.engine.push_outbox(CODE, true).unwrap();
    let followup = device
        .store
        .outbox_entries(false)
        .unwrap()
        .into_iter()
        .find(|entry| entry.id == stuck_followup)
        .unwrap();
    assert_eq!(followup.attempts, 1, "no longer blocked");
    assert!(matches!(
        device.store.retry_outbox_entry(&status.id),
        Err(Error::UnknownOutboxEntry(_))
    ));
}

#[test]
fn a_project_kept_by_a_full_import_goes_once_its_work_is_delivered() {
    let provider = provider_with_orders(["1", "2"].map(order));
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    device.check_in("1", now() - 5).unwrap();
    provider.admin().unassign("1").unwrap();
    let report = device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    assert_eq!(report.kept_projects, ["ACME::1"]);
    device.engine.push_outbox(CODE, true).unwrap();
    assert!(matches!(
        device.store.project(&ProjectId::parse("ACME::1").unwrap()),
        Err(Error::UnknownProject(_))
    ));
    assert_eq!(provider.admin().received_checkins().unwrap().len(), 1);
}

#[test]
fn bad_check_ins_get_a_typed_error_and_write_nothing() {
    let provider = provider_with_orders(["1", "2"].map(order));
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    device
        .store
        .close_project(&ProjectId::parse("ACME::2").unwrap())
        .unwrap();
    let good = CheckInRequest {
        project: ProjectId::parse("ACME::1").unwrap(),
        fix: fix(HOME.0, HOME.1, now()),
        badge: None,
        user: None,
        device_time: now(),
        device_id: "d".into(),
    };
    let cases: Vec<(CheckInRequest, &str)> = vec![
        (
            CheckInRequest {
                fix: LocationFix {
                    latitude: f64::NAN,
                    ..good.fix
                },
                ..good.clone()
            },
            "latitude",
        ),
        (
            CheckInRequest {
                fix: LocationFix {
                    longitude: 200.0,
                    ..good.fix
                },
                ..good.clone()
            },
            "longitude",
        ),
        (
            CheckInRequest {
                fix: LocationFix {
                    latitude: 0.0,
                    longitude: 0.0,
                    ..good.fix
                },
                ..good.clone()
            },
            "0,0",
        ),
        (
            CheckInRequest {
                fix: LocationFix {
                    accuracy_m: -3.0,
                    ..good.fix
                },
                ..good.clone()
            },
            "accuracy",
        ),
        (
            CheckInRequest {
                project: ProjectId::parse("ACME::404").unwrap(),
                ..good.clone()
            },
            "no project",
        ),
        (
            CheckInRequest {
                project: ProjectId::parse("ACME::2").unwrap(),
                ..good.clone()
            },
            "closed",
        ),
        (
            CheckInRequest {
                badge: Some("  ".into()),
                ..good.clone()
            },
            "check-in ID",
        ),
    ];
    for (request, expected) in cases {
        let err = device.store.check_in(&request).unwrap_err();
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    let edit = IntegrationEdit {
        check_in: Some(CheckInSettings {
            refuse_uncertified: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    device.store.edit_integration(CODE, &edit).unwrap();
    let far = CheckInRequest {
        fix: fix(HOME.0 + 0.01, HOME.1, now()),
        ..good.clone()
    };
    let err = device.store.check_in(&far).unwrap_err();
    assert!(
        matches!(&err, Error::CheckInRefused { reasons, .. } if reasons[0].contains("geofence")),
        "{err}"
    );
    assert!(
        device.store.outbox_entries(true).unwrap().is_empty(),
        "nothing was written"
    );
    assert!(device.store.check_in(&good).unwrap().certified);
}

#[test]
fn a_project_without_coordinates_records_unverifiable_check_ins_until_the_host_geocodes_it() {
    let provider = provider_with_orders([
        json!({"workOrderNumber": "9", "address1": "1 Oak", "city": "Peoria", "state": "IL",
        "zip": "61602", "services": [{"serviceName": "Inspection"}], "assignedTo": "vendor1"}),
    ]);
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    let unverifiable = device.check_in("9", now()).unwrap();
    assert!(!unverifiable.certified);
    assert!(unverifiable.reasons[0].contains("not verifiable"));
    device
        .store
        .set_project_location(&ProjectId::parse("ACME::9").unwrap(), HOME.0, HOME.1)
        .unwrap();
    assert!(device.check_in("9", now()).unwrap().certified);
}

#[test]
fn a_project_requiring_a_check_in_cannot_be_completed_without_one() {
    let provider = provider_with_orders(["1"].map(order));
    provider
        .admin()
        .set_options("1", json!({"check_in_required": true}))
        .unwrap();
    let device = Device::new(&provider.base_url());
    device.engine.refresh(CODE, ImportKind::FullImport).unwrap();
    let id = ProjectId::parse("ACME::1").unwrap();
    let complete = ProjectEdit {
        status: Some("Complete".into()),
        ..Default::default()
    };
    let err = device.store.edit_project(&id, &complete).unwrap_err();
    assert!(
        matches!(&err, Error::CompletionBlocked { unmet, .. }
            if unmet.len() == 1 && unmet[0].requirement == fieldsync_core::requirements::UnmetRequirement::CheckIn),
        "{err}"
    );
    assert!(
        device.store.outbox_entries(true).unwrap().is_empty(),
        "nothing queued"
    );
    device.check_in("1", now()).unwrap();
    device.store.edit_project(&id, &complete).unwrap();
}
