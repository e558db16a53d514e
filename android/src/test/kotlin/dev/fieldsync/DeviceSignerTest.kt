package dev.fieldsync

import dev.fieldsync.ffi.DeviceSigner
import dev.fieldsync.ffi.EvidenceType
import dev.fieldsync.ffi.PhotoState
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.TamperedPart
import dev.fieldsync.ffi.VerificationOutcome
import dev.fieldsync.ffi.createDevelopmentCredentials
import dev.fieldsync.ffi.verifyPhoto
import dev.fieldsync.support.PhotoFixtures
import org.junit.jupiter.api.Test
import java.security.KeyFactory
import java.security.PrivateKey
import java.security.Signature
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import java.security.spec.PKCS8EncodedKeySpec
import java.util.Base64
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * A [DeviceSigner] written in Kotlin with java.security, as an app would write one over the Android Keystore:
 * the library hands it a SHA-256 digest, so it signs the digest as it is (`NONEwithECDSA`, what the Keystore
 * offers for a P-256 key; `SHA256withECDSA` would hash the digest a second time and the signature would not
 * verify) and returns the DER signature. The photo it signed verifies with `verifyPhoto` against the root.
 */
class DeviceSignerTest : EmulatorTest() {

    /** A P-256 key (PKCS#8 PEM) and its certificate chain (PEM, device certificate first). */
    private class JavaSecuritySigner(keyPem: String, chainPem: String) : DeviceSigner {
        private val key: PrivateKey = KeyFactory.getInstance("EC").generatePrivate(PKCS8EncodedKeySpec(pemBlocks(keyPem).single()))
        private val chain: List<ByteArray> = CertificateFactory.getInstance("X.509")
            .generateCertificates(chainPem.byteInputStream())
            .map { (it as X509Certificate).encoded }
        val calls = AtomicInteger()

        override fun signDigest(digest: ByteArray): ByteArray {
            calls.incrementAndGet()
            require(digest.size == 32) { "a SHA-256 digest, not ${digest.size} bytes" }
            return Signature.getInstance("NONEwithECDSA").run {
                initSign(key)
                update(digest)
                sign() // DER (X9.62); the library also accepts raw r || s
            }
        }

        override fun certificateChain(): List<ByteArray> = chain

        companion object {
            fun pemBlocks(pem: String): List<ByteArray> =
                Regex("-----BEGIN [A-Z ]+-----([^-]+)-----END [A-Z ]+-----").findAll(pem)
                    .map { Base64.getMimeDecoder().decode(it.groupValues[1]) }
                    .toList()
        }
    }

    @Test
    fun `a photo signed by a Kotlin java-security signer verifies against the root`() = coTest {
        val credentials = createDevelopmentCredentials("device-kt", "Fieldsync Tests")
        val signer = JavaSecuritySigner(credentials.deviceKeyPem, credentials.devicePem)

        val site = vendor()
        site.assignFieldOrders()
        site.client.refresh(site.code, mode = RefreshMode.FULL_IMPORT)
        site.client.raw.setDeviceSigner(signer)

        val photo = site.client.addPhoto(site.id(1), "Grass Cut", EvidenceType.BEFORE, PhotoFixtures.file("gps/DSCN0010.jpg"))
        assertEquals(PhotoState.PENDING_QA, photo.state)
        assertTrue(photo.signed, "the rendition carries content credentials")
        assertTrue(signer.calls.get() >= 1, "the library asked the Kotlin signer")

        site.client.approvePhoto(photo.uuid)
        assertEquals(1uL, site.client.pushOutbox(site.code).delivered)
        val delivered = emulator.admin.itemFile(photo.uuid)

        val verification = verifyPhoto(delivered, credentials.caPem)
        assertEquals(VerificationOutcome.Valid(trusted = true), verification.outcome, verification.json)
        // Without the root: intact, but not known to be trusted.
        assertEquals(VerificationOutcome.Valid(trusted = false), verifyPhoto(delivered, null).outcome)
        // A changed pixel byte breaks the hard binding.
        val tampered = delivered.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 0x01).toByte() }
        assertEquals(VerificationOutcome.Tampered(TamperedPart.Image), verifyPhoto(tampered, credentials.caPem).outcome)
    }
}
