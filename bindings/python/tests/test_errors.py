"""Failures reach Python as typed `FieldSyncError` subclasses, and never carry secrets."""

import asyncio
import hashlib

import pytest

import fieldsync_ffi as fs
from conftest import CODE, PASSWORD, TOKEN, new_integration, run, work_order

WRONG_PASSWORD = "wr0ng-Passw0rd"


def secrets_of(fieldsync, *passwords):
    """Every value that must never show: passwords, their SHA-1 (both cases), the token, the push key."""
    values = [TOKEN, fieldsync.push_key(CODE)]
    for password in passwords:
        digest = hashlib.sha1(password.encode()).hexdigest()
        values += [password, digest, digest.upper()]
    return values


def assert_no_secret(text, secrets):
    for secret in secrets:
        assert secret not in text, f"a secret leaked into {text!r}"


@pytest.mark.parametrize(
    "code",
    ["", "bad code!", "x" * 17, "ACME::1"],
    ids=["empty", "space", "too long", "separator"],
)
def test_a_bad_code_is_invalid_input(emulator, fieldsync, code):
    with pytest.raises(fs.FieldSyncError.InvalidInput) as caught:
        fieldsync.create_integration(new_integration(emulator.base_url, code=code), PASSWORD, TOKEN)

    assert isinstance(caught.value, fs.FieldSyncError)
    assert "code" in caught.value.reason
    assert fieldsync.integrations() == []


@pytest.mark.parametrize(
    "url",
    ["not a url", "http://provider.example.com/api/v2", "ftp://127.0.0.1/api/v2"],
    ids=["not a url", "plain http off loopback", "ftp"],
)
def test_a_bad_url_is_invalid_input(fieldsync, url):
    with pytest.raises(fs.FieldSyncError.InvalidInput) as caught:
        fieldsync.create_integration(new_integration(url), PASSWORD, TOKEN)

    assert "url" in caught.value.reason
    assert fieldsync.integrations() == []


def test_other_invalid_input(emulator, fieldsync):
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fieldsync.create_integration(new_integration(emulator.base_url), "", TOKEN)
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fieldsync.project("no-separator")
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fs.FieldSync.open(
            fs.FieldSyncConfig(database_path="/tmp/unused.db", photo_directory="/tmp/unused", device_id=" "),
            fs.SecretStore(),
            None,
        )


def test_unknown_project_and_integration_are_not_found(linked, fieldsync):
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.project(f"{CODE}::WO-404")
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.edit_project(f"{CODE}::WO-404", fs.ProjectEdit(status="Complete"))
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.integration("NOPE")
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.outbox("NOPE")
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.delete_integration("NOPE", False)
    with pytest.raises(fs.FieldSyncError.NotFound):
        run(fieldsync.refresh("NOPE", fs.RefreshMode.CHANGES))
    with pytest.raises(fs.FieldSyncError.NotFound):
        run(fieldsync.validate("NOPE"))


def test_a_duplicate_code_is_a_conflict(linked, fieldsync, secrets):
    stored = dict(secrets.values)

    with pytest.raises(fs.FieldSyncError.Conflict) as caught:
        fieldsync.create_integration(new_integration(linked.base_url), "another-password", "another-token")
    assert caught.value.kind == fs.ConflictKind.DUPLICATE_INTEGRATION

    assert secrets.values == stored, "the existing integration's credentials are untouched"


def test_deleting_an_integration_with_pending_work_is_a_conflict(linked, fieldsync, secrets):
    linked.create_orders(work_order("WO-1001"))
    run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    fieldsync.edit_project(f"{CODE}::WO-1001", fs.ProjectEdit(status="Complete"))

    with pytest.raises(fs.FieldSyncError.Conflict) as caught:
        fieldsync.delete_integration(CODE, False)
    assert caught.value.kind == fs.ConflictKind.PENDING_FIELD_WORK
    assert fieldsync.integration(CODE).code == CODE

    # Forced, it hands the pending work back as JSON first.
    exported = fieldsync.delete_integration(CODE, True)
    assert exported is not None and f"{CODE}::WO-1001" in exported
    assert fieldsync.integrations() == []
    assert secrets.values == {}


def test_editing_a_closed_project_is_a_conflict(linked, fieldsync):
    linked.create_orders(work_order("WO-1001"))
    run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    fieldsync.close_project(f"{CODE}::WO-1001")

    with pytest.raises(fs.FieldSyncError.Conflict) as caught:
        fieldsync.edit_project(f"{CODE}::WO-1001", fs.ProjectEdit(status="Complete"))
    assert caught.value.kind == fs.ConflictKind.PROJECT_CLOSED


def test_a_503_is_a_network_error_with_retry_after(linked, fieldsync):
    linked.create_orders(work_order("WO-1001"))
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "http503", "retryAfter": 42, "times": 1})

    with pytest.raises(fs.FieldSyncError.Network) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))

    assert caught.value.retry_after_secs == 42
    failed = fieldsync.integration(CODE)
    assert failed.status == fs.IntegrationStatus.ERROR and "503" in failed.last_error
    assert fieldsync.projects(fs.ProjectQuery()) == []  # the cache is untouched
    # The fault was for one request: the next refresh recovers and clears the error.
    assert run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT)).created == 1
    assert fieldsync.integration(CODE).status == fs.IntegrationStatus.IDLE
    assert fieldsync.integration(CODE).last_error is None


def test_a_dropped_connection_is_a_network_error_without_retry_after(linked, fieldsync):
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "dropBefore", "times": 1})

    with pytest.raises(fs.FieldSyncError.Network) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))

    assert caught.value.retry_after_secs is None


def test_a_refresh_with_a_wrong_password_is_an_auth_error(emulator, fieldsync):
    emulator.create_user()
    fieldsync.create_integration(new_integration(emulator.base_url), WRONG_PASSWORD, TOKEN)

    with pytest.raises(fs.FieldSyncError.Auth) as caught:
        run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))

    assert "401" in caught.value.reason
    assert fieldsync.integration(CODE).status == fs.IntegrationStatus.ERROR


def refresh_three_at_once(fieldsync):
    async def together():
        return await asyncio.gather(*(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES) for _ in range(3)), return_exceptions=True)

    return run(together())


def test_every_concurrent_refresh_refused_by_the_provider_is_an_auth_error(emulator, fieldsync):
    """Refreshes that arrive while one runs share the next run; each caller must still get the typed error
    of that run (Auth: ask the user to sign in again), not a generic one."""
    emulator.create_user()
    fieldsync.create_integration(new_integration(emulator.base_url), WRONG_PASSWORD, TOKEN)
    emulator.add_fault({"endpoint": "getWorkOrders", "kind": "latency", "ms": 300})

    outcomes = refresh_three_at_once(fieldsync)

    assert [type(outcome).__name__ for outcome in outcomes] == ["Auth"] * 3, outcomes


def test_every_concurrent_refresh_told_to_wait_gets_retry_after(linked, fieldsync):
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "latency", "ms": 300})
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "http503", "retryAfter": 42})

    outcomes = refresh_three_at_once(fieldsync)

    assert all(isinstance(outcome, fs.FieldSyncError.Network) for outcome in outcomes), outcomes
    assert [outcome.retry_after_secs for outcome in outcomes] == [42] * 3, outcomes


def test_errors_and_statuses_never_hold_secrets(emulator, fieldsync, listener):
    emulator.create_user()
    fieldsync.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
    fieldsync.create_integration(new_integration(emulator.base_url, code="BAD"), WRONG_PASSWORD, TOKEN)
    secrets = secrets_of(fieldsync, PASSWORD, WRONG_PASSWORD)
    texts = []

    texts.append(str(run(fieldsync.validate("BAD")).error))
    for fault in ({"kind": "http503"}, {"kind": "http401"}, {"kind": "truncate"}, {"kind": "dropAfter"}):
        emulator.add_fault({"endpoint": "getWorkOrders", "times": 1, **fault})
        with pytest.raises(fs.FieldSyncError) as caught:
            run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
        texts += [str(caught.value), repr(caught.value), caught.value.reason]
    with pytest.raises(fs.FieldSyncError.Auth) as caught:
        run(fieldsync.refresh("BAD", fs.RefreshMode.CHANGES))
    texts += [str(caught.value), repr(caught.value)]
    texts += [str(integration.last_error) for integration in fieldsync.integrations()]
    texts += [str(event) for event in listener.snapshot()]

    assert len(texts) > 10
    for text in texts:
        assert_no_secret(text, secrets)
