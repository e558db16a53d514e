package dev.fieldsync

import dev.fieldsync.ffi.BackgroundSyncResult
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.FieldSyncException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import java.time.Instant
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes

/**
 * What a job scheduler should do after a background run. WorkManager: [SUCCESS] → `Result.success()`,
 * [RETRY] → `Result.retry()` (with the request's backoff), [FAILURE] → `Result.failure()`.
 */
enum class BackgroundVerdict { SUCCESS, RETRY, FAILURE }

/**
 * The platform-neutral half of background syncing (the Android `FieldSyncWorker` is a thin shell around it):
 * the deadline of a run, what its result means for the scheduler, and its progress from the library's events.
 */
object BackgroundSync {
    /** WorkManager stops a worker after about 10 minutes: a run's default budget leaves it a margin. */
    val DEFAULT_BUDGET: Duration = 9.minutes

    /** Refreshes older than this are due in a background run. */
    val DEFAULT_REFRESH_OLDER_THAN: Duration = 15.minutes

    /** The deadline [budget] from now (a negative budget is now). */
    fun deadlineIn(budget: Duration, now: Instant = Instant.now()): Instant =
        now.plusMillis(budget.inWholeMilliseconds.coerceAtLeast(0))

    /**
     * Credentials refused → [BackgroundVerdict.FAILURE] (retrying cannot help until the user signs in again);
     * work left that could go now (cut short by the deadline, or by a cancellation) → [BackgroundVerdict.RETRY];
     * else [BackgroundVerdict.SUCCESS] (failed items wait for their backoff, the next periodic run takes them).
     */
    fun verdict(result: BackgroundSyncResult): BackgroundVerdict = when {
        result.authFailed -> BackgroundVerdict.FAILURE
        result.moreWork -> BackgroundVerdict.RETRY
        else -> BackgroundVerdict.SUCCESS
    }

    /**
     * The verdict of a run that threw. Paused, cancelled, out of time, offline or a storage hiccup →
     * [BackgroundVerdict.RETRY]; refused credentials, a bug or anything unexpected → [BackgroundVerdict.FAILURE].
     * (A coroutine's own `CancellationException` is not a verdict: rethrow it.)
     */
    fun verdict(error: Throwable): BackgroundVerdict = when (error) {
        is FieldSyncException.Paused,
        is FieldSyncException.Cancelled,
        is FieldSyncException.DeadlineReached,
        is FieldSyncException.Network,
        is FieldSyncException.Provider,
        is FieldSyncException.Storage,
        -> BackgroundVerdict.RETRY
        else -> BackgroundVerdict.FAILURE
    }
}

/**
 * Progress of a background run as a scheduler shows it (WorkManager's `setProgress`): photo bytes sent of
 * the delivery run in progress, and how many uploads started. Fold the library's events with [after].
 */
data class BackgroundProgress(
    val uploadsStarted: Int = 0,
    val bytesSent: Long = 0,
    val bytesTotal: Long = 0,
) {
    /** 0..100 (0 while nothing is known). */
    val percent: Int get() = if (bytesTotal <= 0) 0 else ((bytesSent * 100) / bytesTotal).toInt().coerceIn(0, 100)

    /** This progress after [event], or null when the event does not change it. */
    fun after(event: FieldSyncEvent): BackgroundProgress? = when (event) {
        is FieldSyncEvent.UploadStarted -> copy(uploadsStarted = uploadsStarted + 1)
        is FieldSyncEvent.UploadProgress -> copy(bytesSent = event.overallSent.toLong(), bytesTotal = event.overallTotal.toLong())
            .takeIf { it != this }
        else -> null
    }
}

/**
 * Lifecycle glue: pauses the library while the app is in the background and resumes it in the foreground,
 * and wakes it for the length of a background run ([awake]) that happens while the app is in the background.
 *
 * Feed it [onForeground] and [onBackground] (Android: `FieldSyncAndroid.observeProcessLifecycle`, which hooks
 * `ProcessLifecycleOwner`'s `onStart`/`onStop` and calls them from the process's lifecycle scope); wrap
 * background runs in [awake] (the Android `FieldSyncWorker` does). Nothing is paused before the first
 * [onForeground] or [onBackground]: a process that WorkManager started without any UI is left awake.
 * Every change suspends while the library pauses or resumes (off the caller's thread: [FieldSyncClient.pause]
 * and [FieldSyncClient.resume] run on the IO dispatcher); changes are applied one at a time, in order.
 */
class FieldSyncLifecycle(
    private val pauseLibrary: suspend () -> Unit,
    private val resumeLibrary: suspend () -> Unit,
    /** A failed pause or resume (it is tried again at the next change); the app's logger, typically. */
    private val onError: (Throwable) -> Unit = {},
) {
    constructor(client: FieldSyncClient, onError: (Throwable) -> Unit = {}) :
        this({ client.pause() }, { client.resume() }, onError)

    private val lock = Mutex()
    private var foreground = false
    private var known = false
    private var runs = 0

    @Volatile private var paused = false

    /** Whether this glue paused the library (and has not resumed it since). */
    val isPaused: Boolean get() = paused

    /** The app came to the foreground (its first activity started). */
    suspend fun onForeground() = update { foreground = true; known = true }

    /** The app went to the background (its last activity stopped). */
    suspend fun onBackground() = update { foreground = false; known = true }

    /**
     * Runs [block] with the library awake: resumed if it was paused, paused again afterwards if the app is
     * still in the background and no other run is going on.
     */
    suspend fun <T> awake(block: suspend () -> T): T {
        update { runs++ }
        try {
            return block()
        } finally {
            // Even when the run was cancelled: the bookkeeping must not leak a run.
            withContext(NonCancellable) { update { runs-- } }
        }
    }

    private suspend inline fun update(change: () -> Unit) = lock.withLock {
        change()
        val wantPaused = known && !foreground && runs == 0
        if (wantPaused != paused) {
            try {
                if (wantPaused) pauseLibrary() else resumeLibrary()
                paused = wantPaused
            } catch (error: FieldSyncException) {
                onError(error)
            }
        }
    }
}
