// The Kotlin-side benchmark of the bindings (JVM + JNA), run by `scripts/test-kotlin.sh --bench` against the
// release library. Not part of the Android build.
package dev.fieldsync.bench

import dev.fieldsync.FieldSyncClient
import dev.fieldsync.support.InMemorySecretStore
import dev.fieldsync.support.ProviderEmulator
import kotlinx.coroutines.runBlocking
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.IntegrationMode
import dev.fieldsync.ffi.NewIntegration
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.libraryVersion
import java.nio.file.Files
import kotlin.random.Random

private const val OVERHEAD_TARGET_US = 5.0
private const val PAGE_TARGET_MS = 3.0
private const val PROJECTS = 100_000
private const val PAGE = 200

private val threads = java.lang.management.ManagementFactory.getThreadMXBean()

/** libc through JNA direct mapping, as uniffi's Kotlin calls the library: the cost of JNA itself. */
private object LibC {
    init {
        com.sun.jna.Native.register("c")
    }

    external fun getpid(): Int
}

/** Sink so the JIT cannot drop the calls being measured. */
@Volatile private var sink: Any? = null

private fun percentile(sorted: DoubleArray, p: Double): Double =
    sorted[((sorted.size - 1) * p).toInt().coerceIn(0, sorted.size - 1)]

private fun verdict(value: Double, target: Double) = if (value <= target) "ok" else "OVER TARGET"

fun main() = runBlocking {
    val directory = Files.createTempDirectory("fieldsync-bench-")
    val emulator = ProviderEmulator.start()
    try {
        val config = FieldSyncConfig(
            databasePath = directory.resolve("cache.db").toString(),
            photoDirectory = directory.resolve("photos").toString(),
            deviceId = "bench",
        )
        FieldSyncClient.open(config, InMemorySecretStore()).use { client ->
            val raw = client.raw
            println("fieldsync ${raw.version()}, JVM ${System.getProperty("java.version")}, JNA ${com.sun.jna.Native.VERSION}")

            // ---- 1. per-call overhead of a trivial call
            repeat(300_000) { sink = raw.version() } // warm-up: JIT, JNA stubs
            val rounds = 7
            val callsPerRound = 200_000
            val cpuPerRound = DoubleArray(rounds)
            val perRound = DoubleArray(rounds) { round ->
                val cpuStarted = threads.currentThreadCpuTime
                val started = System.nanoTime()
                repeat(callsPerRound) { sink = raw.version() }
                cpuPerRound[round] = (threads.currentThreadCpuTime - cpuStarted) / 1_000.0 / callsPerRound
                (System.nanoTime() - started) / 1_000.0 / callsPerRound
            }.sortedArray()
            cpuPerRound.sort()
            val median = percentile(perRound, 0.5)
            println(
                "version(): %.2f us/call wall, %.2f us/call CPU of the calling thread; median of %d rounds x %,d calls (wall best %.2f, worst %.2f) -- target <= %.0f us: %s"
                    .format(median, percentile(cpuPerRound, 0.5), rounds, callsPerRound, perRound.first(), perRound.last(), OVERHEAD_TARGET_US, verdict(median, OVERHEAD_TARGET_US)),
            )
            // The same trivial call as a top-level function: no object handle to clone, so one native call.
            repeat(100_000) { sink = libraryVersion() }
            val functionRounds = DoubleArray(rounds) {
                val started = System.nanoTime()
                repeat(callsPerRound) { sink = libraryVersion() }
                (System.nanoTime() - started) / 1_000.0 / callsPerRound
            }.sortedArray()
            println("libraryVersion() (top-level function, returns a String): %.2f us/call wall, median of %d rounds -- target <= %.0f us: %s"
                .format(percentile(functionRounds, 0.5), rounds, OVERHEAD_TARGET_US, verdict(percentile(functionRounds, 0.5), OVERHEAD_TARGET_US)))
            // The floor on this machine: JNA direct mapping of a C function with no arguments and no structures.
            repeat(100_000) { sink = LibC.getpid() }
            val floorStarted = System.nanoTime()
            repeat(callsPerRound) { sink = LibC.getpid() }
            println("JNA direct call floor (libc getpid): %.2f us/call wall".format((System.nanoTime() - floorStarted) / 1_000.0 / callsPerRound))
            // What a call is made of (uniffi's Kotlin over JNA): a JNA Structure for the call status of each
            // native call (cloning the object handle is one, the method another), and the returned RustBuffer.
            repeat(100_000) { raw.setOnline(true) }
            val unitStarted = System.nanoTime()
            repeat(callsPerRound) { raw.setOnline(true) }
            println("setOnline(true) (no return value): %.2f us/call wall".format((System.nanoTime() - unitStarted) / 1_000.0 / callsPerRound))
            // JNA alone: the native memory every Structure allocates (call status, RustBuffer), tracked by JNA
            // in a global map and freed by its Cleaner. This is most of the per-call cost above.
            repeat(100_000) { sink = com.sun.jna.Memory(24) }
            val memoryStarted = System.nanoTime()
            repeat(callsPerRound) { sink = com.sun.jna.Memory(24) }
            println("JNA Memory(24) allocation alone: %.2f us each".format((System.nanoTime() - memoryStarted) / 1_000.0 / callsPerRound))
            val load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().systemLoadAverage
            println("machine: %d cores, load average %.1f while measuring".format(Runtime.getRuntime().availableProcessors(), load))

            // ---- 2. a page of 200 summaries over 100,000 projects
            val admin = emulator.admin
            admin.createUser("bench", "bench-pass", "bench-token")
            val generated = admin.bulk("bench", PROJECTS)
            println("emulator: generated ${generated["count"]} orders (${generated["jsonBytes"]} bytes of JSON) in ${generated["elapsedMs"]} ms")
            client.createIntegration(
                NewIntegration(code = "BENCH", baseUrl = emulator.wireBaseUrl, username = "bench", mode = IntegrationMode.EXTERNAL),
                "bench-pass",
                "bench-token",
            )
            val importStarted = System.nanoTime()
            val report = client.refresh("BENCH", mode = RefreshMode.FULL_IMPORT)
            println("full import of %,d projects: %.2f s (created %d)".format(PROJECTS, (System.nanoTime() - importStarted) / 1e9, report.created.toLong()))

            fun measure(label: String, samples: Int, query: (Int) -> ProjectQuery) {
                repeat(50) { sink = raw.projects(query(it)) } // warm-up
                val cpu = DoubleArray(samples)
                val times = DoubleArray(samples) {
                    val q = query(it)
                    val cpuStarted = threads.currentThreadCpuTime
                    val started = System.nanoTime()
                    val page = raw.projects(q)
                    val elapsed = (System.nanoTime() - started) / 1e6
                    cpu[it] = (threads.currentThreadCpuTime - cpuStarted) / 1e6
                    check(page.size == PAGE) { "a page has ${page.size} rows" }
                    sink = page
                    elapsed
                }.sortedArray()
                cpu.sort()
                val p50 = percentile(times, 0.5)
                val p99 = percentile(times, 0.99)
                println(
                    "%s: wall p50 %.2f ms, p99 %.2f ms, max %.2f ms; CPU p50 %.2f ms, p99 %.2f ms; %d fetches -- target <= %.0f ms: %s"
                        .format(label, p50, p99, times.last(), percentile(cpu, 0.5), percentile(cpu, 0.99), samples, PAGE_TARGET_MS, verdict(p99, PAGE_TARGET_MS)),
                )
            }
            val random = Random(42)
            val pages = PROJECTS / PAGE
            measure("page of $PAGE summaries, first page (by due date)", 500) {
                ProjectQuery(integration = "BENCH", limit = PAGE.toUInt(), offset = 0u)
            }
            measure("page of $PAGE summaries, random page (by due date)", 500) {
                ProjectQuery(integration = "BENCH", limit = PAGE.toUInt(), offset = (random.nextInt(pages) * PAGE).toUInt())
            }
            measure("page of $PAGE summaries, random page (by number)", 500) {
                ProjectQuery(integration = "BENCH", sortByNumber = true, limit = PAGE.toUInt(), offset = (random.nextInt(pages) * PAGE).toUInt())
            }
        }
    } finally {
        emulator.close()
        directory.toFile().deleteRecursively()
    }
}
