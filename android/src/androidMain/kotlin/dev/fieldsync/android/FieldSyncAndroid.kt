// ANDROID ONLY: compiled by the Gradle build, never by scripts/test-kotlin.sh.
package dev.fieldsync.android

import android.content.Context
import android.util.Log
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import androidx.lifecycle.lifecycleScope
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.OutOfQuotaPolicy
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.workDataOf
import dev.fieldsync.BackgroundSync
import dev.fieldsync.FieldSyncClient
import dev.fieldsync.FieldSyncLifecycle
import dev.fieldsync.FieldSyncLogging
import dev.fieldsync.ffi.BackgroundReason
import dev.fieldsync.FieldSyncDirectory
import dev.fieldsync.ffi.FieldSyncException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import dev.fieldsync.ffi.LogLevel
import dev.fieldsync.ffi.SecretStore
import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes

/**
 * Android entry point: opens fieldsync with app-private paths, the Keystore-backed [KeystoreSecretStore] and
 * Logcat logging, after initialising TLS.
 *
 * ```kotlin
 * class App : Application() {
 *     private val appScope = MainScope()
 *     // Opening reads (and may migrate) the database: a suspend call, off the main thread.
 *     val fieldSync: Deferred<FieldSyncClient> = appScope.async { FieldSyncAndroid.open(this@App) }
 * }
 * ```
 */
object FieldSyncAndroid {
    private const val TAG = "fieldsync"

    @Volatile private var tlsReady = false

    /**
     * Opens the library with everything in `noBackupFilesDir/fieldsync/` ([FieldSyncDirectory]): the cache
     * (the provider's data, rebuilt by a Full Import), the photo store and the device id the database makes
     * at its first open. Auto Backup and device transfers skip that directory, so a restored phone never
     * inherits another device's id or half a queue. Fails (typed) when TLS cannot be set up.
     */
    suspend fun open(
        context: Context,
        secretStore: SecretStore = KeystoreSecretStore(context),
        logLevel: LogLevel? = LogLevel.INFO,
    ): FieldSyncClient = withContext(Dispatchers.IO) {
        val app = context.applicationContext
        if (logLevel != null) FieldSyncLogging.install(LogcatLogger(TAG), logLevel)
        initPlatformVerifier(app)
        val directory = File(app.noBackupFilesDir, "fieldsync")
        moveLegacyFiles(app, directory)
        FieldSyncClient.open(FieldSyncDirectory.config(directory), secretStore)
    }

    /**
     * Gives rustls-platform-verifier the JVM and the application context it needs to ask Android's
     * TrustManager about provider certificates. Must run before the first https request; idempotent.
     *
     * The native half is `bindings/src/android.rs` (see README, "TLS on Android"). A failure is an error,
     * never a silent fallback to another verifier: [FieldSyncException.Internal] when the library lacks the
     * entry point (built without the `android` glue) or the verifier refuses the context.
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
                throw FieldSyncException.Internal("TLS: libfieldsync_ffi has no platform verifier entry point (see README, TLS on Android): ${err.message}")
            } catch (err: RuntimeException) {
                throw FieldSyncException.Internal("TLS: the platform verifier could not be initialised: ${err.message}")
            }
        }
    }

    /** The unique name of the periodic [FieldSyncWorker]. */
    const val PERIODIC_WORK = "fieldsync.periodic"

    /** The unique name of the one-off [FieldSyncWorker] of [syncNow]. */
    const val ONE_OFF_WORK = "fieldsync.now"

    /** Network connected: what a background run needs by default. */
    val defaultConstraints: Constraints
        get() = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

    /**
     * Schedules [FieldSyncWorker] every [every] (WorkManager's minimum is 15 minutes) under [constraints], as
     * unique periodic work with the KEEP policy (calling it at every start keeps the existing schedule). Each
     * run gets [budget] (default 9 minutes) and refreshes what is older than [refreshOlderThan].
     */
    fun schedulePeriodicSync(
        context: Context,
        every: Duration = 30.minutes,
        constraints: Constraints = defaultConstraints,
        budget: Duration = BackgroundSync.DEFAULT_BUDGET,
        refreshOlderThan: Duration = BackgroundSync.DEFAULT_REFRESH_OLDER_THAN,
    ) {
        val request = PeriodicWorkRequestBuilder<FieldSyncWorker>(every.inWholeMilliseconds, TimeUnit.MILLISECONDS)
            .setConstraints(constraints)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
            .setInputData(inputData(budget, BackgroundReason.SCHEDULED, refreshOlderThan))
            .build()
        WorkManager.getInstance(context).enqueueUniquePeriodicWork(PERIODIC_WORK, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /** Cancels the schedule of [schedulePeriodicSync] (at sign-out). */
    fun cancelPeriodicSync(context: Context) {
        WorkManager.getInstance(context).cancelUniqueWork(PERIODIC_WORK)
    }

    /**
     * One expedited run now (a push said work changed, connectivity came back); replaces a pending one.
     */
    fun syncNow(
        context: Context,
        reason: BackgroundReason = BackgroundReason.PUSH,
        constraints: Constraints = defaultConstraints,
        budget: Duration = BackgroundSync.DEFAULT_BUDGET,
    ) {
        val request = OneTimeWorkRequestBuilder<FieldSyncWorker>()
            .setConstraints(constraints)
            .setExpedited(OutOfQuotaPolicy.RUN_AS_NON_EXPEDITED_WORK_REQUEST)
            .setInputData(inputData(budget, reason, BackgroundSync.DEFAULT_REFRESH_OLDER_THAN))
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(ONE_OFF_WORK, ExistingWorkPolicy.REPLACE, request)
    }

    private fun inputData(budget: Duration, reason: BackgroundReason, refreshOlderThan: Duration) = workDataOf(
        FieldSyncWorker.KEY_BUDGET_MS to budget.inWholeMilliseconds,
        FieldSyncWorker.KEY_REASON to reason.name,
        FieldSyncWorker.KEY_REFRESH_OLDER_THAN_S to refreshOlderThan.inWholeSeconds,
    )

    /**
     * Pauses [client] when the app goes to the background (`ProcessLifecycleOwner` `onStop`: the last activity
     * stopped) and resumes it when it comes back (`onStart`). Call once, on the main thread, from
     * `Application.onCreate`, and return the glue from [FieldSyncApplication.fieldSyncLifecycle] so that
     * [FieldSyncWorker] wakes the library for its runs. The pause and the resume run off the main thread
     * (they suspend on the IO dispatcher), launched in the process lifecycle's scope in the order of the events.
     */
    fun observeProcessLifecycle(client: FieldSyncClient): FieldSyncLifecycle =
        observeProcessLifecycle(FieldSyncLifecycle(client) { error -> Log.w(TAG, "pause/resume failed", error) })

    /**
     * The same with glue of the app's own, e.g. over a client still opening:
     * `FieldSyncLifecycle({ fieldSync().pause() }, { fieldSync().resume() })`.
     */
    fun observeProcessLifecycle(glue: FieldSyncLifecycle): FieldSyncLifecycle {
        val owner = ProcessLifecycleOwner.get()
        owner.lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStart(owner: LifecycleOwner) {
                owner.lifecycleScope.launch(start = CoroutineStart.UNDISPATCHED) { glue.onForeground() }
            }

            override fun onStop(owner: LifecycleOwner) {
                owner.lifecycleScope.launch(start = CoroutineStart.UNDISPATCHED) { glue.onBackground() }
            }
        })
        return glue
    }

    /** Implemented in Rust (`bindings/src/android.rs`): `rustls_platform_verifier::android::init_with_env`. */
    @JvmStatic
    private external fun nativeInitPlatformVerifier(context: Context)

    /**
     * Earlier versions kept photos in `filesDir/fieldsync/photos` (inside backups) and the device id in
     * backed-up preferences. The photo store moves into [directory] (one rename: same file system; its files
     * are named by content, so the database's references stay valid) and the old id is dropped: the
     * database makes this device its own.
     */
    private fun moveLegacyFiles(context: Context, directory: File) {
        val legacyPhotos = File(context.filesDir, "fieldsync/photos")
        val photos = File(directory, FieldSyncDirectory.PHOTOS)
        if (legacyPhotos.isDirectory && !photos.exists()) {
            directory.mkdirs()
            if (!legacyPhotos.renameTo(photos)) {
                throw FieldSyncException.Storage("cannot move the photo store from $legacyPhotos to $photos")
            }
            legacyPhotos.parentFile?.delete() // only if empty
        }
        context.deleteSharedPreferences("dev.fieldsync.device")
    }
}
