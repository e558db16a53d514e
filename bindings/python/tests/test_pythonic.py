"""The `fieldsync` package (bindings/python/fieldsync): a context manager, async iterators over watches and
events, record reprs, and no abort at interpreter exit."""

import asyncio
import gc
import subprocess
import sys
import textwrap

import fieldsync as package
import fieldsync_ffi as fs
from conftest import CODE, PASSWORD, TOKEN, EventCollector, MemorySecretStore, child_env, new_integration, run, work_order


def config(directory):
    return package.FieldSyncConfig(
        database_path=str(directory / "fieldsync.db"), photo_directory=str(directory / "photos"), device_id="py"
    )


def test_the_package_re_exports_the_generated_types():
    assert package.ProjectQuery is fs.ProjectQuery
    assert package.FieldSyncError.Network is fs.FieldSyncError.Network
    assert package.EvidenceType.BEFORE is fs.EvidenceType.BEFORE


def test_records_repr_their_fields():
    rules = package.CheckInRules()
    assert repr(rules).startswith("CheckInRules(geofence_radius_m=200.0, max_accuracy_m=50.0,"), repr(rules)
    unmet = fs.UnmetRequirement(task="Grass Cut", kind=fs.RequirementKind.PHOTOS, evidence=fs.EvidenceType.AFTER, have=0, need=1)
    assert repr(unmet).startswith("UnmetRequirement(task='Grass Cut', kind=<RequirementKind.PHOTOS"), repr(unmet)
    assert repr(unmet).endswith("evidence=<EvidenceType.AFTER: 2>, have=0, need=1)"), repr(unmet)


def test_the_context_manager_shuts_down_and_releases(emulator, tmp_path):
    emulator.create_user()
    listener = EventCollector()
    with package.open(config(tmp_path), MemorySecretStore(), listener) as client:
        client.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
        assert [i.code for i in client.integrations()] == [CODE]
    assert client.closed
    try:
        client.integrations()
    except RuntimeError as err:
        assert "closed" in str(err)
    else:
        raise AssertionError("a closed client must refuse calls")
    client.close()  # idempotent


def test_watch_projects_is_an_async_iterator_cancelled_on_break(linked, fieldsync):
    wrapped = borrowed_client(fieldsync)

    async def watch():
        seen = []
        async for projects in wrapped.watch_projects(fs.ProjectQuery(), throttle_ms=10):
            seen.append([p.id for p in projects])
            if len(seen) == 1:
                linked.create_orders(work_order("WO-1001"))
                await fieldsync.refresh(CODE, fs.RefreshMode.FULL_IMPORT)
            else:
                break
        return seen

    assert run(watch()) == [[], [f"{CODE}::WO-1001"]]
    gc.collect()
    assert fieldsync.live_watches() == 0, "breaking out of the loop cancelled the watch"


def test_sync_status_updates_and_aclose(linked, fieldsync):
    wrapped = borrowed_client(fieldsync)

    async def first_status():
        updates = wrapped.sync_status_updates()
        status = await updates.__anext__()
        await updates.aclose()
        async for _ in updates:
            raise AssertionError("a closed watch yields nothing")
        return status

    status = run(first_status())
    assert status == fieldsync.sync_status()
    assert fieldsync.live_watches() == 0


def test_events_can_be_read_with_async_for(emulator, tmp_path):
    emulator.create_user()
    emulator.create_orders(work_order("WO-1001"))
    stream = package.EventStream()

    async def main():
        with package.open(config(tmp_path), MemorySecretStore(), stream) as client:
            client.create_integration(new_integration(emulator.base_url), PASSWORD, TOKEN)
            await client.refresh(CODE, fs.RefreshMode.FULL_IMPORT)
        # Closing the client closes the stream: the loop ends after the last event.
        return [event async for event in stream]

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert any(e.is_import_finished() and e.created == 1 for e in events), events
    assert events[-1].is_integration_status() and events[-1].status == fs.IntegrationStatus.IDLE


def test_a_client_left_open_at_exit_does_not_abort():
    script = textwrap.dedent(
        """
        import tempfile
        import fieldsync

        class Secrets(fieldsync.SecretStore):
            def get(self, key): return None
            def set(self, key, value): pass
            def delete(self, key): pass

        class Listener(fieldsync.EventListener):
            def on_event(self, event): pass

        directory = tempfile.mkdtemp()
        client = fieldsync.open(fieldsync.FieldSyncConfig(database_path=directory + "/db", photo_directory=directory + "/p",
                                device_id="exit"), Secrets(), Listener())
        keep = client                 # still referenced at exit: the package closes it before finalization
        print("exiting", flush=True)
        """
    )
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20, env=child_env())
        assert result.returncode == 0, f"exit status {result.returncode}; stderr: {result.stderr}"
        assert result.stdout.splitlines() == ["exiting"]


def borrowed_client(fieldsync_object):
    """A Client around a FieldSync the test fixture owns (the fixture releases it)."""
    client = package.Client(fieldsync_object)
    package._open_clients.discard(client)
    return client
