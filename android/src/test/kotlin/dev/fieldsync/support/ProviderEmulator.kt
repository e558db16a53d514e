package dev.fieldsync.support

import java.io.File
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.ArrayDeque
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * The provider emulator as a real HTTP server in a child process:
 * `fieldsync provider serve --addr 127.0.0.1:0 --provider-db <temp>` (the binary of `cargo build -p
 * fieldsync-cli`). The wire base URL and the admin URL are read from what it prints.
 *
 * The binary is found through the system property `fieldsync.bin`, the environment variable `FIELDSYNC_BIN`,
 * or `target/debug/fieldsync` in the working directory or one of its parents.
 */
class ProviderEmulator private constructor(
    private val process: Process,
    private val directory: Path,
    private val output: ArrayDeque<String>,
    /** `http://127.0.0.1:PORT/api/v2`: what an integration's base URL is set to. */
    val wireBaseUrl: String,
    /** `http://127.0.0.1:PORT/admin`. */
    val adminUrl: String,
) : AutoCloseable {

    /** The admin JSON API. */
    val admin = AdminClient(adminUrl)

    /** The last lines the emulator printed (for failure messages). */
    fun recentOutput(): String = synchronized(output) { output.joinToString("\n") }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor(5, TimeUnit.SECONDS)
        }
        directory.toFile().deleteRecursively()
    }

    companion object {
        private val WIRE = Regex("""wire base URL (http://\S+)""")
        private val ADMIN = Regex("""admin API (http://\S+/admin)""")

        fun start(timeout: Duration = Duration.ofSeconds(30)): ProviderEmulator {
            val binary = locateBinary()
            val directory = Files.createTempDirectory("fieldsync-provider-")
            val process = ProcessBuilder(
                binary.path, "provider", "serve",
                "--addr", "127.0.0.1:0",
                "--provider-db", directory.resolve("provider.db").toString(),
                "--db", directory.resolve("unused-cache.db").toString(),
            )
                .redirectErrorStream(true)
                .directory(directory.toFile())
                .also { it.environment()["RUST_LOG"] = "warn" }
                .start()
            process.outputStream.close()
            // If the JVM ends without close() (killed, crashed test run), do not leave the server behind.
            Runtime.getRuntime().addShutdownHook(Thread { process.destroy() })
            val lines = LinkedBlockingQueue<String>()
            val recent = ArrayDeque<String>()
            // Drain the output for the process's whole life so it never blocks on a full pipe.
            Thread({
                process.inputStream.bufferedReader().useLines { sequence ->
                    for (line in sequence) {
                        lines.put(line)
                        synchronized(recent) {
                            recent.addLast(line)
                            while (recent.size > 200) recent.removeFirst()
                        }
                    }
                }
            }, "fieldsync-provider-output").apply { isDaemon = true }.start()

            var wire: String? = null
            var admin: String? = null
            val deadline = System.nanoTime() + timeout.toNanos()
            while (wire == null || admin == null) {
                val left = deadline - System.nanoTime()
                val line = if (left > 0) lines.poll(left, TimeUnit.NANOSECONDS) else null
                if (line == null) {
                    process.destroyForcibly()
                    directory.toFile().deleteRecursively()
                    error("the provider emulator did not print its URLs within $timeout: ${synchronized(recent) { recent.joinToString("\n") }}")
                }
                WIRE.find(line)?.let { wire = it.groupValues[1] }
                ADMIN.find(line)?.let { admin = it.groupValues[1] }
            }
            return ProviderEmulator(process, directory, recent, wire, admin)
        }

        /** Where `fieldsync` (fieldsync-cli) is. */
        fun locateBinary(): File {
            val explicit = System.getProperty("fieldsync.bin") ?: System.getenv("FIELDSYNC_BIN")
            if (explicit != null) {
                return File(explicit).absoluteFile.also { require(it.canExecute()) { "fieldsync.bin=$explicit is not executable" } }
            }
            var dir: File? = File("").absoluteFile
            while (dir != null) {
                val candidate = File(dir, "target/debug/fieldsync")
                if (candidate.canExecute()) return candidate
                dir = dir.parentFile
            }
            error("cannot find target/debug/fieldsync: run `cargo build -p fieldsync-cli` or set -Dfieldsync.bin")
        }
    }
}

/** The emulator's admin API (JSON, camelCase) over java.net.http. Every call fails loudly on an HTTP error. */
class AdminClient(private val base: String) {
    private val http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build()

    /** One call; returns the body, or throws with the status and body when the status is not 2xx. */
    fun call(method: String, path: String, body: Any? = null): String {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(60))
            .header("content-type", "application/json")
            .method(
                method,
                if (body == null) HttpRequest.BodyPublishers.noBody()
                else HttpRequest.BodyPublishers.ofString(if (body is String) body else Json.write(body)),
            )
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) { "admin $method $path -> ${response.statusCode()}: ${response.body()}" }
        return response.body()
    }

    fun health(): Map<String, Any?> = Json.obj(call("GET", "/health"))

    fun createUser(username: String, password: String, token: String) {
        call("POST", "/users", mapOf("username" to username, "password" to password, "token" to token))
    }

    fun user(username: String): Map<String, Any?> = Json.obj(call("GET", "/users/$username"))

    /** Creates or replaces work orders (wire documents). */
    fun putWorkOrders(orders: List<Map<String, Any?>>) {
        call("POST", "/work-orders", orders)
    }

    fun putWorkOrder(order: Map<String, Any?>) = putWorkOrders(listOf(order))

    /** A JSON merge patch of one order. */
    fun patchWorkOrder(number: String, patch: Map<String, Any?>) {
        call("PATCH", "/work-orders/$number", patch)
    }

    fun assign(number: String, username: String) {
        call("POST", "/work-orders/$number/assign", mapOf("username" to username))
    }

    fun unassign(number: String) {
        call("POST", "/work-orders/$number/unassign")
    }

    fun deleteWorkOrder(number: String) {
        call("DELETE", "/work-orders/$number")
    }

    /** Generates [count] realistic orders for [username]; returns the emulator's report. */
    fun bulk(username: String, count: Int, prefix: String? = null): Map<String, Any?> =
        Json.obj(
            call(
                "POST", "/bulk",
                buildMap {
                    put("username", username)
                    put("count", count)
                    if (prefix != null) put("prefix", prefix)
                },
            ),
        )

    /** Replaces an order's `options` (e.g. `mapOf("check_in_required" to true)`). */
    fun setOptions(number: String, options: Map<String, Any?>) {
        call("PUT", "/work-orders/$number/options", options)
    }

    /**
     * What arrived through `uploadPictures` (pictures and check-ins) in the order it first arrived, from
     * [username] and of [fileType] when given: `uuid`, `workOrderNumber`, `fileType`, `deliveries`, `metadata`...
     */
    @Suppress("UNCHECKED_CAST")
    fun items(username: String? = null, fileType: String? = null): List<Map<String, Any?>> {
        val query = listOfNotNull(
            username?.let { "username=" + URLEncoder.encode(it, Charsets.UTF_8) },
            fileType?.let { "fileType=" + URLEncoder.encode(it, Charsets.UTF_8) },
        ).joinToString("&")
        return Json.array(call("GET", if (query.isEmpty()) "/items" else "/items?$query")) as List<Map<String, Any?>>
    }

    /** The bytes received for a picture. */
    fun itemFile(uuid: String): ByteArray {
        val request = HttpRequest.newBuilder(URI.create("$base/items/$uuid/file")).timeout(Duration.ofSeconds(60)).GET().build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofByteArray())
        check(response.statusCode() == 200) { "admin GET /items/$uuid/file -> ${response.statusCode()}" }
        return response.body()
    }

    /** Adds a fault rule, e.g. `mapOf("endpoint" to "getWorkOrders", "kind" to "latency", "ms" to 500)`. */
    fun addFault(rule: Map<String, Any?>) {
        call("POST", "/faults", rule)
    }

    fun clearFaults() {
        call("DELETE", "/faults")
    }

    /** The demo seed: login `vendor1` / `secret1` / `tok-1` and orders WO-100101 ... WO-100111. */
    fun seed() {
        call("POST", "/seed")
    }

    /** Sets a service's survey: a library template by [templateId] and/or an inline [dynamic] template. */
    fun setServiceSurvey(number: String, serviceName: String, templateId: String? = null, dynamic: Any? = null) {
        val service = URLEncoder.encode(serviceName, Charsets.UTF_8).replace("+", "%20")
        call("PUT", "/work-orders/$number/services/$service/survey", mapOf("survey" to templateId, "surveyDynamic" to dynamic))
    }

    /**
     * Received surveys of [number]: `uuid`, `taskName`, `templateId`, `answerCount`, `photoUuids`,
     * `photosReceivedBefore`, `missingPhotos`, `deliveries`...
     */
    @Suppress("UNCHECKED_CAST")
    fun surveys(number: String): List<Map<String, Any?>> =
        Json.array(call("GET", "/surveys?workOrderNumber=" + URLEncoder.encode(number, Charsets.UTF_8))) as List<Map<String, Any?>>

    /** Status updates received: `workOrderNumber`, `status`, `reason`, `deliveries`..., in arrival order. */
    @Suppress("UNCHECKED_CAST")
    fun statusUpdates(): List<Map<String, Any?>> = Json.array(call("GET", "/status-updates")) as List<Map<String, Any?>>
}

/** A valid wire work order assigned to [assignedTo], with one or more services. */
fun workOrder(
    number: String,
    assignedTo: String?,
    city: String = "Columbus",
    clientStatus: String = "Open",
    services: List<String> = listOf("Grass Cut"),
    extra: Map<String, Any?> = emptyMap(),
): Map<String, Any?> = linkedMapOf<String, Any?>(
    "workOrderNumber" to number,
    "address1" to "1 Main St",
    "city" to city,
    "state" to "OH",
    "zip" to "43215",
    "clientStatus" to clientStatus,
    "clientDueDate" to "2030-01-05",
    "clientInstructions" to "Gate code 4411",
    "description" to "Lawn care at $number",
    "assignedTo" to assignedTo,
    "services" to services.map { mapOf("serviceName" to it, "instructions" to "Do $it", "options" to emptyMap<String, Any?>()) },
).apply { putAll(extra) }
