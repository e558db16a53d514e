package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import dev.fieldsync.support.workOrder
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.ProjectEdit
import dev.fieldsync.ffi.RefreshMode
import java.net.ServerSocket
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

class ErrorsTest : EmulatorTest() {

    private fun getWorkOrdersFault(kind: String, vararg params: Pair<String, Any?>) =
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to kind, "times" to 1) + params)

    @Test
    fun `invalid input is refused with InvalidInput and nothing is written`() = coTest {
        val vendor = vendor(link = false)
        val client = vendor.client
        val good = vendor.newIntegration()
        assertFailsWith<FieldSyncException.InvalidInput> { client.createIntegration(good, password = "") }
        assertFailsWith<FieldSyncException.InvalidInput> { client.createIntegration(good.copy(code = "has space"), vendor.password) }
        assertFailsWith<FieldSyncException.InvalidInput> { client.createIntegration(good.copy(code = "X".repeat(17)), vendor.password) }
        val insecure = assertFailsWith<FieldSyncException.InvalidInput> {
            client.createIntegration(good.copy(baseUrl = "http://provider.example.com/api/v2"), vendor.password)
        }
        assertTrue(insecure.message.orEmpty().contains("https"), "says why: ${insecure.message}")
        assertFailsWith<FieldSyncException.InvalidInput> { client.createIntegration(good.copy(baseUrl = "not a url"), vendor.password) }
        assertEquals(emptyList(), client.integrations(), "nothing was saved")
        assertTrue(vendor.secrets.values.isEmpty(), "no secret was saved: ${vendor.secrets.values.keys}")

        vendor.link()
        assertFailsWith<FieldSyncException.InvalidInput> { client.project("no-separator") }
        assertFailsWith<FieldSyncException.InvalidInput> { client.project("${vendor.code}::") }
        assertFailsWith<FieldSyncException.InvalidInput> {
            client.editIntegration(vendor.code, IntegrationEdit(baseUrl = "ftp://127.0.0.1/"))
        }
        assertEquals(emulator.wireBaseUrl, client.integration(vendor.code).baseUrl, "a refused edit changes nothing")

        val directory = Files.createTempDirectory("fieldsync-kt-bad-")
        try {
            assertFailsWith<FieldSyncException.InvalidInput> {
                FieldSyncClient.open(
                    FieldSyncConfig(directory.resolve("c.db").toString(), directory.resolve("p").toString(), deviceId = " "),
                    InMemorySecretStore(),
                )
            }
        } finally {
            directory.toFile().deleteRecursively()
        }
    }

    @Test
    fun `unknown integrations and projects are NotFound`() = coTest {
        val vendor = vendor(orders = 1)
        val client = vendor.client
        assertFailsWith<FieldSyncException.NotFound> { client.integration("NOPE") }
        assertFailsWith<FieldSyncException.NotFound> { client.refresh("NOPE") }
        assertFailsWith<FieldSyncException.NotFound> { client.validate("NOPE") }
        assertFailsWith<FieldSyncException.NotFound> { client.pushKey("NOPE") }
        assertFailsWith<FieldSyncException.NotFound> { client.deleteIntegration("NOPE") }
        assertFailsWith<FieldSyncException.NotFound> { client.project("${vendor.code}::missing") }
        assertFailsWith<FieldSyncException.NotFound> { client.editProject("${vendor.code}::missing", ProjectEdit(status = "Complete")) }
        val notFound = assertFailsWith<FieldSyncException.NotFound> { client.project("NOPE::1") }
        assertTrue(notFound.message.orEmpty().contains("NOPE"), "names what was looked for: ${notFound.message}")
    }

    @Test
    fun `a duplicate code is a Conflict`() = coTest {
        val vendor = vendor()
        val duplicate = assertFailsWith<FieldSyncException.Conflict> { vendor.link() }
        assertTrue(duplicate.message.orEmpty().contains(vendor.code), "names the code: ${duplicate.message}")
        assertEquals(1, vendor.client.integrations().size)
    }

    @Test
    fun `a provider 500 is a retryable Network error that leaves the cache as it was`() = coTest {
        val vendor = vendor(orders = 2)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        val before = vendor.client.snapshot(vendor.code)
        emulator.admin.patchWorkOrder(vendor.number(1), mapOf("clientInstructions" to "new"))

        getWorkOrdersFault("http500")
        val error = assertFailsWith<FieldSyncException.Network> { vendor.client.refresh(vendor.code) }
        assertTrue(error.isRetryable)
        val failed = vendor.client.integration(vendor.code)
        assertEquals(IntegrationStatus.ERROR, failed.status)
        assertNotNull(failed.lastError)
        assertEquals(before, vendor.client.snapshot(vendor.code))

        vendor.client.refresh(vendor.code)
        val recovered = vendor.client.integration(vendor.code)
        assertEquals(IntegrationStatus.IDLE, recovered.status)
        assertNull(recovered.lastError)
        assertEquals("new", vendor.client.project(vendor.id(1)).clientInstructions)
    }

    @Test
    fun `a 503 carries the provider's Retry-After`() = coTest {
        val vendor = vendor(orders = 1)
        getWorkOrdersFault("http503", "retryAfter" to 7)
        val error = assertFailsWith<FieldSyncException.Network> { vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT) }
        assertEquals(7uL, error.retryAfterSecs)
        assertEquals(7.seconds, error.retryAfter)
    }

    @Test
    fun `a dropped connection or a refused one is a Network error`() = coTest {
        val vendor = vendor(orders = 1)
        getWorkOrdersFault("dropBefore")
        assertFailsWith<FieldSyncException.Network> { vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT) }

        val closedPort = ServerSocket(0).use { it.localPort }
        vendor.client.editIntegration(vendor.code, IntegrationEdit(baseUrl = "http://127.0.0.1:$closedPort/api/v2"))
        assertFailsWith<FieldSyncException.Network> { vendor.client.validate(vendor.code) }
        assertFailsWith<FieldSyncException.Network> { vendor.client.refresh(vendor.code) }
        assertEquals(IntegrationStatus.ERROR, vendor.client.integration(vendor.code).status)
    }

    @Test
    fun `a truncated answer fails the refresh and changes nothing`() = coTest {
        val vendor = vendor(orders = 3)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        val before = vendor.client.snapshot(vendor.code)
        emulator.admin.putWorkOrder(workOrder(vendor.number(4), vendor.username))
        getWorkOrdersFault("truncate")
        val error = assertFailsWith<FieldSyncException> { vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT) }
        assertTrue(error is FieldSyncException.Network || error is FieldSyncException.Provider, "got $error")
        assertEquals(before, vendor.client.snapshot(vendor.code), "nothing of the broken answer was applied")
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertEquals(4, vendor.client.snapshot(vendor.code).size, "the next refresh converges")
    }

    @Test
    fun `refused credentials are Auth`() = coTest {
        val vendor = vendor(orders = 1, link = false)
        vendor.link(password = "wrong-password")
        val refused = assertFailsWith<FieldSyncException.Auth> { vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT) }
        assertFalse(refused.message.orEmpty().contains("wrong-password"), "no secret in the message: ${refused.message}")
        assertFalse(refused.message.orEmpty().contains(sha1Hex("wrong-password")), "no secret in the message: ${refused.message}")
        assertFalse(refused.isRetryable)
        assertEquals(IntegrationStatus.ERROR, vendor.client.integration(vendor.code).status)

        vendor.client.editIntegration(vendor.code, IntegrationEdit(), password = vendor.password)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        getWorkOrdersFault("http401")
        assertFailsWith<FieldSyncException.Auth> { vendor.client.refresh(vendor.code) }
    }

    @Test
    fun `a failing secret store surfaces as Storage and leaves no half-created integration`() = coTest {
        for (unexpected in listOf(false, true)) {
            val vendor = vendor(link = false)
            vendor.secrets.failWrites = true
            vendor.secrets.failWithUnexpected = unexpected
            val error = assertFailsWith<FieldSyncException.Storage>("unexpected=$unexpected") { vendor.link() }
            assertTrue(error.message.orEmpty().isNotBlank())
            assertEquals(emptyList(), vendor.client.integrations(), "unexpected=$unexpected")
            vendor.secrets.failWrites = false
            vendor.link()
            assertEquals(listOf(vendor.code), vendor.client.integrations().map { it.code })
        }
    }
}
