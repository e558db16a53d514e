package dev.fieldsync

import dev.fieldsync.support.InMemorySecretStore
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.FieldSyncException
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** The generated layer itself: that it is usable as generated, loads, and maps errors. No emulator needed. */
class GeneratedBindingsTest {

    @Test
    fun `the library loads and answers a trivial call`() = withClient { client ->
        assertTrue(Regex("""\d+\.\d+\.\d+.*""").matches(client.version()), "version: ${client.version()}")
        assertEquals("device-kt", client.deviceId())
    }

    @Test
    fun `errors cross the boundary as typed exceptions with the library's reason`() = withClient { client ->
        val error = assertFailsWith<FieldSyncException.NotFound> { client.raw.integration("NOPE") }
        assertTrue(error.reason.contains("NOPE"), "reason: ${error.reason}")
        assertTrue(error.message.orEmpty().contains(error.reason), "Throwable.message carries the reason: ${error.message}")
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
