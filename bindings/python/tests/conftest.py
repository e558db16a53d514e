"""Fixtures for the tests of the generated Python bindings (module `fieldsync_ffi`).

Everything runs against the real library and a real provider emulator (`fieldsync provider serve`, an
HTTP server on 127.0.0.1) started as a subprocess (emulator.py; its admin API is driven with urllib only,
so the suite needs nothing but pytest).

Run through `scripts/test-python.sh`, which puts target/bindings/python and bindings/python on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
from pathlib import Path

import pytest

import fieldsync_ffi as fs
from emulator import PASSWORD, REPO, TOKEN, USER, Emulator, work_order  # noqa: F401 - the tests import them from here

CODE = "ACME"

# The wire spelling of the typed values, for comparing them with what the emulator received (its JSON keeps
# the provider's strings).
WIRE_EVIDENCE = {fs.EvidenceType.BEFORE: "before", fs.EvidenceType.DURING: "during", fs.EvidenceType.AFTER: "after"}

# Bounded waits: a test fails instead of hanging when something never happens.
WAIT_SECS = 10.0


def run(coro):
    """Runs one coroutine of the bindings to completion (the suite needs no pytest-asyncio)."""
    return asyncio.run(coro)


def child_env() -> dict[str, str]:
    """The environment of a child Python process: it imports the same generated module as this one, and the
    `fieldsync` package of bindings/python."""
    paths = [str(Path(fs.__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def wait_until(condition, what: str, timeout=WAIT_SECS, every=0.01):
    """Polls `condition()` until it returns something truthy, which it returns. Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting until {what}")
        time.sleep(every)


def photo_fixtures() -> Path:
    """The photo fixtures, found like the Rust tests find them: `FIELDSYNC_PHOTO_FIXTURES` when set, else the
    repository's `fixtures/photos`."""
    folder = Path(os.environ.get("FIELDSYNC_PHOTO_FIXTURES") or REPO / "fixtures" / "photos")
    if (folder / "gps").is_dir() and (folder / "invalid").is_dir():
        return folder
    pytest.fail(f"photo fixtures not found in {folder} (see fixtures/photos/README.md)")


@pytest.fixture
def emulator(tmp_path):
    """A fresh emulator per test: it starts in milliseconds and keeps faults, clock and data test-local."""
    emu = Emulator(tmp_path / "emulator")
    try:
        yield emu
    finally:
        emu.stop()


# ----- host-side implementations of the foreign traits -----


# The same store as source text, for the scripts tests run as child processes (`python -c`): they import
# neither pytest nor this file.
CHILD_SECRET_STORE = """
class Secrets(fs.SecretStore):
    def __init__(self):
        self.values = {}
    def get(self, key):
        return self.values.get(key)
    def set(self, key, value):
        self.values[key] = value
    def delete(self, key):
        self.values.pop(key, None)
"""


class MemorySecretStore(fs.SecretStore):
    """The host's secure storage, in memory. Records every value ever written, to check what was kept."""

    def __init__(self):
        self._lock = threading.Lock()
        self.values: dict[str, str] = {}
        self.written: list[tuple[str, str]] = []

    def get(self, key):
        with self._lock:
            return self.values.get(key)

    def set(self, key, value):
        with self._lock:
            self.values[key] = value
            self.written.append((key, value))

    def delete(self, key):
        with self._lock:
            self.values.pop(key, None)


class EventCollector(fs.EventListener):
    """Collects events with the id of the thread that delivered each."""

    def __init__(self):
        self._cond = threading.Condition()
        self.events: list[fs.FieldSyncEvent] = []
        self.threads: list[int] = []

    def on_event(self, event):
        with self._cond:
            self.events.append(event)
            self.threads.append(threading.get_ident())
            self._cond.notify_all()

    def snapshot(self) -> list:
        with self._cond:
            return list(self.events)

    def wait_for(self, predicate, timeout=WAIT_SECS) -> list:
        """Waits until `predicate(events)` holds; returns the events. Fails the test on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.events), timeout=timeout):
                pytest.fail(f"events never matched; got {[str(e) for e in self.events]}")
            return list(self.events)


class LogCollector(fs.Logger):
    """Collects the library's log lines."""

    def __init__(self):
        self._lock = threading.Lock()
        self.lines: list[tuple[fs.LogLevel, str, str]] = []

    def log(self, level, target, message):
        with self._lock:
            self.lines.append((level, target, message))

    def mark(self) -> int:
        with self._lock:
            return len(self.lines)

    def since(self, mark: int) -> list[tuple[fs.LogLevel, str, str]]:
        with self._lock:
            return list(self.lines[mark:])


# `init_logging` takes effect once per process (the first logger wins), so one collector serves the whole
# session; tests read the lines written since a mark. It is installed at import time, before any test can
# make the library log, so that every line of the run reaches it.
LOGS = LogCollector()
fs.init_logging(LOGS, fs.LogLevel.DEBUG)


@pytest.fixture
def logs() -> LogCollector:
    return LOGS


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def listener() -> EventCollector:
    return EventCollector()


def open_fieldsync(directory: Path, secrets: fs.SecretStore, listener: fs.EventListener | None) -> fs.FieldSync:
    directory.mkdir(parents=True, exist_ok=True)
    config = fs.FieldSyncConfig(
        database_path=str(directory / "fieldsync.db"),
        photo_directory=str(directory / "photos"),
        device_id="pytest-device",
    )
    return fs.FieldSync.open(config, secrets, listener)


@pytest.fixture
def fieldsync(tmp_path, secrets, listener):
    """A FieldSync opened on a fresh database in the test's tmp dir, released at teardown.

    Releasing it delivers the last events and ends its event thread. Teardown does not call `shutdown()`:
    test_lifecycle.py checks that in a child process with a deadline, so that a regression (it once never
    returned) fails one test instead of hanging the whole run.
    """
    client = open_fieldsync(tmp_path / "cache", secrets, listener)
    yield client
    # pytest drops its own references right after teardown, which frees the object. Collect now the garbage
    # cycles (a caught exception's traceback holding a frame that holds the client) that would keep it, and
    # its event thread, alive until some later collection.
    del client
    gc.collect()


def pytest_sessionfinish(session, exitstatus):
    """Frees every FieldSync still referenced before the interpreter shuts down.

    A FieldSync freed during interpreter finalization aborts the process (see test_lifecycle.py): its event
    thread calls back into Python after Python stopped accepting calls from other threads. pytest keeps the
    last failure's traceback (and so that test's FieldSync) in `sys.last_*`; drop it and collect.
    """
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            delattr(sys, name)
    gc.collect()


def new_integration(base_url: str, code: str = CODE, username: str = USER, **fields) -> fs.NewIntegration:
    return fs.NewIntegration(
        code=code,
        name="Acme Preservation",
        base_url=base_url,
        username=username,
        mode=fs.IntegrationMode.EXTERNAL,
        **fields,
    )


@pytest.fixture
def linked(emulator, fieldsync):
    """The emulator with USER's login, and FieldSync with integration CODE linked to it (not yet refreshed)."""
    emulator.create_user()
    fieldsync.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
    return emulator


# ----- field work: check-ins and photos -----

# The property of the orders with coordinates (Springfield, IL); NEAR is 11.1 m north of it.
HOME = (39.78170, -89.65010)
NEAR = (HOME[0] + 0.0001, HOME[1])


def now_ms() -> int:
    return int(time.time() * 1000)


def location_fix(position=NEAR, accuracy_m=6.0, at_ms=None, is_mock=False, altitude_m=182.0) -> fs.LocationFix:
    """A fix as the host's location service gives it, taken now unless `at_ms` (Unix milliseconds)."""
    return fs.LocationFix(
        latitude=position[0],
        longitude=position[1],
        accuracy_m=accuracy_m,
        altitude_m=altitude_m,
        fix_time_ms=now_ms() if at_ms is None else at_ms,
        is_mock=is_mock,
    )


def rfc3339(seconds: int) -> str:
    """How the library writes a Unix time on the wire (RFC 3339, UTC, whole seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def field_orders(emulator: Emulator, fieldsync: fs.FieldSync) -> None:
    """Orders for field work, imported: WO-1 at HOME, WO-2 at HOME whose check-ins need a photo, WO-3 with no
    coordinates, WO-4 at HOME (closed by the tests that need a closed project)."""
    emulator.create_orders(
        work_order("WO-1", gpsLatitude=HOME[0], gpsLongitude=HOME[1]),
        work_order("WO-2", gpsLatitude=HOME[0], gpsLongitude=HOME[1], options={"check_in_photo_required": True}),
        work_order("WO-3"),
        work_order("WO-4", gpsLatitude=HOME[0], gpsLongitude=HOME[1]),
    )
    report = run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    assert (report.created, report.rejected) == (4, [])
