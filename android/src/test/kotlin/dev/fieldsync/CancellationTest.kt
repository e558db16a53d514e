package dev.fieldsync

import dev.fieldsync.support.workOrder
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.Project
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import java.util.Collections
import kotlin.random.Random
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Cancelling the coroutine that awaits a refresh cancels the work too: the download is aborted or the import
 * rolls back as one transaction, the integration never stays `running`/`pending`, the cache is always either
 * the state before or the state after, and the next refresh converges.
 */
class CancellationTest : EmulatorTest() {

    private val settled = setOf(IntegrationStatus.IDLE, IntegrationStatus.ERROR)

    private suspend fun FieldSyncClient.awaitSettled(code: String) =
        waitUntil("integration $code leaves running/pending", timeout = 20.seconds, detail = { integration(code) }) {
            integration(code).status in settled
        }

    @Test
    fun `a refresh cancelled while it downloads is abandoned, leaves nothing half-done, and the next converges`() = coTest {
        val vendor = vendor(orders = 5)
        val client = vendor.client
        val code = vendor.code
        client.refresh(code, mode = RefreshMode.FULL_IMPORT)
        val before = client.snapshot(code)

        val admin = emulator.admin
        admin.patchWorkOrder(vendor.number(1), mapOf("clientInstructions" to "after"))
        admin.unassign(vendor.number(2))
        admin.putWorkOrders((6..8).map { workOrder(vendor.number(it), vendor.username) })
        admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "latency", "ms" to 1_500, "times" to 1))

        val events = Collections.synchronizedList(mutableListOf<FieldSyncEvent>())
        val collector = launch(start = CoroutineStart.UNDISPATCHED) { client.events.collect { events += it } }

        val started = System.nanoTime()
        assertFailsWith<TimeoutCancellationException> { withTimeout(300.milliseconds) { client.refresh(code) } }
        val waitedMs = (System.nanoTime() - started) / 1_000_000
        assertTrue(waitedMs < 1_200, "cancellation waited $waitedMs ms: it should not wait for the slow answer")

        // The download is aborted: the integration settles, nothing was imported.
        client.awaitSettled(code)
        assertEquals(IntegrationStatus.IDLE, client.integration(code).status)
        val afterCancel = client.snapshot(code)
        assertEquals(before, afterCancel, "the cancelled refresh changed the cache")
        delay(100)
        assertEquals(emptyList(), synchronized(events) { events.filterIsInstance<FieldSyncEvent.ImportFinished>() })
        collector.cancel()

        // A new refresh succeeds and converges on the provider's state.
        emulator.admin.clearFaults()
        val report = client.refresh(code)
        assertEquals(3uL, report.created, "$report")
        assertEquals(1uL, report.cancelled, "$report")
        val converged = client.snapshot(code)
        assertEquals((1..8).map { vendor.id(it) }, converged.keys.toList())
        assertEquals("after", converged.getValue(vendor.id(1)).clientInstructions)
        assertEquals("Cancelled", converged.getValue(vendor.id(2)).clientStatus)
        assertTrue(afterCancel == before || afterCancel == converged, "the cache is neither the before nor the after state")
        assertEquals(IntegrationStatus.IDLE, client.integration(code).status)
    }

    @Test
    fun `a full import cancelled while it applies is all or nothing for a concurrent reader`() = coTest(120.seconds) {
        val vendor = vendor()
        val client = vendor.client
        val code = vendor.code
        val batch = 1_500
        emulator.admin.bulk(vendor.username, batch)
        val firstStarted = System.nanoTime()
        assertEquals(batch.toULong(), client.refresh(code, mode = RefreshMode.FULL_IMPORT).created)
        val importMs = (System.nanoTime() - firstStarted) / 1_000_000
        emulator.admin.bulk(vendor.username, batch) // the next full import doubles the list

        suspend fun count() = client.projects(ProjectQuery(integration = code, limit = 100_000u)).size
        val seen = Collections.synchronizedSet(mutableSetOf<Int>())
        var reads = 0
        val reader = launch(Dispatchers.IO) { while (isActive) { seen += count(); reads++ } }

        val import = launch(Dispatchers.Default) { client.refresh(code, mode = RefreshMode.FULL_IMPORT) }
        waitUntil("the import runs", every = 2.milliseconds) { client.integration(code).status == IntegrationStatus.RUNNING }
        delay((importMs / 2).coerceIn(20, 2_000)) // about the middle of the import
        val cancelled = System.nanoTime()
        val statusAtCancel = client.integration(code).status
        import.cancelAndJoin()
        val joinMs = (System.nanoTime() - cancelled) / 1_000_000
        assertTrue(joinMs < 500, "cancelAndJoin took $joinMs ms")

        client.awaitSettled(code)
        delay(50)
        reader.cancelAndJoin()
        seen += count()
        println("full import of ${2 * batch} cancelled ${importMs / 2} ms after it started running (status then: $statusAtCancel, a first import took $importMs ms); $reads reads saw ${seen.sorted()}")
        assertEquals(IntegrationStatus.IDLE, client.integration(code).status)
        assertTrue(seen.all { it == batch || it == 2 * batch }, "a reader saw a half-applied import: ${seen.sorted()}")
        // Rolled back (or, if the cancellation came after the commit, finished): never anything between.
        val afterCancel = count()
        assertTrue(afterCancel == batch || afterCancel == 2 * batch, "$afterCancel")

        val again = client.refresh(code, mode = RefreshMode.FULL_IMPORT)
        assertEquals((2 * batch - afterCancel).toULong(), again.created, "$again")
        assertEquals(0uL, again.removed, "$again")
        assertEquals(2 * batch, count())
    }

    @Test
    fun `a refresh cancelled while it waits behind another never leaves the integration pending`() = coTest {
        val vendor = vendor(orders = 2)
        val client = vendor.client
        val code = vendor.code
        client.refresh(code, mode = RefreshMode.FULL_IMPORT)
        emulator.admin.putWorkOrder(workOrder(vendor.number(3), vendor.username))
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "latency", "ms" to 700, "times" to 1))

        val events = Collections.synchronizedList(mutableListOf<FieldSyncEvent>())
        val collector = launch(start = CoroutineStart.UNDISPATCHED) { client.events.collect { events += it } }
        fun finishedRuns() = synchronized(events) { events.count { it is FieldSyncEvent.ImportFinished } }

        val first = async(Dispatchers.Default) { client.refresh(code) }
        waitUntil("the first refresh runs") { client.integration(code).status == IntegrationStatus.RUNNING }
        val queued = launch(Dispatchers.Default) { client.refresh(code) }
        delay(100)
        assertEquals(IntegrationStatus.RUNNING, client.integration(code).status, "a queued request shows while running")
        queued.cancelAndJoin()
        assertEquals(1uL, first.await().created)

        // Its caller is gone, so the extra run it asked for is cancelled with it; the integration rests.
        waitUntil("the first run is reported", detail = { events.toList() }) { finishedRuns() == 1 }
        client.awaitSettled(code)
        repeat(5) {
            assertEquals(IntegrationStatus.IDLE, client.integration(code).status, "not idle after the first run")
            delay(60)
        }
        assertEquals(1, finishedRuns(), "no further run: ${events.toList()}")
        collector.cancel()
        assertEquals(3, client.snapshot(code).size)
        assertEquals(0uL, client.refresh(code).created)
    }

    @Test
    fun `refreshes cancelled at random points converge`() = coTest(120.seconds) {
        val random = Random(20_261_123)
        val vendor = vendor(orders = 6)
        val client = vendor.client
        val code = vendor.code
        client.refresh(code, mode = RefreshMode.FULL_IMPORT)
        val expected = mutableMapOf<String, String>()

        repeat(6) { round ->
            val n = round % 6 + 1
            emulator.admin.patchWorkOrder(vendor.number(n), mapOf("clientInstructions" to "round $round"))
            expected[vendor.id(n)] = "round $round"
            emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "latency", "ms" to random.nextInt(0, 300), "times" to 1))
            val before = client.snapshot(code)
            val job = launch(Dispatchers.Default) { client.refresh(code, mode = if (random.nextBoolean()) RefreshMode.FULL_IMPORT else RefreshMode.CHANGES) }
            delay(random.nextLong(0, 250))
            job.cancelAndJoin()
            val during = client.snapshot(code)
            assertTrue(
                during == before || during.getValue(vendor.id(n)).clientInstructions == "round $round",
                "round $round: a snapshot is neither before nor after the import",
            )
            client.awaitSettled(code)
            emulator.admin.clearFaults()
        }

        client.refresh(code)
        val final: Map<String, Project> = client.snapshot(code)
        assertEquals(6, final.size)
        for ((id, instructions) in expected) assertEquals(instructions, final.getValue(id).clientInstructions, id)
        assertEquals(IntegrationStatus.IDLE, client.integration(code).status)
    }
}
