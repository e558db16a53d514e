// ANDROID ONLY: compiled by the Gradle build (src/androidMain is added to the main source set in
// build.gradle.kts), never by scripts/test-kotlin.sh, which builds platform-neutral code only.
package dev.fieldsync.android

import android.content.Context
import android.content.SharedPreferences
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.SecretStore
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * fieldsync's [SecretStore] on Android: values (the password's SHA-1, the API token, the push key) are
 * encrypted with an AES-256-GCM key that lives in the Android Keystore (hardware-backed where the device has
 * it, never exportable) and stored, encrypted, in private SharedPreferences. The preference key is bound to
 * the ciphertext as GCM associated data, so a value cannot be moved to another key.
 *
 * Why not EncryptedSharedPreferences: androidx.security:security-crypto is deprecated; this is the same
 * construction in ~80 lines with no dependency. Exclude the preferences file from backups
 * (`android:dataExtractionRules` / `fullBackupContent`): the Keystore key does not travel with a backup, so a
 * restored file could not be decrypted anyway. A value that cannot be decrypted (the key is gone or
 * invalidated, the value is not ours) throws [FieldSyncException.SecretUnreadable], never reads as absent:
 * absent means "never signed in", unreadable means "sign in again", and the library reports it as such
 * (the integration's error, not retried by background runs).
 *
 * Calls arrive on library worker threads; every method is synchronized.
 */
class KeystoreSecretStore(
    context: Context,
    private val keyAlias: String = "dev.fieldsync.secrets",
    preferencesName: String = "dev.fieldsync.secrets",
) : SecretStore {

    private val preferences: SharedPreferences =
        context.applicationContext.getSharedPreferences(preferencesName, Context.MODE_PRIVATE)

    @Synchronized
    override fun get(key: String): String? {
        val stored = preferences.getString(key, null) ?: return null
        return try {
            val bytes = Base64.decode(stored, Base64.NO_WRAP)
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, secretKey(), GCMParameterSpec(TAG_BITS, bytes, 0, IV_BYTES))
            cipher.updateAAD(key.toByteArray(Charsets.UTF_8))
            String(cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES), Charsets.UTF_8)
        } catch (err: java.security.GeneralSecurityException) {
            // Never the value in the message: only the key and the failure's class.
            throw FieldSyncException.SecretUnreadable("secure storage: cannot decrypt $key (${err.javaClass.simpleName})", null)
        } catch (err: IllegalArgumentException) {
            throw FieldSyncException.SecretUnreadable("secure storage: $key is not a value this store wrote", null)
        }
    }

    @Synchronized
    override fun set(key: String, value: String) {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, secretKey()) // the Keystore picks a random IV
            cipher.updateAAD(key.toByteArray(Charsets.UTF_8))
            val sealed = cipher.iv + cipher.doFinal(value.toByteArray(Charsets.UTF_8))
            if (!preferences.edit().putString(key, Base64.encodeToString(sealed, Base64.NO_WRAP)).commit()) {
                throw FieldSyncException.Storage("secure storage: could not write $key")
            }
        } catch (err: java.security.GeneralSecurityException) {
            // Never include the value in the message.
            throw FieldSyncException.Storage("secure storage: cannot encrypt $key (${err.javaClass.simpleName})")
        }
    }

    @Synchronized
    override fun delete(key: String) {
        if (!preferences.edit().remove(key).commit()) {
            throw FieldSyncException.Storage("secure storage: could not delete $key")
        }
    }

    private fun secretKey(): SecretKey {
        val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (keyStore.getKey(keyAlias, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(keyAlias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
                .build(),
        )
        return generator.generateKey()
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
