"""Storage that cleans itself, through the bindings, with real JPEGs relayed to the emulator: the storage
report's bytes by photo state, renditions of decided photos deleted, originals within a byte cap and an
age, and never a file of a photo not yet relayed or decided by QA."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import fieldsync_ffi as fs
from conftest import CODE, PASSWORD, TOKEN, field_orders, new_integration, photo_fixtures, run

WO1 = f"{CODE}::WO-1"
GPS = photo_fixtures() / "gps"
State, Kind, Reason = fs.PhotoState, fs.PhotoFileKind, fs.EvictionReason


@pytest.fixture
def photos(linked, fieldsync):
    """Four photos of WO-1: two relayed, one rejected by QA, one still waiting for QA."""
    field_orders(linked, fieldsync)

    def add(name):
        return run(fieldsync.add_photo(WO1, "Grass Cut", fs.EvidenceType.BEFORE, str(GPS / name), None))

    relayed = [add("DSCN0010.jpg"), add("DSCN0012.jpg")]
    rejected = add("DSCN0021.jpg")
    waiting = add("DSCN0025.jpg")
    for photo in relayed:
        fieldsync.approve_photo(photo.uuid)
    fieldsync.reject_photo(rejected.uuid, "blurry")
    outcome = run(fieldsync.push_outbox(CODE))
    assert outcome.delivered == 2 and outcome.error is None, outcome
    states = {p.uuid: p.state for p in fieldsync.photos(WO1)}
    assert [states[p.uuid] for p in relayed] == [State.RELAYED, State.RELAYED]
    assert (states[rejected.uuid], states[waiting.uuid]) == (State.REJECTED, State.PENDING_QA)
    return {"relayed": [p.uuid for p in relayed], "rejected": rejected.uuid, "waiting": waiting.uuid}


def photo_files(tmp_path: Path) -> dict[str, int]:
    """Every file of the photo store (the fixture's `photos` folder) and its size."""
    folder = tmp_path / "cache" / "photos"
    return {str(path): path.stat().st_size for path in folder.rglob("*") if path.is_file()}


def usage_of(report: fs.StorageReport, state: fs.PhotoState) -> fs.PhotoStateUsage:
    [usage] = [usage for usage in report.by_state if usage.state == state]
    return usage


def test_the_storage_report_gives_the_bytes_by_photo_state(photos, fieldsync, tmp_path):
    report = run(fieldsync.storage_report())

    assert report.database_bytes > 0 and report.wal_bytes >= 0 and report.shm_bytes >= 0
    assert report.auto_vacuum == fs.AutoVacuum.INCREMENTAL
    on_disk = photo_files(tmp_path)
    assert report.photo_bytes == sum(on_disk.values()), "every photo file, measured on disk"
    assert report.photo_bytes == report.originals.bytes + report.renditions.bytes + report.thumbnails.bytes
    assert (report.originals.files, report.renditions.files, report.thumbnails.files) == (4, 4, 4)
    assert [usage.state for usage in report.by_state] == [State.PENDING_QA, State.RELAYED, State.REJECTED]
    relayed = usage_of(report, State.RELAYED)
    assert relayed.photos == 2 and relayed.originals.files == 2 and relayed.renditions.files == 2
    # The states share no file here: their bytes add up to the totals.
    for kind in ("originals", "renditions", "thumbnails"):
        assert sum(getattr(usage, kind).bytes for usage in report.by_state) == getattr(report, kind).bytes, kind
    assert (report.originals_evicted, report.renditions_evicted) == (0, 0)


def test_retention_deletes_decided_renditions_then_originals_within_a_cap_never_an_undecided_photo(
    photos, fieldsync, tmp_path
):
    before = run(fieldsync.storage_report())
    waiting_before = usage_of(before, State.PENDING_QA)

    # 1. Renditions of relayed and rejected photos go; nothing else.
    renditions = run(fieldsync.apply_retention(fs.RetentionPolicy(delete_decided_renditions=True)))
    assert (renditions.renditions_deleted, renditions.originals_deleted) == (3, 0)
    assert {e.reason for e in renditions.evictions} == {Reason.DECIDED_RENDITION}
    assert {e.kind for e in renditions.evictions} == {Kind.RENDITION}
    decided = set(photos["relayed"]) | {photos["rejected"]}
    assert {uuid for e in renditions.evictions for uuid in e.photos} == decided
    assert renditions.bytes_freed == sum(e.bytes for e in renditions.evictions)
    assert renditions.photo_bytes == before.photo_bytes - renditions.bytes_freed == sum(photo_files(tmp_path).values())
    after = run(fieldsync.storage_report())
    assert usage_of(after, State.RELAYED).renditions.files == 0
    assert usage_of(after, State.PENDING_QA) == waiting_before
    assert after.renditions_evicted == 3

    # 2. A cap one byte under what is left: the oldest decided original goes, and the cap is met.
    cap = renditions.photo_bytes - 1
    capped = run(fieldsync.apply_retention(fs.RetentionPolicy(max_photo_bytes=cap)))
    [eviction] = capped.evictions
    assert (eviction.kind, eviction.reason) == (Kind.ORIGINAL, Reason.OVER_CAP)
    assert set(eviction.photos) <= decided
    assert capped.cap_met and capped.photo_bytes <= cap

    # 3. Originals older than no time at all: the other decided originals go, by age.
    expired = run(fieldsync.apply_retention(fs.RetentionPolicy(keep_originals_for=datetime.timedelta(0))))
    assert expired.originals_deleted == 2 and {e.reason for e in expired.evictions} == {Reason.EXPIRED}

    # 4. A cap of one byte cannot be met: only the undecided photo is left, untouched.
    squeezed = run(fieldsync.apply_retention(fs.RetentionPolicy(delete_decided_renditions=True, max_photo_bytes=1)))
    assert squeezed.evictions == [] and not squeezed.cap_met
    final = run(fieldsync.storage_report())
    assert usage_of(final, State.PENDING_QA) == waiting_before, "never a file of a photo QA has not decided"
    assert final.originals.files == 1 and final.renditions.files == 1
    assert usage_of(final, State.RELAYED).originals.files == 0 and usage_of(final, State.REJECTED).originals.files == 0
    # The photo waiting for QA can still be approved and relayed.
    fieldsync.approve_photo(photos["waiting"])
    assert run(fieldsync.push_outbox(CODE)).delivered == 1


def test_a_configured_policy_runs_after_each_delivery(emulator, tmp_path, secrets, listener):
    emulator.create_user()
    config = fs.FieldSyncConfig(
        database_path=str(tmp_path / "own" / "fieldsync.db"),
        photo_directory=str(tmp_path / "own" / "photos"),
        device_id="retention",
        retention=fs.RetentionPolicy(delete_decided_renditions=True, keep_originals_for=datetime.timedelta(days=7)),
    )
    (tmp_path / "own").mkdir()
    client = fs.FieldSync.open(config, secrets, listener)
    try:
        assert client.retention_policy() == config.retention
        client.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
        field_orders(emulator, client)
        photo = run(client.add_photo(WO1, "Grass Cut", fs.EvidenceType.AFTER, str(GPS / "DSCN0010.jpg"), None))
        client.approve_photo(photo.uuid)
        assert run(client.push_outbox(CODE)).delivered == 1

        report = run(client.storage_report())
        relayed = usage_of(report, State.RELAYED)
        assert (relayed.originals.files, relayed.renditions.files) == (1, 0), "the rendition went after the relay"
    finally:
        client.shutdown()


def test_the_default_policy_and_typed_refusals(fieldsync):
    default = fs.default_retention_policy()
    assert default == fieldsync.retention_policy()
    assert default.delete_decided_renditions is False, "renditions stay so that QA can publish again at once"
    assert default.keep_originals_for == datetime.timedelta(days=30)
    assert default.max_photo_bytes == 2 * 1024**3
    with pytest.raises(fs.FieldSyncError.InvalidInput) as caught:
        run(fieldsync.apply_retention(fs.RetentionPolicy(max_photo_bytes=-1)))
    assert "max_photo_bytes" in caught.value.reason


def test_maintain_optimizes_and_gives_free_pages_back(fieldsync):
    done = run(fieldsync.maintain())
    assert done.skipped is None, done
    assert done.optimized and done.auto_vacuum == fs.AutoVacuum.INCREMENTAL
    assert done.pages_freed >= 0


def test_the_device_id_lives_in_the_database_so_a_restored_phone_never_inherits_it(tmp_path, secrets):
    def opened(directory: Path, device_id: str | None = None) -> str:
        directory.mkdir(parents=True, exist_ok=True)
        config = fs.FieldSyncConfig(
            database_path=str(directory / "cache.db"), photo_directory=str(directory / "photos"), device_id=device_id
        )
        client = fs.FieldSync.open(config, secrets, None)
        try:
            return client.device_id()
        finally:
            client.shutdown()

    phone = opened(tmp_path / "phone")
    assert len(phone) == 36 and phone.count("-") == 4, phone
    assert opened(tmp_path / "phone") == phone, "kept with the database across restarts"
    # What a restore brings back is everything but the backup-excluded directory: a new database, a new id.
    assert opened(tmp_path / "restored") != phone
    # An id the host gives is used as given, and not kept.
    assert opened(tmp_path / "phone", "host-chosen") == "host-chosen"
    assert opened(tmp_path / "phone") == phone
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        opened(tmp_path / "phone", "  ")
