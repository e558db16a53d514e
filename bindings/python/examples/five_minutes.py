"""fieldsync in five minutes: the guide of bindings/python/README.md, as one typed script (mypy --strict).

Run against the emulator: `fieldsync provider serve --addr 127.0.0.1:8080 --seed`, then replace the
provider URL, the password and the token below (the test suite does: test_readme.py).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from typing import Optional

import fieldsync as fs


# 1. What only the host can give: secure storage (the OS keyring), and a logger if you want the library's
#    logs. Keys look like "ACME/password_sha1". Library threads call them: keep them quick.
class Secrets(fs.SecretStore):
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> Optional[str]:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


LEVELS = {fs.LogLevel.ERROR: logging.ERROR, fs.LogLevel.WARN: logging.WARNING,
          fs.LogLevel.INFO: logging.INFO, fs.LogLevel.DEBUG: logging.DEBUG}


class Logger(fs.Logger):
    def log(self, level: fs.LogLevel, target: str, message: str) -> None:  # never holds secrets
        logging.getLogger(target).log(LEVELS[level], message)


logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
fs.init_logging(Logger(), fs.LogLevel.INFO)  # once per process

# 2. Where the cache lives, and how much photo storage it may keep once the provider has the photos. No
# device_id: the database makes one at its first open and keeps it, so it goes wherever the database goes.
config = fs.FieldSyncConfig(
    database_path="data/fieldsync.db", photo_directory="data/photos",
    retention=fs.RetentionPolicy(delete_decided_renditions=True, keep_originals_for=datetime.timedelta(days=14),
                                 max_photo_bytes=1 << 30),
)


class Gps(fs.LocationSource):
    def next_fix(self, timeout_ms: int) -> Optional[fs.LocationFix]:  # None: no fix within timeout_ms
        return fs.LocationFix(latitude=39.9612, longitude=-82.9988, accuracy_m=6.0, altitude_m=None,
                              fix_time_ms=int(time.time() * 1000), is_mock=False)


async def main() -> None:
    events = fs.EventStream()  # a listener read with `async for`
    # 3. Open one client for the app's lifetime. Leaving the block shuts it down (every library thread
    #    stopped and joined) and ends the event stream.
    with fs.open(config, Secrets(), events) as client:
        client.create_integration(
            fs.NewIntegration(code="ACME", name="Acme Preservation", base_url="https://provider.example.com/api/v2",
                              username="vendor1", mode=fs.IntegrationMode.EXTERNAL),
            "the password", "the API token",  # only the password's SHA-1 is kept, in your SecretStore
        )
        # 4. Network and disk work is async; errors are typed.
        try:
            report = await client.refresh("ACME", fs.RefreshMode.FULL_IMPORT)
        except fs.FieldSyncError.Auth as err:  # 401/403: ask the user to sign in again
            return print("sign in again to", err.integration)
        except fs.FieldSyncError.Network as err:  # offline, 5xx, timeouts: retry later
            return print("retry in", err.retry_after_secs, "s:", err.reason)
        print(report.created, report.updated, report.rejected)  # records also print with repr()

        # 5. A screen observes a query: the result now, then after every change (import, edit, check-in,
        #    delivery). Leaving the `async with` cancels the watch.
        query = fs.ProjectQuery(integration="ACME", search="Elm")
        async with client.watch_projects(query) as pages:
            page = await pages.__anext__()
            print("on screen:", [(p.id, p.field_status.name) for p in page])
            project = page[0]

            # 6. On site: check in (the library asks the location source for fixes), take a photo. Both
            #    are on disk and queued before the call returns.
            check_in = await client.check_in(project.id, Gps(), 5000, 10.0, None, None)
            print("check-in certified:", check_in.certified, check_in.reasons)
            page = await pages.__anext__()
            print("on screen:", [(p.id, p.field_status.name) for p in page])

        photo = await client.add_photo(project.id, "Grass Cut", fs.EvidenceType.BEFORE, "camera/IMG_0001.jpg", None)
        print("photo:", photo.state.name, photo.width, photo.height)  # PENDING_QA until QA decides
        client.approve_photo(photo.uuid)  # or client.reject_photo(photo.uuid, "blurry"): never relayed
        print("waiting to upload:", client.sync_status.uploads_pending)  # the sync status, as a property

        # 7. Deliver, then refresh what is older than an hour. The status follows.
        async with client.sync_status_updates() as statuses:
            for outcome in await client.sync(3600):
                print(outcome.code, "delivered", outcome.delivered, "error", outcome.error)
            status = await statuses.__anext__()
            print("waiting to upload:", status.uploads_pending)

        try:
            client.complete_project(project.id, None)
        except fs.FieldSyncError.CompletionBlocked as blocked:  # typed payloads: what is missing
            print("cannot complete yet:", [(unmet.kind.name, unmet.have, unmet.need) for unmet in blocked.unmet])

        # 8. Storage: what the photos weigh, by state (the configured policy already ran after the delivery).
        storage = await client.storage_report()
        for usage in storage.by_state:
            print(usage.state.name, usage.photos, "originals", usage.originals.files, "renditions", usage.renditions.files)

    # The client is closed: the event stream ends after the last event.
    async for event in events:
        if isinstance(event, fs.FieldSyncEvent.IMPORT_FINISHED):
            print(event.code, "imported: created", event.created)


asyncio.run(main())
