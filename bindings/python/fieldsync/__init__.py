"""fieldsync for Python: the generated bindings (`fieldsync_ffi`) with Python idioms on top.

- `fieldsync.open(config, secrets, listener=None)` returns a `Client`, a context manager: leaving the `with`
  block shuts the library down (every library thread stopped and joined) and releases it.
- `Client` has every method of the generated `FieldSync`, typed (mypy sees it as a `FieldSync`), plus
  `client.sync_status` (a property) and async iterators: `client.watch_projects(query)`,
  `client.watch_project(id)`, `client.watch_photos(project)`, `client.watch_upload_log()` and
  `client.sync_status_updates()`; breaking out of `async for` (or `aclose()`) cancels the watch.
- `EventStream` is an `EventListener` whose events are read with `async for`.
- Records print their fields with `repr()` (the generated dataclasses print `ImportReport()`).
- At interpreter exit an `atexit` hook shuts down every `FieldSync` of the process (opened through this
  package or not) and detaches the logger, before Python finalizes: a library thread that calls into Python
  during finalization would abort the process ("FATAL: exception not rethrown").

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
from typing import TYPE_CHECKING, Any, Generic, Optional, Protocol, TypeVar

import fieldsync_ffi as _ffi

if TYPE_CHECKING:
    # The generated module attaches the error's variants to `FieldSyncError` at run time, out of the type
    # checker's sight: declare them, with their payloads, so that `except FieldSyncError.Auth as err:
    # err.integration` is typed. At run time the name is the generated class (the import below).
    class FieldSyncError(_ffi.FieldSyncError):
        class Network(_ffi.FieldSyncError):
            def __init__(self, reason: str, retry_after_secs: Optional[int]) -> None: ...
            reason: str
            retry_after_secs: Optional[int]

        class Auth(_ffi.FieldSyncError):
            def __init__(self, reason: str, integration: Optional[str]) -> None: ...
            reason: str
            integration: Optional[str]

        class SecretUnreadable(_ffi.FieldSyncError):
            def __init__(self, reason: str, integration: Optional[str]) -> None: ...
            reason: str
            integration: Optional[str]

        class CheckInRefused(_ffi.FieldSyncError):
            def __init__(self, reason: str, project: str, failed_rules: list[str]) -> None: ...
            reason: str
            project: str
            failed_rules: list[str]

        class InvalidInput(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class NotFound(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class Conflict(_ffi.FieldSyncError):
            def __init__(self, reason: str, kind: _ffi.ConflictKind) -> None: ...
            reason: str
            kind: _ffi.ConflictKind

        class Provider(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class CompletionBlocked(_ffi.FieldSyncError):
            def __init__(self, reason: str, unmet: list[_ffi.UnmetRequirement]) -> None: ...
            reason: str
            unmet: list[_ffi.UnmetRequirement]

        class SurveyIncomplete(_ffi.FieldSyncError):
            def __init__(self, reason: str, missing: list[str], invalid: list[_ffi.InvalidAnswer]) -> None: ...
            reason: str
            missing: list[str]
            invalid: list[_ffi.InvalidAnswer]

        class Storage(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class Cancelled(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class Paused(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class DeadlineReached(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str

        class Internal(_ffi.FieldSyncError):
            def __init__(self, reason: str) -> None: ...
            reason: str


from fieldsync_ffi import *  # type: ignore[assignment]  # noqa: E402,F403 - the package re-exports the generated API
from fieldsync_ffi import __all__ as _ffi_all  # noqa: E402

__all__ = [*_ffi_all, "Client", "EventStream", "Watch", "open"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


# ----- repr of records -----


def _record_repr(self: object) -> str:
    fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
    return f"{type(self).__name__}({fields})"


def _patch_record_reprs() -> None:
    """The generated records are `@dataclass` classes without annotated fields, so their `repr()` is empty
    (`ImportReport()`). Give every one a repr with its fields (in constructor order)."""
    for name in _ffi_all:
        cls = getattr(_ffi, name, None)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and not dataclasses.fields(cls):
            setattr(cls, "__repr__", _record_repr)


_patch_record_reprs()


# ----- watches as async iterators -----


class _WatchHandle(Protocol[T_co]):
    """What the generated watch objects (`ProjectListWatch`, `SyncStatusWatch`...) have in common."""

    async def next(self) -> Optional[T_co]: ...

    def cancel(self) -> None: ...


class Watch(Generic[T]):
    """An async iterator over a watch handle's results: the current result first, then each change.

    It ends when the watch is cancelled or the client shut down. `aclose()` (which `async for ... break`
    does not call by itself: use `async with` or `contextlib.aclosing`, or let the object go) cancels it.
    Dropping the last reference also cancels the watch (the generated handle cancels on release).
    """

    def __init__(self, handle: _WatchHandle[T]):
        self._handle: Optional[_WatchHandle[T]] = handle

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
        self._waiter: Optional[asyncio.Future[None]] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._closed = False

    def on_event(self, event: _ffi.FieldSyncEvent) -> None:
        self._put(event)

    def close(self) -> None:
        self._put(self._END)

    def _put(self, item: object) -> None:
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

    def __aiter__(self) -> AsyncIterator[_ffi.FieldSyncEvent]:
        return self

    async def __anext__(self) -> _ffi.FieldSyncEvent:
        while True:
            with self._lock:
                if self._pending:
                    item = self._pending[0]
                    if item is self._END:
                        raise StopAsyncIteration
                    event: _ffi.FieldSyncEvent = self._pending.pop(0)
                    return event
                self._loop = asyncio.get_running_loop()
                waiter: asyncio.Future[None] = self._loop.create_future()
                self._waiter = waiter
            await waiter


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# ----- the client -----

_open_clients: weakref.WeakSet[Client] = weakref.WeakSet()

# For the type checker a Client is a FieldSync (every method, typed); at run time it forwards to one.
if TYPE_CHECKING:
    _ClientBase = _ffi.FieldSync
else:
    _ClientBase = object


class Client(_ClientBase):
    """A `FieldSync` with a context manager, a `sync_status` property and async iterators. Every method of
    `FieldSync` is available on it (`client.refresh(...)`, `client.projects(...)`...);
    `client.fieldsync` is the generated object."""

    def __init__(self, fieldsync: _ffi.FieldSync, listener: Optional[_ffi.EventListener] = None):
        self._fieldsync: Optional[_ffi.FieldSync] = fieldsync
        self._listener = listener
        _open_clients.add(self)

    @property
    def fieldsync(self) -> _ffi.FieldSync:
        """The generated object (`RuntimeError` once the client is closed)."""
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
        """Shuts down (cancels long calls, stops auto-import, joins the library's threads, delivers the last
        events) and releases the library object. Safe to call twice. Other references to
        `client.fieldsync` keep the object alive (shut down): drop them too."""
        fieldsync, self._fieldsync = self._fieldsync, None
        if fieldsync is None:
            return
        _open_clients.discard(self)
        fieldsync.shutdown()
        if isinstance(self._listener, EventStream):
            self._listener.close()
        del fieldsync
        # Free it now, even if a caught exception's traceback still holds it.
        gc.collect()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the sync status and the events ---

    @property
    def sync_status(self) -> _ffi.SyncStatus:  # type: ignore[override]  # a method of the generated FieldSync
        """The sync status now: per integration, the uploads pending and in progress, the network, the pause."""
        return self.fieldsync.sync_status()

    @property
    def events(self) -> EventStream:
        """The `EventStream` the client was opened with: `async for event in client.events`."""
        if not isinstance(self._listener, EventStream):
            raise RuntimeError("open the client with a fieldsync.EventStream() as its listener")
        return self._listener

    # --- watches (the generated methods return handles with `next()`; these are async iterators) ---

    def watch_projects(  # type: ignore[override]
        self, query: Optional[_ffi.ProjectQuery] = None, throttle_ms: Optional[int] = None
    ) -> Watch[list[_ffi.ProjectSummary]]:
        """`async for projects in client.watch_projects(query)`: the page now, then after each change."""
        return Watch(self.fieldsync.watch_projects(query or _ffi.ProjectQuery(), throttle_ms))

    def watch_project(  # type: ignore[override]
        self, id: str, throttle_ms: Optional[int] = None
    ) -> Watch[_ffi.Project]:
        """`async for project in client.watch_project("ACME::WO-1")`; ends with `NotFound` once it is gone."""
        return Watch(self.fieldsync.watch_project(id, throttle_ms))

    def watch_photos(  # type: ignore[override]
        self, project_id: Optional[str] = None, throttle_ms: Optional[int] = None
    ) -> Watch[list[_ffi.Photo]]:
        return Watch(self.fieldsync.watch_photos(project_id, throttle_ms))

    def watch_upload_log(  # type: ignore[override]
        self, throttle_ms: Optional[int] = None
    ) -> Watch[list[_ffi.UploadLogEntry]]:
        return Watch(self.fieldsync.watch_upload_log(throttle_ms))

    def sync_status_updates(self, throttle_ms: Optional[int] = None) -> Watch[_ffi.SyncStatus]:
        """`async for status in client.sync_status_updates()`: the sync status now, then each change."""
        return Watch(self.fieldsync.watch_sync_status(throttle_ms))


def open(  # noqa: A001 - `fieldsync.open` reads well
    config: _ffi.FieldSyncConfig,
    secrets: _ffi.SecretStore,
    listener: Optional[_ffi.EventListener] = None,
) -> Client:
    """Opens the library (`FieldSync.open`); use it as `with fieldsync.open(...) as client:`."""
    return Client(_ffi.FieldSync.open(config, secrets, listener), listener)


@atexit.register
def _shut_down_at_exit() -> None:
    """Before the interpreter finalizes: closes the clients still open, then shuts down every other
    `FieldSync` of the process and detaches the logger (`shutdown_all`). When this returns no library thread
    calls into Python any more; one that did during finalization would abort the process."""
    for client in list(_open_clients):
        client.close()
    _ffi.shutdown_all()
