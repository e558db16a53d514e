package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import dev.fieldsync.support.PhotoFixtures
import dev.fieldsync.support.filesUnder
import kotlinx.coroutines.delay
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.AutoVacuum
import dev.fieldsync.ffi.EvictionReason
import dev.fieldsync.ffi.EvidenceType
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.FileUsage
import dev.fieldsync.ffi.Photo
import dev.fieldsync.ffi.PhotoFileKind
import dev.fieldsync.ffi.PhotoState
import dev.fieldsync.ffi.PhotoStateUsage
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.RetentionPolicy
import dev.fieldsync.ffi.StorageReport
import dev.fieldsync.ffi.defaultRetentionPolicy
import java.io.File
import java.nio.file.Path
import java.security.MessageDigest
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.milliseconds

/**
 * Storage that cleans itself, with real JPEGs relayed to the emulator: the storage report's bytes by photo
 * state against the files on disk, renditions of decided photos deleted, originals within a byte cap and an
 * age, never a file of a photo not yet relayed or decided by QA; a configured policy after a delivery; the
 * default policy and typed refusals; database upkeep.
 */
class StorageTest : EmulatorTest() {

    private val fixtures = mapOf(
        "relayed1" to PhotoFixtures.file("gps/DSCN0010.jpg"),
        "relayed2" to PhotoFixtures.file("gps/DSCN0012.jpg"),
        "rejected" to PhotoFixtures.file("gps/DSCN0021.jpg"),
        "waiting" to PhotoFixtures.file("gps/DSCN0025.jpg"),
    )

    /** Four photos of work order 1: two relayed, one rejected by QA, one still waiting for QA. */
    private class Shoot(val site: Vendor, val directory: Path, val relayed: List<Photo>, val rejected: Photo, val waiting: Photo) {
        val decided: Set<String> get() = relayed.map { it.uuid }.toSet() + rejected.uuid
    }

    /** A vendor with the field orders imported on a cache in [directory], through [client] when given. */
    private suspend fun site(directory: Path, client: FieldSyncClient? = null, secrets: InMemorySecretStore = InMemorySecretStore()): Vendor {
        val site = vendor(client = client ?: openClient(secrets, directory), secrets = secrets)
        site.assignFieldOrders()
        assertEquals(4uL, site.client.refresh(site.code, mode = RefreshMode.FULL_IMPORT).created)
        return site
    }

    private suspend fun Vendor.add(file: File, evidence: EvidenceType = EvidenceType.BEFORE): Photo =
        client.addPhoto(id(1), "Grass Cut", evidence, file)

    private suspend fun shoot(): Shoot {
        val directory = tempDirectory()
        val site = site(directory)
        val relayed = listOf(site.add(fixtures.getValue("relayed1")), site.add(fixtures.getValue("relayed2")))
        val rejected = site.add(fixtures.getValue("rejected"))
        val waiting = site.add(fixtures.getValue("waiting"))
        relayed.forEach { site.client.approvePhoto(it.uuid) }
        site.client.rejectPhoto(rejected.uuid, "blurry")
        // Ages count in whole seconds: relayed after this pause, the relayed photos are strictly younger than
        // the rejected one (aged from when it was taken), so "oldest first" has one answer.
        delay(1_100.milliseconds)
        val outcome = site.client.pushOutbox(site.code)
        assertEquals(2uL, outcome.delivered, "$outcome")
        assertNull(outcome.error)
        val states = site.client.photos(site.id(1)).associate { it.uuid to it.state }
        assertEquals(
            mapOf(
                relayed[0].uuid to PhotoState.RELAYED, relayed[1].uuid to PhotoState.RELAYED,
                rejected.uuid to PhotoState.REJECTED, waiting.uuid to PhotoState.PENDING_QA,
            ),
            states,
        )
        return Shoot(site, directory, relayed, rejected, waiting)
    }

    /** Every file of the photo store in [directory] (`originals/<sha256>.jpg`...) and its size, measured on disk. */
    private fun photoFiles(directory: Path): Map<String, Long> {
        val root = directory.resolve("photos").toFile()
        return filesUnder(root).associate { it.relativeTo(root).path to it.length() }
    }

    private fun sha256(bytes: ByteArray): String =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

    /** Where the store keeps a photo's original: named by the SHA-256 of the camera's bytes. */
    private fun originalOf(fixture: File) = "originals/${sha256(fixture.readBytes())}.jpg"

    /** The rendition the provider received for [uuid], as the store names it. */
    private fun Vendor.renditionOf(uuid: String) = "renditions/${sha256(emulator.admin.itemFile(uuid))}.jpg"

    private fun thumbnailOf(photo: Photo) = "thumbnails/${File(photo.thumbnailPath!!).name}"

    private fun StorageReport.usage(state: PhotoState): PhotoStateUsage = byState.single { it.state == state }

    private fun Map<String, Long>.usage(names: Collection<String>): FileUsage {
        names.forEach { assertTrue(it in this, "$it is not on disk: ${this.keys}") }
        return FileUsage(files = names.size.toLong(), bytes = names.sumOf { getValue(it) })
    }

    private fun Map<String, Long>.under(folder: String) = filterKeys { it.startsWith("$folder/") }

    @Test
    fun `the storage report gives the bytes by photo state as measured on disk`() = coTest(timeout = 2.minutes) {
        val shoot = shoot()
        val report = shoot.site.client.storageReport()
        val onDisk = photoFiles(shoot.directory)

        val database = shoot.directory.resolve("cache.db").toFile()
        assertEquals(database.length(), report.databaseBytes, "the SQLite file")
        assertEquals(File("$database-wal").length(), report.walBytes, "its write-ahead log")
        assertEquals(File("$database-shm").length(), report.shmBytes)
        assertTrue(report.freeBytes >= 0, "${report.freeBytes}")
        assertEquals(AutoVacuum.INCREMENTAL, report.autoVacuum)

        assertEquals(onDisk.values.sum(), report.photoBytes, "every photo file, measured on disk")
        assertEquals(onDisk.under("originals").let { FileUsage(it.size.toLong(), it.values.sum()) }, report.originals)
        assertEquals(onDisk.under("renditions").let { FileUsage(it.size.toLong(), it.values.sum()) }, report.renditions)
        assertEquals(onDisk.under("thumbnails").let { FileUsage(it.size.toLong(), it.values.sum()) }, report.thumbnails)
        assertEquals(Triple(4L, 4L, 4L), Triple(report.originals.files, report.renditions.files, report.thumbnails.files))
        assertEquals(12, onDisk.size, "nothing else in the photo store: ${onDisk.keys}")

        assertEquals(listOf(PhotoState.PENDING_QA, PhotoState.RELAYED, PhotoState.REJECTED), report.byState.map { it.state })
        assertEquals(listOf(1L, 2L, 1L), report.byState.map { it.photos })
        // Originals and thumbnails of each state: the files of its own photos, byte for byte.
        val originals = mapOf(
            PhotoState.RELAYED to listOf(originalOf(fixtures.getValue("relayed1")), originalOf(fixtures.getValue("relayed2"))),
            PhotoState.REJECTED to listOf(originalOf(fixtures.getValue("rejected"))),
            PhotoState.PENDING_QA to listOf(originalOf(fixtures.getValue("waiting"))),
        )
        val thumbnails = mapOf(
            PhotoState.RELAYED to shoot.relayed.map { thumbnailOf(it) },
            PhotoState.REJECTED to listOf(thumbnailOf(shoot.rejected)),
            PhotoState.PENDING_QA to listOf(thumbnailOf(shoot.waiting)),
        )
        for (state in originals.keys) {
            assertEquals(onDisk.usage(originals.getValue(state)), report.usage(state).originals, "$state originals")
            assertEquals(onDisk.usage(thumbnails.getValue(state)), report.usage(state).thumbnails, "$state thumbnails")
        }
        assertEquals(fixtures.getValue("waiting").length(), report.usage(PhotoState.PENDING_QA).originals.bytes, "the camera's bytes")
        // The relayed photos' renditions are what the provider received.
        val relayedRenditions = shoot.relayed.map { shoot.site.renditionOf(it.uuid) }
        assertEquals(onDisk.usage(relayedRenditions), report.usage(PhotoState.RELAYED).renditions)
        val otherRenditions = onDisk.under("renditions") - relayedRenditions.toSet()
        for (state in listOf(PhotoState.REJECTED, PhotoState.PENDING_QA)) {
            val renditions = report.usage(state).renditions
            assertEquals(1L, renditions.files, "$state")
            assertTrue(renditions.bytes in otherRenditions.values, "$state: $renditions, not one of $otherRenditions")
        }
        assertEquals(
            otherRenditions.values.sum(),
            report.usage(PhotoState.REJECTED).renditions.bytes + report.usage(PhotoState.PENDING_QA).renditions.bytes,
        )
        // The states share no file here: their bytes add up to the totals.
        assertEquals(report.originals.bytes, report.byState.sumOf { it.originals.bytes })
        assertEquals(report.renditions.bytes, report.byState.sumOf { it.renditions.bytes })
        assertEquals(report.thumbnails.bytes, report.byState.sumOf { it.thumbnails.bytes })
        assertEquals(0L to 0L, report.originalsEvicted to report.renditionsEvicted)
    }

    @Test
    fun `retention deletes decided renditions then originals over a cap and expired, never an undecided photo`() = coTest(timeout = 2.minutes) {
        val shoot = shoot()
        val client = shoot.site.client
        val before = client.storageReport()
        val waitingBefore = before.usage(PhotoState.PENDING_QA)
        val disk0 = photoFiles(shoot.directory)
        val waitingFiles = listOf(originalOf(fixtures.getValue("waiting")), thumbnailOf(shoot.waiting))

        // 1. The renditions of the relayed and the rejected photos go; nothing else.
        val renditions = client.applyRetention(RetentionPolicy(deleteDecidedRenditions = true))
        assertEquals(3L to 0L, renditions.renditionsDeleted to renditions.originalsDeleted)
        assertEquals(3, renditions.evictions.size, "${renditions.evictions}")
        assertEquals(setOf(EvictionReason.DECIDED_RENDITION), renditions.evictions.map { it.reason }.toSet())
        assertEquals(setOf(PhotoFileKind.RENDITION), renditions.evictions.map { it.kind }.toSet())
        assertTrue(renditions.evictions.all { it.photos.size == 1 }, "one photo per file here: ${renditions.evictions}")
        assertEquals(shoot.decided, renditions.evictions.flatMap { it.photos }.toSet())
        for (photo in shoot.relayed) {
            val eviction = renditions.evictions.single { it.photos == listOf(photo.uuid) }
            assertEquals(shoot.site.renditionOf(photo.uuid), "renditions/${eviction.sha256}.jpg", "the file the provider received")
        }
        val disk1 = photoFiles(shoot.directory)
        assertEquals(
            renditions.evictions.associate { "renditions/${it.sha256}.jpg" to it.bytes },
            disk0 - disk1.keys,
            "exactly the evicted files left the disk, at the size reported",
        )
        assertTrue(disk0.keys.containsAll(disk1.keys))
        assertEquals(renditions.evictions.sumOf { it.bytes }, renditions.bytesFreed)
        assertEquals(before.photoBytes - renditions.bytesFreed, renditions.photoBytes)
        assertEquals(disk1.values.sum(), renditions.photoBytes)
        assertTrue(renditions.capMet, "no cap")
        val after = client.storageReport()
        assertEquals(0L, after.usage(PhotoState.RELAYED).renditions.files)
        assertEquals(FileUsage(0, 0), after.usage(PhotoState.REJECTED).renditions)
        assertEquals(waitingBefore, after.usage(PhotoState.PENDING_QA))
        assertEquals(3L to 0L, after.renditionsEvicted to after.originalsEvicted)
        val again = client.applyRetention(RetentionPolicy(deleteDecidedRenditions = true))
        assertEquals(emptyList(), again.evictions, "nothing left to delete")
        assertEquals(0L, again.bytesFreed)

        // 2. A cap one byte under what is left: the oldest decided original (the rejected photo's, aged from
        // when it was taken, before the relay) goes, and the cap is met.
        val cap = renditions.photoBytes - 1
        val capped = client.applyRetention(RetentionPolicy(maxPhotoBytes = cap))
        val eviction = capped.evictions.single()
        assertEquals(PhotoFileKind.ORIGINAL to EvictionReason.OVER_CAP, eviction.kind to eviction.reason)
        assertEquals(listOf(shoot.rejected.uuid), eviction.photos)
        assertEquals(originalOf(fixtures.getValue("rejected")), "originals/${eviction.sha256}.jpg")
        assertEquals(fixtures.getValue("rejected").length(), eviction.bytes)
        assertEquals(0L to 1L, capped.renditionsDeleted to capped.originalsDeleted)
        assertTrue(capped.capMet && capped.photoBytes <= cap, "$capped")
        assertEquals(renditions.photoBytes - eviction.bytes, capped.photoBytes)
        assertEquals(photoFiles(shoot.directory).values.sum(), capped.photoBytes)
        assertFalse(originalOf(fixtures.getValue("rejected")) in photoFiles(shoot.directory))

        // 3. Originals older than no time at all: the relayed photos' originals go, as expired.
        val expired = client.applyRetention(RetentionPolicy(keepOriginalsFor = java.time.Duration.ZERO))
        assertEquals(2L to 0L, expired.originalsDeleted to expired.renditionsDeleted)
        assertEquals(setOf(EvictionReason.EXPIRED), expired.evictions.map { it.reason }.toSet())
        assertEquals(setOf(PhotoFileKind.ORIGINAL), expired.evictions.map { it.kind }.toSet())
        assertEquals(shoot.relayed.map { it.uuid }.toSet(), expired.evictions.flatMap { it.photos }.toSet())
        assertEquals(
            setOf(originalOf(fixtures.getValue("relayed1")), originalOf(fixtures.getValue("relayed2"))),
            expired.evictions.map { "originals/${it.sha256}.jpg" }.toSet(),
        )

        // 4. A cap of one byte cannot be met: only the undecided photo's files are left, untouched.
        val squeezed = client.applyRetention(RetentionPolicy(deleteDecidedRenditions = true, maxPhotoBytes = 1))
        assertEquals(emptyList(), squeezed.evictions)
        assertFalse(squeezed.capMet)
        assertEquals(0L, squeezed.bytesFreed)
        val final = client.storageReport()
        assertEquals(waitingBefore, final.usage(PhotoState.PENDING_QA), "never a file of a photo QA has not decided")
        assertEquals(Triple(1L, 1L, 4L), Triple(final.originals.files, final.renditions.files, final.thumbnails.files), "thumbnails stay")
        assertEquals(0L to 0L, final.usage(PhotoState.RELAYED).originals.files to final.usage(PhotoState.REJECTED).originals.files)
        assertEquals(3L to 3L, final.originalsEvicted to final.renditionsEvicted)
        val disk4 = photoFiles(shoot.directory)
        assertEquals(disk4.values.sum(), final.photoBytes)
        assertEquals(listOf(originalOf(fixtures.getValue("waiting"))), disk4.under("originals").keys.toList())
        for (name in waitingFiles) assertEquals(disk0.getValue(name), disk4[name], "$name untouched")
        val waitingRendition = disk4.under("renditions").keys.single()
        assertEquals(disk0.getValue(waitingRendition), disk4.getValue(waitingRendition))

        // The photo waiting for QA can still be approved and relayed: the rendition that stayed is what arrives.
        assertEquals(PhotoState.QUEUED, client.approvePhoto(shoot.waiting.uuid).state)
        assertEquals(1uL, client.pushOutbox(shoot.site.code).delivered)
        assertEquals(waitingRendition, shoot.site.renditionOf(shoot.waiting.uuid))
        assertEquals<Map<Any?, Long>>(
            (shoot.relayed + shoot.waiting).associate { it.uuid to 1L },
            shoot.site.received("picture").associate { it["uuid"] to (it["deliveries"] as Number).toLong() },
            "each relayed photo arrived once; the rejected one never did",
        )
    }

    @Test
    fun `a policy configured in FieldSyncConfig runs after a delivery`() = coTest(timeout = 2.minutes) {
        val directory = tempDirectory()
        val secrets = InMemorySecretStore()
        val policy = RetentionPolicy(deleteDecidedRenditions = true, keepOriginalsFor = java.time.Duration.ofDays(7))
        val config = FieldSyncConfig(
            databasePath = directory.resolve("cache.db").toString(),
            photoDirectory = directory.resolve("photos").toString(),
            deviceId = "retention-kt",
            retention = policy,
        )
        val client = closeLater(FieldSyncClient.open(config, secrets))
        assertEquals(policy, client.retentionPolicy())
        val site = site(directory, client, secrets)

        val photo = site.add(fixtures.getValue("relayed1"), EvidenceType.AFTER)
        client.approvePhoto(photo.uuid)
        val queued = client.storageReport().usage(PhotoState.QUEUED)
        assertEquals(1L to 1L, queued.originals.files to queued.renditions.files, "nothing of a photo not yet relayed goes")
        assertEquals(1uL, client.pushOutbox(site.code).delivered)

        val report = client.storageReport()
        val relayed = report.usage(PhotoState.RELAYED)
        assertEquals(1L to 0L, relayed.originals.files to relayed.renditions.files, "the rendition went after the relay")
        assertEquals(1L to 0L, report.renditionsEvicted to report.originalsEvicted)
        val onDisk = photoFiles(directory)
        assertEquals(emptyMap(), onDisk.under("renditions"))
        assertEquals(listOf(originalOf(fixtures.getValue("relayed1"))), onDisk.under("originals").keys.toList(), "a week to go")
        assertEquals(onDisk.values.sum(), report.photoBytes)
    }

    @Test
    fun `the default policy and typed refusals`() = coTest {
        val client = openClient()
        val default = defaultRetentionPolicy()
        assertEquals(default, client.retentionPolicy(), "what a client gets without FieldSyncConfig.retention")
        assertFalse(default.deleteDecidedRenditions, "renditions stay so that QA can publish again at once")
        assertEquals(java.time.Duration.ofDays(30), default.keepOriginalsFor)
        assertEquals(2L * 1024 * 1024 * 1024, default.maxPhotoBytes)

        val negative = assertFailsWith<FieldSyncException.InvalidInput> { client.applyRetention(RetentionPolicy(maxPhotoBytes = -1)) }
        assertTrue("max_photo_bytes" in negative.reason, negative.reason)
        val tooLong = assertFailsWith<FieldSyncException.InvalidInput> {
            client.applyRetention(RetentionPolicy(keepOriginalsFor = java.time.Duration.ofDays(1L shl 33)))
        }
        assertTrue("keep_originals_for" in tooLong.reason, tooLong.reason)
        // In the config, the same refusal at open.
        val directory = tempDirectory()
        val refused = assertFailsWith<FieldSyncException.InvalidInput> {
            closeLater(
                FieldSyncClient.open(
                    FieldSyncConfig(
                        databasePath = directory.resolve("cache.db").toString(),
                        photoDirectory = directory.resolve("photos").toString(),
                        deviceId = "retention-kt",
                        retention = RetentionPolicy(maxPhotoBytes = -5),
                    ),
                    InMemorySecretStore(),
                ),
            )
        }
        assertTrue("max_photo_bytes" in refused.reason, refused.reason)
    }

    @Test
    fun `maintain optimizes and gives free pages back`() = coTest(timeout = 2.minutes) {
        val client = openClient()
        val fresh = client.maintain()
        assertNull(fresh.skipped, "$fresh")
        assertTrue(fresh.optimized)
        assertFalse(fresh.converted, "a new cache is incremental from the start")
        assertEquals(AutoVacuum.INCREMENTAL, fresh.autoVacuum)
        assertTrue(fresh.pagesFreed >= 0)

        // Free pages to give back: an import of many orders, then its integration deleted.
        val site = vendor(client = client)
        emulator.admin.bulk(site.username, 400)
        assertEquals(400uL, client.refresh(site.code, mode = RefreshMode.FULL_IMPORT).created)
        client.deleteIntegration(site.code)
        val before = client.storageReport()
        assertTrue(before.freeBytes > 0, "the deleted rows left free pages: $before")

        val done = client.maintain()
        assertNull(done.skipped, "$done")
        assertTrue(done.optimized && !done.converted, "$done")
        val freePagesBefore = before.freeBytes / PAGE_SIZE
        assertEquals(minOf(freePagesBefore, 1024L), done.pagesFreed, "a bounded incremental vacuum")
        val after = client.storageReport()
        assertEquals(before.freeBytes - done.pagesFreed * PAGE_SIZE, after.freeBytes)
    }

    private companion object {
        /** SQLite's default page size, which fieldsync keeps. */
        const val PAGE_SIZE = 4096L
    }

    @Test
    fun `everything stays in one directory, the device id with the database, so a restored phone never inherits it`() = coTest {
        val secrets = InMemorySecretStore()
        suspend fun deviceIdIn(directory: File, deviceId: String? = null): String {
            val config = FieldSyncDirectory.config(directory).let { if (deviceId == null) it else it.copy(deviceId = deviceId) }
            val client = FieldSyncClient.open(config, secrets)
            try {
                return client.deviceId()
            } finally {
                client.close()
            }
        }

        val root = tempDirectory().toFile()
        val phone = File(root, "no-backup/fieldsync")
        val id = deviceIdIn(phone)
        assertTrue(Regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}").matches(id), id)
        assertEquals(setOf(FieldSyncDirectory.DATABASE, FieldSyncDirectory.PHOTOS), phone.list()!!.filter { !it.startsWith("cache.db-") }.toSet())
        assertEquals("rwx------", java.nio.file.Files.getPosixFilePermissions(phone.toPath()).let { java.nio.file.attribute.PosixFilePermissions.toString(it) })
        assertEquals(id, deviceIdIn(phone), "kept with the database across restarts")
        // A restore brings back everything but that directory: a new database, so a new device.
        val restored = File(root, "restored/fieldsync")
        assertTrue(deviceIdIn(restored) != id)
        // An id the app insists on is used as given and not stored.
        assertEquals("app-chosen", deviceIdIn(phone, "app-chosen"))
        assertEquals(id, deviceIdIn(phone))
        assertFailsWith<FieldSyncException.InvalidInput> { deviceIdIn(phone, " ") }
    }
}
