package dev.fieldsync

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import org.junit.jupiter.api.Test
import dev.fieldsync.ffi.BackgroundReason
import dev.fieldsync.ffi.BackgroundSyncResult
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.StopCause
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** The platform-neutral half of the Android glue: the Worker's result mapping, its progress, the lifecycle. */
class BackgroundGlueTest {

    private fun result(moreWork: Boolean = false, authFailed: Boolean = false, stopped: StopCause? = null) =
        BackgroundSyncResult(
            reason = BackgroundReason.SCHEDULED,
            delivered = 0uL,
            integrations = emptyList(),
            stopped = stopped,
            moreWork = moreWork,
            nextRunAt = if (moreWork) Instant.now() else null,
            authFailed = authFailed,
            tookMs = 1uL,
        )

    @Test
    fun `a result maps to success, retry or failure`() {
        assertEquals(BackgroundVerdict.SUCCESS, BackgroundSync.verdict(result()))
        assertEquals(BackgroundVerdict.RETRY, BackgroundSync.verdict(result(moreWork = true, stopped = StopCause.DEADLINE)))
        assertEquals(BackgroundVerdict.FAILURE, BackgroundSync.verdict(result(authFailed = true)))
        assertEquals(BackgroundVerdict.FAILURE, BackgroundSync.verdict(result(moreWork = true, authFailed = true)), "auth wins")
    }

    @Test
    fun `an error maps to retry when a later run may succeed`() {
        for (error in listOf(
            FieldSyncException.Paused("paused"),
            FieldSyncException.Cancelled("cancelled"),
            FieldSyncException.DeadlineReached("late"),
            FieldSyncException.Network("down", null),
            FieldSyncException.Storage("disk"),
        )) assertEquals(BackgroundVerdict.RETRY, BackgroundSync.verdict(error), "$error")
        for (error in listOf(FieldSyncException.Auth("refused", "ACME"), FieldSyncException.Internal("bug"), IllegalStateException())) {
            assertEquals(BackgroundVerdict.FAILURE, BackgroundSync.verdict(error), "$error")
        }
    }

    @Test
    fun `the deadline is the budget from now`() {
        val now = Instant.parse("2030-01-01T00:00:00Z")
        assertEquals(now.plusSeconds(540), BackgroundSync.deadlineIn(BackgroundSync.DEFAULT_BUDGET, now))
        assertEquals(now, BackgroundSync.deadlineIn((-5).seconds, now))
        assertEquals(9.minutes, BackgroundSync.DEFAULT_BUDGET)
    }

    @Test
    fun `progress folds upload events`() {
        var progress = BackgroundProgress()
        progress = progress.after(FieldSyncEvent.UploadStarted("a", 100uL))!!
        progress = progress.after(FieldSyncEvent.UploadProgress("a", 50uL, 100uL, 50uL, 400uL))!!
        assertEquals(BackgroundProgress(uploadsStarted = 1, bytesSent = 50, bytesTotal = 400), progress)
        assertEquals(12, progress.percent)
        assertNull(progress.after(FieldSyncEvent.UploadProgress("a", 50uL, 100uL, 50uL, 400uL)), "no change")
        assertNull(progress.after(FieldSyncEvent.IntegrationStatusChanged("X", IntegrationStatus.IDLE, null)))
        assertEquals(0, BackgroundProgress().percent)
    }

    @Test
    fun `the lifecycle pauses in the background and wakes the library for a run`() = coTest {
        val calls = mutableListOf<String>()
        val lifecycle = FieldSyncLifecycle({ calls += "pause" }, { calls += "resume" })

        // A process started for background work, with no UI: nothing is paused around the run.
        lifecycle.awake { }
        assertEquals(emptyList(), calls)

        lifecycle.onForeground()
        lifecycle.onBackground()
        lifecycle.onBackground()
        assertEquals(listOf("pause"), calls, "idempotent")
        assertTrue(lifecycle.isPaused)

        // A background run resumes the library, and pauses it again when the last run ends.
        val release = CompletableDeferred<Unit>()
        val inside = CompletableDeferred<Unit>()
        val first = async(Dispatchers.Default) { lifecycle.awake { inside.complete(Unit); release.await() } }
        inside.await()
        assertEquals(listOf("pause", "resume"), calls)
        lifecycle.awake { assertFalse(lifecycle.isPaused) }
        assertEquals(listOf("pause", "resume"), calls, "another run is still going on")
        release.complete(Unit)
        first.await()
        assertEquals(listOf("pause", "resume", "pause"), calls)

        // The app returns during a run: it stays awake after the run.
        lifecycle.onForeground()
        val running = launch(Dispatchers.Default) { lifecycle.awake { } }
        running.join()
        assertEquals(listOf("pause", "resume", "pause", "resume"), calls)
        assertFalse(lifecycle.isPaused)
    }

    @Test
    fun `a failed pause is reported and tried again at the next change`() = coTest {
        val errors = mutableListOf<Throwable>()
        var fail = true
        var paused = false
        val lifecycle = FieldSyncLifecycle(
            { if (fail) throw FieldSyncException.Storage("busy") else paused = true },
            { paused = false },
            { errors += it },
        )
        lifecycle.onBackground()
        assertEquals(1, errors.size)
        assertFalse(lifecycle.isPaused)
        fail = false
        lifecycle.onBackground()
        assertTrue(paused && lifecycle.isPaused)
    }
}
