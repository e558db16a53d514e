"""Every typed error the bindings produce, matched by its type and its payload (never by its text alone).

Each case triggers the error cheaply against the emulator and checks the fields the app reads: the failed
check-in rules, the unmet requirements, the conflict's kind, the Retry-After, the integration whose
credentials were refused.

Where each case is provoked end to end (this file unless said):
- `Network` (503 + Retry-After), `Auth` (wrong password), `SecretUnreadable` (a host secret store that
  cannot decrypt the saved password), `Provider` (a redirect), `NotFound`, `Paused`,
  `Cancelled` (a cancelled handle; `test_exit.py`: a shut-down instance), `CheckInRefused`,
  `CompletionBlocked`, `InvalidInput` (a negative byte cap: `test_storage.py`), `Storage` (a database from a
  newer version; a host secret store failing: `test_integrations.py`), `SurveyIncomplete`
  (`test_fieldwork.py`);
- `Conflict` of every kind: `DUPLICATE_INTEGRATION`, `PROJECT_CLOSED`, `ALREADY_COMPLETED`,
  `OUTBOX_ITEM_BUSY`, `PHOTO_FILES_EVICTED` here; `PENDING_FIELD_WORK` (`test_errors.py`), `PHOTO_STATE`
  (`test_photos.py`), `PROJECT_EXISTS`, `NOT_LOCAL_PROJECT` (`test_fieldwork.py`).
Not provoked end to end, so tested through the smallest real path, a host callback whose error crosses the
boundary twice and comes back as the same type: `DeadlineReached` (a deadline stops only background runs,
which report it in their result, `stopped`, instead of failing) and `Internal` (a bug; a host callback
raising an unexpected exception is the one real way: `test_checkin.py`).
"""

import datetime
import sqlite3

import pytest

import fieldsync_ffi as fs
from conftest import CODE, NEAR, PASSWORD, TOKEN, field_orders, location_fix, new_integration, photo_fixtures, run, work_order

Error = fs.FieldSyncError
WO1, WO4 = f"{CODE}::WO-1", f"{CODE}::WO-4"
WRONG_PASSWORD = "wr0ng-Passw0rd"


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    return linked


VARIANTS = ("Network", "Auth", "SecretUnreadable", "CheckInRefused", "InvalidInput", "NotFound", "Conflict", "Provider",
            "CompletionBlocked", "SurveyIncomplete", "Storage", "Cancelled", "Paused", "DeadlineReached",
            "Internal")


def test_every_error_is_a_field_sync_error_subclass():
    for name in VARIANTS:
        assert issubclass(getattr(Error, name), Error), name
    generated = {name for name, value in vars(Error).items() if isinstance(value, type) and issubclass(value, Error)}
    assert generated == set(VARIANTS), "a new variant needs a typed test (and its line in the docstring)"
    assert {kind.name for kind in fs.ConflictKind} == {
        "DUPLICATE_INTEGRATION", "PENDING_FIELD_WORK", "PROJECT_CLOSED", "OUTBOX_ITEM_BUSY", "PHOTO_STATE",
        "PHOTO_FILES_EVICTED", "ALREADY_COMPLETED", "PROJECT_EXISTS", "NOT_LOCAL_PROJECT",
    }, "a new conflict kind needs a typed test"


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


def test_a_password_the_store_cannot_decrypt_is_secret_unreadable_until_the_user_signs_in_again(
    emulator, fieldsync, secrets
):
    emulator.create_user()
    emulator.create_orders(work_order("WO-1"))
    fieldsync.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
    readable = secrets.get

    def undecryptable(key):
        # What the Keystore/Keychain store does when the key that sealed a value is gone (a restored backup).
        if key == f"{CODE}/password_sha1":
            raise Error.SecretUnreadable("the key that encrypted it is gone", None)
        return readable(key)

    secrets.get = undecryptable
    with pytest.raises(Error.SecretUnreadable) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    assert caught.value.integration == CODE
    assert "sign in again" in caught.value.reason and "no password" not in caught.value.reason
    integration = fieldsync.integration(CODE)
    assert integration.status == fs.IntegrationStatus.ERROR
    assert "cannot be read" in (integration.last_error or "")
    assert fieldsync.count_projects(fs.ProjectQuery()) == 0

    # A background run does not retry it on a schedule: it needs the user.
    deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=10)
    result = run(fieldsync.run_background_sync(deadline, fs.BackgroundReason.SCHEDULED, 0))
    assert result.auth_failed, result

    # Signing in again replaces the value; the next refresh works.
    secrets.get = readable
    fieldsync.edit_integration(CODE, fs.IntegrationEdit(), PASSWORD, None)
    assert run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT)).created == 1
    assert fieldsync.integration(CODE).status == fs.IntegrationStatus.IDLE


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


def test_a_redirect_is_a_provider_error(linked, fieldsync):
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "redirect", "status": 302, "location": "https://elsewhere.example/"})

    with pytest.raises(Error.Provider) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    assert "elsewhere.example" in caught.value.reason
    assert fieldsync.integration(CODE).status == fs.IntegrationStatus.ERROR


def test_retrying_a_delivered_item_is_an_outbox_item_busy_conflict(site, fieldsync):
    check_in = fieldsync.check_in_with_fix(WO1, location_fix(NEAR), None, None)
    assert run(fieldsync.push_outbox(CODE)).delivered == 1

    for act in (fieldsync.retry_outbox_entry, fieldsync.discard_outbox_entry):
        with pytest.raises(Error.Conflict) as caught:
            act(check_in.uuid)
        assert caught.value.kind == fs.ConflictKind.OUTBOX_ITEM_BUSY


def test_publishing_again_a_photo_whose_files_went_is_a_photo_files_evicted_conflict(site, fieldsync):
    gps = photo_fixtures() / "gps"
    photo = run(fieldsync.add_photo(WO1, "Grass Cut", fs.EvidenceType.BEFORE, str(gps / "DSCN0010.jpg"), None))
    fieldsync.approve_photo(photo.uuid)
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    everything = fs.RetentionPolicy(delete_decided_renditions=True, keep_originals_for=datetime.timedelta(0))
    assert run(fieldsync.apply_retention(everything)).originals_deleted == 1

    with pytest.raises(Error.Conflict) as caught:
        fieldsync.approve_photo(photo.uuid)
    assert caught.value.kind == fs.ConflictKind.PHOTO_FILES_EVICTED


def test_a_database_from_a_newer_version_is_a_storage_error_and_stays_untouched(tmp_path, secrets):
    database = tmp_path / "newer.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA user_version = 9999")
    before = database.read_bytes()
    config = fs.FieldSyncConfig(database_path=str(database), photo_directory=str(tmp_path / "photos"), device_id="d")

    with pytest.raises(Error.Storage) as caught:
        fs.FieldSync.open(config, secrets, None)
    assert "9999" in caught.value.reason
    assert database.read_bytes() == before


@pytest.mark.parametrize(
    "raised",
    [Error.DeadlineReached("the host's own deadline passed"), Error.Internal("a bug in the host")],
    ids=["deadline", "internal"],
)
def test_errors_that_only_a_host_callback_can_raise_come_back_as_the_same_type(site, fieldsync, raised):
    class Failing(fs.LocationSource):
        def next_fix(self, timeout_ms):
            raise raised

    with pytest.raises(type(raised)) as caught:
        run(fieldsync.check_in(WO1, Failing(), 1_000, 10.0, None, None))
    assert caught.value.reason == raised.reason
    assert fieldsync.outbox(CODE) == [], "nothing was written"
