"""Watch queries and the sync status through the bindings, against the emulator: a watched filtered list gets
a new result after an import, an edit, a check-in and a delivery, and nothing after it is cancelled; the sync
status shows pending uploads go up on capture and down on delivery; many subscribe/cancel cycles leak
nothing."""

from __future__ import annotations

import asyncio
import gc
import os

import fieldsync_ffi as fs
from conftest import CODE, HOME, field_orders, location_fix, run, wait_until, work_order

WO1 = f"{CODE}::WO-1"
# The list under watch: projects on Elm St (every order of the fixtures), by number.
ELM = fs.ProjectQuery(search="Elm", sort_by_number=True, limit=100)

# Long enough that a result which should come does, short enough that the suite stays quick.
SOON = 5.0


async def next_within(watch, seconds=SOON):
    return await asyncio.wait_for(watch.next(), seconds)


async def nothing_within(watch, seconds=0.4) -> bool:
    """True when the watch hands out nothing for `seconds` (the pending next() is cancelled afterwards)."""
    try:
        await asyncio.wait_for(watch.next(), seconds)
    except asyncio.TimeoutError:
        return True
    return False


def test_a_watched_list_follows_imports_edits_check_ins_and_deliveries_until_cancelled(linked, fieldsync):
    field_orders(linked, fieldsync)

    async def scenario():
        watch = fieldsync.watch_projects(ELM, 20)
        first = await next_within(watch)
        numbers = [summary.work_order_number for summary in first]
        assert numbers, "the current result comes at once"
        assert await nothing_within(watch), "no commit, no new result"

        # An import that adds an order in the list.
        linked.create_orders(work_order("WO-7", gpsLatitude=HOME[0], gpsLongitude=HOME[1]))
        await fieldsync.refresh(CODE, fs.RefreshMode.CHANGES)
        imported = await next_within(watch)
        assert "WO-7" in [summary.work_order_number for summary in imported]

        # An edit.
        fieldsync.edit_project(WO1, fs.ProjectEdit(status="In Progress"))
        edited = await next_within(watch)
        assert next(s for s in edited if s.id == WO1) != next(s for s in imported if s.id == WO1)

        # A check-in (the project's field status moves to In Process).
        fieldsync.check_in_with_fix(WO1, location_fix(), None, None)
        checked_in = await next_within(watch)
        assert next(s for s in checked_in if s.id == WO1).field_status == fs.FieldStatus.IN_PROCESS

        # A delivery: the list reads the outbox (pending work), so delivering changes what it shows.
        await fieldsync.push_outbox(CODE)
        delivered = await next_within(watch)
        assert delivered != checked_in

        watch.cancel()
        assert await watch.next() is None, "a cancelled watch ends"
        fieldsync.edit_project(WO1, fs.ProjectEdit(status="Open"))
        assert await watch.next() is None

    run(scenario())


def test_the_sync_status_goes_up_on_capture_and_down_on_delivery(linked, fieldsync):
    field_orders(linked, fieldsync)

    async def scenario():
        watch = fieldsync.watch_sync_status(10)
        status = await next_within(watch)
        assert status.uploads_pending == 0 and not status.paused
        assert [integration.code for integration in status.integrations] == [CODE]

        fieldsync.check_in_with_fix(WO1, location_fix(), None, None)
        fieldsync.check_in_with_fix(WO1, location_fix(), None, None)
        pending = await next_within(watch)
        while pending.uploads_pending < 2:
            pending = await next_within(watch)
        assert pending.uploads_pending == 2 and pending.upload_bytes_pending > 0

        await fieldsync.push_outbox(CODE)
        done = await next_within(watch)
        while done.uploads_pending:
            done = await next_within(watch)
        assert done.last_delivered is not None

        fieldsync.set_network(fs.NetworkState.METERED)
        metered = await next_within(watch)
        assert metered.network == fs.NetworkState.METERED, "the engine's state is watched too"
        watch.cancel()

    run(scenario())


def os_threads() -> int:
    """Threads of this process, Python's and the library's (Linux: /proc)."""
    return len(os.listdir("/proc/self/task"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_many_subscribe_and_cancel_cycles_leak_nothing(linked, fieldsync):
    field_orders(linked, fieldsync)
    before = fieldsync.live_watches()

    async def cycles(count):
        for index in range(count):
            watch = fieldsync.watch_projects(ELM) if index % 2 else fieldsync.watch_sync_status()
            await next_within(watch)
            if index % 3 == 0:
                # Cancelled while a next() waits for a change.
                pending = asyncio.ensure_future(watch.next())
                watch.cancel()
                assert await next_within_task(pending) is None
            else:
                watch.cancel()

    run(cycles(20))  # warm up: the library's worker threads and the readers' connections exist now
    gc.collect()
    threads, fds = os_threads(), open_fds()

    run(cycles(500))
    gc.collect()
    assert fieldsync.live_watches() == before
    # A cancelled watch's last read may still run when the next cycle starts, so under load the blocking
    # pool grows for a while; its idle threads end two seconds later. A thread a cycle leaked never would.
    wait_until(lambda: os_threads() <= threads + 1, f"the threads go back to {threads} + 1", timeout=10)
    assert open_fds() <= fds, (fds, open_fds())

    # Dropping a handle without cancelling also unsubscribes.
    async def dropped():
        for _ in range(50):
            await next_within(fieldsync.watch_upload_log())

    run(dropped())
    gc.collect()
    assert fieldsync.live_watches() == before
    assert open_fds() <= fds


async def next_within_task(task, seconds=SOON):
    return await asyncio.wait_for(task, seconds)


def test_several_watchers_each_get_the_change(linked, fieldsync):
    field_orders(linked, fieldsync)

    async def scenario():
        watches = [fieldsync.watch_project(WO1, 10) for _ in range(5)]
        for watch in watches:
            await next_within(watch)
        fieldsync.edit_project(WO1, fs.ProjectEdit(instructions="Back gate"))
        updated = await asyncio.gather(*(next_within(watch) for watch in watches))
        assert all(project.instructions == "Back gate" for project in updated)
        for watch in watches:
            watch.cancel()

    run(scenario())
