// ANDROID ONLY: compiled by the Gradle build, never by scripts/test-kotlin.sh.
package dev.fieldsync.android

import android.content.Context
import android.util.Log
import androidx.work.CoroutineWorker
import androidx.work.Data
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import dev.fieldsync.BackgroundProgress
import dev.fieldsync.BackgroundSync
import dev.fieldsync.BackgroundVerdict
import dev.fieldsync.FieldSyncClient
import dev.fieldsync.FieldSyncLifecycle
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.mapNotNull
import kotlinx.coroutines.launch
import dev.fieldsync.ffi.BackgroundReason
import dev.fieldsync.ffi.BackgroundSyncResult
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * What the app's `Application` implements so that [FieldSyncWorker] finds the library: the one client of
 * the process, and the lifecycle glue when the app pauses the library in the background
 * ([FieldSyncAndroid.observeProcessLifecycle]).
 */
interface FieldSyncApplication {
    /** The process's one client (opening it suspends: it reads the database off the main thread). */
    suspend fun fieldSync(): FieldSyncClient
    val fieldSyncLifecycle: FieldSyncLifecycle? get() = null
}

/**
 * One background run per execution: `runBackgroundSync` with a deadline [KEY_BUDGET_MS] from now (default
 * [BackgroundSync.DEFAULT_BUDGET], 9 minutes: WorkManager stops a worker after about 10), woken from a pause
 * for its length when the app uses [FieldSyncLifecycle]. The result maps to WorkManager's through
 * [BackgroundSync.verdict]: credentials refused → `failure()`, work left → `retry()`, else `success()`.
 * Progress (`uploads`, `bytesSent`, `bytesTotal`, `percent`) is reported with `setProgress`.
 *
 * When WorkManager stops the worker (constraints lost, the 10 minutes up), the coroutine is cancelled, which
 * cancels the run in the library: the upload in flight is aborted and goes again at the next run.
 *
 * Schedule it with [FieldSyncAndroid.schedulePeriodicSync] or [FieldSyncAndroid.syncNow].
 */
class FieldSyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        val app = applicationContext as? FieldSyncApplication
            ?: return Result.failure().also { Log.e(TAG, "the Application does not implement FieldSyncApplication") }
        val client = app.fieldSync()
        val budget = inputData.getLong(KEY_BUDGET_MS, BackgroundSync.DEFAULT_BUDGET.inWholeMilliseconds).milliseconds
        val reason = inputData.getString(KEY_REASON)
            ?.let { name -> BackgroundReason.entries.firstOrNull { it.name == name } }
            ?: BackgroundReason.SCHEDULED
        val refreshOlderThan = inputData.getLong(
            KEY_REFRESH_OLDER_THAN_S, BackgroundSync.DEFAULT_REFRESH_OLDER_THAN.inWholeSeconds,
        ).seconds
        val deadline = BackgroundSync.deadlineIn(budget)

        return coroutineScope {
            setProgress(progressData(BackgroundProgress()))
            var progress = BackgroundProgress()
            val reporter = launch {
                client.events
                    .mapNotNull { event -> progress.after(event)?.also { progress = it } }
                    .conflate()
                    .collect { setProgress(progressData(it)) }
            }
            try {
                val run: suspend () -> BackgroundSyncResult =
                    { client.runBackgroundSync(deadline, reason, refreshOlderThan) }
                val result = app.fieldSyncLifecycle?.awake(run) ?: run()
                Log.i(TAG, "background run ($reason): delivered ${result.delivered}, stopped ${result.stopped}, " +
                    "more work ${result.moreWork}, auth failed ${result.authFailed}, ${result.tookMs} ms")
                val output = workDataOf(
                    "delivered" to result.delivered.toLong(),
                    "moreWork" to result.moreWork,
                    "authFailed" to result.authFailed,
                    "nextRunAtMs" to (result.nextRunAt?.toEpochMilli() ?: -1L),
                )
                when (BackgroundSync.verdict(result)) {
                    BackgroundVerdict.SUCCESS -> Result.success(output)
                    BackgroundVerdict.RETRY -> Result.retry()
                    BackgroundVerdict.FAILURE -> Result.failure(output)
                }
            } catch (cancelled: CancellationException) {
                throw cancelled // WorkManager stopped us: its decision, not a result
            } catch (error: Exception) {
                Log.w(TAG, "background run ($reason) failed", error)
                when (BackgroundSync.verdict(error)) {
                    BackgroundVerdict.FAILURE -> Result.failure()
                    else -> Result.retry()
                }
            } finally {
                reporter.cancel()
            }
        }
    }

    private fun progressData(progress: BackgroundProgress): Data = workDataOf(
        "uploads" to progress.uploadsStarted,
        "bytesSent" to progress.bytesSent,
        "bytesTotal" to progress.bytesTotal,
        "percent" to progress.percent,
    )

    companion object {
        private const val TAG = "fieldsync"

        /** Input: the run's budget in milliseconds (default 9 minutes). */
        const val KEY_BUDGET_MS = "fieldsync.budgetMs"

        /** Input: a [BackgroundReason] name (default `SCHEDULED`). */
        const val KEY_REASON = "fieldsync.reason"

        /** Input: refreshes older than this many seconds are due (default 900). */
        const val KEY_REFRESH_OLDER_THAN_S = "fieldsync.refreshOlderThanS"
    }
}
