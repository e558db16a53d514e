"""The upload policy and the upload log through the bindings, against the emulator: the host reports the
network, the vendor sets Wi-Fi only and the pause switch (kept), Wi-Fi only holds photos on a metered network
but sends check-ins, unmetered sends the photos exactly once, no network sends nothing, each undelivered item
carries a typed reason, "retry all failed" and "clean up delivered" (never an undelivered item)."""

import pytest

import fieldsync_ffi as fs
from conftest import CODE, location_fix, field_orders, photo_fixtures, run

WO1 = f"{CODE}::WO-1"
PHOTO = photo_fixtures() / "gps" / "DSCN0010.jpg"


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    assert fieldsync.edit_integration(CODE, fs.IntegrationEdit(auto_relay=True), None, None).auto_relay
    return linked


def add_photo(fieldsync):
    return run(fieldsync.add_photo(WO1, "Grass Cut", fs.EvidenceType.BEFORE, str(PHOTO), location_fix())).uuid


def reasons(fieldsync):
    return {entry.id: entry.reason for entry in fieldsync.upload_log()}


def test_the_policy_is_kept_and_defaults_to_off(site, fieldsync):
    assert fieldsync.upload_policy() == fs.UploadPolicy(photos_on_wifi_only=False, paused=False)
    fieldsync.set_upload_policy(fs.UploadPolicy(photos_on_wifi_only=True, paused=True))
    assert fieldsync.upload_policy() == fs.UploadPolicy(photos_on_wifi_only=True, paused=True)


def test_wifi_only_holds_photos_on_metered_but_sends_check_ins_and_unmetered_sends_them_once(site, fieldsync):
    fieldsync.set_upload_policy(fs.UploadPolicy(photos_on_wifi_only=True, paused=False))
    fieldsync.set_network(fs.NetworkState.METERED)
    photo = add_photo(fieldsync)
    check_in = fieldsync.check_in_with_fix(WO1, location_fix(), None, None).uuid

    log = reasons(fieldsync)
    assert log[photo].is_waiting_for_wifi(), log[photo]
    assert log[check_in].is_queued(), log[check_in]
    [entry] = [entry for entry in fieldsync.upload_log() if entry.id == photo]
    assert (entry.integration, entry.project, entry.kind, entry.state) == (CODE, WO1, fs.OutboxKind.PHOTO, fs.OutboxState.QUEUED)

    metered = run(fieldsync.push_outbox(CODE))
    assert (metered.delivered, metered.error) == (1, None)
    assert [item["uuid"] for item in site.items(file_type="checkin")] == [check_in]
    assert site.items(file_type="picture") == [], "the photo waits for Wi-Fi"

    fieldsync.set_network(fs.NetworkState.UNMETERED)
    assert reasons(fieldsync)[photo].is_queued()
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    assert run(fieldsync.push_outbox(CODE)).delivered == 0
    assert [(item["uuid"], item["deliveries"]) for item in site.items(file_type="picture")] == [(photo, 1)]
    assert fieldsync.upload_log() == []


def test_no_network_sends_nothing(site, fieldsync):
    photo = add_photo(fieldsync)
    check_in = fieldsync.check_in_with_fix(WO1, location_fix(), None, None).uuid
    fieldsync.set_network(fs.NetworkState.NONE)

    outcome = run(fieldsync.push_outbox(CODE))

    assert outcome.delivered == 0
    assert isinstance(outcome.error, fs.FieldSyncError.Network), repr(outcome.error)
    assert "no network" in outcome.error.reason, outcome.error.reason
    assert site.items() == []
    log = reasons(fieldsync)
    assert log[photo].is_waiting_for_network() and log[check_in].is_waiting_for_network()
    fieldsync.set_network(fs.NetworkState.METERED)
    assert run(fieldsync.push_outbox(CODE)).delivered == 2, "any network sends both without Wi-Fi only"


def test_pause_holds_photos_but_not_check_ins(site, fieldsync):
    fieldsync.set_upload_policy(fs.UploadPolicy(photos_on_wifi_only=False, paused=True))
    photo = add_photo(fieldsync)
    fieldsync.check_in_with_fix(WO1, location_fix(), None, None)

    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    assert site.items(file_type="picture") == []
    assert reasons(fieldsync)[photo].is_paused()

    fieldsync.set_upload_policy(fs.UploadPolicy(photos_on_wifi_only=False, paused=False))
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    assert [item["uuid"] for item in site.items(file_type="picture")] == [photo]


def test_failed_items_back_off_and_are_retried_all_at_once_and_delivered_ones_are_cleaned_up(site, fieldsync):
    check_in = fieldsync.check_in_with_fix(WO1, location_fix(), None, None).uuid
    site.add_fault({"endpoint": "uploadPictures", "kind": "http500", "times": 1})

    assert run(fieldsync.push_outbox(CODE)).delivered == 0
    reason = reasons(fieldsync)[check_in]
    assert reason.is_backoff() and reason.until > 0, reason

    assert fieldsync.retry_all_failed() == 1
    assert reasons(fieldsync)[check_in].is_queued()
    assert fieldsync.retry_all_failed() == 0

    fieldsync.set_upload_policy(fs.UploadPolicy(photos_on_wifi_only=False, paused=True))
    photo = add_photo(fieldsync)
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    assert fieldsync.clean_up_delivered() == 1, "the delivered check-in"
    assert fieldsync.clean_up_delivered() == 0
    [waiting] = fieldsync.upload_log()
    assert waiting.id == photo and waiting.reason.is_paused(), "an undelivered item is never cleaned up"
