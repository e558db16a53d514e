package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.OutboxKind
import dev.fieldsync.ffi.OutboxState
import dev.fieldsync.ffi.ProjectEdit
import dev.fieldsync.ffi.RefreshMode
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

class FieldWorkTest : EmulatorTest() {

    @Test
    fun `a status edit changes the project at once and queues one outbox entry`() = coTest {
        val vendor = vendor(orders = 2)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertEquals(emptyList(), vendor.client.outbox(vendor.code))

        val edited = vendor.client.editProject(vendor.id(1), ProjectEdit(status = "Complete"))
        assertEquals("Complete", edited.status)
        assertEquals("Complete", vendor.client.project(vendor.id(1)).status)

        val entry = vendor.client.outbox(vendor.code).single()
        assertEquals(OutboxKind.STATUS, entry.kind)
        assertEquals(vendor.id(1), entry.project)
        assertEquals(OutboxState.QUEUED, entry.state)
        assertEquals(0u, entry.attempts)
        assertTrue(Regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").matches(entry.id), "a UUID: ${entry.id}")
        assertTrue(entry.createdAt > 1_600_000_000L)

        // The same status again, or a non-status edit, queues nothing more.
        vendor.client.editProject(vendor.id(1), ProjectEdit(status = "Complete"))
        vendor.client.editProject(vendor.id(1), ProjectEdit(dueDate = "2030-03-01", instructions = "Bring a ladder"))
        assertEquals(listOf(entry.id), vendor.client.outbox(vendor.code).map { it.id })
        val project = vendor.client.project(vendor.id(1))
        assertEquals("2030-03-01", project.dueDate)
        assertEquals("Bring a ladder", project.instructions)
        assertNotEquals("Complete", vendor.client.project(vendor.id(2)).status, "other projects untouched")
    }

    @Test
    fun `pending field work keeps a project through a full import and blocks deletes until forced`() = coTest {
        val vendor = vendor(orders = 2)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        vendor.client.editProject(vendor.id(1), ProjectEdit(status = "Complete"))
        val entry = vendor.client.outbox(vendor.code).single()

        emulator.admin.deleteWorkOrder(vendor.number(1))
        val report = vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertEquals(listOf(vendor.id(1)), report.kept, "report: $report")
        assertTrue(vendor.client.project(vendor.id(1)).removalPending)

        assertFailsWith<FieldSyncException.Conflict> { vendor.client.deleteProject(vendor.id(1)) }
        assertFailsWith<FieldSyncException.Conflict> { vendor.client.deleteIntegration(vendor.code) }
        assertEquals(vendor.code, vendor.client.integration(vendor.code).code, "a refused delete keeps everything")

        val export = assertNotNull(vendor.client.deleteIntegration(vendor.code, force = true), "forced, the work is exported")
        assertTrue(export.contains(entry.id), "the export holds the pending entry: $export")
        assertFailsWith<FieldSyncException.NotFound> { vendor.client.integration(vendor.code) }
        assertTrue(vendor.secrets.values.keys.none { it.startsWith("${vendor.code}/") }, "secrets deleted: ${vendor.secrets.values.keys}")
    }

    @Test
    fun `a closed project refuses edits and stays closed through imports`() = coTest {
        val vendor = vendor(orders = 1)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertTrue(vendor.client.closeProject(vendor.id(1)).closed)
        assertFailsWith<FieldSyncException.Conflict> { vendor.client.editProject(vendor.id(1), ProjectEdit(status = "Complete")) }
        emulator.admin.patchWorkOrder(vendor.number(1), mapOf("clientInstructions" to "changed"))
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertTrue(vendor.client.project(vendor.id(1)).closed)
        assertEquals(emptyList(), vendor.client.outbox(vendor.code))
    }

    @Test
    fun `a reopened cache keeps integrations, projects and the outbox`() = coTest {
        val directory = Files.createTempDirectory("fieldsync-kt-reopen-")
        try {
            val secrets = InMemorySecretStore()
            val first = FieldSyncClient.open(config(directory), secrets)
            val vendor = vendor(orders = 3, client = first, secrets = secrets)
            first.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
            first.editProject(vendor.id(2), ProjectEdit(status = "Complete"))
            val snapshot = first.snapshot(vendor.code)
            val outbox = first.outbox(vendor.code)
            first.close()

            val second = closeLater(FieldSyncClient.open(config(directory), secrets))
            assertEquals(snapshot, second.snapshot(vendor.code))
            assertEquals(outbox, second.outbox(vendor.code))
            assertEquals(0uL, second.refresh(vendor.code).created, "the credentials still come from the secret store")
        } finally {
            directory.toFile().deleteRecursively()
        }
    }

    private fun config(directory: java.nio.file.Path) = dev.fieldsync.ffi.FieldSyncConfig(
        databasePath = directory.resolve("cache.db").toString(),
        photoDirectory = directory.resolve("photos").toString(),
        deviceId = "device-kt",
    )
}
