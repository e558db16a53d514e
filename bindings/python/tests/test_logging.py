"""The library's logs reach the host's Logger, never with secrets.

`init_logging` takes effect once per process, so conftest installs one collector (at DEBUG) when it is
imported; these tests read the lines written since a mark.
"""

import hashlib
import threading

import pytest

import fieldsync_ffi as fs
from conftest import CODE, LOGS, PASSWORD, TOKEN, open_fieldsync, run, work_order


def test_the_logger_receives_the_library_lines(linked, fieldsync, logs, tmp_path):
    linked.create_orders(work_order("WO-1001"))
    mark = logs.mark()

    run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    # Opening a new database logs its migrations.
    open_fieldsync(tmp_path / "second", fs.SecretStore(), None)

    lines = logs.since(mark)
    downloads = [line for line in lines if line[1] == "fieldsync_core::sync::engine" and "downloaded" in line[2]]
    assert downloads, lines
    level, _, message = downloads[0]
    assert level == fs.LogLevel.INFO
    assert f"code={CODE}" in message and "kind=FullImport" in message
    assert any("migration" in message for _, _, message in lines)
    assert all(isinstance(level, fs.LogLevel) for level, _, _ in lines)


def test_only_the_first_logger_is_installed(linked, fieldsync, logs):
    other = []

    class Other(fs.Logger):
        def log(self, level, target, message):
            other.append(message)

    fs.init_logging(Other(), fs.LogLevel.DEBUG)  # ignored: the conftest's logger came first
    mark = logs.mark()
    run(fieldsync.validate(CODE))
    run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))

    assert logs.since(mark)
    assert other == []


def test_log_lines_never_hold_secrets(linked, fieldsync, logs):
    """Runs through the paths that log (validate, imports, failures, push key) and checks every line of
    the session so far at DEBUG level, the library's and its dependencies' (HTTP client, TLS)."""
    linked.create_orders(work_order("WO-1001"))
    run(fieldsync.validate(CODE))
    run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    linked.add_fault({"endpoint": "getWorkOrders", "kind": "http401", "times": 1})
    with pytest.raises(fs.FieldSyncError.Auth):
        run(fieldsync.refresh(CODE, fs.RefreshMode.CHANGES))
    push_key = fieldsync.push_key(CODE)
    run(fieldsync.refresh_by_push_key(push_key))
    digest = hashlib.sha1(PASSWORD.encode()).hexdigest()

    lines = logs.since(0)
    assert len(lines) > 10
    for level, target, message in lines:
        for secret in (PASSWORD, digest, digest.upper(), TOKEN, push_key):
            assert secret not in message and secret not in target, (level, target, message)


def test_lines_logged_on_library_threads_reach_the_logger(linked, fieldsync, logs):
    """The logger is called from the library's worker threads (not only the caller's)."""
    mark = logs.mark()
    threads = set()
    original = LOGS.log

    def recording(level, target, message):
        threads.add(threading.get_ident())
        original(level, target, message)

    LOGS.log = recording
    try:
        run(fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT))
    finally:
        del LOGS.log
    assert logs.since(mark)
    assert threads and threading.get_ident() not in threads
