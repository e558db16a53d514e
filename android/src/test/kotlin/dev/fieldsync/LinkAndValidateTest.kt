package dev.fieldsync

import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.IntegrationMode
import dev.fieldsync.ffi.IntegrationStatus
import java.security.MessageDigest
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun sha1Hex(text: String): String =
    MessageDigest.getInstance("SHA-1").digest(text.toByteArray()).joinToString("") { "%02x".format(it) }

class LinkAndValidateTest : EmulatorTest() {

    @Test
    fun `linking saves the integration and only the password's SHA-1`() = coTest {
        val vendor = vendor()
        val integration = vendor.client.integration(vendor.code)
        assertEquals(vendor.code, integration.code)
        assertEquals(vendor.username, integration.username)
        assertEquals(emulator.wireBaseUrl, integration.baseUrl)
        assertEquals(IntegrationMode.EXTERNAL, integration.mode)
        assertEquals("pruvan_share", integration.integrationType)
        assertEquals(IntegrationStatus.IDLE, integration.status)
        assertTrue(integration.autoAdmin, "Auto Admin is on by default")
        assertEquals("none", integration.defaultAssignTo)
        assertNull(integration.validatedAt, "nothing is valid before validate")
        assertNull(integration.lastRefreshed)

        assertEquals(sha1Hex(vendor.password), vendor.secrets.values["${vendor.code}/password_sha1"])
        assertEquals(vendor.token, vendor.secrets.values["${vendor.code}/token"])
        assertTrue(vendor.secrets.values.values.none { it.contains(vendor.password) }, "the plain password is never stored")
        assertEquals(listOf(vendor.code), vendor.client.integrations().map { it.code })
    }

    @Test
    fun `validate with the right password marks the integration validated and registers the push key`() = coTest {
        val vendor = vendor()
        val validation = vendor.client.validate(vendor.code)
        assertTrue(validation.validated, "validation: $validation")
        assertNotNull(vendor.client.integration(vendor.code).validatedAt)

        val pushKey = vendor.client.pushKey(vendor.code)
        assertEquals(64, pushKey.length)
        assertEquals(pushKey, vendor.secrets.values["${vendor.code}/push_key"])
        assertEquals(pushKey, emulator.admin.user(vendor.username)["pushKey"], "the provider received the push key")
    }

    @Test
    fun `validate with a wrong password answers not validated, without throwing or leaking it`() = coTest {
        val vendor = vendor(link = false)
        vendor.link(password = "not-the-password")
        val validation = vendor.client.validate(vendor.code)
        assertFalse(validation.validated)
        val reason = assertNotNull(validation.error, "a refusal says why")
        assertFalse(reason.contains("not-the-password"), "the reason must not echo the password: $reason")
        assertFalse(reason.contains(sha1Hex("not-the-password")), "nor its SHA-1: $reason")
        assertNull(vendor.client.integration(vendor.code).validatedAt)
    }

    @Test
    fun `fixing the password after a refusal validates`() = coTest {
        val vendor = vendor(link = false)
        vendor.link(password = "typo")
        assertFalse(vendor.client.validate(vendor.code).validated)
        vendor.client.editIntegration(vendor.code, IntegrationEdit(name = "Renamed"), password = vendor.password)
        assertTrue(vendor.client.validate(vendor.code).validated)
        val integration = vendor.client.integration(vendor.code)
        assertEquals("Renamed", integration.name)
        assertNotNull(integration.validatedAt)
    }
}
