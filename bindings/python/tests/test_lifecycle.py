"""Opening, shutting down and releasing FieldSync.

The checks that can hang or abort a process run in a child Python process with a deadline, so that a
failure fails one test instead of the whole run.
"""

import gc
import os
import subprocess
import sys
import textwrap
import time

import fieldsync_ffi as fs
from conftest import (
    CHILD_SECRET_STORE,
    CODE,
    PASSWORD,
    TOKEN,
    WAIT_SECS,
    EventCollector,
    MemorySecretStore,
    child_env,
    new_integration,
    open_fieldsync,
)

# Each of these takes well under a second when it works (debug build included).
CHILD_DEADLINE_SECS = 6

# The child's prologue: host implementations and an opened FieldSync with a listener that prints events.
PROLOGUE = """
import sys, tempfile
import fieldsync_ffi as fs

class Listener(fs.EventListener):
    def on_event(self, event):
        print("event", event, flush=True)

""" + CHILD_SECRET_STORE + """
directory = tempfile.mkdtemp()
config = fs.FieldSyncConfig(database_path=directory + "/fieldsync.db", photo_directory=directory + "/photos",
                            device_id="child")
"""


def run_child(body: str) -> subprocess.CompletedProcess:
    script = PROLOGUE + textwrap.dedent(body)
    try:
        return subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=CHILD_DEADLINE_SECS,
            env=child_env(),
        )
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        raise AssertionError(
            f"the child process hung (killed after {CHILD_DEADLINE_SECS} s); its output:\n{out or ''}"
        ) from None


def event_threads() -> int:
    """Live `fieldsync-events` threads in this process (Linux: /proc)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                names.append(comm.read().strip())
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return sum(name.startswith("fieldsync-event") for name in names)


def wait_until(condition, timeout=WAIT_SECS) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_version_and_device_id(fieldsync):
    assert fieldsync.version().count(".") == 2
    assert fieldsync.device_id() == "pytest-device"


def test_reopening_a_database_keeps_its_data(emulator, tmp_path):
    secrets = MemorySecretStore()
    first = open_fieldsync(tmp_path / "cache", secrets, EventCollector())
    first.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
    del first
    gc.collect()

    reopened = open_fieldsync(tmp_path / "cache", secrets, EventCollector())

    assert [integration.code for integration in reopened.integrations()] == [CODE]
    assert reopened.integration(CODE).status == fs.IntegrationStatus.IDLE


def test_releasing_fieldsync_ends_its_event_thread(tmp_path):
    gc.collect()  # release what earlier tests left to the collector, so the count below is this test's
    before = event_threads()
    clients = [open_fieldsync(tmp_path / str(n), MemorySecretStore(), EventCollector()) for n in range(3)]
    # A new thread names itself once it runs: wait for that rather than for a fixed time.
    assert wait_until(lambda: event_threads() == before + 3), event_threads()

    del clients
    gc.collect()

    assert event_threads() == before


def test_shutdown_returns_and_delivers_the_last_events():
    # A refresh against a closed loopback port fails at once; shutdown must deliver its events, then return.
    result = run_child(
        """
        import asyncio
        client = fs.FieldSync.open(config, Secrets(), Listener())
        client.create_integration(fs.NewIntegration(code="ACME", base_url="http://127.0.0.1:9/api/v2",
                                  username="u", mode=fs.IntegrationMode.EXTERNAL), "pw", None)
        try:
            asyncio.run(client.refresh("ACME", fs.RefreshMode.CHANGES))
        except fs.FieldSyncError.Network:
            pass
        client.shutdown()
        print("shut down", flush=True)
        """
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "shut down"
    assert "status=IntegrationStatus.ERROR" in lines[-2]


def test_releasing_fieldsync_while_auto_import_runs_returns():
    result = run_child(
        """
        import gc
        client = fs.FieldSync.open(config, Secrets(), Listener())
        client.start_auto_import(3600)
        del client
        gc.collect()
        print("released", flush=True)
        """
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "released"


def test_a_fieldsync_alive_at_interpreter_exit_does_not_abort_the_process():
    # An app keeps the library in its own state module (imported after the bindings) until it exits; that
    # module is cleared, and the FieldSync released, while the interpreter finalizes.
    result = run_child(
        """
        import types
        app = types.ModuleType("app_state")
        sys.modules["app_state"] = app
        app.fieldsync = fs.FieldSync.open(config, Secrets(), Listener())
        print("exiting", flush=True)
        """
    )

    assert result.returncode == 0, f"exit status {result.returncode}; stderr: {result.stderr}"
    assert result.stdout.splitlines() == ["exiting"]
