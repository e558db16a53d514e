"""Every typed error the bindings produce, matched by its type and its payload (never by its text alone).

Each case triggers the error cheaply against the emulator and checks the fields the app reads: the failed
check-in rules, the unmet requirements, the conflict's kind, the Retry-After, the integration whose
credentials were refused.
"""

import pytest

import fieldsync_ffi as fs
from conftest import CODE, NEAR, PASSWORD, TOKEN, field_orders, location_fix, new_integration, run, work_order

Error = fs.FieldSyncError
WO1, WO4 = f"{CODE}::WO-1", f"{CODE}::WO-4"
WRONG_PASSWORD = "wr0ng-Passw0rd"


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    return linked


def test_every_error_is_a_field_sync_error_subclass():
    for name in ("Network", "Auth", "CheckInRefused", "InvalidInput", "NotFound", "Conflict", "Provider",
                 "CompletionBlocked", "SurveyIncomplete", "Storage", "Cancelled", "Paused", "DeadlineReached",
                 "Internal"):
        assert issubclass(getattr(Error, name), Error), name


def test_a_refused_check_in_names_its_project_and_every_failed_rule(site, fieldsync):
    rules = fs.CheckInRules(geofence_radius_m=5.0, max_accuracy_m=3.0, refuse_uncertified=True)
    fieldsync.edit_integration(CODE, fs.IntegrationEdit(check_in=rules), None, None)

    with pytest.raises(Error.CheckInRefused) as caught:
        fieldsync.check_in_with_fix(WO1, location_fix(NEAR, accuracy_m=6.0), None, None)

    refused = caught.value
    assert refused.project == WO1
    assert refused.failed_rules == [
        "11 m from the property, outside the 5 m geofence",
        "accuracy 6 m is worse than the 3 m limit",
    ], refused.failed_rules
    assert all(rule in refused.reason for rule in refused.failed_rules)
    assert not isinstance(refused, Error.InvalidInput), "no longer reported as invalid input"
    assert fieldsync.outbox(CODE) == []


def test_a_blocked_completion_lists_the_unmet_requirements(site, fieldsync):
    site.set_options("WO-1", {"check_in_required": True, "photos_required": {"after": 1}})
    run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))

    with pytest.raises(Error.CompletionBlocked) as caught:
        fieldsync.complete_project(WO1, None)

    unmet = caught.value.unmet
    assert fs.UnmetRequirement(task=None, kind=fs.RequirementKind.CHECK_IN, evidence=None, have=0, need=1) in unmet
    photos = [u for u in unmet if u.kind == fs.RequirementKind.PHOTOS]
    assert photos and all(u.evidence == fs.EvidenceType.AFTER and (u.have, u.need) == (0, 1) for u in photos), photos
    assert unmet[0].kind == fs.RequirementKind.CHECK_IN, "the check-in first"


def test_a_duplicate_integration_is_a_conflict_of_that_kind(linked, fieldsync):
    with pytest.raises(Error.Conflict) as caught:
        fieldsync.create_integration(new_integration(linked.base_url), PASSWORD, TOKEN)
    assert caught.value.kind == fs.ConflictKind.DUPLICATE_INTEGRATION
    assert CODE in caught.value.reason


def test_editing_a_closed_project_is_a_project_closed_conflict(site, fieldsync):
    fieldsync.close_project(WO4)
    with pytest.raises(Error.Conflict) as caught:
        fieldsync.edit_project(WO4, fs.ProjectEdit(status="Complete"))
    assert caught.value.kind == fs.ConflictKind.PROJECT_CLOSED


def test_completing_twice_is_an_already_completed_conflict(site, fieldsync):
    fieldsync.complete_project(WO1, None)
    with pytest.raises(Error.Conflict) as caught:
        fieldsync.complete_project(WO1, None)
    assert caught.value.kind == fs.ConflictKind.ALREADY_COMPLETED


def test_a_503_with_retry_after_is_a_network_error_carrying_the_delay(linked, fieldsync):
    linked.create_orders(work_order("WO-1001"))
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "http503", "retryAfter": 7})

    with pytest.raises(Error.Network) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))

    assert caught.value.retry_after_secs == 7
    assert "503" in caught.value.reason

    # The same failure inside a sync is the outcome's typed error, not a string.
    [outcome] = run(fieldsync.sync(0))
    assert isinstance(outcome.error, Error.Network), repr(outcome.error)
    assert outcome.error.retry_after_secs == 7
    assert outcome.report is None


def test_a_wrong_password_is_an_auth_error_naming_the_integration(emulator, fieldsync):
    emulator.create_user()
    fieldsync.create_integration(new_integration(emulator.base_url), WRONG_PASSWORD, TOKEN)

    with pytest.raises(Error.Auth) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    assert caught.value.integration == CODE
    assert "401" in caught.value.reason

    [outcome] = run(fieldsync.sync(0))
    assert isinstance(outcome.error, Error.Auth), repr(outcome.error)
    assert outcome.error.integration == CODE


def test_an_unknown_integration_or_project_is_not_found(linked, fieldsync):
    with pytest.raises(Error.NotFound) as caught:
        run(fieldsync.refresh("NOPE", fs.RefreshMode.CHANGES))
    assert "NOPE" in caught.value.reason
    with pytest.raises(Error.NotFound):
        fieldsync.project(f"{CODE}::WO-404")


def test_calls_while_paused_are_refused_with_paused(site, fieldsync):
    fieldsync.pause()
    try:
        assert fieldsync.is_paused()
        with pytest.raises(Error.Paused):
            fieldsync.projects(fs.ProjectQuery())
        with pytest.raises(Error.Paused):
            run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    finally:
        fieldsync.resume()
    assert len(fieldsync.projects(fs.ProjectQuery())) == 4


def test_a_call_given_a_cancelled_handle_fails_with_cancelled(site, fieldsync):
    handle = fs.Cancellation()
    handle.cancel()

    with pytest.raises(Error.Cancelled):
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT, handle))
    with pytest.raises(Error.Cancelled):
        run(fieldsync.sync(0, handle))

    assert handle.is_cancelled()
    assert fieldsync.integration(CODE).status != fs.IntegrationStatus.RUNNING
    # A fresh handle works.
    assert run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES, fs.Cancellation())) is not None


def test_a_host_callback_can_raise_a_typed_error_that_comes_back_as_is(site, fieldsync):
    class DeniedLocation(fs.LocationSource):
        def next_fix(self, timeout_ms):
            raise Error.InvalidInput("location permission denied")

    with pytest.raises(Error.InvalidInput) as caught:
        run(fieldsync.check_in(WO1, DeniedLocation(), 1_000, 10.0, None, None))
    assert caught.value.reason == "location permission denied"
