package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import org.junit.jupiter.api.Disabled
import org.junit.jupiter.api.Test
import uniffi.fieldsync_ffi.FieldSyncConfig
import uniffi.fieldsync_ffi.FieldSyncException
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The generated layer itself: that it is usable as generated, loads, and maps errors. No emulator needed. */
class GeneratedBindingsTest {

    // Known issue, next to fix: FieldSyncError variants have a field named `message`, which clashes with
    // Throwable.message in uniffi's Kotlin (mozilla/uniffi-rs#1434). Until the field is renamed in
    // bindings/src/error.rs (and the Python/Swift suites follow), scripts/test-kotlin.sh compiles a patched copy.
    @Test
    @Disabled("known issue: FieldSyncError's `message` field clashes with Throwable.message; see comment")
    fun `the generated Kotlin compiles without patches`() {
        // scripts/test-kotlin.sh sets this when it had to patch the generated file to compile it at all.
        assertNull(
            System.getProperty("fieldsync.generatedPatched"),
            "uniffi generates Kotlin that does not compile: every FieldSyncError variant has a field named " +
                "`message`, which clashes with Throwable.message (`val message` beside `override val message`; " +
                "mozilla/uniffi-rs#1434). Rename the field in bindings/src/error.rs (e.g. `reason`); the tests " +
                "ran on a patched copy.",
        )
    }

    @Test
    fun `the library loads and answers a trivial call`() = withClient { client ->
        assertTrue(Regex("""\d+\.\d+\.\d+.*""").matches(client.version()), "version: ${client.version()}")
        assertEquals("device-kt", client.deviceId())
    }

    @Test
    fun `errors cross the boundary as typed exceptions with the library's message`() = withClient { client ->
        val error = assertFailsWith<FieldSyncException.NotFound> { client.raw.integration("NOPE") }
        assertTrue(error.message.orEmpty().contains("NOPE"), "message: ${error.message}")
        val asException: Exception = error // catchable as a plain Exception by callers that do not know the types
        assertEquals(error.message, asException.message)
    }

    private fun withClient(body: suspend (FieldSyncClient) -> Unit) = coTest {
        val directory = Files.createTempDirectory("fieldsync-kt-gen-")
        try {
            FieldSyncClient.open(
                FieldSyncConfig(directory.resolve("c.db").toString(), directory.resolve("p").toString(), "device-kt"),
                InMemorySecretStore(),
            ).use { body(it) }
        } finally {
            directory.toFile().deleteRecursively()
        }
    }
}
