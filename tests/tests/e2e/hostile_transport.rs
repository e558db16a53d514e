//! Trust under hostile transport: a provider (or a proxy in front of it) that redirects, echoes the
//! credentials in its errors, asks to be left alone for 2^64 seconds, or answers one byte at a time.
//! Each talks to the real emulator on 127.0.0.1 with its fault injection.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fieldsync_core::model::{ImportKind, IntegrationEdit, IntegrationStatus, NewIntegration, ProjectQuery};
use fieldsync_core::outbox::EntryState;
use fieldsync_core::secrets::password_sha1;
use fieldsync_core::sync::{AutoImportEvent, Schedule, SyncEngine, spawn_auto_import};
use fieldsync_core::transport::Timeouts;
use fieldsync_core::{FailureClass, SecretKind, SecretStore};
use fieldsync_provider::{Endpoint, Fault, FaultKind, FaultText, RunningProvider};
use fieldsync_tests::world::{CODE, Device, PASSWORD, USER, emulator, order, provider_with_orders};

/// The projects in the cache, by work order number.
fn cached(device: &Device) -> Vec<String> {
    let mut numbers: Vec<String> = device
        .store
        .list_projects(&ProjectQuery::default())
        .unwrap()
        .into_iter()
        .map(|project| project.work_order_number)
        .collect();
    numbers.sort();
    numbers
}

/// A second emulator with the same vendor and an order of its own, and a one-shot fault on every wire
/// endpoint that a request would use up: while it is still there, no wire request reached this emulator.
fn redirect_target() -> RunningProvider {
    let target = provider_with_orders([order("EVIL-1")]);
    target
        .admin()
        .set_fault(Fault::everywhere(FaultKind::Http500).times(1))
        .unwrap();
    target
}

fn assert_untouched(target: &RunningProvider) {
    assert_eq!(
        target.admin().faults().len(),
        1,
        "the redirect target received a wire request"
    );
    assert!(
        target
            .admin()
            .received_items(&Default::default())
            .unwrap()
            .is_empty()
    );
    assert_eq!(target.admin().user(USER).unwrap().unwrap().push_key, None);
}

#[test]
fn item5_redirects_are_never_followed_with_credentials_and_never_imported() {
    let provider = provider_with_orders([order("WO-1"), order("WO-2")]);
    let device = Device::new(&provider.base_url());
    device.full_import();
    let target = redirect_target();

    // A 302 on a Full Import: following it would replace the whole cache with the other host's answer.
    let location = format!("{}/getWorkOrders", target.base_url());
    provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::GetWorkOrders,
            FaultKind::redirect(302, &location),
        ))
        .unwrap();
    let err = device.engine.refresh(CODE, ImportKind::FullImport).unwrap_err();
    let message = err.to_string();
    assert_eq!(err.class(), FailureClass::Permanent, "{message}");
    assert!(message.contains("302"), "{message}");
    assert!(message.contains(&location), "names the Location: {message}");
    assert!(message.contains("never follows redirects"), "{message}");
    assert_eq!(cached(&device), ["WO-1", "WO-2"], "the cache is unchanged");
    let integration = device.store.integration(CODE).unwrap();
    assert_eq!(integration.status, IntegrationStatus::Error);
    assert!(integration.last_error.unwrap().contains("redirects to"));

    // A 307 would resend the body (username, password hash, token, push key) as it is.
    provider.admin().clear_faults();
    for endpoint in [Endpoint::Validate, Endpoint::UploadPictures] {
        let location = format!("{}/{}", target.base_url(), endpoint.name());
        provider
            .admin()
            .set_fault(Fault::new(endpoint, FaultKind::redirect(307, &location)))
            .unwrap();
    }
    let err = device.engine.validate(CODE).unwrap_err();
    assert!(err.to_string().contains("307"), "{err}");
    device.check_in("WO-1", fieldsync_core::model::now()).unwrap();
    let report = device.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(report.delivered, 0);
    let entry = &device.store.pending_outbox_entries(CODE).unwrap()[0];
    assert!(
        entry
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("redirects to"),
        "{entry:?}"
    );
    assert_untouched(&target);
}

#[test]
fn item6_secrets_echoed_by_the_provider_are_redacted_before_they_are_stored_or_returned() {
    const TOKEN: &str = "tok-very-secret-42";
    let provider = emulator();
    provider.admin().create_user(USER, PASSWORD, TOKEN).unwrap();
    provider.admin().create_work_order(order("WO-1")).unwrap();
    let device = Device::new(&provider.base_url());
    device.secrets.set(CODE, SecretKind::Token, TOKEN).unwrap();
    device.full_import();
    let push_key = device.engine.push_key(CODE).unwrap();
    let sha = password_sha1(PASSWORD);
    // Upper-case hex: the comparison must not be case-sensitive.
    let echo = format!(
        "login failed for payload password={} token={TOKEN} pushkey={push_key}",
        sha.to_ascii_uppercase()
    );
    let body = serde_json::json!({ "error": echo }).to_string();
    let leaks = |text: &str| {
        let text = text.to_ascii_lowercase();
        text.contains(&sha) || text.contains(&TOKEN.to_ascii_lowercase()) || text.contains(&push_key)
    };
    let json = [("content-type", "application/json")];

    for status in [500, 401, 200] {
        provider.admin().clear_faults();
        provider
            .admin()
            .set_fault(Fault::new(
                Endpoint::GetWorkOrders,
                FaultKind::exact_body(status, &json, &body),
            ))
            .unwrap();
        let err = device.engine.refresh(CODE, ImportKind::Refresh).unwrap_err();
        let returned = err.to_string();
        assert!(
            returned.contains("[redacted]") && !leaks(&returned),
            "{status}: {returned}"
        );
        let stored = device.store.integration(CODE).unwrap().last_error.unwrap();
        assert!(
            stored.contains("[redacted]") && !leaks(&stored),
            "{status}: {stored}"
        );
    }

    provider.admin().clear_faults();
    provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::Validate,
            FaultKind::exact_body(401, &json, &body),
        ))
        .unwrap();
    let validation = device.engine.validate(CODE).unwrap();
    let said = validation.error.unwrap();
    assert!(said.contains("[redacted]") && !leaks(&said), "{said}");

    device.check_in("WO-1", fieldsync_core::model::now()).unwrap();
    for status in [500, 401] {
        provider.admin().clear_faults();
        provider
            .admin()
            .set_fault(Fault::new(
                Endpoint::UploadPictures,
                FaultKind::exact_body(status, &json, &body),
            ))
            .unwrap();
        let report = device.engine.push_outbox(CODE, true).unwrap();
        let stopped = report.stopped.unwrap_or_default();
        assert!(!leaks(&stopped), "{stopped}");
        let entry = &device.store.pending_outbox_entries(CODE).unwrap()[0];
        let stored = entry.last_error.clone().unwrap_or_default();
        assert!(
            stored.contains("[redacted]") && !leaks(&stored),
            "{status}: {stored}"
        );
    }
}

#[test]
fn item9_auto_import_survives_a_retry_after_of_u64_max() {
    let provider = provider_with_orders([order("WO-1")]);
    let device = Device::new(&provider.base_url());
    device
        .store
        .edit_integration(
            CODE,
            &IntegrationEdit {
                auto_import: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    provider
        .admin()
        .set_fault(Fault::new(
            Endpoint::GetWorkOrders,
            FaultKind::retry_after(503, "18446744073709551615"),
        ))
        .unwrap();
    let (events, received) = mpsc::channel();
    let handle = spawn_auto_import(device.engine.clone(), Schedule::default(), move |event| {
        drop(events.send(event))
    })
    .unwrap();
    let event = received
        .recv_timeout(Duration::from_secs(20))
        .expect("the loop reports the failure instead of dying");
    let AutoImportEvent::Failed { retry_in, .. } = event else {
        panic!("expected a failure: {event:?}");
    };
    let retry_in = retry_in.expect("a transient failure is retried");
    assert!(
        retry_in <= Duration::from_secs(24 * 60 * 60),
        "Retry-After is capped: {retry_in:?}"
    );
    // The loop is alive: its handle works, its channel is open, nothing more is attempted early.
    handle.wake();
    handle.set_online(true);
    assert_eq!(
        received.recv_timeout(Duration::from_millis(300)).unwrap_err(),
        mpsc::RecvTimeoutError::Timeout
    );
    let stopping = Instant::now();
    handle.stop();
    assert!(stopping.elapsed() < Duration::from_secs(5));
    assert_eq!(
        received.recv_timeout(Duration::from_secs(1)).unwrap_err(),
        mpsc::RecvTimeoutError::Disconnected,
        "the loop ended on request"
    );
}

/// Limits short enough for a test: at least 1 KiB in every second, 3 s per call.
fn impatient(engine: SyncEngine) -> SyncEngine {
    engine.with_timeouts(Timeouts {
        min_progress_bytes: 1024,
        progress_window: Duration::from_secs(1),
        download_cap: Duration::from_secs(3),
        response_cap: Duration::from_secs(3),
        ..Timeouts::default()
    })
}

fn impatient_device(provider: &RunningProvider) -> Device {
    Device::with_photos(NewIntegration::new(CODE, provider.base_url(), USER), impatient)
}

#[test]
fn item10_a_refresh_whose_body_trickles_fails_within_the_bound_with_status_error() {
    let provider = provider_with_orders([order("WO-1")]);
    let device = impatient_device(&provider);
    // Below the minimum rate: 10 bytes a second.
    provider
        .admin()
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::trickle(1, 100)).times(1))
        .unwrap();
    let started = Instant::now();
    let err = device.engine.refresh(CODE, ImportKind::FullImport).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err.class(), FailureClass::Transient(_)), "{err}");
    let integration = device.store.integration(CODE).unwrap();
    assert_eq!(integration.status, IntegrationStatus::Error);
    let why = integration.last_error.unwrap();
    assert!(why.contains("too slowly"), "{why}");
    assert!(cached(&device).is_empty());

    // Above the minimum rate but too long overall: 2,000 orders at 4 KB a second.
    provider.admin().bulk_generate(USER, 2000).unwrap();
    provider
        .admin()
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::trickle(400, 100)).times(1))
        .unwrap();
    let started = Instant::now();
    let err = device.engine.refresh(CODE, ImportKind::FullImport).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("did not complete within"), "{err}");
    assert_eq!(
        device.store.integration(CODE).unwrap().status,
        IntegrationStatus::Error
    );

    // Nothing left behind: the next refresh succeeds.
    device.full_import();
    assert_eq!(device.store.project_count().unwrap(), 2001);
}

#[test]
fn item10_an_upload_answer_that_trickles_fails_transient_and_is_retried_later() {
    let provider = provider_with_orders([order("WO-1")]);
    let device = impatient_device(&provider);
    device.full_import();
    device.check_in("WO-1", fieldsync_core::model::now()).unwrap();
    // Success, then spaces one at a time: the answer never ends in time.
    let body = format!("{{\"status\":true}}{}", " ".repeat(200));
    provider
        .admin()
        .set_fault(
            Fault::new(
                Endpoint::UploadPictures,
                FaultKind::Trickle {
                    bytes: 1,
                    every_ms: 100,
                    body: Some(FaultText::new(&body)),
                },
            )
            .times(1),
        )
        .unwrap();
    let started = Instant::now();
    let report = device.engine.push_outbox(CODE, true).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.delivered, 0);
    let entry = &device.store.pending_outbox_entries(CODE).unwrap()[0];
    assert_eq!(entry.state, EntryState::RetryWait, "{entry:?}");
    assert!(
        entry
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("too slowly"),
        "{entry:?}"
    );
    let report = device.engine.push_outbox(CODE, true).unwrap();
    assert_eq!(report.delivered, 1, "retried later: {report:?}");
    assert_eq!(provider.admin().received_checkins().unwrap().len(), 1);
}
