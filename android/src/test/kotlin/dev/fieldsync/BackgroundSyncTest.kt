package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import dev.fieldsync.support.Json
import dev.fieldsync.support.locationFix
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.BackgroundReason
import dev.fieldsync.ffi.Cancellation
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.StopCause
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * Living inside a phone app, against the emulator: cancelling the coroutine of an upload aborts it mid-body
 * (the provider stops receiving bytes) and it goes again later under the same UUID; pause() releases the
 * database files and resume() finishes the interrupted relay exactly once; a Cancellation handle stops a
 * background run; a background run returns at its deadline with work left, and a second run finishes.
 */
class BackgroundSyncTest : EmulatorTest() {

    /** A vendor with the field orders imported, its cache in [directory]. */
    private suspend fun site(directory: Path = tempDirectory()): Vendor {
        val secrets = InMemorySecretStore()
        val vendor = vendor(client = openClient(secrets, directory), secrets = secrets)
        vendor.assignFieldOrders()
        assertEquals(4uL, vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT).created)
        emulator.admin.call("DELETE", "/traffic")
        return vendor
    }

    /** [count] check-ins queued, spread over orders 1, 3 and 4 (order 2's check-ins wait for a photo). */
    private suspend fun Vendor.checkIns(count: Int): List<String> =
        (0 until count).map { client.checkIn(id(listOf(1, 3, 4)[it % 3]), locationFix()).uuid }

    private fun Vendor.receivedCheckIns(): List<String> = received("checkin").map { it["uuid"] as String }.sorted()

    /** The provider's request-body accounting of `uploadPictures`. */
    private fun traffic(): Map<String, Any?> = Json.obj(emulator.admin.call("GET", "/traffic?endpoint=uploadPictures"))

    private fun Map<String, Any?>.long(key: String): Long = (this[key] as Number).toLong()

    /** This process's open descriptors of the cache database, its WAL and its SHM file. */
    private fun databaseDescriptors(directory: Path): List<String> {
        val database = directory.toRealPath().resolve("cache.db").toString()
        val names = setOf(database, "$database-wal", "$database-shm")
        return File("/proc/self/fd").listFiles().orEmpty().mapNotNull { fd ->
            runCatching { Files.readSymbolicLink(fd.toPath()).toString() }.getOrNull()?.takeIf { it in names }
        }
    }

    @Test
    fun `cancelling the coroutine aborts the upload mid-body and it goes again under the same UUID`() = coTest {
        val site = site()
        val uuid = site.checkIns(1).single()
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "slowBody", "bytes" to 32, "everyMs" to 40, "times" to 1))

        val push = launch(Dispatchers.Default) { site.client.pushOutbox(site.code) }
        waitUntil("the upload is under way", timeout = 10.seconds, every = 10.milliseconds, detail = { traffic() }) {
            traffic().let { it.long("inFlight") == 1L && it.long("bodyBytesReceived") > 0 }
        }
        val cancelled = System.nanoTime()
        push.cancelAndJoin()
        val joinMs = (System.nanoTime() - cancelled) / 1_000_000
        assertTrue(joinMs < 1_000, "cancelAndJoin took $joinMs ms")

        waitUntil("the provider saw the client leave", timeout = 3.seconds, detail = { traffic() }) { traffic().long("inFlight") == 0L }
        val seen = traffic()
        assertEquals(1L, seen.long("abandoned"), "$seen")
        delay(200)
        assertEquals(seen.long("bodyBytesReceived"), traffic().long("bodyBytesReceived"), "the provider stopped receiving bytes")
        assertEquals(emptyList(), site.receivedCheckIns(), "nothing half-delivered was stored")

        val outcome = site.client.pushOutbox(site.code)
        assertEquals(1uL, outcome.delivered, "$outcome")
        assertEquals(listOf(uuid), site.receivedCheckIns(), "the same UUID")
        assertEquals(1L, (site.received("checkin").single()["deliveries"] as Number).toLong(), "stored once")
        assertEquals(emptyList(), site.client.outbox(site.code))
    }

    @Test
    fun `pause closes the database and resume finishes the relay exactly once`() = coTest {
        val directory = tempDirectory()
        val site = site(directory)
        val uuids = site.checkIns(9)
        assertTrue(databaseDescriptors(directory).isNotEmpty(), "the open library holds the database")
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "latency", "ms" to 150))

        val relay = async(Dispatchers.Default) { runCatching { site.client.pushOutbox(site.code) } }
        waitUntil("the relay is under way", detail = { traffic() }) { site.receivedCheckIns().isNotEmpty() }
        site.client.pause()
        val outcome = withTimeout(10.seconds) { relay.await() }
        assertIs<FieldSyncException.Paused>(outcome.exceptionOrNull(), "$outcome")
        assertEquals(emptyList(), databaseDescriptors(directory), "no descriptor of the database, WAL or SHM file")
        assertTrue(site.client.isPaused)
        assertFailsWith<FieldSyncException.Paused> { site.client.projects(ProjectQuery()) }
        assertFailsWith<FieldSyncException.Paused> { site.client.pushOutbox(site.code) }
        val sent = site.receivedCheckIns().size
        assertTrue(sent < uuids.size, "the pause interrupted the relay ($sent sent)")

        emulator.admin.clearFaults()
        site.client.resume()
        assertFalse(site.client.isPaused)
        waitUntil("resume() delivered the rest", timeout = 20.seconds, detail = { site.receivedCheckIns().size }) {
            site.receivedCheckIns().size >= uuids.size
        }
        assertEquals(uuids.sorted(), site.receivedCheckIns(), "each check-in exactly once")
        assertTrue(site.received("checkin").all { (it["deliveries"] as Number).toLong() == 1L }, "stored once each")
        assertTrue(databaseDescriptors(directory).isNotEmpty(), "reopened")
    }

    @Test
    fun `a cancellation handle stops a background run promptly`() = coTest {
        val site = site()
        site.checkIns(3)
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "slowBody", "bytes" to 16, "everyMs" to 50))
        val handle = Cancellation()

        val run = async(Dispatchers.Default) {
            site.client.runBackgroundSync(30.seconds, BackgroundReason.PUSH, cancel = handle)
        }
        waitUntil("the upload started", timeout = 10.seconds, every = 10.milliseconds) { traffic().long("bodyBytesReceived") > 0 }
        val started = System.nanoTime()
        handle.cancel()
        val result = run.await()
        val tookMs = (System.nanoTime() - started) / 1_000_000
        assertTrue(handle.isCancelled())
        assertEquals(StopCause.CANCELLED, result.stopped, "$result")
        assertTrue(result.moreWork, "$result")
        assertEquals(BackgroundVerdict.RETRY, BackgroundSync.verdict(result))
        assertTrue(tookMs < 2_000, "stopped promptly, not at the deadline ($tookMs ms)")
        assertEquals(emptyList(), site.receivedCheckIns())
    }

    @Test
    fun `a background run stops at its deadline and a second run finishes`() = coTest {
        val site = site()
        val uuids = site.checkIns(15)
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "latency", "ms" to 500))

        val started = System.nanoTime()
        val first = site.client.runBackgroundSync(2.seconds, BackgroundReason.SCHEDULED, refreshOlderThan = 15.minutes)
        val tookMs = (System.nanoTime() - started) / 1_000_000
        assertEquals(StopCause.DEADLINE, first.stopped, "$first")
        assertTrue(first.moreWork, "$first")
        assertNotNull(first.nextRunAt, "$first")
        assertTrue(first.delivered in 1uL until uuids.size.toULong(), "$first")
        assertTrue(tookMs < 3_000, "returned at its deadline ($tookMs ms)")
        assertFalse(first.authFailed)
        assertEquals(BackgroundVerdict.RETRY, BackgroundSync.verdict(first))

        val second = site.client.runBackgroundSync(60.seconds, BackgroundReason.CONNECTIVITY_REGAINED)
        assertNull(second.stopped, "$second")
        assertFalse(second.moreWork, "$second")
        assertEquals(BackgroundReason.CONNECTIVITY_REGAINED, second.reason)
        assertEquals(uuids.size.toULong(), first.delivered + second.delivered)
        assertEquals(BackgroundVerdict.SUCCESS, BackgroundSync.verdict(second))
        assertEquals(uuids.sorted(), site.receivedCheckIns(), "each check-in exactly once")
    }
}
