"""fieldsync for Python: the generated bindings (`fieldsync_ffi`) with a few Python idioms on top.

- `fieldsync.open(config, secrets, listener=None)` returns a `Client` usable as a context manager: leaving
  the `with` block shuts the library down and releases it (the generated object is freed there, not while
  the interpreter finalizes).
- `client.watch_projects(query)`, `client.watch_project(id)`, `client.watch_photos(project)`,
  `client.watch_upload_log()` and `client.sync_status_updates()` are async iterators: `async for`; breaking
  out of the loop (or `aclose()`) cancels the watch.
- `EventStream` is an `EventListener` whose events are read with `async for`.
- Records print their fields with `repr()` (the generated dataclasses print `ImportReport()`).

Every name of `fieldsync_ffi` is re-exported: `fieldsync.ProjectQuery`, `fieldsync.FieldSyncError.Network`...
`fieldsync_ffi` must be importable (put `target/bindings/python` on `PYTHONPATH`).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import gc
import threading
import weakref
from collections.abc import AsyncIterator
from typing import Any, Generic, Optional, TypeVar

import fieldsync_ffi as _ffi
from fieldsync_ffi import *  # noqa: F403 - the package re-exports the generated API
from fieldsync_ffi import __all__ as _ffi_all

__all__ = [*_ffi_all, "Client", "EventStream", "Watch", "open"]

T = TypeVar("T")


# ----- repr of records -----


def _record_repr(self) -> str:
    fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
    return f"{type(self).__name__}({fields})"


def _patch_record_reprs() -> None:
    """The generated records are `@dataclass` classes without annotated fields, so their `repr()` is empty
    (`ImportReport()`). Give every one a repr with its fields (in constructor order)."""
    for name in _ffi_all:
        cls = getattr(_ffi, name, None)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and not dataclasses.fields(cls):
            cls.__repr__ = _record_repr


_patch_record_reprs()


# ----- watches as async iterators -----


class Watch(Generic[T]):
    """An async iterator over a watch handle's results: the current result first, then each change.

    It ends when the watch is cancelled; `aclose()` (which `async for ... break` does not call by itself:
    use `async with` or `contextlib.aclosing`, or let the object go) cancels it. Dropping the last reference
    also cancels the watch (the generated handle cancels on release).
    """

    def __init__(self, handle: Any):
        self._handle = handle

    def __aiter__(self) -> Watch[T]:
        return self

    async def __anext__(self) -> T:
        handle = self._handle
        if handle is None:
            raise StopAsyncIteration
        try:
            value = await handle.next()
        except asyncio.CancelledError:
            self.cancel()
            raise
        if value is None:
            self._handle = None
            raise StopAsyncIteration
        return value

    def cancel(self) -> None:
        """Ends the watch (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    async def aclose(self) -> None:
        self.cancel()

    async def __aenter__(self) -> Watch[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cancel()

    def __del__(self) -> None:
        try:
            self.cancel()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass


# ----- events as an async iterator -----


class EventStream(_ffi.EventListener):
    """An event listener to read with `async for event in stream` on one asyncio loop.

    The library calls `on_event` from its event thread; the events are queued, and handed to the loop that
    iterates. The iteration ends after `close()` (`Client.close()` closes the stream it was opened with).
    """

    _END = object()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._waiter: Optional[asyncio.Future] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._closed = False

    def on_event(self, event: Any) -> None:
        self._put(event)

    def close(self) -> None:
        self._put(self._END)

    def _put(self, item: Any) -> None:
        with self._lock:
            if self._closed:
                return
            if item is self._END:
                self._closed = True
            self._pending.append(item)
            waiter, loop = self._waiter, self._loop
            self._waiter = None
        if waiter is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, waiter)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        while True:
            with self._lock:
                if self._pending:
                    item = self._pending[0]
                    if item is self._END:
                        raise StopAsyncIteration
                    return self._pending.pop(0)
                self._loop = asyncio.get_running_loop()
                self._waiter = self._loop.create_future()
                waiter = self._waiter
            await waiter


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


# ----- the client -----

_open_clients: weakref.WeakSet[Client] = weakref.WeakSet()


class Client:
    """A `FieldSync` with a context manager and async iterators. Every method of `FieldSync` is available
    on it (`client.refresh(...)`, `client.projects(...)`...); `client.fieldsync` is the generated object."""

    def __init__(self, fieldsync: Any, listener: Any = None):
        self._fieldsync = fieldsync
        self._listener = listener
        _open_clients.add(self)

    @property
    def fieldsync(self) -> Any:
        if self._fieldsync is None:
            raise RuntimeError("this fieldsync client is closed")
        return self._fieldsync

    @property
    def closed(self) -> bool:
        return self._fieldsync is None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.fieldsync, name)

    def __repr__(self) -> str:
        return f"<fieldsync.Client {'closed' if self.closed else 'open'}>"

    # --- lifecycle ---

    def close(self) -> None:
        """Shuts down (stops auto-import, delivers the last events) and releases the library object. Safe
        to call twice. Other references to `client.fieldsync` keep it alive: drop them too."""
        fieldsync, self._fieldsync = self._fieldsync, None
        if fieldsync is None:
            return
        _open_clients.discard(self)
        fieldsync.shutdown()
        if isinstance(self._listener, EventStream):
            self._listener.close()
        del fieldsync
        # Free it now, with its event thread, even if a caught exception's traceback still holds it.
        gc.collect()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- watches ---

    def watch_projects(self, query: Any = None, throttle_ms: Optional[int] = None) -> Watch[list]:
        """`async for projects in client.watch_projects(query)`: the page now, then after each change."""
        return Watch(self.fieldsync.watch_projects(query or _ffi.ProjectQuery(), throttle_ms))

    def watch_project(self, project_id: str, throttle_ms: Optional[int] = None) -> Watch[Any]:
        return Watch(self.fieldsync.watch_project(project_id, throttle_ms))

    def watch_photos(self, project_id: Optional[str] = None, throttle_ms: Optional[int] = None) -> Watch[list]:
        return Watch(self.fieldsync.watch_photos(project_id, throttle_ms))

    def watch_upload_log(self, throttle_ms: Optional[int] = None) -> Watch[list]:
        return Watch(self.fieldsync.watch_upload_log(throttle_ms))

    def sync_status_updates(self, throttle_ms: Optional[int] = None) -> Watch[Any]:
        """`async for status in client.sync_status_updates()`: the sync status now, then each change."""
        return Watch(self.fieldsync.watch_sync_status(throttle_ms))


def open(config: Any, secrets: Any, listener: Any = None) -> Client:  # noqa: A001 - `fieldsync.open` reads well
    """Opens the library (`FieldSync.open`); use it as `with fieldsync.open(...) as client:`."""
    return Client(_ffi.FieldSync.open(config, secrets, listener), listener)


@atexit.register
def _close_at_exit() -> None:
    """Closes the clients still open when the interpreter exits, before it finalizes: a library object freed
    during finalization, or a library thread calling back into Python then, aborts the process."""
    for client in list(_open_clients):
        client.close()
    gc.collect()
