package dev.fieldsync

import dev.fieldsync.support.GpsTrack
import dev.fieldsync.support.HOME_LAT
import dev.fieldsync.support.HOME_LON
import dev.fieldsync.support.NEAR
import dev.fieldsync.support.locationFix
import dev.fieldsync.support.rfc3339
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.LocationFix
import dev.fieldsync.ffi.LocationSource
import dev.fieldsync.ffi.OutboxKind
import dev.fieldsync.ffi.OutboxState
import dev.fieldsync.ffi.ProjectEdit
import dev.fieldsync.ffi.RefreshMode
import java.util.concurrent.atomic.AtomicInteger
import kotlin.math.abs
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Check-ins: a LocationSource implemented in Kotlin or an explicit fix, the rules, errors, delivery exactly once. */
class CheckInTest : EmulatorTest() {

    private suspend fun site(): Vendor = vendor().also {
        it.assignFieldOrders()
        assertEquals(4uL, it.client.refresh(it.code, mode = RefreshMode.FULL_IMPORT).created)
    }

    private fun assertNear(expected: Double, actual: Double?, tolerance: Double = 0.5) =
        assertTrue(actual != null && abs(actual - expected) <= tolerance, "expected $expected ± $tolerance, got $actual")

    private fun Map<String, Any?>.meta(key: String): Any? = (this["metadata"] as Map<*, *>)[key]

    private fun Any?.asDouble(): Double = (this as Number).toDouble()

    private fun Any?.asLong(): Long = (this as Number).toLong()

    @Test
    fun `a check-in with a Kotlin LocationSource takes the first good enough fix and is delivered once`() = coTest {
        val site = site()
        val track = GpsTrack(
            locationFix(HOME_LAT + 0.0005 to HOME_LON, accuracyM = 65.0),
            locationFix(HOME_LAT + 0.0003 to HOME_LON, accuracyM = 25.0),
            locationFix(NEAR, accuracyM = 4.0),
            locationFix(HOME_LAT to HOME_LON, accuracyM = 1.0), // never asked for: 4 m was good enough
        )

        val checkIn = site.client.checkIn(site.id(1), track, 5.seconds, 10.0, "B-7731", "jane") // the wrapper

        assertTrue(Regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").matches(checkIn.uuid), checkIn.uuid)
        assertEquals(site.id(1), checkIn.project)
        assertTrue(checkIn.certified, "reasons: ${checkIn.reasons}")
        assertEquals(emptyList(), checkIn.reasons)
        assertEquals(OutboxState.QUEUED, checkIn.state)
        assertNear(11.1, checkIn.distanceM)
        assertEquals(3, track.timeouts.size)
        assertEquals(1, track.left)
        assertTrue(track.timeouts.all { it in 1uL..5_000uL }, "timeouts: ${track.timeouts}")
        assertTrue(Thread.currentThread() !in track.threads, "called from a library worker thread: ${track.threads}")
        val entry = site.client.outbox(site.code).single()
        assertEquals(listOf(checkIn.uuid, OutboxKind.CHECK_IN, OutboxState.QUEUED), listOf(entry.id, entry.kind, entry.state))

        val outcome = site.client.sync(1.hours).single()
        assertEquals(1uL, outcome.delivered)
        assertNull(outcome.error)
        val item = site.received("checkin").single()
        assertEquals(checkIn.uuid, item["uuid"])
        assertEquals(1L, item["deliveries"].asLong())
        assertEquals(site.number(1), item["workOrderNumber"])
        assertEquals(4.0, item.meta("gpsAccuracy").asDouble(), "the fix that stopped the capture is the one recorded")
        assertEquals("B-7731", item.meta("checkInId"))
        assertEquals("jane", item.meta("createdBySubUser"))
        assertEquals("device-kt", item.meta("deviceId"))
        assertEquals(true, item.meta("csrCertifiedLocation"))
        assertEquals(emptyList(), site.client.outbox(site.code))
    }

    @Test
    fun `when the budget runs out the most accurate fix is recorded, not certified`() = coTest {
        val site = site()
        val track = GpsTrack(
            locationFix(Double.NaN to HOME_LON), // unusable fixes are skipped
            locationFix(0.0 to 0.0),
            locationFix(NEAR, accuracyM = 80.0),
            locationFix(NEAR, accuracyM = 70.0),
        )
        val started = System.nanoTime()

        val checkIn = site.client.checkIn(site.id(1), track, 400.milliseconds, goodEnoughM = 10.0)

        assertTrue(System.nanoTime() - started >= 350_000_000, "waited for a better fix until the budget was spent")
        assertFalse(checkIn.certified)
        assertEquals(listOf("accuracy 70 m is worse than the 50 m limit"), checkIn.reasons)
        assertEquals(listOf(checkIn.uuid), site.client.outbox(site.code).map { it.id })
    }

    @Test
    fun `no fix within the budget is InvalidInput and nothing is written`() = coTest {
        val site = site()
        for (track in listOf(GpsTrack(), GpsTrack(locationFix(Double.NaN to 1.0), locationFix(91.0 to 1.0)))) {
            val started = System.nanoTime()
            val error = assertFailsWith<FieldSyncException.InvalidInput> {
                site.client.raw.checkIn(site.id(1), track, 300uL, 10.0, null, null)
            }
            val elapsedMs = (System.nanoTime() - started) / 1_000_000
            assertTrue("no location fix arrived in time" in error.reason, error.reason)
            assertTrue(elapsedMs in 250..5_000, "elapsed $elapsedMs ms")
            assertTrue(track.timeouts.isNotEmpty() && track.timeouts.all { it <= 300uL }, "timeouts: ${track.timeouts}")
        }
        assertEquals(emptyList(), site.client.outbox(site.code))
    }

    private class FailingSource(private val error: Throwable) : LocationSource {
        val calls = AtomicInteger()
        override fun nextFix(timeoutMs: ULong): LocationFix? {
            calls.incrementAndGet()
            throw error
        }
    }

    @Test
    fun `a LocationSource that throws gives back its error and nothing is written`() = coTest {
        val site = site()
        val typed = FailingSource(FieldSyncException.InvalidInput("location permission denied"))
        val denied = assertFailsWith<FieldSyncException.InvalidInput> {
            site.client.raw.checkIn(site.id(1), typed, 1_000uL, 10.0, null, null)
        }
        assertEquals("location permission denied", denied.reason)

        // An unexpected exception in the host's callback is Internal (a bug in the host), as documented.
        val broken = FailingSource(IllegalStateException("GPS chip on fire"))
        val internal = assertFailsWith<FieldSyncException.Internal> {
            site.client.raw.checkIn(site.id(1), broken, 1_000uL, 10.0, null, null)
        }
        assertTrue("a host callback failed" in internal.reason && "GPS chip on fire" in internal.reason, internal.reason)
        assertEquals(1 to 1, typed.calls.get() to broken.calls.get())
        assertEquals(emptyList(), site.client.outbox(site.code))
    }

    @Test
    fun `explicit fixes are certified or recorded uncertified per the rules and the provider gets the verdict`() = coTest {
        val site = site()
        val now = System.currentTimeMillis()
        // (fix, certified, reason pattern, distance)
        val cases = listOf(
            Triple(locationFix(NEAR, atMs = now), null, 11.1),
            Triple(locationFix(HOME_LAT + 0.01 to HOME_LON, atMs = now), Regex("111\\d m from the property, outside the 200 m geofence"), 1111.0),
            Triple(locationFix(NEAR, accuracyM = 80.0, atMs = now), Regex("accuracy 80 m is worse than the 50 m limit"), 11.1),
            Triple(locationFix(NEAR, atMs = now - 600_000), Regex("the fix is 60\\d s old \\(limit 120 s\\)"), 11.1),
            Triple(locationFix(NEAR, atMs = now, isMock = true), Regex("the OS flagged the location as mocked"), 11.1),
        )

        val recorded = cases.map { (fix) -> site.client.raw.checkInWithFix(site.id(1), fix, null, null) }

        recorded.zip(cases).forEach { (checkIn, case) ->
            val (_, reason, distance) = case
            assertEquals(reason == null, checkIn.certified, "$checkIn")
            assertEquals(OutboxState.QUEUED, checkIn.state)
            assertNear(distance, checkIn.distanceM, 1.0)
            if (reason == null) assertEquals(emptyList(), checkIn.reasons)
            else assertTrue(checkIn.reasons.size == 1 && reason.matches(checkIn.reasons[0]), "${checkIn.reasons}")
        }
        assertEquals(recorded.map { it.uuid }, site.client.outbox(site.code).map { it.id })

        assertEquals(cases.size.toULong(), site.client.sync(1.hours).single().delivered)
        val received = site.received("checkin").associateBy { it["uuid"] }
        assertEquals(recorded.map { it.uuid }.toSet(), received.keys)
        for (checkIn in recorded) {
            assertEquals(checkIn.certified, received.getValue(checkIn.uuid).meta("csrCertifiedLocation"))
            assertEquals(checkIn.reasons, received.getValue(checkIn.uuid).meta("certificationReasons"))
        }
    }

    @Test
    fun `a project without coordinates is unverifiable until the host geocodes it`() = coTest {
        val site = site()
        val unverifiable = site.client.raw.checkInWithFix(site.id(3), locationFix(), null, null)
        assertFalse(unverifiable.certified)
        assertNull(unverifiable.distanceM)
        assertEquals(listOf("the project has no coordinates: location not verifiable"), unverifiable.reasons)

        site.client.raw.setProjectLocation(site.id(3), HOME_LAT, HOME_LON)
        val geocoded = site.client.raw.checkInWithFix(site.id(3), locationFix(), null, null)
        assertTrue(geocoded.certified, "${geocoded.reasons}")
        assertNear(11.1, geocoded.distanceM)
        assertFailsWith<FieldSyncException.InvalidInput> { site.client.raw.setProjectLocation(site.id(3), 95.0, HOME_LON) }
    }

    @Test
    fun `bad check-ins are typed errors and nothing is written`() = coTest {
        val site = site()
        site.client.closeProject(site.id(4))
        val raw = site.client.raw
        val good = locationFix()
        val invalid = listOf(
            "" to good, site.number(1) to good, "${site.code}::" to good,
            site.id(1) to good.copy(latitude = Double.NaN),
            site.id(1) to good.copy(latitude = 91.0),
            site.id(1) to good.copy(longitude = -180.5),
            site.id(1) to good.copy(longitude = Double.POSITIVE_INFINITY),
            site.id(1) to good.copy(latitude = 0.0, longitude = 0.0),
            site.id(1) to good.copy(accuracyM = -3.0),
            site.id(1) to good.copy(altitudeM = Double.NaN),
        )
        for ((project, fix) in invalid) {
            assertFailsWith<FieldSyncException.InvalidInput>("$project $fix") { raw.checkInWithFix(project, fix, null, null) }
        }
        assertFailsWith<FieldSyncException.InvalidInput> { raw.checkInWithFix(site.id(1), good, "  ", null) }
        assertFailsWith<FieldSyncException.InvalidInput> { raw.checkInWithFix(site.id(1), good, "B".repeat(65), null) }
        assertFailsWith<FieldSyncException.NotFound> { raw.checkInWithFix("${site.code}::404", good, null, null) }
        assertFailsWith<FieldSyncException.Conflict> { raw.checkInWithFix(site.id(4), good, null, null) }
        val track = GpsTrack(good)
        assertFailsWith<FieldSyncException.InvalidInput> { raw.checkIn("not-a-project", track, 1_000uL, 10.0, null, null) }
        assertEquals(0, track.timeouts.size, "refused before the location source is asked")
        assertEquals(emptyList(), site.client.outbox(site.code))
    }

    @Test
    fun `a project requiring a check-in cannot be completed before one`() = coTest {
        val site = site()
        emulator.admin.setOptions(site.number(1), mapOf("check_in_required" to true))
        site.client.refresh(site.code)
        val complete = ProjectEdit(status = "Complete")
        val blocked = assertFailsWith<FieldSyncException.CompletionBlocked> { site.client.editProject(site.id(1), complete) }
        assertEquals(listOf(dev.fieldsync.ffi.RequirementKind.CHECK_IN), blocked.unmet.map { it.kind })
        assertEquals(emptyList(), site.client.outbox(site.code))

        val checkIn = site.client.raw.checkInWithFix(site.id(1), locationFix(), null, null)
        assertEquals("Complete", site.client.editProject(site.id(1), complete).status)
        val outbox = site.client.outbox(site.code)
        assertEquals(listOf(OutboxKind.CHECK_IN, OutboxKind.STATUS), outbox.map { it.kind })
        assertEquals(checkIn.uuid, outbox[0].id)
    }

    @Test
    fun `offline check-ins are delivered once, in order, with their original times`() = coTest {
        val site = site()
        site.client.editIntegration(site.code, IntegrationEdit(baseUrl = "http://127.0.0.1:9/api/v2"))
        site.client.raw.setCheckInBadge("B-7731")
        val taken = System.currentTimeMillis() / 1000 - 100
        val plan = listOf(site.id(1) to taken, site.id(3) to taken + 10, site.id(1) to taken + 20)
        val recorded = plan.map { (project, at) ->
            val before = System.currentTimeMillis() / 1000
            val checkIn = site.client.raw.checkInWithFix(project, locationFix(atMs = at * 1000 + 250), null, null)
            Triple(checkIn, before, System.currentTimeMillis() / 1000)
        }

        val offline = site.client.sync(1.hours).single()
        assertEquals(0uL, offline.delivered)
        // Projects relay in parallel: the first entry of each project (1 and 3) may have been in flight.
        assertTrue(offline.retrying in 1uL..2uL, "$offline")
        // Typed: an unreachable provider is a network failure (retry later), with no Retry-After.
        assertNull(assertIs<FieldSyncException.Network>(offline.error, "${offline.error}").retryAfterSecs)
        assertEquals(recorded.map { it.first.uuid }, site.client.outbox(site.code).map { it.id }, "nothing lost")
        assertEquals(emptyList(), site.received())

        site.client.editIntegration(site.code, IntegrationEdit(baseUrl = emulator.wireBaseUrl))
        val online = site.client.sync(1.hours).single()

        assertEquals(3uL, online.delivered)
        assertNull(online.error)
        val received = site.received("checkin")
        assertEquals(recorded.map { it.first.uuid }.sorted(), received.map { it["uuid"] as String }.sorted())
        assertEquals(
            listOf(recorded[0].first.uuid, recorded[2].first.uuid),
            received.filter { it["workOrderNumber"] == site.number(1) }.map { it["uuid"] },
            "each project's check-ins in capture order",
        )
        val byUuid = received.associateBy { it["uuid"] as String }
        for (record in recorded.zip(plan)) {
            val (checkIn, before, after) = record.first
            val item = byUuid.getValue(checkIn.uuid)
            val (project, at) = record.second
            assertEquals(1L, item["deliveries"].asLong())
            assertEquals(project.substringAfter("::"), item["workOrderNumber"])
            assertEquals(rfc3339(at), item.meta("gpsTimestamp"), "the fix's own time, not the delivery's")
            assertTrue(item.meta("creationDate") in (before..after).map(::rfc3339), "${item.meta("creationDate")} for ${checkIn.uuid}")
            assertEquals("B-7731", item.meta("checkInId"), "the saved check-in ID")
        }
        assertEquals(emptyList(), site.client.outbox(site.code))
        assertEquals(emptyList(), site.client.sync(1.hours), "nothing left to deliver")
        assertEquals(listOf(1L, 1L, 1L), site.received("checkin").map { it["deliveries"].asLong() })
    }

    @Test
    fun `a check-in the provider stored before the connection dropped is not duplicated`() = coTest {
        val site = site()
        val checkIn = site.client.raw.checkInWithFix(site.id(1), locationFix(), null, null)
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "dropAfter", "times" to 1))

        val first = site.client.raw.pushOutbox(site.code)
        assertEquals(0uL to 1uL, first.delivered to first.retrying)
        assertEquals(listOf(checkIn.uuid to 1L), site.received("checkin").map { it["uuid"] to it["deliveries"].asLong() }, "stored")
        val entry = site.client.outbox(site.code).single()
        assertEquals(OutboxState.RETRY_WAIT to 1u, entry.state to entry.attempts)

        val second = site.client.raw.pushOutbox(site.code)
        assertEquals(1uL, second.delivered)
        assertEquals(listOf(checkIn.uuid to 2L), site.received("checkin").map { it["uuid"] to it["deliveries"].asLong() }, "sent twice, stored once")
        assertEquals(emptyList(), site.client.outbox(site.code))
    }

    @Test
    fun `a check-in refused with 500 stays queued until the provider recovers`() = coTest {
        val site = site()
        val checkIn = site.client.raw.checkInWithFix(site.id(1), locationFix(), null, null)
        emulator.admin.addFault(mapOf("endpoint" to "uploadPictures", "kind" to "http500"))

        val failed = site.client.sync(1.hours).single()
        assertEquals(0uL to 1uL, failed.delivered to failed.retrying)
        assertIs<FieldSyncException.Network>(failed.error, "${failed.error}")
        assertEquals(listOf(checkIn.uuid to OutboxState.RETRY_WAIT), site.client.outbox(site.code).map { it.id to it.state })
        assertEquals(emptyList(), site.received())

        emulator.admin.clearFaults()
        assertEquals(1uL, site.client.sync(1.hours).single().delivered)
        assertEquals(listOf(checkIn.uuid to 1L), site.received("checkin").map { it["uuid"] to it["deliveries"].asLong() })
    }
}
