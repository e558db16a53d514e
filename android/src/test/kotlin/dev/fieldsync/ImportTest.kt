package dev.fieldsync

import dev.fieldsync.support.Json
import dev.fieldsync.support.workOrder
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.hours

class ImportTest : EmulatorTest() {

    @Test
    fun `a full import brings every assigned order, rejects a broken one alone, and shows details`() = coTest {
        val vendor = vendor()
        val admin = emulator.admin
        admin.putWorkOrders(
            listOf(
                workOrder(vendor.number(1), vendor.username, city = "Columbus"),
                workOrder(
                    vendor.number(2), vendor.username, city = "Dayton",
                    services = listOf("Grass Cut", "Debris Removal"),
                    extra = mapOf("options" to mapOf("check_in_required" to true), "gpsLatitude" to 39.76, "gpsLongitude" to -84.19),
                ),
                workOrder(vendor.number(3), vendor.username, city = "Toledo"),
                workOrder(vendor.number(4), vendor.username, city = "Akron"),
                // Missing address and services: rejected, the rest of the batch still imports.
                mapOf("workOrderNumber" to vendor.number(99), "assignedTo" to vendor.username),
                // Someone else's order never shows up.
                workOrder("${vendor.code}-other", null),
            ),
        )

        val report = vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertEquals(4uL, report.created, "report: $report")
        assertEquals(listOf(vendor.number(99)), report.rejected.map { it.workOrderNumber })
        assertTrue(report.rejected.single().reason.isNotBlank())
        assertEquals(0uL, report.updated)

        val summaries = vendor.client.projects(ProjectQuery(integration = vendor.code, sortByNumber = true))
        assertEquals((1..4).map { vendor.id(it) }, summaries.map { it.id })
        val second = summaries[1]
        assertEquals(vendor.code, second.integration)
        assertEquals(vendor.number(2), second.workOrderNumber)
        assertEquals("Dayton", second.city)
        assertEquals("1 Main St", second.address1)
        assertEquals("Open", second.clientStatus)
        assertEquals("2030-01-05", second.clientDueDate)

        val detail = vendor.client.project(vendor.id(2))
        assertEquals(listOf("Grass Cut", "Debris Removal"), detail.tasks.map { it.name })
        assertEquals("Do Debris Removal", detail.tasks[1].instructions)
        assertEquals("Gate code 4411", detail.clientInstructions)
        assertEquals(39.76, detail.latitude)
        assertEquals(true, Json.obj(detail.optionsJson)["check_in_required"])
        assertTrue(!detail.closed && !detail.removalPending)

        val integration = vendor.client.integration(vendor.code)
        assertEquals(IntegrationStatus.IDLE, integration.status)
        assertNotNull(integration.lastRefreshed)
        assertNull(integration.lastError)
    }

    @Test
    fun `project lists page, filter and search`() = coTest {
        val vendor = vendor()
        emulator.admin.putWorkOrders((1..30).map { workOrder(vendor.number(it), vendor.username, city = if (it % 2 == 0) "Dayton" else "Columbus") })
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)

        val pages = (0 until 3).map {
            vendor.client.projects(ProjectQuery(integration = vendor.code, sortByNumber = true, limit = 10u, offset = (it * 10).toUInt()))
        }
        assertTrue(pages.all { it.size == 10 }, "three full pages: ${pages.map { it.size }}")
        val ids = pages.flatten().map { it.id }
        assertEquals(30, ids.toSet().size, "pages do not overlap")
        assertEquals((1..30).map { vendor.id(it) }.toSet(), ids.toSet())
        assertEquals(emptyList(), vendor.client.projects(ProjectQuery(integration = vendor.code, limit = 10u, offset = 30u)))

        assertEquals(15, vendor.client.projects(ProjectQuery(integration = vendor.code, search = "Dayton")).size)
        assertEquals(30, vendor.client.projects(ProjectQuery(integration = vendor.code, clientStatus = "Open", limit = 100u)).size)
        assertEquals(0, vendor.client.projects(ProjectQuery(integration = vendor.code, clientStatus = "Cancelled")).size)
        assertEquals(0, vendor.client.projects(ProjectQuery(integration = "NOPE")).size)
    }

    @Test
    fun `a refresh applies an update, an unassign as Cancelled and a delete as Deleted`() = coTest {
        val vendor = vendor(orders = 5)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        val before = vendor.client.snapshot(vendor.code)

        val admin = emulator.admin
        admin.patchWorkOrder(vendor.number(1), mapOf("clientInstructions" to "Use the side gate", "clientDueDate" to "2030-02-01"))
        admin.unassign(vendor.number(2))
        admin.deleteWorkOrder(vendor.number(3))
        admin.putWorkOrder(workOrder(vendor.number(6), vendor.username, city = "Lima"))

        val report = vendor.client.refresh(vendor.code)
        assertEquals(1uL, report.created, "report: $report")
        assertEquals(1uL, report.cancelled, "report: $report")
        assertEquals(1uL, report.deleted, "report: $report")
        assertTrue(report.updated >= 1uL, "report: $report")
        assertEquals(0uL, report.removed, "a Refresh never removes")

        val after = vendor.client.snapshot(vendor.code)
        assertEquals((1..6).map { vendor.id(it) }, after.keys.toList())
        assertEquals("Use the side gate", after.getValue(vendor.id(1)).clientInstructions)
        assertEquals("2030-02-01", after.getValue(vendor.id(1)).clientDueDate)
        // Unassigned / deleted: the project stays and only its client status changes.
        assertEquals(before.getValue(vendor.id(2)).copy(clientStatus = "Cancelled"), after.getValue(vendor.id(2)))
        assertEquals(before.getValue(vendor.id(3)).copy(clientStatus = "Deleted"), after.getValue(vendor.id(3)))
        assertEquals(before.getValue(vendor.id(4)), after.getValue(vendor.id(4)))
        assertEquals(before.getValue(vendor.id(5)), after.getValue(vendor.id(5)))
        assertEquals("Lima", after.getValue(vendor.id(6)).city)

        // The same changes again change nothing.
        val again = vendor.client.refresh(vendor.code)
        assertEquals(listOf(0uL, 0uL, 0uL, 0uL), listOf(again.created, again.updated, again.cancelled, again.deleted), "report: $again")
        assertEquals(after, vendor.client.snapshot(vendor.code))
    }

    @Test
    fun `a full import removes projects the provider no longer lists`() = coTest {
        val vendor = vendor(orders = 3)
        vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        emulator.admin.deleteWorkOrder(vendor.number(3))
        val report = vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        assertEquals(1uL, report.removed, "report: $report")
        assertEquals(listOf(vendor.id(1), vendor.id(2)), vendor.client.snapshot(vendor.code).keys.toList())
    }

    @Test
    fun `a push key refreshes its integration and an unknown key changes nothing`() = coTest {
        val vendor = vendor(orders = 2)
        val key = vendor.client.pushKey(vendor.code)
        assertNull(vendor.client.refreshByPushKey("0".repeat(64)))
        assertEquals(0, vendor.client.snapshot(vendor.code).size)
        val report = assertNotNull(vendor.client.refreshByPushKey(key))
        assertEquals(2uL, report.created)
        assertEquals(2, vendor.client.snapshot(vendor.code).size)
    }

    @Test
    fun `sync refreshes only the integrations that are due`() = coTest {
        val fresh = vendor(orders = 1)
        val due = vendor(orders = 2, client = fresh.client, secrets = fresh.secrets)
        fresh.client.refresh(fresh.code, mode = RefreshMode.FULL_IMPORT)

        val outcomes = fresh.client.sync(1.hours)
        val outcome = outcomes.single { it.code == due.code }
        assertNull(outcome.error, "outcomes: $outcomes")
        assertEquals(2uL, assertNotNull(outcome.report, "outcomes: $outcomes").created)
        assertNull(outcomes.firstOrNull { it.code == fresh.code }?.report, "the fresh one is not refreshed: $outcomes")

        val again = fresh.client.sync(1.hours)
        assertTrue(again.all { it.report == null && it.error == null }, "nothing is due any more: $again")
    }
}
