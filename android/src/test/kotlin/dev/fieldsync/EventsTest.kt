package dev.fieldsync

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.Integration
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.LogLevel
import dev.fieldsync.ffi.RefreshMode
import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

class EventsTest : EmulatorTest() {

    private class Recording(val job: Job, val events: MutableList<FieldSyncEvent>) {
        fun snapshot(): List<FieldSyncEvent> = synchronized(events) { events.toList() }
    }

    /** Collects [client]'s events; subscribed before this returns, so nothing that follows is missed. */
    private fun CoroutineScope.record(client: FieldSyncClient): Recording {
        val events = Collections.synchronizedList(mutableListOf<FieldSyncEvent>())
        val job = launch(start = CoroutineStart.UNDISPATCHED) { client.events.collect { events += it } }
        return Recording(job, events)
    }

    private fun idle(code: String) = FieldSyncEvent.IntegrationStatusChanged(code, IntegrationStatus.IDLE, null)

    @Test
    fun `an import reports its counts and then the integration's Idle status through the Flow`() = coTest {
        val vendor = vendor(orders = 3)
        val recording = record(vendor.client)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        waitUntil("the final Idle status arrives", detail = { recording.snapshot() }) { recording.snapshot().lastOrNull() == idle(vendor.code) }
        recording.job.cancel()

        val events = recording.snapshot()
        val finished = events.filterIsInstance<FieldSyncEvent.ImportFinished>().single()
        assertEquals(FieldSyncEvent.ImportFinished(vendor.code, 3u, 0u, 0u, 0u, 0u, 0u), finished)
        assertTrue(events.indexOf(finished) < events.lastIndexOf(idle(vendor.code)), "finished before idle: $events")
        assertTrue(events.all { it.integrationCode == vendor.code }, "events: $events")
    }

    @Test
    fun `a failed refresh reports the Error status with its reason`() = coTest {
        val vendor = vendor(orders = 1)
        val recording = record(vendor.client)
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "http500", "times" to 1))
        assertFailsWith<FieldSyncException.Network> { vendor.client.refresh(vendor.code) }
        waitUntil("an Error status arrives") {
            recording.snapshot().any { it is FieldSyncEvent.IntegrationStatusChanged && it.status == IntegrationStatus.ERROR }
        }
        val error = recording.snapshot().filterIsInstance<FieldSyncEvent.IntegrationStatusChanged>().last()
        assertEquals(IntegrationStatus.ERROR, error.status)
        assertNotNull(error.lastError)
        assertTrue(recording.snapshot().none { it is FieldSyncEvent.ImportFinished }, "a failed import finishes nothing")
        recording.job.cancel()
    }

    @Test
    fun `integrationUpdates emits the current integration and then each change`() = coTest {
        val vendor = vendor(orders = 2)
        val updates = Channel<Integration>(Channel.UNLIMITED)
        val job = launch { vendor.client.integrationUpdates(vendor.code).collect { updates.send(it) } }
        val first = withTimeout(5.seconds) { updates.receive() }
        assertEquals(IntegrationStatus.IDLE, first.status)
        assertNull(first.lastRefreshed)

        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        withTimeout(10.seconds) {
            while (true) {
                val next = updates.receive()
                if (next.status == IntegrationStatus.IDLE && next.lastRefreshed != null) break
            }
        }
        job.cancel()
    }

    @Test
    fun `each client hears only its own events`() = coTest {
        val a = vendor(orders = 1)
        val b = vendor(orders = 1)
        val heardByA = record(a.client)
        val heardByB = record(b.client)
        a.client.refresh(a.code, mode = RefreshMode.FULL_IMPORT)
        waitUntil("A's import is reported to A", detail = { heardByA.snapshot() }) { heardByA.snapshot().lastOrNull() == idle(a.code) }
        assertEquals(emptyList(), heardByB.snapshot())
        heardByA.job.cancel()
        heardByB.job.cancel()
    }

    @Test
    fun `a stalled collector never blocks the library, and shutdown still completes`() = coTest {
        val client = openClient(eventBufferCapacity = 4)
        val vendor = vendor(orders = 1, client = client)
        val stalled = launch(start = CoroutineStart.UNDISPATCHED) { client.events.collect { awaitCancellation() } }
        repeat(12) { vendor.client.refresh(vendor.code, mode = if (it % 2 == 0) RefreshMode.FULL_IMPORT else RefreshMode.CHANGES) } // ~30 events through a buffer of 4
        stalled.cancel()

        val fresh = record(client)
        vendor.client.refresh(vendor.code)
        waitUntil("a new collector hears new events", detail = { fresh.snapshot() }) { fresh.snapshot().lastOrNull() == idle(vendor.code) }
        fresh.job.cancel()

        val closer = Thread { client.close() }.apply { start() }
        closer.join(5_000)
        assertFalse(closer.isAlive, "close() hangs: the event thread is blocked")
    }

    @Test
    fun `logs reach the host logger without secrets`() = coTest {
        val lines = Collections.synchronizedList(mutableListOf<String>())
        FieldSyncLogging.install(LogLevel.INFO) { level, target, message -> lines += "$level $target $message" }
        val vendor = vendor(orders = 2)
        vendor.client.validate(vendor.code)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        waitUntil("the download is logged") {
            synchronized(lines) { lines.any { it.contains("downloaded work orders") && it.contains(vendor.code) } }
        }
        val secrets = listOf(vendor.password, sha1Hex(vendor.password), vendor.token, vendor.client.pushKey(vendor.code))
        synchronized(lines) {
            for (line in lines) {
                for (secret in secrets) assertFalse(line.contains(secret), "a log line holds a secret: $line")
            }
        }
    }
}
