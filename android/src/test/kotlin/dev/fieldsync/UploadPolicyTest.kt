package dev.fieldsync

import dev.fieldsync.support.PhotoFixtures
import dev.fieldsync.support.locationFix
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.EvidenceType
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.NetworkState
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.UploadPolicy
import dev.fieldsync.ffi.UploadWaitReason
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue

/**
 * The upload policy and the upload log: the host reports the network, the vendor sets Wi-Fi only and the pause
 * switch; Wi-Fi only holds photos on a metered network but sends check-ins, unmetered sends them exactly once,
 * no network sends nothing, each undelivered item has a typed reason, retry all failed and clean up delivered.
 */
class UploadPolicyTest : EmulatorTest() {

    private val photo = PhotoFixtures.file("gps/DSCN0010.jpg")

    /** A vendor with the field orders imported and auto relay on. */
    private suspend fun site(): Vendor {
        val site = vendor()
        site.assignFieldOrders()
        site.client.refresh(site.code, mode = RefreshMode.FULL_IMPORT)
        assertTrue(site.client.editIntegration(site.code, IntegrationEdit(autoRelay = true)).autoRelay)
        return site
    }

    private suspend fun Vendor.reasons(): Map<String, UploadWaitReason> =
        client.uploadLog().associate { it.id to it.reason }

    @Test
    fun `wifi only holds photos on a metered network but sends check-ins, and unmetered sends them once`() = coTest {
        val site = site()
        val client = site.client
        assertEquals(UploadPolicy(photosOnWifiOnly = false, paused = false), client.uploadPolicy())
        client.setUploadPolicy(UploadPolicy(photosOnWifiOnly = true, paused = false))
        assertEquals(UploadPolicy(photosOnWifiOnly = true, paused = false), client.uploadPolicy())
        client.setNetwork(NetworkState.METERED)
        val photoId = client.addPhoto(site.id(1), "Grass Cut", EvidenceType.BEFORE, photo, locationFix()).uuid
        val checkIn = client.checkIn(site.id(1), locationFix()).uuid

        val reasons = site.reasons()
        assertEquals(UploadWaitReason.WaitingForWifi, reasons[photoId])
        assertEquals(UploadWaitReason.Queued, reasons[checkIn])

        assertEquals(1uL, client.pushOutbox(site.code).delivered)
        assertEquals(listOf(checkIn), site.received("checkin").map { it["uuid"] })
        assertEquals(emptyList(), site.received("picture"), "the photo waits for Wi-Fi")

        client.setNetwork(NetworkState.UNMETERED)
        assertEquals(UploadWaitReason.Queued, site.reasons()[photoId])
        assertEquals(1uL, client.pushOutbox(site.code).delivered)
        assertEquals(0uL, client.pushOutbox(site.code).delivered)
        val pictures = site.received("picture")
        assertEquals(listOf(photoId), pictures.map { it["uuid"] })
        assertEquals(1L, (pictures.single()["deliveries"] as Number).toLong(), "exactly once")
        assertEquals(emptyList(), client.uploadLog())
    }

    @Test
    fun `no network sends nothing and pause holds photos but not check-ins`() = coTest {
        val site = site()
        val client = site.client
        val photoId = client.addPhoto(site.id(1), "Grass Cut", EvidenceType.BEFORE, photo, locationFix()).uuid
        val checkIn = client.checkIn(site.id(1), locationFix()).uuid
        client.setNetwork(NetworkState.NONE)

        val offline = client.pushOutbox(site.code)
        assertEquals(0uL, offline.delivered)
        assertIs<FieldSyncException.Network>(offline.error, "${offline.error}")
        assertEquals(emptyList(), site.received())
        assertTrue(site.reasons().values.all { it == UploadWaitReason.WaitingForNetwork })

        client.setNetwork(NetworkState.UNMETERED)
        client.setUploadPolicy(UploadPolicy(photosOnWifiOnly = false, paused = true))
        assertEquals(1uL, client.pushOutbox(site.code).delivered)
        assertEquals(listOf(checkIn), site.received("checkin").map { it["uuid"] })
        assertEquals(UploadWaitReason.Paused, site.reasons()[photoId])

        // Clean-up removes the delivered check-in only: the paused photo stays.
        assertEquals(1L, client.cleanUpDelivered())
        assertEquals(listOf(photoId), client.uploadLog().map { it.id })

        client.setUploadPolicy(UploadPolicy(photosOnWifiOnly = false, paused = false))
        assertEquals(1uL, client.pushOutbox(site.code).delivered)
        assertEquals(listOf(photoId), site.received("picture").map { it["uuid"] })
    }

    @Test
    fun `a failed item backs off with its time and retry all failed queues it again`() = coTest {
        val site = site()
        val client = site.client
        val checkIn = client.checkIn(site.id(1), locationFix()).uuid
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "http500", "times" to 1))

        assertEquals(0uL, client.pushOutbox(site.code).delivered)
        val backoff = assertIs<UploadWaitReason.Backoff>(site.reasons()[checkIn])
        assertTrue(backoff.until > System.currentTimeMillis() / 1000)

        assertEquals(1L, client.retryAllFailed())
        assertEquals(UploadWaitReason.Queued, site.reasons()[checkIn])
        assertEquals(0L, client.retryAllFailed())
        assertEquals(1uL, client.pushOutbox(site.code).delivered)
    }
}
