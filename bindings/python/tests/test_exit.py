"""No abort at interpreter exit, and a `shutdown()` after which no library thread is left.

The abort this guards against: an async call's Python future is completed by the library thread that
finished the work (uniffi's continuation callback, a ctypes callback). That thread released the GIL while it
woke the event loop; if the main thread then ran into interpreter finalization, CPython ended the library
thread with `pthread_exit` when it took the GIL back, the forced unwind met a Rust `catch_unwind`, and glibc
aborted the process ("FATAL: exception not rethrown"), after everything had passed. Library threads logging
through the host's logger, or calling the secret store, hit the same. It happened in about one exit in
eight, so the scenario runs many times.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest

import fieldsync as package
import fieldsync_ffi as fs
from conftest import CHILD_SECRET_STORE, CODE, PASSWORD, TOKEN, USER, child_env, run, wait_until, work_order

# What every child app gives the library: a secret store, a logger into Python logging (at DEBUG, to a sink),
# an event listener. Each script reads the emulator's URL and the login from its arguments.
HOST = """
import asyncio, logging, sys, tempfile
import fieldsync_ffi as fs

base_url, user, password, token = sys.argv[1:5]

""" + CHILD_SECRET_STORE + """
class Logger(fs.Logger):
    def log(self, level, target, message):
        logging.getLogger(target).debug(message)

class Listener(fs.EventListener):
    def on_event(self, event):
        pass

logging.basicConfig(level=logging.DEBUG, stream=open("/dev/null", "w"))
"""

# An app that uses the generated module directly, as the README did when the abort was seen: logs into
# Python logging, an event listener, async calls against the emulator up to the last line, then
# `shutdown()` (what such an app must call before it exits) and the exit. Before the fix about one exit in
# seven aborted here.
DIRECT = HOST + """
fs.init_logging(Logger(), fs.LogLevel.INFO)
directory = tempfile.mkdtemp()
sync = fs.FieldSync.open(fs.FieldSyncConfig(database_path=directory + "/db", photo_directory=directory + "/photos",
                         device_id="direct"), Secrets(), Listener())
sync.create_integration(fs.NewIntegration(code="ACME", base_url=base_url, username=user,
                                          mode=fs.IntegrationMode.EXTERNAL), password, token)

async def main():
    await sync.refresh("ACME", fs.RefreshMode.FULL_IMPORT)
    for _ in range(5):
        await sync.refresh_by_push_key("unknown")

asyncio.run(main())
sync.shutdown()
print("exiting", flush=True)
"""

# An app that uses the package: logs at DEBUG, an event stream, a client opened with the package and one
# opened with the generated module (kept in a module, as an app keeps its state), auto-import running, a
# burst of async calls completing right before the exit, watches still open. Nothing is shut down by hand:
# the package's atexit hook must make the exit safe.
PACKAGE = HOST + """
import fieldsync
fs.init_logging(Logger(), fs.LogLevel.DEBUG)

def config(name):
    directory = tempfile.mkdtemp()
    return fs.FieldSyncConfig(database_path=directory + "/db", photo_directory=directory + "/photos",
                              device_id=name)

def link(client):
    client.create_integration(fs.NewIntegration(code="ACME", base_url=base_url, username=user,
                                                mode=fs.IntegrationMode.EXTERNAL), password, token)

client = fieldsync.open(config("package"), Secrets(), fieldsync.EventStream())
raw = fs.FieldSync.open(config("raw"), Secrets(), Listener())
sys.modules["app_state"] = type(sys)("app_state")
sys.modules["app_state"].raw = raw
link(client)
link(raw)
raw.start_auto_import(1)

async def main():
    await client.refresh("ACME", fs.RefreshMode.FULL_IMPORT)
    await raw.refresh("ACME", fs.RefreshMode.FULL_IMPORT)
    watch = client.watch_projects(fs.ProjectQuery())
    await watch.__anext__()
    raw_watch = raw.watch_sync_status(10)
    await raw_watch.next()
    sys.modules["app_state"].watch = raw_watch
    await asyncio.gather(*(c.refresh_by_push_key("unknown") for c in (client, raw) for _ in range(8)))

asyncio.run(main())
print("exiting", flush=True)
"""


@pytest.mark.parametrize(("scenario", "runs"), [(DIRECT, 40), (PACKAGE, 20)], ids=["direct", "package"])
def test_an_app_exiting_right_after_async_calls_never_aborts(emulator, tmp_path, scenario, runs):
    emulator.create_user()
    emulator.create_orders(work_order("WO-1001"), work_order("WO-1002"))
    script = tmp_path / "app.py"
    script.write_text(scenario)

    failures = []
    for attempt in range(runs):
        try:
            result = subprocess.run(
                [sys.executable, str(script), emulator.base_url, USER, PASSWORD, TOKEN],
                capture_output=True,
                text=True,
                timeout=60,
                env=child_env(),
            )
        except subprocess.TimeoutExpired:
            failures.append(f"run {attempt}: hung")
            continue
        if result.returncode != 0 or "FATAL" in result.stderr or result.stdout.splitlines() != ["exiting"]:
            failures.append(f"run {attempt}: exit status {result.returncode}; stderr: {result.stderr[-400:]}")

    assert not failures, f"{len(failures)} of {runs} exits failed:\n" + "\n".join(failures)


def library_threads(prefix: str) -> int:
    """Live threads of this process whose name starts with `prefix` (Linux: /proc)."""
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                count += comm.read().startswith(prefix)
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return count


def test_shutdown_joins_every_library_thread_and_ends_calls_and_watches(linked, fieldsync):
    # What runs on the library's threads (their names start with fieldsync-worker) and the event thread.
    linked.create_orders(work_order("WO-1001"))

    async def work():
        await fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT)
        watch = fieldsync.watch_projects(fs.ProjectQuery(), 10)
        assert len(await watch.next()) == 1
        # Waits for a change (or, started after the shutdown, ends at once): either way it must end.
        pending = asyncio.ensure_future(watch.next())
        return watch, pending

    async def scenario():
        watch, pending = await work()
        assert library_threads("fieldsync-work") > 0, "the calls ran on the library's threads"
        await asyncio.to_thread(fieldsync.shutdown)
        assert await asyncio.wait_for(pending, 5) is None, "a watch ends at shutdown"
        assert await watch.next() is None
        with pytest.raises(fs.FieldSyncError.Cancelled):
            await fieldsync.refresh(CODE, fs.RefreshMode.CHANGES)
        with pytest.raises(fs.FieldSyncError.Cancelled):
            await fieldsync.refresh_by_push_key("unknown")

    run(scenario())
    # Earlier tests' instances were released (and so shut down) at their teardown: none is left.
    assert library_threads("fieldsync-work") == 0, "shutdown joined them"
    assert library_threads("fieldsync-event") == 0
    # Quick local reads still work; shutting down again is harmless.
    assert [p.id for p in fieldsync.projects(fs.ProjectQuery())] == [f"{CODE}::WO-1001"]
    fieldsync.shutdown()


def test_shutdown_cancels_a_long_call_in_progress(linked, fieldsync):
    linked.create_orders(work_order("WO-1001"))
    # Every answer of the provider takes 30 s: the refresh is in flight until shutdown cancels it.
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "latency", "ms": 30_000})

    async def scenario():
        refresh = asyncio.ensure_future(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
        await asyncio.to_thread(
            wait_until, lambda: fieldsync.integration(CODE).status == fs.IntegrationStatus.RUNNING, "the refresh runs"
        )
        await asyncio.wait_for(asyncio.to_thread(fieldsync.shutdown), 5)
        with pytest.raises(fs.FieldSyncError.Cancelled):
            await asyncio.wait_for(refresh, 5)

    run(scenario())
    assert fieldsync.integration(CODE).status in (fs.IntegrationStatus.IDLE, fs.IntegrationStatus.ERROR)
    assert fieldsync.projects(fs.ProjectQuery()) == [], "the import rolled back"


def test_shutdown_all_shuts_down_every_instance_and_is_what_the_package_runs_at_exit(tmp_path):
    script = textwrap.dedent(
        """
        import asyncio, tempfile
        import fieldsync_ffi as fs

        class Secrets(fs.SecretStore):
            def get(self, key): return None
            def set(self, key, value): pass
            def delete(self, key): pass

        directory = tempfile.mkdtemp()
        one = fs.FieldSync.open(fs.FieldSyncConfig(database_path=directory + "/a.db", photo_directory=directory
                                + "/a", device_id="a"), Secrets(), None)
        two = fs.FieldSync.open(fs.FieldSyncConfig(database_path=directory + "/b.db", photo_directory=directory
                                + "/b", device_id="b"), Secrets(), None)
        fs.shutdown_all()
        for client in (one, two):
            try:
                asyncio.run(client.refresh_by_push_key("k"))
            except fs.FieldSyncError.Cancelled as err:
                print("cancelled:", err.reason)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, env=child_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["cancelled: fieldsync was shut down"] * 2
    assert package._shut_down_at_exit.__module__ == "fieldsync"
