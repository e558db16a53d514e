"""Many Python threads and coroutines using one FieldSync at once: no error, no crash, a consistent cache."""

import asyncio
import threading

import pytest

import fieldsync_ffi as fs
from conftest import CODE, PASSWORD, TOKEN, USER, new_integration, run

ORDERS = 300
SECOND = "BETA"


@pytest.fixture
def two_integrations(linked, fieldsync):
    """ORDERS generated orders for USER, linked as CODE and as SECOND (the same login twice)."""
    linked.bulk(ORDERS)
    fieldsync.create_integration(new_integration(linked.base_url, code=SECOND), PASSWORD, TOKEN)
    return linked


def provider_numbers(emulator):
    orders = emulator.admin("GET", "/work-orders", query={"assignedTo": USER, "limit": 10000})
    return sorted(order["workOrderNumber"] for order in orders)


def assert_consistent(fieldsync, emulator, listener):
    """The cache equals the provider's list for each integration, both idle, and a refresh finds nothing new."""
    expected = provider_numbers(emulator)
    assert len(expected) == ORDERS
    for code in (CODE, SECOND):
        query = fs.ProjectQuery(integration=code, sort_by_number=True, limit=10000)
        assert sorted(s.work_order_number for s in fieldsync.projects(query)) == expected
        integration = fieldsync.integration(code)
        assert integration.status == fs.IntegrationStatus.IDLE and integration.last_error is None
        again = run(fieldsync.refresh(code, fs.RefreshMode.CHANGES))
        assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert len(set(listener.threads)) == 1


def test_eight_threads_refresh_and_read_at_once(two_integrations, fieldsync, listener):
    barrier = threading.Barrier(8)
    errors = []
    pages = []

    def worker(index):
        try:
            barrier.wait(timeout=10)  # start together
            for round_ in range(3):
                code = (CODE, SECOND)[index % 2]
                if index % 4 < 2:
                    report = run(fieldsync.refresh(code, fs.RefreshMode.FULL_IMPORT if round_ == 1 else fs.RefreshMode.CHANGES))
                    assert not report.rejected
                elif index % 4 == 2:
                    page = fieldsync.projects(fs.ProjectQuery(integration=code, limit=200))
                    # A page is read in one snapshot: empty before the first import, else full.
                    assert len(page) in (0, 200), len(page)
                    pages.append(len(page))
                else:
                    assert {i.code for i in fieldsync.integrations()} == {CODE, SECOND}
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert errors == []
    assert len(pages) == 6
    assert_consistent(fieldsync, two_integrations, listener)


def test_gathered_coroutines_refresh_and_read_at_once(two_integrations, fieldsync, listener):
    async def together():
        reads = [asyncio.to_thread(fieldsync.projects, fs.ProjectQuery(limit=200)) for _ in range(4)]
        lists = [asyncio.to_thread(fieldsync.integrations) for _ in range(2)]
        refreshes = [fieldsync.refresh(code, fs.RefreshMode.FULL_IMPORT if full else fs.RefreshMode.CHANGES) for code in (CODE, SECOND) for full in (True, False, True)]
        checks = [fieldsync.validate(CODE), fieldsync.validate(SECOND)]
        return await asyncio.gather(*refreshes, *checks, *reads, *lists)

    results = run(together())

    reports, validations = results[:6], results[6:8]
    assert all(isinstance(report, fs.ImportReport) for report in reports)
    # Each integration's first run creates every order; requests arriving meanwhile share later runs.
    assert sum(report.created for report in reports) == 2 * ORDERS
    assert all(validation.validated for validation in validations)
    assert_consistent(fieldsync, two_integrations, listener)


def test_many_event_loops_in_many_threads(two_integrations, fieldsync, listener):
    """Each thread runs its own event loop (asyncio.run); the library's callbacks find the right one."""
    errors = []

    def worker(code):
        async def work():
            await asyncio.gather(fieldsync.refresh(code, fs.RefreshMode.CHANGES), fieldsync.validate(code))

        try:
            for _ in range(2):
                asyncio.run(work())
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=worker, args=((CODE, SECOND)[n % 2],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert errors == []
    assert_consistent(fieldsync, two_integrations, listener)
