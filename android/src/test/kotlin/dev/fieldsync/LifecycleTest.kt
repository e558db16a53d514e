package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.EventListener
import dev.fieldsync.ffi.FieldSync
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.RefreshMode
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class LifecycleTest : EmulatorTest() {

    private fun config(directory: Path) =
        FieldSyncConfig(directory.resolve("cache.db").toString(), directory.resolve("photos").toString(), "device-kt")

    /** Runs [block] on a daemon thread; true when it returned within [millis] (a hung native call stays parked). */
    private fun returnsWithin(millis: Long, block: () -> Unit): Boolean {
        val thread = Thread(block, "lifecycle-probe").apply { isDaemon = true; start() }
        thread.join(millis)
        return !thread.isAlive
    }

    @Test
    fun `shutdown returns when an event listener is registered`() {
        val directory = Files.createTempDirectory("fieldsync-kt-shutdown-")
        val listener = object : EventListener { override fun onEvent(event: FieldSyncEvent) {} }
        val raw = FieldSync.open(config(directory), InMemorySecretStore(), listener)
        // Regression: shutdown() used to drop the hub's Sender and join the event thread while the engine's
        // observer still held a clone of that Sender, so it never returned (fixed by a Stop message).
        val returned = returnsWithin(5_000) { raw.shutdown() }
        if (returned) {
            raw.close()
            directory.toFile().deleteRecursively()
        }
        assertTrue(returned, "FieldSync.shutdown() with a listener did not return within 5 s (deadlock)")
    }

    @Test
    fun `shutdown returns without a listener`() {
        val directory = Files.createTempDirectory("fieldsync-kt-shutdown-")
        try {
            val raw = FieldSync.open(config(directory), InMemorySecretStore(), null)
            assertTrue(returnsWithin(5_000) { raw.shutdown() })
            raw.close()
        } finally {
            directory.toFile().deleteRecursively()
        }
    }

    @Test
    fun `closing the client delivers the last events and returns`() = coTest {
        val directory = Files.createTempDirectory("fieldsync-kt-close-").also { closeLater(AutoCloseable { it.toFile().deleteRecursively() }) }
        val secrets = InMemorySecretStore()
        val client = FieldSyncClient.open(config(directory), secrets)
        val vendor = vendor(orders = 2, client = client, secrets = secrets)
        val heard = CopyOnWriteArrayList<FieldSyncEvent>()
        val collector = async(Dispatchers.Default) { client.events.collect { heard += it } }
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertTrue(returnsWithin(5_000) { client.close() }, "close() did not return")
        waitUntil("the final status was delivered before the event thread ended", detail = { heard }) {
            heard.lastOrNull() == FieldSyncEvent.IntegrationStatusChanged(vendor.code, IntegrationStatus.IDLE, null)
        }
        collector.cancel()
        client.close() // idempotent
    }

    @Test
    fun `closing the client while a refresh is in flight cancels it and leaves the cache as it was`() = coTest {
        val directory = Files.createTempDirectory("fieldsync-kt-close-").also { closeLater(AutoCloseable { it.toFile().deleteRecursively() }) }
        val secrets = InMemorySecretStore()
        val client = FieldSyncClient.open(config(directory), secrets)
        val vendor = vendor(orders = 3, client = client, secrets = secrets)
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "latency", "ms" to 600, "times" to 1))
        val refresh = async(Dispatchers.Default) { runCatching { client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT) } }
        waitUntil("the refresh is running") { client.raw.integration(vendor.code).status == IntegrationStatus.RUNNING }
        // close() shuts the library down: long calls are cancelled and every library thread is joined.
        assertTrue(returnsWithin(2_000) { client.close() }, "close() hung")
        val failure = refresh.await().exceptionOrNull()
        assertTrue(failure is dev.fieldsync.ffi.FieldSyncException.Cancelled, "the refresh ended with $failure")

        // Nothing half-written: the cancelled import rolled back and the integration is not left running.
        val reopened = closeLater(FieldSyncClient.open(config(directory), secrets))
        assertEquals(0, reopened.snapshot(vendor.code).size)
        assertTrue(reopened.integration(vendor.code).status != IntegrationStatus.RUNNING)
    }
}
