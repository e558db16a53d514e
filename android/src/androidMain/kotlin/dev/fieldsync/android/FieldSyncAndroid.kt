// ANDROID ONLY: compiled by the Gradle build, never by scripts/test-kotlin.sh.
package dev.fieldsync.android

import android.content.Context
import android.util.Log
import dev.fieldsync.FieldSyncClient
import dev.fieldsync.FieldSyncLogging
import uniffi.fieldsync_ffi.FieldSyncConfig
import uniffi.fieldsync_ffi.LogLevel
import uniffi.fieldsync_ffi.SecretStore
import java.io.File
import java.util.UUID

/**
 * Android entry point: opens fieldsync with app-private paths, the Keystore-backed [KeystoreSecretStore] and
 * Logcat logging, after initialising TLS.
 *
 * ```kotlin
 * class App : Application() {
 *     val fieldSync by lazy { FieldSyncAndroid.open(this) }
 * }
 * ```
 */
object FieldSyncAndroid {
    private const val TAG = "fieldsync"

    @Volatile private var tlsReady = false

    /**
     * Opens the library: cache in `noBackupFilesDir/fieldsync/` (a cache of the provider's data, rebuilt by a
     * Full Import, so it is kept out of backups), photos in `filesDir/fieldsync/photos`, a random per-install
     * device id.
     */
    fun open(
        context: Context,
        secretStore: SecretStore = KeystoreSecretStore(context),
        logLevel: LogLevel? = LogLevel.INFO,
    ): FieldSyncClient {
        val app = context.applicationContext
        if (logLevel != null) FieldSyncLogging.install(LogcatLogger(TAG), logLevel)
        initPlatformVerifier(app)
        val cacheDir = File(app.noBackupFilesDir, "fieldsync").apply { mkdirs() }
        val config = FieldSyncConfig(
            databasePath = File(cacheDir, "cache.db").absolutePath,
            photoDirectory = File(app.filesDir, "fieldsync/photos").absolutePath,
            deviceId = deviceId(app),
        )
        return FieldSyncClient.open(config, secretStore)
    }

    /**
     * Gives rustls-platform-verifier the JVM and the application context it needs to ask Android's
     * TrustManager about provider certificates. Must run before the first https request; idempotent.
     *
     * The native half is `bindings/src/android.rs` (see README, "TLS on Android"); if the library lacks it,
     * this logs an error and https providers fail their handshake.
     */
    fun initPlatformVerifier(context: Context) {
        if (tlsReady) return
        synchronized(this) {
            if (tlsReady) return
            try {
                System.loadLibrary("fieldsync_ffi") // the same library JNA opens; loading twice is a no-op
                nativeInitPlatformVerifier(context.applicationContext)
                tlsReady = true
            } catch (err: UnsatisfiedLinkError) {
                Log.e(TAG, "libfieldsync_ffi has no TLS init entry point; https providers will fail (see README)", err)
            }
        }
    }

    /** Implemented in Rust (`bindings/src/android.rs`): `rustls_platform_verifier::android::init_with_env`. */
    @JvmStatic
    private external fun nativeInitPlatformVerifier(context: Context)

    private fun deviceId(context: Context): String {
        val preferences = context.getSharedPreferences("dev.fieldsync.device", Context.MODE_PRIVATE)
        preferences.getString("device_id", null)?.let { return it }
        val id = UUID.randomUUID().toString()
        preferences.edit().putString("device_id", id).apply()
        return id
    }
}
