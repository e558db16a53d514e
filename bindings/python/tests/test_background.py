"""Living inside a phone app, through the bindings against the emulator: pause() releases the database
files and resume() finishes the interrupted relay exactly once; cancelling the asyncio task of an upload
aborts it mid-body (the provider stops receiving bytes) and it goes again later under the same UUID; a
background run returns at its deadline with work left, and a second run finishes."""

from __future__ import annotations

import asyncio
import datetime
import os
import threading
import time

import fieldsync_ffi as fs
import pytest
from conftest import CODE, field_orders, location_fix, run, wait_until

WO1 = f"{CODE}::WO-1"


@pytest.fixture
def site(linked, fieldsync):
    field_orders(linked, fieldsync)
    return linked


def in_seconds(seconds: float) -> datetime.datetime:
    """A deadline `seconds` from now, as the bindings take instants."""
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def check_ins(fieldsync, count: int) -> list[str]:
    projects = [f"{CODE}::WO-{n}" for n in (1, 3, 4)]  # WO-2 check-ins wait for a photo
    return [fieldsync.check_in_with_fix(projects[i % len(projects)], location_fix(), None, None).uuid for i in range(count)]


def received(emulator) -> list[str]:
    return sorted(item["uuid"] for item in emulator.items(file_type="checkin"))


def traffic(emulator) -> dict:
    return emulator.admin("GET", "/traffic", query={"endpoint": "uploadPictures"})


def database_descriptors(directory) -> list[str]:
    """This process's open descriptors of the database, its WAL and its SHM file."""
    names = {str(directory / f"fieldsync.db{suffix}") for suffix in ("", "-wal", "-shm")}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target in names:
            found.append(target)
    return found


def test_pause_closes_the_database_and_resume_finishes_the_relay_exactly_once(site, fieldsync, tmp_path):
    uuids = check_ins(fieldsync, 9)
    assert database_descriptors(tmp_path / "cache"), "the open library holds the database"
    site.add_fault({"endpoint": "uploadPictures", "kind": "latency", "ms": 150})
    outcome = {}

    def relay():
        try:
            outcome["result"] = run(fieldsync.push_outbox(CODE))
        except fs.FieldSyncError as err:
            outcome["error"] = err

    thread = threading.Thread(target=relay)
    thread.start()
    wait_until(lambda: received(site), "the relay is under way")
    fieldsync.pause()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), fs.FieldSyncError.Paused), outcome
    assert database_descriptors(tmp_path / "cache") == [], "no descriptor of the database, WAL or SHM file"
    assert fieldsync.is_paused()
    with pytest.raises(fs.FieldSyncError.Paused):
        fieldsync.projects(fs.ProjectQuery())
    sent = len(received(site))
    assert sent < len(uuids)

    site.clear_faults()
    fieldsync.resume()
    wait_until(lambda: len(received(site)) >= len(uuids), "resume() delivered the rest", timeout=20)
    assert received(site) == sorted(uuids), "each check-in exactly once"


def test_cancelling_the_task_aborts_the_upload_mid_body_and_it_goes_again_under_the_same_uuid(site, fieldsync):
    (uuid,) = check_ins(fieldsync, 1)
    site.add_fault({"endpoint": "uploadPictures", "kind": "slowBody", "bytes": 32, "everyMs": 40, "times": 1})

    async def cancel_mid_body():
        task = asyncio.ensure_future(fieldsync.push_outbox(CODE))
        deadline = time.monotonic() + 10
        while not (traffic(site)["inFlight"] == 1 and traffic(site)["bodyBytesReceived"] > 0):
            assert time.monotonic() < deadline, "the upload never started"
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(cancel_mid_body())
    wait_until(lambda: traffic(site)["inFlight"] == 0, "the provider saw the client leave", timeout=3)
    seen = traffic(site)
    assert seen["abandoned"] == 1, seen
    time.sleep(0.2)
    assert traffic(site)["bodyBytesReceived"] == seen["bodyBytesReceived"], "the provider stopped receiving bytes"
    assert received(site) == [], "nothing half-delivered was stored"

    outcome = run(fieldsync.push_outbox(CODE))
    assert outcome.delivered == 1
    assert received(site) == [uuid]
    assert site.items(file_type="checkin")[0]["deliveries"] == 1


def test_a_cancellation_handle_stops_a_background_run(site, fieldsync):
    check_ins(fieldsync, 3)
    site.add_fault({"endpoint": "uploadPictures", "kind": "slowBody", "bytes": 16, "everyMs": 50})
    handle = fs.Cancellation()

    async def cancelled_run():
        task = asyncio.ensure_future(
            fieldsync.run_background_sync(in_seconds(30), fs.BackgroundReason.PUSH, 900, handle)
        )
        deadline = time.monotonic() + 10
        while traffic(site)["bodyBytesReceived"] == 0:
            assert time.monotonic() < deadline, "the upload never started"
            await asyncio.sleep(0.01)
        started = time.monotonic()
        handle.cancel()
        result = await task
        return result, time.monotonic() - started

    result, took = run(cancelled_run())
    assert handle.is_cancelled()
    assert result.stopped == fs.StopCause.CANCELLED
    assert result.more_work
    assert took < 2, f"stopped promptly, not at the deadline ({took:.2f} s)"
    assert received(site) == []


def test_a_background_run_stops_at_its_deadline_and_a_second_run_finishes(site, fieldsync):
    uuids = check_ins(fieldsync, 15)
    site.add_fault({"endpoint": "uploadPictures", "kind": "latency", "ms": 500})
    started = time.monotonic()
    first = run(fieldsync.run_background_sync(in_seconds(2), fs.BackgroundReason.SCHEDULED, 900))
    took = time.monotonic() - started
    assert first.stopped == fs.StopCause.DEADLINE, first
    assert first.more_work
    assert first.next_run_at is not None
    assert 0 < first.delivered < len(uuids)
    assert took < 3, f"returned at its deadline ({took:.2f} s)"
    assert not first.auth_failed

    second = run(fieldsync.run_background_sync(in_seconds(60), fs.BackgroundReason.CONNECTIVITY_REGAINED, 900))
    assert second.stopped is None
    assert not second.more_work
    assert first.delivered + second.delivered == len(uuids)
    assert received(site) == sorted(uuids), "each check-in exactly once"
