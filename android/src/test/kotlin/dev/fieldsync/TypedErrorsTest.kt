package dev.fieldsync

import dev.fieldsync.ffi.Cancellation
import dev.fieldsync.ffi.CheckInRules
import dev.fieldsync.ffi.ConflictKind
import dev.fieldsync.ffi.EvidenceType
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.NewLocalProject
import dev.fieldsync.ffi.ProjectEdit
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.RequirementKind
import dev.fieldsync.support.NEAR
import dev.fieldsync.support.PhotoFixtures
import dev.fieldsync.support.locationFix
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.seconds

/**
 * Every typed error of the bindings, raised by the real library against the emulator and matched by its type
 * and payload, never by its text. (SurveyIncomplete: SurveyTest; Internal from a failing host callback:
 * CheckInTest; Storage from a failing secret store: ErrorsTest; DeadlineReached: BackgroundSyncTest ends a
 * run at its deadline, which is a result, not an error.)
 */
class TypedErrorsTest : EmulatorTest() {

    private suspend fun site(): Vendor = vendor().also {
        it.assignFieldOrders()
        it.client.refresh(it.code, mode = RefreshMode.FULL_IMPORT)
    }

    @Test
    fun `network, auth and provider failures carry what the app acts on`() = coTest {
        val vendor = vendor(orders = 1)
        val client = vendor.client
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "http503", "retryAfter" to 7, "times" to 1))
        val busy = assertFailsWith<FieldSyncException.Network> { client.refresh(vendor.code) }
        assertEquals(7uL, busy.retryAfterSecs)

        client.editIntegration(vendor.code, IntegrationEdit(baseUrl = "http://127.0.0.1:9/api/v2"))
        val offline = assertFailsWith<FieldSyncException.Network> { client.refresh(vendor.code) }
        assertEquals(null, offline.retryAfterSecs)
        client.editIntegration(vendor.code, IntegrationEdit(baseUrl = emulator.wireBaseUrl))

        client.editIntegration(vendor.code, IntegrationEdit(), password = "wrong password")
        val refused = assertFailsWith<FieldSyncException.Auth> { client.refresh(vendor.code) }
        assertEquals(vendor.code, refused.integration, "names the integration")
        // In a sync the same failure is the outcome's typed error.
        val outcome = client.sync(0.hours).single { it.code == vendor.code }
        assertEquals(vendor.code, assertIs<FieldSyncException.Auth>(outcome.error).integration)
        client.editIntegration(vendor.code, IntegrationEdit(), password = vendor.password)

        // A redirect is never followed: the integration's URL must be fixed, so it is the provider's problem.
        emulator.admin.addFault(mapOf("endpoint" to "getWorkOrders", "kind" to "redirect", "location" to "http://elsewhere.example/", "times" to 1))
        assertFailsWith<FieldSyncException.Provider> { client.refresh(vendor.code, RefreshMode.FULL_IMPORT) }
        client.refresh(vendor.code, RefreshMode.FULL_IMPORT) // recovers
    }

    @Test
    fun `a password the secret store cannot decrypt is SecretUnreadable until the user signs in again`() = coTest {
        val vendor = vendor(orders = 1)
        vendor.secrets.undecryptable = setOf("${vendor.code}/password_sha1")

        val unreadable = assertFailsWith<FieldSyncException.SecretUnreadable> {
            vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT)
        }
        assertEquals(vendor.code, unreadable.integration, "names the integration")
        val integration = vendor.client.integration(vendor.code)
        assertEquals(IntegrationStatus.ERROR, integration.status, "not a missing password: an error the user sees")
        assertEquals(emptyList(), vendor.client.projects(ProjectQuery()), "the cache is as it was")
        // Background runs do not retry it: WorkManager gets a failure, the app asks the user to sign in.
        val run = vendor.client.runBackgroundSync(30.seconds, refreshOlderThan = 0.seconds)
        assertTrue(run.authFailed, "run: $run")
        assertEquals(BackgroundVerdict.FAILURE, BackgroundSync.verdict(run))
        assertEquals(BackgroundVerdict.FAILURE, BackgroundSync.verdict(unreadable))

        vendor.secrets.undecryptable = emptySet()
        vendor.client.editIntegration(vendor.code, IntegrationEdit(), password = vendor.password)
        assertEquals(1uL, vendor.client.refresh(vendor.code, mode = RefreshMode.FULL_IMPORT).created)
        assertEquals(IntegrationStatus.IDLE, vendor.client.integration(vendor.code).status)
    }

    @Test
    fun `a refused check-in lists its project and every failed rule`() = coTest {
        val site = site()
        site.client.editIntegration(site.code, IntegrationEdit(checkIn = CheckInRules(refuseUncertified = true)))
        val far = locationFix(NEAR.first + 0.05 to NEAR.second, accuracyM = 500.0)
        val refused = assertFailsWith<FieldSyncException.CheckInRefused> { site.client.checkIn(site.id(1), far) }
        assertEquals(site.id(1), refused.project)
        assertEquals(2, refused.failedRules.size, "distance and accuracy: ${refused.failedRules}")
        assertEquals(emptyList(), site.client.outbox(site.code), "nothing written")
    }

    @Test
    fun `input, lookups and completion are typed`() = coTest {
        val site = vendor()
        site.assignFieldOrders()
        emulator.admin.setOptions(site.number(2), mapOf("photos_required" to mapOf("after" to 1)))
        site.client.refresh(site.code, mode = RefreshMode.FULL_IMPORT)
        val client = site.client
        assertFailsWith<FieldSyncException.InvalidInput> { client.checkIn(site.id(1), locationFix(Double.NaN to 1.0)) }
        assertFailsWith<FieldSyncException.NotFound> { client.project("${site.code}::404") }
        client.editProject(site.id(1), ProjectEdit(status = "Open")) // a project exists and can be edited
        val blocked = assertFailsWith<FieldSyncException.CompletionBlocked> { client.completeProject(site.id(2)) }
        val photos = blocked.unmet.filter { it.kind == RequirementKind.PHOTOS }
        assertEquals(listOf("Debris Removal", "Grass Cut"), photos.map { it.task }.sortedBy { it })
        assertTrue(photos.all { it.evidence == EvidenceType.AFTER && it.have == 0u && it.need == 1u }, "$photos")
    }

    @Test
    fun `each conflict says which one it is`() = coTest {
        val site = site()
        val client = site.client
        suspend fun conflict(expected: ConflictKind, block: suspend () -> Unit): ConflictKind =
            assertFailsWith<FieldSyncException.Conflict>("$expected") { block() }.kind

        assertEquals(ConflictKind.DUPLICATE_INTEGRATION, conflict(ConflictKind.DUPLICATE_INTEGRATION) { site.link() })

        val checkIn = client.checkIn(site.id(1), locationFix())
        assertEquals(ConflictKind.PENDING_FIELD_WORK, conflict(ConflictKind.PENDING_FIELD_WORK) { client.deleteProject(site.id(1)) })
        // Delivered: it can no longer be discarded.
        assertEquals(1uL, client.pushOutbox(site.code).delivered)
        assertEquals(ConflictKind.OUTBOX_ITEM_BUSY, conflict(ConflictKind.OUTBOX_ITEM_BUSY) { client.discardOutboxEntry(checkIn.uuid) })

        client.closeProject(site.id(4))
        assertEquals(ConflictKind.PROJECT_CLOSED, conflict(ConflictKind.PROJECT_CLOSED) { client.checkIn(site.id(4), locationFix()) })

        assertEquals(ConflictKind.NOT_LOCAL_PROJECT, conflict(ConflictKind.NOT_LOCAL_PROJECT) { client.discardLocalProject(site.id(1)) })
        val local = client.createLocalProject(NewLocalProject(integration = site.code, workOrderNumber = "L-1", tasks = listOf("Grass Cut")))
        assertEquals(ConflictKind.PROJECT_EXISTS, conflict(ConflictKind.PROJECT_EXISTS) {
            client.createLocalProject(NewLocalProject(integration = site.code, workOrderNumber = "L-1", tasks = listOf("Grass Cut")))
        })
        assertEquals(site.code, local.integration)

        val photo = client.addPhoto(site.id(3), "Grass Cut", EvidenceType.BEFORE, PhotoFixtures.file("gps/DSCN0010.jpg"))
        client.rejectPhoto(photo.uuid, "blurry")
        assertEquals(ConflictKind.PHOTO_STATE, conflict(ConflictKind.PHOTO_STATE) { client.approvePhoto(photo.uuid) })

        client.completeProject(site.id(3), forceReason = "done by phone")
        assertEquals(ConflictKind.ALREADY_COMPLETED, conflict(ConflictKind.ALREADY_COMPLETED) { client.completeProject(site.id(3), forceReason = "twice") })

    }

    @Test
    fun `cancelled and paused calls are typed`() = coTest {
        val vendor = vendor(orders = 1)
        val client = vendor.client
        val cancel = Cancellation()
        cancel.cancel()
        assertFailsWith<FieldSyncException.Cancelled> { client.refresh(vendor.code, RefreshMode.CHANGES, cancel) }

        client.pause()
        assertFailsWith<FieldSyncException.Paused> { client.integrations() }
        client.resume()
        assertEquals(listOf(vendor.code), client.integrations().map { it.code })
    }
}
