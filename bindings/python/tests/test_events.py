"""Events reach the host's listener, in order, from one library thread."""

import asyncio
import threading

import pytest

import fieldsync_ffi as fs
from conftest import CODE, run, work_order

Event = fs.FieldSyncEvent


def status(code, value, last_error=None):
    return Event.INTEGRATION_STATUS(code=code, status=value, last_error=last_error)


def ends_with_status(code, value):
    """A predicate: the last status event of `code` is `value`."""

    def check(events):
        statuses = [e for e in events if e.is_integration_status() and e.code == code]
        return bool(statuses) and statuses[-1].status == value

    return check


def test_a_refresh_reports_running_then_import_finished_then_idle(linked, fieldsync, listener):
    linked.create_orders(work_order("WO-1001"), work_order("WO-1002"))
    # Bursts of statuses are coalesced; a slow answer keeps "running" apart from "idle" so both arrive.
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "latency", "ms": 200})

    report = run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    events = listener.wait_for(ends_with_status(CODE, fs.IntegrationStatus.IDLE))

    assert report.created == 2
    assert events == [
        status(CODE, fs.IntegrationStatus.RUNNING),
        Event.IMPORT_FINISHED(code=CODE, created=2, updated=0, cancelled=0, deleted=0, removed=0, rejected=0),
        status(CODE, fs.IntegrationStatus.IDLE),
    ]
    # One library thread delivers them, never the caller's.
    assert len(set(listener.threads)) == 1
    assert listener.threads[0] != threading.get_ident()


def test_a_failed_refresh_reports_error_then_recovers(linked, fieldsync, listener):
    linked.create_orders(work_order("WO-1001"))
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "http500", "times": 1})

    with pytest.raises(fs.FieldSyncError.Network):
        run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    failed = listener.wait_for(ends_with_status(CODE, fs.IntegrationStatus.ERROR))
    assert failed[-1].last_error and "500" in failed[-1].last_error
    assert not any(e.is_import_finished() for e in failed)

    run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    events = listener.wait_for(ends_with_status(CODE, fs.IntegrationStatus.IDLE))
    assert events[-1] == status(CODE, fs.IntegrationStatus.IDLE)  # the error is cleared
    assert [e.created for e in events if e.is_import_finished()] == [1]
    assert len(set(listener.threads)) == 1


def test_events_of_refreshes_from_many_threads_come_from_one_thread(linked, fieldsync, listener):
    linked.create_orders(work_order("WO-1001"))
    callers = set()

    def refresh(full):
        callers.add(threading.get_ident())
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT if full else fs.RefreshMode.CHANGES))

    threads = [threading.Thread(target=refresh, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listener.wait_for(ends_with_status(CODE, fs.IntegrationStatus.IDLE))

    assert len(set(listener.threads)) == 1
    assert not set(listener.threads) & (callers | {threading.get_ident()})
    assert any(e.is_import_finished() for e in listener.snapshot())


def test_cancelling_the_awaiting_coroutine_cancels_the_import(linked, fieldsync, listener):
    # Cancelling the asyncio task drops the call's future, which stops the work behind it (not only the wait):
    # the import rolls back and the integration goes back to idle (bindings/src/lifecycle.rs).
    linked.create_orders(work_order("WO-1001"))
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "latency", "ms": 400})

    async def refresh_then_give_up():
        task = asyncio.ensure_future(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
        await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "finished"

    assert run(refresh_then_give_up()) == "cancelled"
    events = listener.wait_for(ends_with_status(CODE, fs.IntegrationStatus.IDLE))
    assert not any(e.is_import_finished() for e in events), "nothing was imported"
    assert fieldsync.projects(fs.ProjectQuery()) == []
    assert fieldsync.integration(CODE).status == fs.IntegrationStatus.IDLE

    # The next refresh imports as usual.
    assert run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT)).created == 1
    assert [s.id for s in fieldsync.projects(fs.ProjectQuery())] == [f"{CODE}::WO-1001"]
