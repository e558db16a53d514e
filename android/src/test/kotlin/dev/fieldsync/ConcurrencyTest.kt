package dev.fieldsync

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertTrue

class ConcurrencyTest : EmulatorTest() {

    @Test
    fun `many coroutines and plain threads refresh, list and read at once`() = coTest {
        val orders = 40
        val vendor = vendor(orders = orders)
        val client = vendor.client
        val code = vendor.code
        client.refresh(code, mode = RefreshMode.FULL_IMPORT)

        val failures = ConcurrentLinkedQueue<String>()
        val calls = AtomicInteger()
        fun fail(what: String, error: Throwable) { failures += "$what: $error" }

        // One of four kinds of call; every answer is checked, not just "did not throw".
        suspend fun call(kind: Int, worker: Int) {
            calls.incrementAndGet()
            when (kind) {
                0 -> client.refresh(code, mode = if (worker % 8 == 0) RefreshMode.FULL_IMPORT else RefreshMode.CHANGES)
                1 -> {
                    val offset = (worker * 7) % orders
                    val page = client.projects(ProjectQuery(integration = code, sortByNumber = true, limit = 10u, offset = offset.toUInt()))
                    check(page.size == minOf(10, orders - offset)) { "page at $offset has ${page.size}" }
                    check(page.all { it.id.startsWith("$code::") }) { "foreign project in $page" }
                    val all = client.projects(ProjectQuery(integration = code, limit = 1000u))
                    check(all.size == orders) { "a full list seen mid-import has ${all.size} projects, not $orders" }
                }
                2 -> check(client.integrations().single().code == code) { "integrations" }
                else -> {
                    val n = worker % orders + 1
                    check(client.project(vendor.id(n)).workOrderNumber == vendor.number(n)) { "project $n" }
                    check(client.version().isNotEmpty())
                }
            }
        }

        // Plain threads (no coroutines) calling the generated API directly, blocking.
        val threads = (0 until 4).map { t ->
            Thread {
                repeat(8) { round ->
                    try {
                        runBlocking { call((t + round) % 4, t * 31 + round) }
                    } catch (error: Throwable) {
                        fail("thread $t round $round", error)
                    }
                }
            }.apply { start() }
        }
        coroutineScope {
            // The provider keeps changing while the clients work.
            val provider = launch(Dispatchers.IO) {
                for (n in 1..20) {
                    emulator.admin.patchWorkOrder(vendor.number(n), mapOf("clientInstructions" to "changed $n"))
                    delay(5)
                }
            }
            (0 until 48).map { worker ->
                launch(Dispatchers.Default) {
                    repeat(4) { round ->
                        try {
                            call((worker + round) % 4, worker)
                        } catch (error: Throwable) {
                            fail("coroutine $worker round $round", error)
                        }
                    }
                }
            }.joinAll()
            provider.join()
        }
        threads.forEach { it.join() }
        assertTrue(failures.isEmpty(), "${failures.size} of ${calls.get()} calls failed:\n${failures.joinToString("\n")}")

        waitUntil("the integration settles") { client.integration(code).status == IntegrationStatus.IDLE }
        client.refresh(code)
        val final = client.snapshot(code)
        assertEquals(orders, final.size)
        for (n in 1..20) assertEquals("changed $n", final.getValue(vendor.id(n)).clientInstructions, "order $n")
        assertEquals(IntegrationStatus.IDLE, client.integration(code).status)
    }

    @Test
    fun `two integrations refresh in parallel without mixing their projects`() = coTest {
        val a = vendor(orders = 25)
        val b = vendor(orders = 35, client = a.client, secrets = a.secrets)
        val client = a.client
        listOf(a, b).map { vendor ->
            async(Dispatchers.Default) { repeat(6) { client.refresh(vendor.code, mode = if (it % 2 == 0) RefreshMode.FULL_IMPORT else RefreshMode.CHANGES) } }
        }.awaitAll()
        assertEquals((1..25).map { a.id(it) }.toSet(), client.snapshot(a.code).keys)
        assertEquals((1..35).map { b.id(it) }.toSet(), client.snapshot(b.code).keys)
        assertEquals(60, client.projects(ProjectQuery(limit = 1000u)).size)
        assertTrue(client.integrations().all { it.status == IntegrationStatus.IDLE && it.lastError == null })
    }

    @Test
    fun `concurrent refreshes of one integration are coalesced, not queued one by one`() = coTest {
        val vendor = vendor(orders = 3)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "latency", "ms" to 400))
        val callers = 16
        val started = System.nanoTime()
        val reports = (0 until callers).map { async(Dispatchers.Default) { vendor.client.refresh(vendor.code) } }.awaitAll()
        val elapsedMs = (System.nanoTime() - started) / 1_000_000
        emulator.admin.clearFaults()
        assertEquals(callers, reports.size)
        // One run in flight plus one that serves everyone who came meanwhile: about 2 x 400 ms, not 16 x 400 ms.
        assertTrue(elapsedMs < 2_400, "16 refreshes took $elapsedMs ms: they were not coalesced")
        assertEquals(IntegrationStatus.IDLE, vendor.client.integration(vendor.code).status)
    }
}
