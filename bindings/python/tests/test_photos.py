"""Photos through the bindings with real JPEGs: processing (rendition and thumbnail), the QA gate, relay to the
emulator exactly once (by uuId), duplicates, auto relay, hostile files refused with nothing written, a
check-in that waits for its photo, and many threads adding photos and checking in at once."""

import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

import fieldsync_ffi as fs
from conftest import CODE, NEAR, PASSWORD, TOKEN, WAIT_SECS, WIRE_EVIDENCE, field_orders, location_fix, new_integration, photo_fixtures, run

Evidence, PhotoState, Kind, State = fs.EvidenceType, fs.PhotoState, fs.OutboxKind, fs.OutboxState

WO1, WO2, WO3, WO4 = (f"{CODE}::WO-{n}" for n in (1, 2, 3, 4))
PHOTOS = photo_fixtures()
DSCN0010 = PHOTOS / "gps" / "DSCN0010.jpg"  # Nikon, 640x480, EXIF GPS in Italy, taken 2008-10-22T16:28:39Z
DSCN0012 = PHOTOS / "gps" / "DSCN0012.jpg"
DSCN0021 = PHOTOS / "gps" / "DSCN0021.jpg"


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    return linked


def add(fieldsync, file, project=WO1, task="Grass Cut", evidence=Evidence.BEFORE, fix=None):
    return run(fieldsync.add_photo(project, task, evidence, str(file), fix))


def pictures_at(emulator):
    return emulator.items(file_type="picture")


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's frame header."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    at = 2
    while at + 4 <= len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no frame header")


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


def photo_changes(listener, uuid):
    return [event.state for event in listener.snapshot() if event.is_photo_changed() and event.uuid == uuid]


# ----- processing and the QA gate -----


def test_without_auto_relay_a_processed_photo_waits_for_qa(site, fieldsync, listener, tmp_path):
    photo = add(fieldsync, DSCN0010, fix=location_fix(NEAR))

    assert (photo.project, photo.task, photo.evidence, photo.state, photo.message) == (WO1, "Grass Cut", Evidence.BEFORE, PhotoState.PENDING_QA, None)
    assert (photo.width, photo.height) == (640, 480)
    assert photo.capture_time == "2008-10-22T16:28:39Z"
    assert photo.location_certified is True, "the device's fix (11 m away) wins over the EXIF position"
    assert photo.time_certified is None, "decided at the first upload"
    assert photo.duplicate is False
    thumbnail = Path(photo.thumbnail_path)
    assert thumbnail.is_file() and thumbnail.is_relative_to(tmp_path / "cache" / "photos")
    assert jpeg_size(thumbnail.read_bytes()) == (320, 240)
    listener.wait_for(lambda events: photo_changes(listener, photo.uuid) == [PhotoState.PENDING_QA])

    assert [p.uuid for p in fieldsync.photos(WO1)] == [photo.uuid]
    assert [p.uuid for p in fieldsync.photos(None)] == [photo.uuid]
    assert fieldsync.photos(WO3) == []
    [entry] = fieldsync.outbox(CODE)
    assert (entry.id, entry.kind, entry.state) == (photo.uuid, Kind.PHOTO, State.HELD)
    assert run(fieldsync.push_outbox(CODE)).delivered == 0, "nothing relays before QA"
    assert pictures_at(site) == []


def test_without_a_device_fix_the_exif_position_decides_the_location(site, fieldsync):
    photo = add(fieldsync, DSCN0010)
    assert photo.location_certified is False, "taken in Italy, the property is in Illinois"


def test_large_and_rotated_photos_are_resized_and_turned_upright(site, fieldsync):
    phone = add(fieldsync, PHOTOS / "phone" / "jolla.jpg")
    rotated = add(fieldsync, PHOTOS / "orientation" / "landscape_6.jpg")  # stored 450x600, EXIF orientation 6

    assert (phone.width, phone.height) == (2048, 1536)
    assert jpeg_size(Path(phone.thumbnail_path).read_bytes()) == (320, 240)
    assert (rotated.width, rotated.height) == (600, 450)


def test_qa_relays_exactly_the_approved_photos_once(site, fieldsync, listener):
    approved = add(fieldsync, DSCN0010, evidence=Evidence.BEFORE, fix=location_fix(NEAR))
    rejected = add(fieldsync, DSCN0012, evidence=Evidence.DURING)
    by_project = add(fieldsync, DSCN0021, task="Debris Removal", evidence=Evidence.AFTER)
    assert [p.state for p in (approved, rejected, by_project)] == [PhotoState.PENDING_QA] * 3

    assert fieldsync.approve_photo(approved.uuid).state == PhotoState.QUEUED
    refused = fieldsync.reject_photo(rejected.uuid, "blurry")
    assert (refused.state, refused.message) == (PhotoState.REJECTED, "blurry")
    assert fieldsync.approve_project_photos(WO1) == 1, "only the one still waiting for review"
    assert fieldsync.approve_project_photos(WO1) == 0
    assert sorted(entry.id for entry in fieldsync.outbox(CODE)) == sorted([approved.uuid, by_project.uuid])

    [outcome] = run(fieldsync.sync(3600))

    assert (outcome.delivered, outcome.retrying, outcome.error) == (2, 0, None)
    received = {item["uuid"]: item for item in pictures_at(site)}
    assert set(received) == {approved.uuid, by_project.uuid}, "the rejected photo never arrives"
    for photo in (approved, by_project):
        item = received[photo.uuid]
        assert item["deliveries"] == 1
        assert (item["workOrderNumber"], item["taskName"], item["evidenceType"]) == ("WO-1", photo.task, WIRE_EVIDENCE[photo.evidence])
        assert jpeg_size(site.item_file(photo.uuid)) == (photo.width, photo.height), "the rendition travels"
    assert received[approved.uuid]["metadata"]["csrCertifiedLocation"] is True
    states = {p.uuid: p.state for p in fieldsync.photos(WO1)}
    assert states == {approved.uuid: PhotoState.RELAYED, rejected.uuid: PhotoState.REJECTED, by_project.uuid: PhotoState.RELAYED}
    assert fieldsync.outbox(CODE) == []
    started = listener.wait_for(
        lambda events: {e.uuid for e in events if e.is_upload_started()} >= {approved.uuid, by_project.uuid}
    )
    assert rejected.uuid not in {e.uuid for e in started if e.is_upload_started()}

    # Publishing again sends it again under the same uuId: the provider keeps one.
    assert fieldsync.approve_photo(approved.uuid).state == PhotoState.QUEUED
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    again = {item["uuid"]: item["deliveries"] for item in pictures_at(site)}
    assert again == {approved.uuid: 2, by_project.uuid: 1}
    assert fieldsync.approve_project_photos(WO1) == 0, "nothing waits for review"

    with pytest.raises(fs.FieldSyncError.Conflict) as caught:
        fieldsync.approve_photo(rejected.uuid)
    assert caught.value.kind == fs.ConflictKind.PHOTO_STATE
    with pytest.raises(fs.FieldSyncError.Conflict) as caught:
        fieldsync.reject_photo(approved.uuid, "too late")
    assert caught.value.kind == fs.ConflictKind.PHOTO_STATE
    with pytest.raises(fs.FieldSyncError.InvalidInput):
        fieldsync.reject_photo(by_project.uuid, "  ")
    with pytest.raises(fs.FieldSyncError.NotFound):
        fieldsync.approve_photo("00000000-0000-4000-8000-000000000000")
    assert run(fieldsync.sync(3600)) == []
    assert {item["uuid"]: item["deliveries"] for item in pictures_at(site)} == again


def test_the_same_bytes_twice_are_one_photo(site, fieldsync, tmp_path):
    first = add(fieldsync, DSCN0010, evidence=Evidence.BEFORE)
    second = add(fieldsync, DSCN0010, evidence=Evidence.AFTER)

    assert (first.duplicate, second.duplicate) == (False, True)
    assert (second.uuid, second.state, second.evidence) == (first.uuid, PhotoState.PENDING_QA, Evidence.BEFORE)
    assert [p.uuid for p in fieldsync.photos(WO1)] == [first.uuid]
    assert len(files_under(tmp_path / "cache" / "photos" / "originals")) == 1
    assert [entry.id for entry in fieldsync.outbox(CODE)] == [first.uuid]

    other_project = add(fieldsync, DSCN0010, project=WO3)
    assert other_project.duplicate is False and other_project.uuid != first.uuid, "duplicates are per project"


def test_with_auto_relay_a_processed_photo_relays_without_approval(site, fieldsync):
    assert fieldsync.edit_integration(CODE, fs.IntegrationEdit(auto_relay=True), None, None).auto_relay

    photo = add(fieldsync, DSCN0010, fix=location_fix(NEAR))

    assert photo.state == PhotoState.QUEUED
    assert [(entry.id, entry.state) for entry in fieldsync.outbox(CODE)] == [(photo.uuid, State.QUEUED)]
    [outcome] = run(fieldsync.sync(3600))
    assert (outcome.delivered, outcome.error) == (1, None)
    [item] = pictures_at(site)
    assert (item["uuid"], item["deliveries"], item["evidenceType"], item["taskName"]) == (photo.uuid, 1, "before", "Grass Cut")
    assert item["metadata"]["csrCertifiedLocation"] is True
    assert item["metadata"]["csrCertifiedTime"] is False, "taken in 2008: not within 12 hours of its upload"
    [relayed] = fieldsync.photos(WO1)
    assert (relayed.state, relayed.time_certified) == (PhotoState.RELAYED, False)


def test_the_host_sees_byte_progress_and_the_end_of_each_relay(site, fieldsync, listener):
    assert fieldsync.edit_integration(CODE, fs.IntegrationEdit(auto_relay=True), None, None).auto_relay
    photos = [add(fieldsync, file, fix=location_fix(NEAR)) for file in (DSCN0010, DSCN0012, DSCN0021)]

    [outcome] = run(fieldsync.sync(3600))

    assert outcome.delivered == 3
    sizes = {item["uuid"]: item["fileSize"] for item in pictures_at(site)}
    assert set(sizes) == {photo.uuid for photo in photos}
    events = listener.wait_for(
        lambda events: {e.uuid for e in events if e.is_photo_changed() and e.state == PhotoState.RELAYED} >= set(sizes)
    )
    progress = [e for e in events if e.is_upload_progress()]
    for uuid, size in sizes.items():
        mine = [e for e in progress if e.uuid == uuid]
        assert mine, f"no progress for {uuid}"
        assert all(e.bytes_total == size for e in mine), "the total is the rendition the provider received"
        sent = [e.bytes_sent for e in mine]
        assert sent == sorted(sent) and sent[-1] == size, f"monotonic, ending at the size: {sent}"
        assert photo_changes(listener, uuid)[-1] == PhotoState.RELAYED
    overall = [e.overall_sent for e in progress]
    assert overall == sorted(overall), "the run's progress never goes back"
    assert overall[-1] == progress[-1].overall_total == sum(sizes.values())


def test_a_photo_relay_dropped_after_the_provider_stored_it_is_not_duplicated(site, fieldsync):
    photo = add(fieldsync, DSCN0010)
    fieldsync.approve_photo(photo.uuid)
    site.add_fault({"endpoint": "uploadPictures", "kind": "dropAfter", "times": 1})

    first = run(fieldsync.push_outbox(CODE))

    assert (first.delivered, first.retrying) == (0, 1)
    assert fieldsync.photos(WO1)[0].state == PhotoState.QUEUED, "back in the queue"
    assert [(item["uuid"], item["deliveries"]) for item in pictures_at(site)] == [(photo.uuid, 1)]
    assert run(fieldsync.push_outbox(CODE)).delivered == 1
    assert [(item["uuid"], item["deliveries"]) for item in pictures_at(site)] == [(photo.uuid, 2)]
    assert fieldsync.photos(WO1)[0].state == PhotoState.RELAYED


# ----- hostile files and bad input: nothing written -----


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of black pixels: 20000x20000 (50 MB of rows) compresses to about 50 KB."""
    row = b"\0" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header claims another size."""
    data = bytearray(DSCN0010.read_bytes())
    at = 2
    while data[at + 1] not in (0xC0, 0xC1, 0xC2):
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


HOSTILE = {
    "empty.jpg": (lambda: b"", "the file is empty"),
    "notes.jpg": (lambda: b"this is not an image at all", "not an image"),
    "third.jpg": (lambda: DSCN0010.read_bytes()[: DSCN0010.stat().st_size // 3], "truncated"),
    "nine-tenths.jpg": (lambda: DSCN0010.read_bytes()[: DSCN0010.stat().st_size * 9 // 10], "truncated"),
    "bomb.png": (lambda: png_bomb(20_000, 20_000), "20000x20000 pixels is more than the limit"),
    "bomb.jpg": (lambda: jpeg_claiming(30_000, 30_000), "30000x30000 pixels is more than the limit"),
    "iphone.heic": (lambda: (PHOTOS / "phone" / "iphone_13_pro_max.HEIC").read_bytes(), "HEIC images are not supported"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_invalid_input_and_nothing_is_written(site, fieldsync, listener, tmp_path, name):
    make, reason = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(make())
    started = time.monotonic()

    with pytest.raises(fs.FieldSyncError.InvalidInput) as caught:
        add(fieldsync, path, fix=location_fix(NEAR))

    assert time.monotonic() - started < 2, "refused from the headers, nothing decoded"
    assert reason in caught.value.reason, caught.value.reason
    assert fieldsync.photos(None) == []
    assert fieldsync.outbox(CODE) == []
    assert files_under(tmp_path / "cache" / "photos") == []
    assert not any(event.is_photo_changed() for event in listener.snapshot())


@pytest.mark.parametrize("path", sorted((PHOTOS / "invalid").iterdir()), ids=lambda path: path.name)
def test_a_damaged_fixture_is_refused_or_fails_visibly_and_never_relays_broken(site, fieldsync, path):
    """invalid/ holds JPEGs with broken data or metadata: each is refused, fails processing with a reason,
    or decodes to a proper rendition; only a proper rendition ever reaches the provider."""
    fieldsync.edit_integration(CODE, fs.IntegrationEdit(auto_relay=True), None, None)
    try:
        photo = add(fieldsync, path)
    except fs.FieldSyncError.InvalidInput as refused:
        assert refused.reason.startswith("photo refused:"), refused.reason
        assert fieldsync.photos(None) == [] and fieldsync.outbox(CODE) == []
        return
    run(fieldsync.sync(3600))
    if photo.state == PhotoState.FAILED:
        assert photo.message.startswith("photo refused:"), photo.message
        assert (photo.width, photo.height, photo.thumbnail_path) == (None, None, None)
        assert pictures_at(site) == []
        assert [(entry.id, entry.state) for entry in fieldsync.outbox(CODE)] == [(photo.uuid, State.HELD)]
        fieldsync.reject_photo(photo.uuid, "damaged")
        assert fieldsync.outbox(CODE) == [], "rejecting it clears its delivery"
    else:
        assert photo.state == PhotoState.QUEUED and photo.width and photo.height
        [item] = pictures_at(site)
        assert item["uuid"] == photo.uuid
        assert jpeg_size(site.item_file(photo.uuid)) == (photo.width, photo.height)
    if path.name == "corrupted.jpg":
        assert photo.state == PhotoState.FAILED and "damaged" in photo.message


@pytest.mark.parametrize(
    ("project", "task", "evidence", "file", "fix", "error", "reason"),
    [
        # A bad evidence string ("sideways" -> InvalidInput) can no longer be passed: `evidence` is an EvidenceType.
        (WO1, "Pool", Evidence.BEFORE, DSCN0010, None, fs.FieldSyncError.InvalidInput, "no task `Pool`"),
        (WO1, "  ", Evidence.BEFORE, DSCN0010, None, fs.FieldSyncError.InvalidInput, "task"),
        ("WO-1", "Grass Cut", Evidence.BEFORE, DSCN0010, None, fs.FieldSyncError.InvalidInput, "project id"),
        (WO1, "Grass Cut", Evidence.BEFORE, DSCN0010, location_fix((float("nan"), 1.0)), fs.FieldSyncError.InvalidInput, "latitude"),
        (WO1, "Grass Cut", Evidence.BEFORE, DSCN0010, location_fix((0.0, 0.0)), fs.FieldSyncError.InvalidInput, "0,0"),
        (f"{CODE}::WO-404", "Grass Cut", Evidence.BEFORE, DSCN0010, None, fs.FieldSyncError.NotFound, "WO-404"),
        (WO4, "Grass Cut", Evidence.BEFORE, DSCN0010, None, fs.FieldSyncError.Conflict, "closed"),
        (WO1, "Grass Cut", Evidence.BEFORE, Path("/nonexistent/photo.jpg"), None, fs.FieldSyncError.InvalidInput, "photo.jpg"),
    ],
)
def test_bad_photo_input_is_a_typed_error_and_nothing_is_written(site, fieldsync, tmp_path, project, task, evidence, file, fix, error, reason):
    fieldsync.close_project(WO4)

    with pytest.raises(error) as caught:
        run(fieldsync.add_photo(project, task, evidence, str(file), fix))

    assert reason in caught.value.reason, caught.value.reason
    if error is fs.FieldSyncError.Conflict:
        assert caught.value.kind == fs.ConflictKind.PROJECT_CLOSED
    assert fieldsync.photos(None) == []
    assert fieldsync.outbox(CODE) == []
    assert files_under(tmp_path / "cache" / "photos") == [], "not even the original's copy"


# ----- a check-in that needs a photo -----


def test_a_check_in_that_requires_a_photo_waits_for_it(site, fieldsync):
    check_in = fieldsync.check_in_with_fix(WO2, location_fix(NEAR), None, None)
    assert check_in.certified

    waiting = run(fieldsync.push_outbox(CODE))
    assert (waiting.delivered, waiting.retrying, waiting.needs_attention) == (0, 0, 0)
    assert [(entry.id, entry.state) for entry in fieldsync.outbox(CODE)] == [(check_in.uuid, State.QUEUED)]
    assert site.items() == []

    photo = add(fieldsync, DSCN0012, project=WO2, evidence=Evidence.AFTER)
    assert run(fieldsync.push_outbox(CODE)).delivered == 0, "a photo waiting for QA does not release it"
    fieldsync.approve_photo(photo.uuid)
    released = run(fieldsync.push_outbox(CODE))

    assert (released.delivered, released.error) == (2, None)
    received = site.items()
    assert [(item["uuid"], item["fileType"]) for item in received] == [(photo.uuid, "picture"), (check_in.uuid, "checkin")]
    assert fieldsync.outbox(CODE) == []


# ----- many threads at once -----


def test_threads_add_photos_and_check_in_at_once(site, fieldsync, listener):
    distinct = sorted((PHOTOS / "gps").glob("DSCN00[1-3]*.jpg"))[:6]
    shared = PHOTOS / "gps" / "DSCN0040.jpg"
    assert len(distinct) == 6 and shared not in distinct
    barrier = threading.Barrier(7)
    added: list[fs.Photo] = []
    checked_in: list[fs.CheckIn] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def photographer(files):
        try:
            barrier.wait(timeout=WAIT_SECS)
            for file in files:
                photo = add(fieldsync, file, evidence=Evidence.DURING, fix=location_fix(NEAR))
                with lock:
                    added.append(photo)
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    def inspector(count):
        try:
            barrier.wait(timeout=WAIT_SECS)
            for _ in range(count):
                check_in = fieldsync.check_in_with_fix(WO1, location_fix(NEAR), None, None)
                with lock:
                    checked_in.append(check_in)
                fieldsync.photos(WO1)  # reads interleave with the writes
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=photographer, args=(distinct[i::3],)) for i in range(3)]
    threads += [threading.Thread(target=photographer, args=([shared],)) for _ in range(2)]
    threads += [threading.Thread(target=inspector, args=(4,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert errors == []

    assert len(added) == 8 and len(checked_in) == 8
    assert sorted(photo.duplicate for photo in added) == [False] * 7 + [True], "the same bytes twice: one photo"
    photos = fieldsync.photos(WO1)
    assert len(photos) == 7 and len({p.uuid for p in photos}) == 7
    assert {p.uuid for p in added} == {p.uuid for p in photos}
    assert all(p.state == PhotoState.PENDING_QA and p.width and p.thumbnail_path for p in photos), photos
    [duplicate] = [photo for photo in added if photo.duplicate]
    assert [photo.duplicate for photo in added if photo.uuid == duplicate.uuid].count(False) == 1
    outbox = fieldsync.outbox(CODE)
    assert sorted(((entry.kind, entry.state) for entry in outbox), key=lambda pair: (pair[0].value, pair[1].value)) == (
        [(Kind.CHECK_IN, State.QUEUED)] * 8 + [(Kind.PHOTO, State.HELD)] * 7
    )
    listener.wait_for(lambda events: all(photo_changes(listener, p.uuid) for p in photos))
    assert all(photo_changes(listener, p.uuid) == [PhotoState.PENDING_QA] for p in photos), "each processed exactly once"

    assert fieldsync.approve_project_photos(WO1) == 7
    [outcome] = run(fieldsync.sync(3600))

    assert (outcome.delivered, outcome.error) == (15, None)
    assert {item["uuid"]: item["deliveries"] for item in pictures_at(site)} == {p.uuid: 1 for p in photos}
    assert {item["uuid"]: item["deliveries"] for item in site.items(file_type="checkin")} == {c.uuid: 1 for c in checked_in}
    assert fieldsync.outbox(CODE) == []


@pytest.mark.parametrize("workers", [0, 17])
def test_an_out_of_range_relay_concurrency_is_refused_before_anything_is_created(tmp_path, secrets, workers):
    config = fs.FieldSyncConfig(
        database_path=str(tmp_path / "cache.db"),
        photo_directory=str(tmp_path / "photos"),
        device_id="tablet-7",
        relay_concurrency=workers,
    )
    with pytest.raises(fs.FieldSyncError.InvalidInput, match="relay_concurrency"):
        fs.FieldSync.open(config, secrets, None)
    assert list(tmp_path.iterdir()) == []


def test_one_photo_at_a_time_still_relays_everything_once(emulator, tmp_path, secrets):
    config = fs.FieldSyncConfig(
        database_path=str(tmp_path / "serial.db"),
        photo_directory=str(tmp_path / "serial-photos"),
        device_id="tablet-7",
        relay_concurrency=1,
    )
    serial = fs.FieldSync.open(config, secrets, None)
    emulator.create_user()
    serial.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
    field_orders(emulator, serial)
    assert serial.edit_integration(CODE, fs.IntegrationEdit(auto_relay=True), None, None).auto_relay
    photos = [add(serial, DSCN0010), add(serial, DSCN0012, project=WO3)]

    [outcome] = run(serial.sync(3600))

    assert (outcome.delivered, outcome.error) == (2, None)
    assert sorted(item["uuid"] for item in pictures_at(emulator)) == sorted(photo.uuid for photo in photos)
