//! End to end: the core's sync engine against the provider emulator on 127.0.0.1, no mocks.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_core::model::{
    ImportKind, IntegrationEdit, IntegrationStatus, Mode, ProjectEdit, ProjectQuery, ProjectSort,
};
use fieldsync_core::secrets::{FileSecretStore, password_sha1};
use fieldsync_core::sync::SyncEngine;
use fieldsync_core::sync::{AutoImportEvent, Schedule, spawn_auto_import};
use fieldsync_core::transport::TransportError;
use fieldsync_core::{Error, FailureClass, SecretKind, SecretStore};
use fieldsync_provider::{Endpoint, Fault, FaultKind};
use fieldsync_tests::world::{self, CODE, Device, emulator, project as id};
use serde_json::{Value, json};

/// The shared world with two vendors at the provider (vendor1 with token tok1, other) and the device's token.
struct World(world::World);

impl Deref for World {
    type Target = world::World;

    fn deref(&self) -> &world::World {
        &self.0
    }
}

fn world() -> World {
    let provider = emulator();
    provider.admin().create_user("vendor1", "pw1", "tok1").unwrap();
    provider.admin().create_user("other", "pw2", "tok2").unwrap();
    let device = Device::new(&provider.base_url());
    device.secrets.set(CODE, SecretKind::Token, "tok1").unwrap();
    World(world::World { provider, device })
}

fn order(number: &str, city: &str) -> Value {
    json!({"workOrderNumber": number, "address1": "12 Elm St", "city": city, "state": "IL", "zip": "62701",
           "clientStatus": "Open", "clientInstructions": "Photos of all sides", "instructions": "Mow",
           "services": [{"serviceName": "Lawn Cut", "instructions": "Edge the walks"}],
           "assignedTo": "vendor1"})
}

impl World {
    fn add(&self, number: &str, city: &str) {
        self.provider
            .admin()
            .create_work_order(order(number, city))
            .unwrap();
    }

    fn refresh(&self) -> fieldsync_core::model::ImportReport {
        self.engine.refresh(CODE, ImportKind::Refresh).unwrap()
    }

    fn full(&self) -> fieldsync_core::model::ImportReport {
        self.engine.refresh(CODE, ImportKind::FullImport).unwrap()
    }

    fn numbers(&self) -> Vec<String> {
        let query = ProjectQuery {
            sort: ProjectSort::Number,
            limit: 10_000,
            ..Default::default()
        };
        self.store
            .list_projects(&query)
            .unwrap()
            .into_iter()
            .map(|p| p.work_order_number)
            .collect()
    }

    /// Every project in full, for comparing two caches.
    fn snapshot(&self) -> Vec<fieldsync_core::model::Project> {
        let query = ProjectQuery {
            sort: ProjectSort::Number,
            limit: 10_000,
            ..Default::default()
        };
        self.store
            .list_projects(&query)
            .unwrap()
            .iter()
            .map(|p| self.store.project(&p.id).unwrap())
            .collect()
    }

    fn status(&self) -> (IntegrationStatus, Option<String>) {
        let integration = self.store.integration(CODE).unwrap();
        (integration.status, integration.last_error)
    }

    /// Lets the provider's clock move on so that later changes have later timestamps.
    fn tick(&self) {
        self.provider.admin().advance_time(120);
    }
}

#[test]
fn validate_accepts_good_credentials_and_refuses_bad_ones() {
    let world = world();
    let validation = world.engine.validate(CODE).unwrap();
    assert!(validation.validated, "{validation:?}");
    assert!(world.store.integration(CODE).unwrap().validated_at.is_some());

    for (password, token) in [("wrong", "tok1"), ("pw1", "bad-token")] {
        world
            .secrets
            .set(CODE, SecretKind::PasswordSha1, &password_sha1(password))
            .unwrap();
        world.secrets.set(CODE, SecretKind::Token, token).unwrap();
        let refused = world.engine.validate(CODE).unwrap();
        assert!(!refused.validated, "{password}/{token} was accepted");
        assert!(refused.error.is_some());
        assert!(
            world.store.integration(CODE).unwrap().validated_at.is_none(),
            "the mark is cleared"
        );
        assert!(
            !format!("{refused:?}").contains(&password_sha1(password)),
            "no secret in the error"
        );
    }
}

/// A saved password that cannot be decrypted (here: its file is damaged) is an error that asks the user to
/// sign in again, not a missing password: the refresh fails typed (class Auth, so never retried on a
/// schedule), the integration shows the reason, the cache is as it was, and signing in again recovers.
#[test]
fn an_unreadable_saved_password_fails_the_refresh_typed_until_the_user_signs_in_again() {
    let world = world();
    let secrets_file = world.dir.path().join("device.db.secrets");
    let secrets = Arc::new(FileSecretStore::beside(&world.path));
    secrets
        .set(CODE, SecretKind::PasswordSha1, &password_sha1("pw1"))
        .unwrap();
    secrets.set(CODE, SecretKind::Token, "tok1").unwrap();
    let engine = SyncEngine::new(world.store.clone(), secrets.clone(), world.dir.path());
    world.add("WO-1", "Springfield");
    std::fs::write(&secrets_file, b"{\"ACME\": {\"password_sha1\": \"d3").unwrap();

    let err = engine.refresh(CODE, ImportKind::FullImport).unwrap_err();
    match &err {
        Error::SecretUnreadable {
            integration, kind, ..
        } => assert_eq!((integration.as_str(), *kind), (CODE, SecretKind::PasswordSha1)),
        other => panic!("expected SecretUnreadable, got {other:?}"),
    }
    assert_eq!(err.class(), FailureClass::Auth);
    let integration = world.store.integration(CODE).unwrap();
    assert_eq!(integration.status, IntegrationStatus::Error);
    let shown = integration.last_error.unwrap_or_default();
    assert!(
        shown.contains("sign in again") && !shown.contains("no password is saved"),
        "{shown}"
    );
    assert_eq!(world.store.count_projects(&ProjectQuery::default()).unwrap(), 0);

    secrets
        .set(CODE, SecretKind::PasswordSha1, &password_sha1("pw1"))
        .unwrap();
    secrets.set(CODE, SecretKind::Token, "tok1").unwrap();
    let report = engine.refresh(CODE, ImportKind::FullImport).unwrap();
    assert_eq!(report.created, 1);
    assert_eq!(
        world.store.integration(CODE).unwrap().status,
        IntegrationStatus::Idle
    );
}

#[test]
fn validate_registers_the_push_key_with_the_provider_and_never_leaks_secrets() {
    let world = world();
    world.engine.validate(CODE).unwrap();
    let key = world.engine.push_key(CODE).unwrap();
    assert_eq!(key.len(), 64);
    let user = world.provider.admin().user("vendor1").unwrap().unwrap();
    assert_eq!(
        user.push_key.as_deref(),
        Some(key.as_str()),
        "the provider holds the push key"
    );
    assert!(!format!("{:?}", world.engine).contains("pw1"));
}

#[test]
fn full_import_then_incremental_refresh_sees_creates_updates_unassign_delete_and_reassign() {
    let world = world();
    for (number, city) in [
        ("1", "Springfield"),
        ("2", "Peoria"),
        ("3", "Joliet"),
        ("4", "Aurora"),
    ] {
        world.add(number, city);
    }
    world
        .provider
        .admin()
        .create_work_order(json!({"workOrderNumber": "X", "address1": "1 A", "city": "B",
        "state": "IL", "zip": "1", "services": [{"serviceName": "S"}], "assignedTo": "other"}))
        .unwrap();
    let report = world.full();
    assert_eq!(report.created, 4, "{report:?}");
    assert_eq!(
        world.numbers(),
        ["1", "2", "3", "4"],
        "only the vendor's own orders"
    );

    world.tick();
    world.add("5", "Naperville");
    world
        .provider
        .admin()
        .patch_work_order("1", json!({"clientInstructions": "Gate code 1234"}))
        .unwrap();
    world.provider.admin().unassign("2").unwrap();
    world.provider.admin().delete_work_order("3").unwrap();
    let report = world.refresh();
    assert_eq!(
        (report.created, report.updated, report.cancelled, report.deleted),
        (1, 1, 1, 1),
        "{report:?}"
    );
    assert_eq!(
        world
            .store
            .project(&id("1"))
            .unwrap()
            .client_instructions
            .as_deref(),
        Some("Gate code 1234")
    );
    assert_eq!(
        world.store.project(&id("2")).unwrap().client_status.as_deref(),
        Some("Cancelled")
    );
    assert_eq!(
        world.store.project(&id("3")).unwrap().client_status.as_deref(),
        Some("Deleted")
    );
    assert_eq!(
        world.numbers(),
        ["1", "2", "3", "4", "5"],
        "cancelled and deleted projects stay"
    );

    world.tick();
    world.provider.admin().assign("2", "vendor1").unwrap();
    let report = world.refresh();
    assert_eq!(report.updated, 1, "{report:?}");
    assert_eq!(
        world.store.project(&id("2")).unwrap().client_status.as_deref(),
        Some("Open"),
        "reassigned"
    );

    world.tick();
    let report = world.refresh();
    assert!(report.is_no_op(), "nothing changed: {report:?}");
}

#[test]
fn auto_admin_off_keeps_local_edits_across_refreshes() {
    let world = world();
    let edit = IntegrationEdit {
        auto_admin: Some(false),
        mode: Some(Mode::Internal),
        ..Default::default()
    };
    world.store.edit_integration(CODE, &edit).unwrap();
    world.add("1", "Springfield");
    world.full();
    world
        .store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                instructions: Some("vendor's".into()),
                ..Default::default()
            },
        )
        .unwrap();
    world.tick();
    world
        .provider
        .admin()
        .patch_work_order(
            "1",
            json!({"instructions": "provider's", "clientInstructions": "new"}),
        )
        .unwrap();
    world.refresh();
    let project = world.store.project(&id("1")).unwrap();
    assert_eq!(project.instructions.as_deref(), Some("vendor's"));
    assert_eq!(
        project.client_instructions.as_deref(),
        Some("new"),
        "integration-owned fields still apply"
    );
}

#[test]
fn full_import_removes_unassigned_projects_except_those_with_pending_work() {
    let world = world();
    for number in ["1", "2", "3"] {
        world.add(number, "Springfield");
    }
    world.full();
    world
        .store
        .edit_project(
            &id("2"),
            &ProjectEdit {
                status: Some("Complete".into()),
                ..Default::default()
            },
        )
        .unwrap();
    world.tick();
    world.provider.admin().unassign("2").unwrap();
    world.provider.admin().unassign("3").unwrap();
    let report = world.full();
    assert_eq!((report.removed, report.kept), (1, 1), "{report:?}");
    assert_eq!(report.kept_projects, ["ACME::2"]);
    assert_eq!(world.numbers(), ["1", "2"]);
    assert!(world.store.project(&id("2")).unwrap().removal_pending);
}

#[test]
fn push_key_refresh_imports_and_an_unknown_key_changes_nothing() {
    let world = world();
    world.engine.validate(CODE).unwrap();
    world.add("1", "Springfield");
    assert!(world.engine.refresh_by_push_key("not-a-key").unwrap().is_none());
    assert!(world.numbers().is_empty());
    assert_eq!(world.store.integration(CODE).unwrap().last_refreshed, None);
    let key = world.engine.push_key(CODE).unwrap();
    let (code, report) = world.engine.refresh_by_push_key(&key).unwrap().unwrap();
    assert_eq!(code, CODE);
    assert_eq!(report.created, 1);
}

#[test]
fn auto_import_picks_up_a_newly_assigned_project_without_a_command() {
    let world = world();
    world
        .store
        .edit_integration(
            CODE,
            &IntegrationEdit {
                auto_import: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let (events, received) = std::sync::mpsc::channel();
    let schedule = Schedule {
        interval: Duration::from_millis(200),
        jitter: 0.0,
        ..Schedule::default()
    };
    let handle = spawn_auto_import(world.engine.clone(), schedule, move |event| {
        drop(events.send(event))
    })
    .unwrap();
    world.add("7", "Springfield");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut arrived = false;
    while Instant::now() < deadline && !arrived {
        if let Ok(AutoImportEvent::Refreshed { report, .. }) = received.recv_timeout(Duration::from_secs(1)) {
            arrived = report.created == 1 || world.numbers() == ["7"];
        }
        world.tick();
    }
    handle.stop();
    assert!(arrived, "the assigned project did not arrive");
    assert_eq!(world.numbers(), ["7"]);
}

#[test]
fn status_moves_through_each_step_and_last_error_clears_on_success() {
    let world = world();
    world.add("1", "Springfield");
    assert_eq!(world.status().0, IntegrationStatus::Idle);
    world
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::Latency { ms: 600 }).times(1))
        .unwrap();
    let engine = world.engine.clone();
    let running = std::thread::spawn(move || engine.refresh(CODE, ImportKind::FullImport));
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running.is_finished() && Instant::now() < deadline {
        let status = world.status().0;
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    running.join().unwrap().unwrap();
    assert!(seen.contains(&IntegrationStatus::Running), "{seen:?}");
    assert_eq!(world.status(), (IntegrationStatus::Idle, None));

    world
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::Http500).times(1))
        .unwrap();
    assert!(world.engine.refresh(CODE, ImportKind::Refresh).is_err());
    let (status, error) = world.status();
    assert_eq!(status, IntegrationStatus::Error);
    assert!(error.as_deref().unwrap_or_default().contains("500"), "{error:?}");
    world.refresh();
    assert_eq!(world.status(), (IntegrationStatus::Idle, None));
}

#[test]
fn faults_leave_the_cache_unchanged_and_the_next_refresh_converges() {
    let faults = [
        FaultKind::Http500,
        FaultKind::Http503 { retry_after: 7 },
        FaultKind::DropBefore,
        FaultKind::DropAfter,
        FaultKind::Truncate,
        FaultKind::Http401,
    ];
    // The same provider history, fault-free, gives the reference cache.
    let reference = world();
    let faulty = world();
    for world in [&reference, &faulty] {
        for number in 0..30 {
            world.add(&format!("{number:03}"), "Springfield");
        }
        world.full();
    }
    for fault in faults {
        for world in [&reference, &faulty] {
            world.tick();
            world.add(&format!("N-{fault:?}"), "Peoria");
            world
                .provider
                .admin()
                .patch_work_order("001", json!({"clientInstructions": format!("{fault:?}")}))
                .unwrap();
        }
        let before = faulty.snapshot();
        faulty
            .provider
            .admin()
            .set_fault(Fault::new(Endpoint::GetWorkOrders, fault).times(1))
            .unwrap();
        let err = faulty.engine.refresh(CODE, ImportKind::Refresh).unwrap_err();
        match (fault, &err) {
            (FaultKind::Http401, Error::Transport(TransportError::Auth(_))) => {}
            (FaultKind::Http503 { .. }, Error::Transport(TransportError::Transient { retry_after, .. })) => {
                assert_eq!(*retry_after, Some(Duration::from_secs(7)));
            }
            (FaultKind::Http401 | FaultKind::Http503 { .. }, _) => panic!("{fault:?} gave {err:?}"),
            (_, Error::Transport(TransportError::Transient { .. }) | Error::InvalidResponse(_)) => {}
            _ => panic!("{fault:?} gave {err:?}"),
        }
        assert_eq!(faulty.snapshot(), before, "{fault:?} changed the cache");
        let (status, last_error) = faulty.status();
        assert_eq!(status, IntegrationStatus::Error, "{fault:?}");
        assert!(!last_error.unwrap_or_default().is_empty());
        reference.refresh();
        faulty.refresh();
        assert_eq!(
            faulty.snapshot(),
            reference.snapshot(),
            "after {fault:?} the caches diverge"
        );
        assert_eq!(faulty.status(), (IntegrationStatus::Idle, None));
    }
}

#[test]
fn concurrent_refreshes_of_one_integration_never_run_in_parallel() {
    let world = world();
    world.add("1", "Springfield");
    world
        .provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::GetWorkOrders,
            FaultKind::Latency { ms: 400 },
        ))
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let engine = world.engine.clone();
            std::thread::spawn(move || engine.refresh(CODE, ImportKind::Refresh))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    let runs = world.engine.runs_started(CODE);
    assert!((1..=2).contains(&runs), "{runs} runs for 4 overlapping requests");
    assert_eq!(world.numbers(), ["1"]);
}

/// Item: Pruvan Share (external, the default mode) projects lost the provider's instructions, description,
/// due date and RUSH/REWORK status.
#[test]
fn pruvan_share_projects_get_instructions_description_due_date_and_rush_status() {
    let world = world();
    let mut rush = order("1", "Springfield");
    rush["description"] = json!("Grass cut, front and back");
    rush["dueDate"] = json!("2030-01-05");
    rush["status"] = json!("Rush");
    world.provider.admin().create_work_order(rush).unwrap();
    world.full();
    let project = world.store.project(&id("1")).unwrap();
    assert_eq!(project.instructions.as_deref(), Some("Mow"));
    assert_eq!(project.description.as_deref(), Some("Grass cut, front and back"));
    assert_eq!(project.due_date.as_deref(), Some("2030-01-05"));
    assert_eq!(project.status.as_deref(), Some("RUSH"));
    assert_eq!(
        project.assigned_to, None,
        "external: assignee only via Default Assign To"
    );

    // Auto Admin on (the default): the provider's change overwrites.
    world.tick();
    world
        .provider
        .admin()
        .patch_work_order("1", json!({"instructions": "Mow and edge", "status": "REWORK"}))
        .unwrap();
    world.refresh();
    let project = world.store.project(&id("1")).unwrap();
    assert_eq!(project.instructions.as_deref(), Some("Mow and edge"));
    assert_eq!(project.status.as_deref(), Some("REWORK"));

    // Auto Admin off: the vendor's value stays.
    let edit = IntegrationEdit {
        auto_admin: Some(false),
        ..Default::default()
    };
    world.store.edit_integration(CODE, &edit).unwrap();
    world
        .store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                instructions: Some("vendor's".into()),
                ..Default::default()
            },
        )
        .unwrap();
    world.tick();
    world
        .provider
        .admin()
        .patch_work_order("1", json!({"instructions": "provider's again"}))
        .unwrap();
    world.refresh();
    let project = world.store.project(&id("1")).unwrap();
    assert_eq!(project.instructions.as_deref(), Some("vendor's"));
}

/// Item: a Full Import removed a project that the response did list, when that one order was rejected
/// for a bad field; the vendor's local edits went with it.
#[test]
fn a_full_import_keeps_a_listed_project_whose_order_is_rejected() {
    let world = world();
    world.add("1", "Springfield");
    world.add("2", "Peoria");
    world.full();
    let edited = world
        .store
        .edit_project(
            &id("1"),
            &ProjectEdit {
                instructions: Some("Side gate; dog in yard".into()),
                ..Default::default()
            },
        )
        .unwrap();
    world.tick();
    world
        .provider
        .admin()
        .patch_work_order("1", json!({"gpsLatitude": "north"}))
        .unwrap();
    let report = world.full();
    assert_eq!(report.removed, 0, "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    let rejection = &report.rejected[0];
    assert_eq!(rejection.work_order_number, "1");
    assert!(rejection.reason.contains("gpsLatitude"), "{rejection:?}");
    assert!(rejection.kept, "the report says the listed project stays");
    assert_eq!(world.numbers(), ["1", "2"]);
    assert_eq!(world.store.project(&id("1")).unwrap(), edited, "kept unchanged");
}

/// Item: a bogus `serverTime` (milliseconds, years ahead) became the cursor. The emulator's clock is
/// pinned there; its HTTP `Date` stays real, so the import keeps to the `Date` and says why.
#[test]
fn a_bogus_server_time_never_becomes_the_cursor() {
    let world = world();
    world.add("1", "Springfield");
    world.full();
    let good = world.store.integration(CODE).unwrap().sync_cursor.unwrap();
    let real_now = world.provider.admin().now();
    assert!((good - real_now).abs() < 60, "{good} vs {real_now}");

    for bogus in [real_now * 1000, real_now + 5 * 365 * 86_400] {
        world.provider.admin().set_time(Some(bogus));
        let report = world.refresh();
        let note = report
            .cursor_note
            .expect("the report says why serverTime was refused");
        assert!(note.contains(&bogus.to_string()), "{note}");
        let cursor = world.store.integration(CODE).unwrap().sync_cursor.unwrap();
        assert!(
            (cursor - real_now).abs() < 600,
            "cursor {cursor} follows the Date header, not serverTime {bogus}"
        );
    }

    // Back to a sane clock: changes made now are not skipped.
    world.provider.admin().set_time(None);
    world.tick();
    world
        .provider
        .admin()
        .patch_work_order("1", json!({"clientInstructions": "Call first"}))
        .unwrap();
    let report = world.refresh();
    assert_eq!(report.cursor_note, None, "{report:?}");
    assert_eq!(report.updated, 1, "{report:?}");
}
