"""Linking a provider login: what reaches the host's secret store, and validation against the emulator."""

import hashlib
import inspect

import pytest

import fieldsync_ffi as fs
from conftest import CODE, PASSWORD, TOKEN, USER, new_integration, run

PASSWORD_SHA1 = hashlib.sha1(PASSWORD.encode()).hexdigest()


def test_linking_keeps_only_the_sha1_of_the_password_in_the_secret_store(emulator, fieldsync, secrets, tmp_path):
    created = fieldsync.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)

    assert created.code == CODE
    assert created.username == USER
    assert created.integration_type == "pruvan_share"
    assert created.mode == fs.IntegrationMode.EXTERNAL
    assert created.status == fs.IntegrationStatus.IDLE
    assert created.validated_at is None and created.last_refreshed is None
    # What the wire protocol sends is the 40-hex SHA-1; that is all that is kept of the password.
    assert secrets.values == {f"{CODE}/password_sha1": PASSWORD_SHA1, f"{CODE}/token": TOKEN}
    assert all(PASSWORD not in value for _, value in secrets.written)
    # Neither the password, its hash nor the token is written to the cache database (or its WAL).
    cache_bytes = b"".join(
        path.read_bytes() for path in (tmp_path / "cache").rglob("fieldsync.db*") if path.is_file()
    )
    assert cache_bytes, "the cache database should exist"
    for secret in (PASSWORD, PASSWORD_SHA1, PASSWORD_SHA1.upper(), TOKEN):
        assert secret.encode() not in cache_bytes


def test_editing_the_password_replaces_its_hash(emulator, fieldsync, secrets):
    fieldsync.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)

    edited = fieldsync.edit_integration(CODE, fs.IntegrationEdit(name="Acme East"), "n3w-password", None)

    assert edited.name == "Acme East"
    assert secrets.values[f"{CODE}/password_sha1"] == hashlib.sha1(b"n3w-password").hexdigest()
    assert secrets.values[f"{CODE}/token"] == TOKEN


def test_a_failing_secret_store_leaves_no_integration_behind(emulator, fieldsync, secrets):
    def refuse(key, value):
        raise fs.FieldSyncError.Storage("the keychain is locked")

    secrets.set = refuse

    with pytest.raises(fs.FieldSyncError.Storage) as caught:
        fieldsync.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)

    assert "keychain is locked" in caught.value.reason
    assert fieldsync.integrations() == []


def test_validate_accepts_the_right_credentials_and_registers_the_push_key(linked, fieldsync, secrets):
    pending = fieldsync.validate(CODE)
    assert inspect.isawaitable(pending)  # async methods return awaitables
    validation = run(pending)

    assert validation.validated is True
    assert validation.error is None
    assert fieldsync.integration(CODE).validated_at is not None
    push_key = secrets.values[f"{CODE}/push_key"]
    assert fieldsync.push_key(CODE) == push_key
    assert linked.admin("GET", f"/users/{USER}")["pushKey"] == push_key


@pytest.mark.parametrize(
    ("password", "token"),
    [("wrong-password", TOKEN), (PASSWORD, "wrong-token")],
    ids=["wrong password", "wrong token"],
)
def test_validate_refuses_wrong_credentials(emulator, fieldsync, password, token):
    emulator.create_user()
    fieldsync.create_integration(new_integration(emulator.base_url), password, token)

    validation = run(fieldsync.validate(CODE))

    assert validation.validated is False
    assert validation.error  # the provider's reason
    assert fieldsync.integration(CODE).validated_at is None


def test_integrations_lists_by_code(emulator, fieldsync):
    for code in ("ZED", "ACME", "MID"):
        fieldsync.create_integration(new_integration(emulator.base_url, code=code), PASSWORD, TOKEN)

    assert [integration.code for integration in fieldsync.integrations()] == ["ACME", "MID", "ZED"]
    assert fieldsync.integration("MID").base_url == emulator.base_url


def test_delete_removes_the_integration_and_its_secrets(linked, fieldsync, secrets):
    run(fieldsync.validate(CODE))  # creates the push key too
    assert secrets.values

    assert fieldsync.delete_integration(CODE, False) is None

    assert fieldsync.integrations() == []
    assert secrets.values == {}
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.integration(CODE)
