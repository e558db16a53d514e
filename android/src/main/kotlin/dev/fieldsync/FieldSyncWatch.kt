package dev.fieldsync

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.SharingStarted
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.stateIn
import uniffi.fieldsync_ffi.FieldSyncException
import uniffi.fieldsync_ffi.Photo
import uniffi.fieldsync_ffi.Project
import uniffi.fieldsync_ffi.ProjectQuery
import uniffi.fieldsync_ffi.ProjectSummary
import uniffi.fieldsync_ffi.SyncStatus
import uniffi.fieldsync_ffi.UploadLogEntry
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

// Watch queries as Flows. Platform-neutral (the JVM tests compile this file).
//
// Each flow is cold: collecting it opens a watch in the library (a change subscription, no polling), emits the
// query's current result at once, then a new result after every commit that can change it (an import, an
// edit, a check-in, a photo, a delivery), never the same result twice in a row and at most one per
// `throttle`. Cancelling the collecting coroutine (leaving a screen, `viewModelScope` cleared) cancels and
// frees the watch: nothing stays subscribed. Two collectors open two watches; share one with `stateIn` or
// `shareIn` when several views show the same query.
//
// The library pulls: a slow collector is never flooded, it gets the latest result when it asks again.

/**
 * Emits [next]'s results until the watch ends or the collector is cancelled; the watch is cancelled and its
 * native handle freed either way (completion, cancellation or an exception).
 */
private inline fun <H : AutoCloseable, T : Any> watchFlow(
    crossinline open: () -> H,
    crossinline next: suspend (H) -> T?,
    crossinline cancel: (H) -> Unit,
): Flow<T> = flow {
    val watch = open()
    try {
        while (true) {
            val value = next(watch) ?: break
            emit(value)
        }
    } finally {
        cancel(watch)
        watch.close()
    }
}

private fun Duration?.toThrottleMs(): ULong? = this?.inWholeMilliseconds?.coerceAtLeast(0)?.toULong()

/**
 * A project list (any [ProjectQuery]: a filter, a search, a page), kept up to date: the list now, then
 * again after each change to what it shows (rows carry their [ProjectSummary.pendingUploads], so a
 * capture or a delivery changes them too). [throttle]: at most one result per interval (library default:
 * 100 ms).
 */
fun FieldSyncClient.watchProjects(query: ProjectQuery = ProjectQuery(), throttle: Duration? = null): Flow<List<ProjectSummary>> =
    watchFlow({ raw.watchProjects(query, throttle.toThrottleMs()) }, { it.next() }, { it.cancel() })

/**
 * One project (`CODE::NUMBER`) with its tasks, kept up to date. The flow fails with
 * [FieldSyncException.NotFound] when the project is gone (deleted, or removed by a full import).
 */
fun FieldSyncClient.watchProject(id: String, throttle: Duration? = null): Flow<Project> =
    watchFlow({ raw.watchProject(id, throttle.toThrottleMs()) }, { it.next() }, { it.cancel() })

/** The upload log (every item not delivered yet, with why it waits), kept up to date. */
fun FieldSyncClient.watchUploadLog(throttle: Duration? = null): Flow<List<UploadLogEntry>> =
    watchFlow({ raw.watchUploadLog(throttle.toThrottleMs()) }, { it.next() }, { it.cancel() })

/** The photos of a project ([projectId] `null`: of every project), kept up to date. */
fun FieldSyncClient.watchPhotos(projectId: String? = null, throttle: Duration? = null): Flow<List<Photo>> =
    watchFlow({ raw.watchPhotos(projectId, throttle.toThrottleMs()) }, { it.next() }, { it.cancel() })

/**
 * The sync status, kept up to date: uploads pending go up on capture and down on delivery; the network,
 * the pause and each integration's state are in it too.
 */
fun FieldSyncClient.watchSyncStatus(throttle: Duration? = null): Flow<SyncStatus> =
    watchFlow({ raw.watchSyncStatus(throttle.toThrottleMs()) }, { it.next() }, { it.cancel() })

/**
 * The sync status now (a quick local read; it answers while paused too, with `paused` set).
 * Not `suspend`: it is the initial value of [syncStatusIn].
 */
fun FieldSyncClient.syncStatusNow(): SyncStatus = raw.syncStatus()

/**
 * The sync status as a [StateFlow] for a screen: [watchSyncStatus] shared in [scope] (a ViewModel's
 * `viewModelScope`). With the default [started], the watch runs while someone collects and stops
 * [stopTimeout] after the last collector leaves (a configuration change does not restart it).
 * [initial] is what `value` holds until the watch's first result (by default the status read now).
 */
fun FieldSyncClient.syncStatusIn(
    scope: CoroutineScope,
    stopTimeout: Duration = 5.seconds,
    started: SharingStarted = SharingStarted.WhileSubscribed(stopTimeout.inWholeMilliseconds),
    initial: SyncStatus = syncStatusNow(),
    throttle: Duration? = null,
): StateFlow<SyncStatus> = watchSyncStatus(throttle).stateIn(scope, started, initial)

/** How many watches are open in the library (a diagnostic: a collection that ended leaves none). */
fun FieldSyncClient.liveWatches(): Long = raw.liveWatches().toLong()
