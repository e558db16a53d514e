package dev.fieldsync.support

import dev.fieldsync.ffi.LocationFix
import dev.fieldsync.ffi.LocationSource
import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.ByteBuffer
import java.time.Instant
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.zip.CRC32
import java.util.zip.Deflater

/** The property of the orders with coordinates (Springfield, IL). */
const val HOME_LAT = 39.78170
const val HOME_LON = -89.65010

/** 11.1 m north of the property. */
val NEAR: Pair<Double, Double> = HOME_LAT + 0.0001 to HOME_LON

/** A fix as the device's location service gives it, taken now unless [atMs]. */
fun locationFix(
    position: Pair<Double, Double> = NEAR,
    accuracyM: Double = 6.0,
    atMs: Long = System.currentTimeMillis(),
    isMock: Boolean = false,
    altitudeM: Double? = 182.0,
) = LocationFix(
    latitude = position.first,
    longitude = position.second,
    accuracyM = accuracyM,
    altitudeM = altitudeM,
    fixTimeMs = atMs,
    isMock = isMock,
)

private val WIRE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC)

/** How the library writes a Unix time on the wire (RFC 3339, UTC, whole seconds). */
fun rfc3339(seconds: Long): String = WIRE_TIME.format(Instant.ofEpochSecond(seconds))

/**
 * The device's location service, implemented in Kotlin: [fixes] in order, each after [delayMs]. When none is
 * left it waits out the library's timeout and answers null, as a real location service does.
 */
class GpsTrack(vararg fixes: LocationFix, private val delayMs: Long = 0) : LocationSource {
    private val pending = ArrayDeque(fixes.toList())
    private val never = CountDownLatch(1)
    val timeouts: MutableList<ULong> = java.util.Collections.synchronizedList(mutableListOf())
    val threads: MutableList<Thread> = java.util.Collections.synchronizedList(mutableListOf())
    val left: Int get() = synchronized(pending) { pending.size }

    override fun nextFix(timeoutMs: ULong): LocationFix? {
        timeouts += timeoutMs
        threads += Thread.currentThread()
        val fix = synchronized(pending) { pending.removeFirstOrNull() }
        if (fix == null || delayMs > timeoutMs.toLong()) {
            never.await(timeoutMs.toLong(), TimeUnit.MILLISECONDS)
            return null
        }
        if (delayMs > 0) never.await(delayMs, TimeUnit.MILLISECONDS)
        return fix
    }
}

/**
 * The photo fixtures, found like the Rust tests find them: the system property `fieldsync.photos`, else
 * `FIELDSYNC_PHOTO_FIXTURES`, else the repository's `fixtures/photos`, looked for in the working directory
 * and its parents (scripts/test-kotlin.sh runs from the repository root).
 */
object PhotoFixtures {
    val dir: File by lazy {
        val explicit = System.getProperty("fieldsync.photos") ?: System.getenv("FIELDSYNC_PHOTO_FIXTURES")
        val candidates = buildList {
            if (explicit != null) add(File(explicit))
            var dir: File? = File("").absoluteFile
            while (dir != null) {
                add(File(dir, "fixtures/photos"))
                dir = dir.parentFile
            }
        }
        candidates.firstOrNull { File(it, "gps").isDirectory && File(it, "invalid").isDirectory }?.canonicalFile
            ?: error("photo fixtures not found (set FIELDSYNC_PHOTO_FIXTURES or -Dfieldsync.photos); looked in $candidates")
    }

    fun file(relative: String): File = File(dir, relative).also { require(it.isFile) { "no fixture $it" } }
}

/** (width, height) from a JPEG's frame header. */
fun jpegSize(data: ByteArray): Pair<Int, Int> {
    check(data.size > 4 && data[0] == 0xFF.toByte() && data[1] == 0xD8.toByte()) { "not a JPEG" }
    var at = 2
    while (at + 9 <= data.size) {
        val marker = data[at + 1].toInt() and 0xFF
        val length = ((data[at + 2].toInt() and 0xFF) shl 8) or (data[at + 3].toInt() and 0xFF)
        if (marker in 0xC0..0xC2) {
            val height = ((data[at + 5].toInt() and 0xFF) shl 8) or (data[at + 6].toInt() and 0xFF)
            val width = ((data[at + 7].toInt() and 0xFF) shl 8) or (data[at + 8].toInt() and 0xFF)
            return width to height
        }
        at += 2 + length
    }
    error("no frame header")
}

/** A real JPEG whose frame header claims [width] x [height]. */
fun jpegClaiming(source: ByteArray, width: Int, height: Int): ByteArray {
    val data = source.copyOf()
    var at = 2
    while ((data[at + 1].toInt() and 0xFF) !in 0xC0..0xC2) {
        at += 2 + (((data[at + 2].toInt() and 0xFF) shl 8) or (data[at + 3].toInt() and 0xFF))
    }
    data[at + 5] = (height shr 8).toByte(); data[at + 6] = height.toByte()
    data[at + 7] = (width shr 8).toByte(); data[at + 8] = width.toByte()
    return data
}

/** A valid 1-bit PNG of black pixels: 20000x20000 (50 MB of rows) deflates to about 50 KB. */
fun pngBomb(width: Int, height: Int): ByteArray {
    val row = ByteArray(1 + (width + 7) / 8)
    val deflater = Deflater(9)
    val idat = ByteArrayOutputStream()
    val buffer = ByteArray(64 * 1024)
    repeat(height) {
        deflater.setInput(row)
        while (!deflater.needsInput()) idat.write(buffer, 0, deflater.deflate(buffer))
    }
    deflater.finish()
    while (!deflater.finished()) idat.write(buffer, 0, deflater.deflate(buffer))
    deflater.end()
    fun chunk(out: ByteArrayOutputStream, kind: String, data: ByteArray) {
        out.write(ByteBuffer.allocate(4).putInt(data.size).array())
        val typed = kind.toByteArray() + data
        out.write(typed)
        out.write(ByteBuffer.allocate(4).putInt(CRC32().apply { update(typed) }.value.toInt()).array())
    }
    val header = ByteBuffer.allocate(13).putInt(width).putInt(height).put(byteArrayOf(1, 0, 0, 0, 0)).array()
    return ByteArrayOutputStream().apply {
        write(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 0x0D, 0x0A, 0x1A, 0x0A))
        chunk(this, "IHDR", header)
        chunk(this, "IDAT", idat.toByteArray())
        chunk(this, "IEND", ByteArray(0))
    }.toByteArray()
}

/** Every file under [directory] (none when it does not exist). */
fun filesUnder(directory: File): List<File> = directory.walkTopDown().filter { it.isFile }.toList()
