package dev.fieldsync

import dev.fieldsync.support.NEAR
import dev.fieldsync.support.PhotoFixtures
import dev.fieldsync.support.filesUnder
import dev.fieldsync.support.jpegClaiming
import dev.fieldsync.support.jpegSize
import dev.fieldsync.support.locationFix
import dev.fieldsync.support.pngBomb
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.launch
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.EvidenceType
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.LocationFix
import dev.fieldsync.ffi.OutboxKind
import dev.fieldsync.ffi.OutboxState
import dev.fieldsync.ffi.Photo
import dev.fieldsync.ffi.PhotoState
import dev.fieldsync.ffi.RefreshMode
import java.io.File
import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.minutes

/** Photos with real JPEGs: processing, the QA gate, relay exactly once by uuId, hostile files, concurrency. */
class PhotoTest : EmulatorTest() {

    private val dscn0010 = PhotoFixtures.file("gps/DSCN0010.jpg") // 640x480, EXIF GPS in Italy
    private val dscn0012 = PhotoFixtures.file("gps/DSCN0012.jpg")
    private val dscn0021 = PhotoFixtures.file("gps/DSCN0021.jpg")

    /** A vendor with the field orders imported, on a cache in [directory] (to look at its photo files). */
    private suspend fun site(directory: java.nio.file.Path = tempDirectory()): Vendor {
        val secrets = dev.fieldsync.support.InMemorySecretStore()
        val site = vendor(client = openClient(secrets, directory), secrets = secrets)
        site.assignFieldOrders()
        assertEquals(4uL, site.client.refresh(site.code, mode = RefreshMode.FULL_IMPORT).created)
        return site
    }

    private suspend fun Vendor.add(
        file: File,
        n: Int = 1,
        task: String = "Grass Cut",
        evidence: EvidenceType = EvidenceType.BEFORE,
        fix: LocationFix? = null,
    ): Photo = client.addPhoto(id(n), task, evidence, file, fix) // the wrapper, as an app calls it

    private class Recording(val job: Job, private val events: MutableList<FieldSyncEvent>) {
        fun snapshot(): List<FieldSyncEvent> = synchronized(events) { events.toList() }
        fun photoStates(uuid: String) =
            snapshot().filterIsInstance<FieldSyncEvent.PhotoChanged>().filter { it.uuid == uuid }.map { it.state }
    }

    /** Collects [client]'s events; subscribed before this returns. Cancel [Recording.job] at the end. */
    private fun CoroutineScope.record(client: FieldSyncClient): Recording {
        val events = Collections.synchronizedList(mutableListOf<FieldSyncEvent>())
        val job = launch(start = CoroutineStart.UNDISPATCHED) { client.events.collect { events += it } }
        return Recording(job, events)
    }

    private fun Any?.asLong(): Long = (this as Number).toLong()

    private fun Vendor.deliveries(): Map<Any?, Long> = received("picture").associate { it["uuid"] to it["deliveries"].asLong() }

    @Test
    fun `a photo without auto relay is processed and waits for QA`() = coTest {
        val directory = tempDirectory()
        val site = site(directory)
        val recording = record(site.client)

        val photo = site.add(dscn0010, fix = locationFix(NEAR))

        assertEquals(listOf(site.id(1), "Grass Cut", EvidenceType.BEFORE, PhotoState.PENDING_QA), listOf(photo.project, photo.task, photo.evidence, photo.state))
        assertNull(photo.message)
        assertEquals(640u to 480u, photo.width to photo.height)
        assertEquals("2008-10-22T16:28:39Z", photo.captureTime)
        assertEquals(true, photo.locationCertified, "the device's fix (11 m away) wins over the EXIF position")
        assertNull(photo.timeCertified, "decided at the first upload")
        assertFalse(photo.duplicate)
        val thumbnail = File(assertNotNull(photo.thumbnailPath))
        assertTrue(thumbnail.isFile && thumbnail.canonicalPath.startsWith(directory.toFile().canonicalPath), "$thumbnail")
        assertEquals(320 to 240, jpegSize(thumbnail.readBytes()))
        waitUntil("the photo's PhotoChanged event arrives", detail = { recording.snapshot() }) { recording.photoStates(photo.uuid).isNotEmpty() }
        assertEquals(listOf(PhotoState.PENDING_QA), recording.photoStates(photo.uuid))

        assertEquals(listOf(photo.uuid), site.client.raw.photos(site.id(1)).map { it.uuid })
        assertEquals(emptyList(), site.client.raw.photos(site.id(3)))
        val entry = site.client.outbox(site.code).single()
        assertEquals(listOf(photo.uuid, OutboxKind.PHOTO, OutboxState.HELD), listOf(entry.id, entry.kind, entry.state))
        assertEquals(0uL, site.client.raw.pushOutbox(site.code).delivered, "nothing relays before QA")
        assertEquals(emptyList(), site.received())
        recording.job.cancel()
    }

    @Test
    fun `large and rotated photos are resized and turned upright`() = coTest {
        val site = site()
        val phone = site.add(PhotoFixtures.file("phone/jolla.jpg"))
        val rotated = site.add(PhotoFixtures.file("orientation/landscape_6.jpg")) // stored 450x600, EXIF orientation 6
        assertEquals(2048u to 1536u, phone.width to phone.height)
        assertEquals(320 to 240, jpegSize(File(phone.thumbnailPath!!).readBytes()))
        assertEquals(600u to 450u, rotated.width to rotated.height)
    }

    @Test
    fun `QA relays exactly the approved photos once and republishing never duplicates`() = coTest {
        val site = site()
        val raw = site.client.raw
        val approved = site.add(dscn0010, evidence = EvidenceType.BEFORE, fix = locationFix(NEAR))
        val rejected = site.add(dscn0012, evidence = EvidenceType.DURING)
        val byProject = site.add(dscn0021, task = "Debris Removal", evidence = EvidenceType.AFTER)
        assertEquals(List(3) { PhotoState.PENDING_QA }, listOf(approved, rejected, byProject).map { it.state })

        assertEquals(PhotoState.QUEUED, raw.approvePhoto(approved.uuid).state)
        val refused = raw.rejectPhoto(rejected.uuid, "blurry")
        assertEquals(PhotoState.REJECTED to "blurry", refused.state to refused.message)
        assertEquals(1uL, raw.approveProjectPhotos(site.id(1)), "only the one still waiting for review")
        assertEquals(0uL, raw.approveProjectPhotos(site.id(1)))

        val outcome = site.client.sync(1.hours).single()

        assertEquals(2uL, outcome.delivered)
        assertNull(outcome.error)
        assertEquals(mapOf<Any?, Long>(approved.uuid to 1L, byProject.uuid to 1L), site.deliveries(), "the rejected photo never arrives")
        for (photo in listOf(approved, byProject)) {
            val item = site.received("picture").single { it["uuid"] == photo.uuid }
            assertEquals(listOf(site.number(1), photo.task, photo.evidence.name.lowercase()), listOf(item["workOrderNumber"], item["taskName"], item["evidenceType"]))
            assertEquals(photo.width!!.toInt() to photo.height!!.toInt(), jpegSize(emulator.admin.itemFile(photo.uuid)), "the rendition travels")
        }
        assertEquals(
            mapOf(approved.uuid to PhotoState.RELAYED, rejected.uuid to PhotoState.REJECTED, byProject.uuid to PhotoState.RELAYED),
            raw.photos(site.id(1)).associate { it.uuid to it.state },
        )
        assertEquals(emptyList(), site.client.outbox(site.code))

        // Publishing again sends it again under the same uuId: the provider keeps one.
        assertEquals(PhotoState.QUEUED, raw.approvePhoto(approved.uuid).state)
        assertEquals(1uL, raw.pushOutbox(site.code).delivered)
        assertEquals(mapOf<Any?, Long>(approved.uuid to 2L, byProject.uuid to 1L), site.deliveries())

        assertFailsWith<FieldSyncException.Conflict> { raw.approvePhoto(rejected.uuid) }
        assertFailsWith<FieldSyncException.Conflict> { raw.rejectPhoto(approved.uuid, "too late") }
        assertFailsWith<FieldSyncException.InvalidInput> { raw.rejectPhoto(byProject.uuid, " ") }
        assertFailsWith<FieldSyncException.NotFound> { raw.approvePhoto("00000000-0000-4000-8000-000000000000") }
        assertEquals(emptyList(), site.client.sync(1.hours))
        assertEquals(mapOf<Any?, Long>(approved.uuid to 2L, byProject.uuid to 1L), site.deliveries())
    }

    @Test
    fun `the same bytes twice are one photo`() = coTest {
        val directory = tempDirectory()
        val site = site(directory)
        val first = site.add(dscn0010, evidence = EvidenceType.BEFORE)
        val second = site.add(dscn0010, evidence = EvidenceType.AFTER)
        assertFalse(first.duplicate)
        assertTrue(second.duplicate)
        assertEquals(first.uuid to EvidenceType.BEFORE, second.uuid to second.evidence)
        assertEquals(listOf(first.uuid), site.client.raw.photos(site.id(1)).map { it.uuid })
        assertEquals(1, filesUnder(directory.resolve("photos/originals").toFile()).size)
        assertEquals(listOf(first.uuid), site.client.outbox(site.code).map { it.id })
        val otherProject = site.add(dscn0010, n = 3)
        assertFalse(otherProject.duplicate, "duplicates are per project")
    }

    @Test
    fun `with auto relay a processed photo relays without approval`() = coTest {
        val site = site()
        assertTrue(site.client.editIntegration(site.code, IntegrationEdit(autoRelay = true)).autoRelay)

        val photo = site.add(dscn0010, fix = locationFix(NEAR))

        assertEquals(PhotoState.QUEUED, photo.state)
        assertEquals(1uL, site.client.sync(1.hours).single().delivered)
        val item = site.received("picture").single()
        assertEquals(photo.uuid to 1L, item["uuid"] to item["deliveries"].asLong())
        val metadata = item["metadata"] as Map<*, *>
        assertEquals(true, metadata["csrCertifiedLocation"])
        assertEquals(false, metadata["csrCertifiedTime"], "taken in 2008")
        val relayed = site.client.raw.photos(site.id(1)).single()
        assertEquals(PhotoState.RELAYED to false, relayed.state to relayed.timeCertified)
    }

    @Test
    fun `hostile files are InvalidInput and nothing is written`() = coTest {
        val directory = tempDirectory()
        val site = site(directory)
        val recording = record(site.client)
        val original = dscn0010.readBytes()
        val hostile = mapOf(
            "empty.jpg" to (ByteArray(0) to "the file is empty"),
            "notes.jpg" to ("this is not an image at all".toByteArray() to "not an image"),
            "third.jpg" to (original.copyOf(original.size / 3) to "truncated"),
            "nine-tenths.jpg" to (original.copyOf(original.size * 9 / 10) to "truncated"),
            "bomb.png" to (pngBomb(20_000, 20_000) to "20000x20000 pixels is more than the limit"),
            "bomb.jpg" to (jpegClaiming(original, 30_000, 30_000) to "30000x30000 pixels is more than the limit"),
            "iphone.heic" to (PhotoFixtures.file("phone/iphone_13_pro_max.HEIC").readBytes() to "HEIC images are not supported"),
        )
        val scratch = tempDirectory().toFile()
        for ((name, case) in hostile) {
            val (bytes, reason) = case
            val file = File(scratch, name).apply { writeBytes(bytes) }
            val started = System.nanoTime()
            val error = assertFailsWith<FieldSyncException.InvalidInput>(name) { site.add(file, fix = locationFix(NEAR)) }
            assertTrue(reason in error.reason, "$name: ${error.reason}")
            assertTrue(System.nanoTime() - started < 2_000_000_000, "$name refused from its headers")
        }
        assertEquals(emptyList(), site.client.raw.photos(null))
        assertEquals(emptyList(), site.client.outbox(site.code))
        assertEquals(emptyList(), filesUnder(directory.resolve("photos").toFile()), "not even a copy of the original")

        // The damaged fixture passes the quick check and fails visibly; it never reaches the provider.
        val corrupted = site.add(PhotoFixtures.file("invalid/corrupted.jpg"))
        assertEquals(PhotoState.FAILED, corrupted.state)
        assertTrue(corrupted.message.orEmpty().contains("damaged"), "${corrupted.message}")
        assertNull(corrupted.width)
        assertEquals(0uL, site.client.raw.pushOutbox(site.code).delivered)
        assertEquals(emptyList(), site.received())
        site.client.rejectPhoto(corrupted.uuid, "damaged")
        assertEquals(emptyList(), site.client.outbox(site.code), "rejecting it clears its delivery")
        waitUntil("the failed photo's event arrives", detail = { recording.snapshot() }) { recording.photoStates(corrupted.uuid).isNotEmpty() }
        assertEquals(listOf(PhotoState.FAILED), recording.photoStates(corrupted.uuid))
        recording.job.cancel()
    }

    @Test
    fun `bad photo input is a typed error and nothing is written`() = coTest {
        val directory = tempDirectory()
        val site = site(directory)
        site.client.closeProject(site.id(4))
        val raw = site.client.raw
        val path = dscn0010.path
        val noTask = assertFailsWith<FieldSyncException.InvalidInput> { raw.addPhoto(site.id(1), "Pool", EvidenceType.BEFORE, path, null) }
        assertTrue("no task `Pool`" in noTask.reason, noTask.reason)
        assertFailsWith<FieldSyncException.InvalidInput> { raw.addPhoto(site.number(1), "Grass Cut", EvidenceType.BEFORE, path, null) }
        assertFailsWith<FieldSyncException.InvalidInput> { raw.addPhoto(site.id(1), "Grass Cut", EvidenceType.BEFORE, path, locationFix(Double.NaN to 1.0)) }
        assertFailsWith<FieldSyncException.NotFound> { raw.addPhoto("${site.code}::404", "Grass Cut", EvidenceType.BEFORE, path, null) }
        assertFailsWith<FieldSyncException.Conflict> { raw.addPhoto(site.id(4), "Grass Cut", EvidenceType.BEFORE, path, null) }
        assertFailsWith<FieldSyncException.InvalidInput> { raw.addPhoto(site.id(1), "Grass Cut", EvidenceType.BEFORE, "/nonexistent/photo.jpg", null) }
        assertEquals(emptyList(), raw.photos(null))
        assertEquals(emptyList(), site.client.outbox(site.code))
        assertEquals(emptyList(), filesUnder(directory.resolve("photos").toFile()))
    }

    @Test
    fun `a check-in that requires a photo waits for it`() = coTest {
        val site = site()
        val raw = site.client.raw
        val checkIn = raw.checkInWithFix(site.id(2), locationFix(NEAR), null, null)
        assertTrue(checkIn.certified)

        assertEquals(0uL, raw.pushOutbox(site.code).delivered)
        assertEquals(listOf(checkIn.uuid to OutboxState.QUEUED), site.client.outbox(site.code).map { it.id to it.state })
        assertEquals(emptyList(), site.received())

        val photo = site.add(dscn0012, n = 2, evidence = EvidenceType.AFTER)
        assertEquals(0uL, raw.pushOutbox(site.code).delivered, "a photo waiting for QA does not release it")
        raw.approvePhoto(photo.uuid)
        val released = raw.pushOutbox(site.code)

        assertEquals(2uL, released.delivered)
        assertEquals(
            listOf(photo.uuid to "picture", checkIn.uuid to "checkin"),
            site.received().map { it["uuid"] to it["fileType"] },
            "the photo, then the check-in that waited for it",
        )
    }

    @Test
    fun `coroutines add photos and check in at once`() = coTest(timeout = 3.minutes) {
        val site = site()
        val raw = site.client.raw
        val recording = record(site.client)
        val distinct = PhotoFixtures.dir.resolve("gps").listFiles()!!.filter { it.name.matches(Regex("DSCN00[1-3].*\\.jpg")) }.sorted().take(6)
        val shared = PhotoFixtures.file("gps/DSCN0040.jpg")
        assertEquals(6, distinct.size)

        val photos = (distinct + shared + shared).map { file ->
            async(Dispatchers.Default) { site.add(file, evidence = EvidenceType.DURING, fix = locationFix(NEAR)) }
        }
        val checkIns = (1..8).map {
            async(Dispatchers.Default) {
                raw.photos(site.id(1)) // reads interleave with the writes
                raw.checkInWithFix(site.id(1), locationFix(NEAR), null, null)
            }
        }
        val added = photos.awaitAll()
        val checkedIn = checkIns.awaitAll()

        assertEquals(List(7) { false } + true, added.map { it.duplicate }.sorted(), "the same bytes twice: one photo")
        val duplicate = added.single { it.duplicate }
        assertEquals(1, added.count { it.uuid == duplicate.uuid && !it.duplicate })
        val stored = raw.photos(site.id(1))
        assertEquals(added.map { it.uuid }.toSet(), stored.map { it.uuid }.toSet())
        assertEquals(7, stored.size)
        assertTrue(stored.all { it.state == PhotoState.PENDING_QA && it.width != null && it.thumbnailPath != null }, "$stored")
        assertEquals(8, checkedIn.map { it.uuid }.toSet().size)
        assertEquals(
            List(8) { OutboxKind.CHECK_IN to OutboxState.QUEUED } + List(7) { OutboxKind.PHOTO to OutboxState.HELD },
            site.client.outbox(site.code).map { it.kind to it.state }.sortedBy { it.first },
        )
        waitUntil("every photo's PhotoChanged event arrives") { stored.all { recording.photoStates(it.uuid).isNotEmpty() } }
        assertTrue(stored.all { recording.photoStates(it.uuid) == listOf(PhotoState.PENDING_QA) }, "each processed exactly once")

        assertEquals(7uL, raw.approveProjectPhotos(site.id(1)))
        assertEquals(15uL, site.client.sync(1.hours).single().delivered)
        assertEquals<Map<Any?, Long>>(stored.associate { it.uuid to 1L }, site.deliveries())
        assertEquals<Map<Any?, Long>>(checkedIn.associate { it.uuid to 1L }, site.received("checkin").associate { it["uuid"] to it["deliveries"].asLong() })
        assertEquals(emptyList(), site.client.outbox(site.code))
        recording.job.cancel()
    }
}
