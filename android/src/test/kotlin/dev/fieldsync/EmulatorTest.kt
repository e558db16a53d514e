package dev.fieldsync

import dev.fieldsync.support.HOME_LAT
import dev.fieldsync.support.HOME_LON
import dev.fieldsync.support.InMemorySecretStore
import dev.fieldsync.support.ProviderEmulator
import dev.fieldsync.support.workOrder
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.Integration
import dev.fieldsync.ffi.IntegrationMode
import dev.fieldsync.ffi.NewIntegration
import dev.fieldsync.ffi.Project
import dev.fieldsync.ffi.ProjectQuery
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Runs a suspending test body with a hard timeout, so a hang fails instead of stalling the suite. */
fun coTest(timeout: Duration = 60.seconds, body: suspend CoroutineScope.() -> Unit): Unit =
    runBlocking { withTimeout(timeout) { body() } }

/** Polls [condition] until it holds; fails with [message] after [timeout]. */
suspend fun waitUntil(
    message: String,
    timeout: Duration = 15.seconds,
    every: Duration = 20.milliseconds,
    detail: suspend () -> Any? = { null },
    condition: suspend () -> Boolean,
) {
    val deadline = System.nanoTime() + timeout.inWholeNanoseconds
    while (!condition()) {
        if (System.nanoTime() > deadline) {
            throw AssertionError("timed out after $timeout waiting until $message" + (detail()?.let { "; saw: $it" } ?: ""))
        }
        delay(every)
    }
}

/** Every project of [code] with all its fields, by id: a full picture of what the cache holds. */
suspend fun FieldSyncClient.snapshot(code: String): Map<String, Project> =
    projects(ProjectQuery(integration = code, limit = 100_000u, sortByNumber = true))
        .associate { it.id to project(it.id) }

/**
 * One provider emulator per test class (a child process), a fresh cache per client, and helpers to make a
 * vendor: a provider login with its own integration code and work-order numbers, so tests never share data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EmulatorTest {
    protected lateinit var emulator: ProviderEmulator
    private val closeAfterTest = mutableListOf<AutoCloseable>()
    private val directories = mutableListOf<Path>()

    @BeforeAll
    fun startEmulator() {
        emulator = ProviderEmulator.start()
    }

    @AfterAll
    fun stopEmulator() {
        emulator.close()
    }

    @AfterEach
    fun cleanUp() {
        emulator.admin.clearFaults()
        closeAfterTest.asReversed().forEach { runCatching { it.close() } }
        closeAfterTest.clear()
        directories.forEach { it.toFile().deleteRecursively() }
        directories.clear()
    }

    /** A client on a new cache in a temporary directory (or [directory], to reopen one). */
    protected suspend fun openClient(
        secrets: InMemorySecretStore = InMemorySecretStore(),
        directory: Path = Files.createTempDirectory("fieldsync-kt-").also { directories.add(it) },
        eventBufferCapacity: Int = 256,
    ): FieldSyncClient {
        val config = FieldSyncConfig(
            databasePath = directory.resolve("cache.db").toString(),
            photoDirectory = directory.resolve("photos").toString(),
            deviceId = "device-kt",
        )
        return FieldSyncClient.open(config, secrets, eventBufferCapacity = eventBufferCapacity).also { closeAfterTest += it }
    }

    /** A temporary directory deleted after the current test. */
    protected fun tempDirectory(): Path = Files.createTempDirectory("fieldsync-kt-").also { directories.add(it) }

    /** Something to close after the current test. */
    protected fun <T : AutoCloseable> closeLater(resource: T): T = resource.also { closeAfterTest += it }

    /** A provider login, its integration code, and (once linked) the client that has it. */
    inner class Vendor(
        val code: String,
        val username: String,
        val password: String,
        val token: String,
        val client: FieldSyncClient,
        val secrets: InMemorySecretStore,
    ) {
        /** This vendor's work-order number [n]. */
        fun number(n: Int) = "$code-$n"

        /** This vendor's project id for work order [n]. */
        fun id(n: Int) = "$code::${number(n)}"

        /** Creates (or replaces) orders [numbers] assigned to this vendor at the provider. */
        fun assignOrders(numbers: IntRange, city: String = "Columbus") =
            emulator.admin.putWorkOrders(numbers.map { workOrder(number(it), username, city = city) })

        /**
         * Orders for field work, assigned to this vendor (tasks "Grass Cut" and "Debris Removal"): 1 and 4 at
         * the property [HOME_LAT], [HOME_LON]; 2 there too, its check-ins needing a photo; 3 without coordinates.
         */
        fun assignFieldOrders() {
            val home = mapOf("gpsLatitude" to HOME_LAT, "gpsLongitude" to HOME_LON)
            val tasks = listOf("Grass Cut", "Debris Removal")
            emulator.admin.putWorkOrders(
                listOf(
                    workOrder(number(1), username, services = tasks, extra = home),
                    workOrder(number(2), username, services = tasks, extra = home + ("options" to mapOf("check_in_photo_required" to true))),
                    workOrder(number(3), username, services = tasks),
                    workOrder(number(4), username, services = tasks, extra = home),
                ),
            )
        }

        /** What arrived at the provider from this vendor (`checkin` or `picture`), in arrival order. */
        fun received(fileType: String? = null) = emulator.admin.items(username = username, fileType = fileType)

        suspend fun link(password: String = this.password): Integration =
            client.createIntegration(newIntegration(), password, token)

        fun newIntegration() = NewIntegration(
            code = code,
            name = "Provider of $code",
            baseUrl = emulator.wireBaseUrl,
            username = username,
            mode = IntegrationMode.EXTERNAL,
        )
    }

    /**
     * A vendor with [orders] orders assigned at the provider (numbers 1..orders), linked (unless [link] is
     * false) in [client] or a fresh client on [secrets]. With a [client], pass its store as [secrets] for
     * [Vendor.secrets] to be the one the client uses.
     */
    protected suspend fun vendor(
        orders: Int = 0,
        link: Boolean = true,
        client: FieldSyncClient? = null,
        secrets: InMemorySecretStore = InMemorySecretStore(),
    ): Vendor {
        val n = SEQUENCE.incrementAndGet()
        val code = "K$n"
        val vendor = Vendor(
            code = code,
            username = "vendor-k$n",
            password = "secret-$n-p@ss",
            token = "tok-$n-0123456789",
            client = client ?: openClient(secrets),
            secrets = secrets,
        )
        emulator.admin.createUser(vendor.username, vendor.password, vendor.token)
        if (orders > 0) vendor.assignOrders(1..orders)
        if (link) vendor.link()
        return vendor
    }

    companion object {
        private val SEQUENCE = AtomicInteger()
    }
}
