package dev.fieldsync

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.SharingStarted
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.flow.retryWhen
import kotlinx.coroutines.flow.stateIn
import kotlinx.coroutines.withContext
import dev.fieldsync.ffi.BackgroundReason
import dev.fieldsync.ffi.BackgroundSyncResult
import dev.fieldsync.ffi.Cancellation
import dev.fieldsync.ffi.CategoryCounts
import dev.fieldsync.ffi.CheckIn
import dev.fieldsync.ffi.Completion
import dev.fieldsync.ffi.EventListener
import dev.fieldsync.ffi.EvidenceType
import dev.fieldsync.ffi.FieldSync
import dev.fieldsync.ffi.FieldSyncConfig
import dev.fieldsync.ffi.FieldSyncEvent
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.ImportReport
import dev.fieldsync.ffi.Integration
import dev.fieldsync.ffi.IntegrationEdit
import dev.fieldsync.ffi.IntegrationStatus
import dev.fieldsync.ffi.LocationFix
import dev.fieldsync.ffi.LocationSource
import dev.fieldsync.ffi.Maintenance
import dev.fieldsync.ffi.NewIntegration
import dev.fieldsync.ffi.NetworkState
import dev.fieldsync.ffi.NewLocalProject
import dev.fieldsync.ffi.OutboxEntry
import dev.fieldsync.ffi.Photo
import dev.fieldsync.ffi.Project
import dev.fieldsync.ffi.ProjectEdit
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.ProjectSummary
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.ffi.ResolvedOptions
import dev.fieldsync.ffi.RetentionPolicy
import dev.fieldsync.ffi.RetentionReport
import dev.fieldsync.ffi.SecretStore
import dev.fieldsync.ffi.StorageReport
import dev.fieldsync.ffi.SurveyAnswer
import dev.fieldsync.ffi.SurveySubmission
import dev.fieldsync.ffi.SurveyTemplateInfo
import dev.fieldsync.ffi.SyncOutcome
import dev.fieldsync.ffi.SyncStatus
import dev.fieldsync.ffi.TaskSurvey
import dev.fieldsync.ffi.UnmetRequirement
import dev.fieldsync.ffi.UploadLogEntry
import dev.fieldsync.ffi.UploadPolicy
import dev.fieldsync.ffi.UploadWaitReason
import dev.fieldsync.ffi.Validation
import java.io.File
import java.time.Instant
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * The app's handle on fieldsync: a thin, coroutine-friendly wrapper over the generated [FieldSync].
 *
 * - Network work ([validate], [refresh], [sync], [pushOutbox], [runBackgroundSync]) is `suspend` and runs on
 *   the library's own threads. Cancelling the calling coroutine cancels the work too: the request in flight
 *   is aborted, an import rolls back as one transaction (the cache is the state before), an upload goes back
 *   to the outbox under the same UUID and is sent again later. A [Cancellation] handle does the same from
 *   outside a coroutine (a stopped Worker, a timer).
 * - [pause] when the app leaves the foreground, [resume] when it returns (see [FieldSyncLifecycle]): paused,
 *   the library holds no database connection or file lock and every call fails with
 *   [FieldSyncException.Paused]; what the pause interrupted goes on after [resume].
 * - Main-safe: [open], local reads and writes (SQLite), [pause], [resume] and [stopAutoImport] are `suspend`
 *   too and run on [ioDispatcher]. The few plain functions ([setNetwork], [setOnline], [version], [deviceId],
 *   [liveWatches], [retentionPolicy]) touch neither disk nor network.
 * - Live data: [syncStatus] is a [StateFlow]; watch queries ([watchProjects], [watchProject], [watchUploadLog],
 *   [watchPhotos]) are cold `Flow`s of lists; [ProjectPager] pages a project list and follows its watch.
 * - Library events arrive on [events], a hot [SharedFlow]: collect it before triggering the work you want to
 *   observe (events emitted while nobody collects are dropped; see [eventBufferCapacity]).
 *
 * Open one per process and keep it for the app's lifetime; [close] it on shutdown. Platform-neutral: no
 * `android.*` here (the JVM tests compile this file); Android glue lives in `src/androidMain`.
 */
class FieldSyncClient private constructor(
    /** The generated object, for calls this wrapper does not cover. Do not close it yourself. */
    val raw: FieldSync,
    private val hub: EventHub,
    internal val ioDispatcher: CoroutineDispatcher,
    initialStatus: SyncStatus,
    statusStopTimeout: Duration,
) : AutoCloseable {

    /** Every event of the library, in the order the library delivered them (one library thread). */
    val events: SharedFlow<FieldSyncEvent> get() = hub.flow

    private val closed = AtomicBoolean(false)

    /** Runs what the client shares (the [syncStatus] watch); cancelled by [close]. */
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /**
     * The sync status, for a status bar: per integration (status, last refreshed, last error), uploads
     * pending (count and bytes: up on capture, down on delivery), needing attention, in progress,
     * `lastDelivered`, the network and the pause. One watch in the library serves every collector of the
     * client; it runs while someone collects (and `statusStopTimeout` after the last one leaves, so a
     * configuration change does not restart it). `value` is always readable: the status read at [open], then
     * the watch's latest. A failed read (storage) is retried after a second; the value stays meanwhile.
     */
    val syncStatus: StateFlow<SyncStatus> = watchSyncStatus()
        .retryWhen { cause, _ ->
            (cause is FieldSyncException && !closed.get()).also { if (it) delay(STATUS_RETRY) }
        }
        .stateIn(scope, SharingStarted.WhileSubscribed(statusStopTimeout.inWholeMilliseconds), initialStatus)

    /** The library version; also the trivial call used to measure the FFI's per-call overhead. */
    fun version(): String = raw.version()

    /** This device's id, as given in the config. */
    fun deviceId(): String = raw.deviceId()

    // ----- integrations -----

    /** Links a provider login; only the password's SHA-1 is kept, in the [SecretStore]. */
    suspend fun createIntegration(integration: NewIntegration, password: String, token: String? = null): Integration =
        io { raw.createIntegration(integration, password, token) }

    /** Changes settings and, when given, credentials. */
    suspend fun editIntegration(
        code: String,
        edit: IntegrationEdit,
        password: String? = null,
        token: String? = null,
    ): Integration = io { raw.editIntegration(code, edit, password, token) }

    /** Every integration, by code. */
    suspend fun integrations(): List<Integration> = io { raw.integrations() }

    /** One integration ([FieldSyncException.NotFound] when there is none). */
    suspend fun integration(code: String): Integration = io { raw.integration(code) }

    /**
     * Deletes an integration and its projects. With undelivered field work it throws
     * [FieldSyncException.Conflict] unless [force]; forced, it returns that work as JSON to save first.
     */
    suspend fun deleteIntegration(code: String, force: Boolean = false): String? =
        io { raw.deleteIntegration(code, force) }

    /** Asks the provider whether the saved credentials are good (and registers the push key). */
    suspend fun validate(code: String): Validation = raw.validate(code)

    /**
     * A Refresh of what changed ([RefreshMode.CHANGES]) or a Full Import ([RefreshMode.FULL_IMPORT]);
     * coalesced with a refresh of the same integration in flight. Cancelled (the coroutine or [cancel]), the
     * download is aborted or the import rolls back: [FieldSyncException.Cancelled] for a [cancel] handle,
     * `CancellationException` for the coroutine.
     */
    suspend fun refresh(
        code: String,
        mode: RefreshMode = RefreshMode.CHANGES,
        cancel: Cancellation? = null,
    ): ImportReport = raw.refresh(code, mode, cancel)

    /** Refreshes the integration owning [pushKey]; `null` when none has it. */
    suspend fun refreshByPushKey(pushKey: String): ImportReport? = raw.refreshByPushKey(pushKey)

    /** The integration's push key (a secret), created on first use. */
    suspend fun pushKey(code: String): String = io { raw.pushKey(code) }

    /** Refreshes every integration that is due (never refreshed, in error, or older than [maxAge]). */
    suspend fun sync(maxAge: Duration, cancel: Cancellation? = null): List<SyncOutcome> =
        raw.sync(maxAge.inWholeSeconds.coerceAtLeast(0).toULong(), cancel)

    /** Starts background refreshes of the integrations with auto import on; results arrive on [events]. */
    suspend fun startAutoImport(interval: Duration) =
        io { raw.startAutoImport(interval.inWholeSeconds.coerceAtLeast(1).toULong()) }

    /** Stops the background refreshes after the one in progress (waits for it off the caller's thread). */
    suspend fun stopAutoImport() = io { raw.stopAutoImport() }

    /** Tells the background loop whether the device is online (hook it to ConnectivityManager). */
    fun setOnline(online: Boolean) = raw.setOnline(online)

    // ----- living in a phone app: pause, resume, background runs -----

    /**
     * The app goes to the background: stops every operation at a safe point, closes every database
     * connection and releases every file lock. Until [resume], calls fail with [FieldSyncException.Paused].
     * Takes milliseconds (closing files: on [ioDispatcher]); idempotent.
     */
    suspend fun pause() = io { raw.pause() }

    /**
     * The app is back: reopens the database (on [ioDispatcher]); deliveries the pause interrupted go on by
     * themselves.
     */
    suspend fun resume() = io { raw.resume() }

    /** Whether [pause] was called without a [resume] since. */
    val isPaused: Boolean get() = raw.isPaused()

    /**
     * One background run (WorkManager, a push, regained connectivity): field work first, then photos, then
     * the refreshes older than [refreshOlderThan]; returns by [deadline] with what it did and what is left
     * ([BackgroundSyncResult.moreWork], [BackgroundSyncResult.nextRunAt]; see [BackgroundSync.verdict]).
     * Errors of an integration are in the result; it throws only when paused, cancelled ([cancel]) or when
     * the storage breaks. Cancelling the coroutine stops it promptly too.
     */
    suspend fun runBackgroundSync(
        deadline: Instant,
        reason: BackgroundReason = BackgroundReason.SCHEDULED,
        refreshOlderThan: Duration = BackgroundSync.DEFAULT_REFRESH_OLDER_THAN,
        cancel: Cancellation? = null,
    ): BackgroundSyncResult =
        raw.runBackgroundSync(deadline, reason, refreshOlderThan.inWholeSeconds.coerceAtLeast(0).toULong(), cancel)

    /** [runBackgroundSync] with a deadline [budget] from now. */
    suspend fun runBackgroundSync(
        budget: Duration,
        reason: BackgroundReason = BackgroundReason.SCHEDULED,
        refreshOlderThan: Duration = BackgroundSync.DEFAULT_REFRESH_OLDER_THAN,
        cancel: Cancellation? = null,
    ): BackgroundSyncResult = runBackgroundSync(BackgroundSync.deadlineIn(budget), reason, refreshOlderThan, cancel)

    // ----- projects -----

    /** A page of project summaries (one call per screen). */
    suspend fun projects(query: ProjectQuery = ProjectQuery()): List<ProjectSummary> = io { raw.projects(query) }

    /** One project with its tasks; [id] is `CODE::NUMBER`. */
    suspend fun project(id: String): Project = io { raw.project(id) }

    /** A local edit; a status change is queued in the outbox for the provider. */
    suspend fun editProject(id: String, edit: ProjectEdit): Project = io { raw.editProject(id, edit) }

    /** Marks a project closed (it stays, and imports do not reopen it). */
    suspend fun closeProject(id: String): Project = io { raw.closeProject(id) }

    /** Removes a project from the cache (refused while it holds undelivered work). */
    suspend fun deleteProject(id: String) = io { raw.deleteProject(id) }

    /** Field work of an integration not yet delivered, oldest first. */
    suspend fun outbox(code: String): List<OutboxEntry> = io { raw.outbox(code) }

    /**
     * Delivers one integration's queued field work now (check-ins, photos, status changes). Stopped before its
     * end it throws [FieldSyncException.Cancelled] (a [cancel] handle), [FieldSyncException.Paused] or
     * [FieldSyncException.DeadlineReached]; an upload cut short goes again later under the same UUID.
     */
    suspend fun pushOutbox(code: String, cancel: Cancellation? = null): SyncOutcome = raw.pushOutbox(code, cancel)

    /** Tries an outbox entry that needs attention again at the next delivery. */
    suspend fun retryOutboxEntry(id: String) = io { raw.retryOutboxEntry(id) }

    /** Gives up delivering an outbox entry (the record stays on the device). */
    suspend fun discardOutboxEntry(id: String) = io { raw.discardOutboxEntry(id) }

    // ----- upload policy and the upload log -----

    /**
     * Reports the network (call it from the app's network callback whenever it changes): with
     * [NetworkState.NONE] nothing is sent and auto-import waits; on [NetworkState.METERED] photos and surveys
     * wait when the policy says Wi-Fi only. Check-ins and statuses go on any network.
     */
    fun setNetwork(network: NetworkState) = raw.setNetwork(network)

    /** Sets the vendor's upload policy (kept on the device): photos on Wi-Fi only, and the pause switch. */
    suspend fun setUploadPolicy(policy: UploadPolicy) = io { raw.setUploadPolicy(policy) }

    /** The vendor's upload policy. */
    suspend fun uploadPolicy(): UploadPolicy = io { raw.uploadPolicy() }

    /** Every item not delivered yet, oldest first, each with why it waits ([UploadWaitReason]). */
    suspend fun uploadLog(): List<UploadLogEntry> = io { raw.uploadLog() }

    /** Puts every failed item (needing attention or backing off) back in the queue; how many. */
    suspend fun retryAllFailed(): Long = io { raw.retryAllFailed().toLong() }

    /** Removes delivered items from the outbox, never an undelivered one; how many. */
    suspend fun cleanUpDelivered(): Long = io { raw.cleanUpDelivered().toLong() }

    // ----- storage: photo retention and database upkeep -----

    /**
     * The photo retention policy this client applies by itself, at [open] and after every delivery run that
     * delivered something: `FieldSyncConfig.retention`, else [dev.fieldsync.ffi.defaultRetentionPolicy].
     */
    fun retentionPolicy(): RetentionPolicy = raw.retentionPolicy()

    /**
     * Applies a photo retention policy now ([policy] `null`: the configured one) and says what it deleted.
     * Only files of relayed and rejected photos go, never one a photo waiting for QA or for its delivery
     * still needs. A negative cap is [FieldSyncException.InvalidInput]. Runs on the library's threads.
     */
    suspend fun applyRetention(policy: RetentionPolicy? = null): RetentionReport = raw.applyRetention(policy)

    /** Where the storage goes: the cache, its WAL and shared-memory files, the photo files by kind and by state. */
    suspend fun storageReport(): StorageReport = raw.storageReport()

    /**
     * Database upkeep for a quiet moment (the app going to the background, the end of a background run):
     * `PRAGMA optimize` and a bounded incremental vacuum. Never waits for a busy database
     * ([Maintenance.skipped] then says why).
     */
    suspend fun maintain(): Maintenance = raw.maintain()

    // ----- field work: check-in and photos -----

    /**
     * Checks in at a project with the best fix [location] gives within [budget], stopping early at one within
     * [goodEnoughM] metres. The check-in is validated against the property (a failed rule makes it
     * uncertified, with reasons) and queued before this returns. [location] is called on a library thread.
     */
    suspend fun checkIn(
        projectId: String,
        location: LocationSource,
        budget: Duration = 10.seconds,
        goodEnoughM: Double = 20.0,
        badge: String? = null,
        user: String? = null,
    ): CheckIn = raw.checkIn(projectId, location, budget.inWholeMilliseconds.coerceAtLeast(0).toULong(), goodEnoughM, badge, user)

    /** Checks in with a fix the app already has (e.g. from FusedLocationProviderClient). */
    suspend fun checkIn(projectId: String, fix: LocationFix, badge: String? = null, user: String? = null): CheckIn =
        io { raw.checkInWithFix(projectId, fix, badge, user) }

    /**
     * Takes the camera's file as a photo of [task] ([evidence]: before, during or after the work): safe on disk and
     * queued before processing, then processed (upright, resized, thumbnail). With auto relay it is queued for
     * the provider, else it waits in `pending_qa`. A hostile or unreadable file is [FieldSyncException.InvalidInput].
     */
    suspend fun addPhoto(projectId: String, task: String, evidence: EvidenceType, file: File, fix: LocationFix? = null): Photo =
        raw.addPhoto(projectId, task, evidence, file.path, fix)

    /** Photos of a project, or every photo. */
    suspend fun photos(projectId: String? = null): List<Photo> = io { raw.photos(projectId) }

    /** QA approves a photo: it relays at the next delivery (again, without a duplicate, if it already did). */
    suspend fun approvePhoto(uuid: String): Photo = io { raw.approvePhoto(uuid) }

    /** QA approves every photo of a project waiting for review; returns how many. */
    suspend fun approveProjectPhotos(projectId: String): Long = io { raw.approveProjectPhotos(projectId).toLong() }

    /** QA rejects a photo with a reason: it is never relayed. */
    suspend fun rejectPhoto(uuid: String, reason: String): Photo = io { raw.rejectPhoto(uuid, reason) }

    // ----- field work: surveys, completion, local projects -----

    /** The crew opened a project: a `NEW` or `UPDATED` field status becomes `VIEWED`. */
    suspend fun markViewed(projectId: String) = io { raw.markViewed(projectId) }

    /** How many projects each home-screen category holds, in one call. */
    suspend fun categoryCounts(): CategoryCounts = io { raw.categoryCounts() }

    /** A task's options (or the project's, without [task]) resolved over every level. */
    suspend fun resolvedOptions(projectId: String, task: String? = null): ResolvedOptions =
        io { raw.resolvedOptions(projectId, task) }

    /** Adds a survey template (its JSON) to the local library, or replaces the one with the same id. */
    suspend fun addSurveyTemplate(json: String): SurveyTemplateInfo = io { raw.addSurveyTemplate(json) }

    /** The templates of the local library. */
    suspend fun surveyTemplates(): List<SurveyTemplateInfo> = io { raw.surveyTemplates() }

    /** A task's survey: every question with its state, what is missing or invalid, and the submissions. */
    suspend fun taskSurvey(projectId: String, task: String): TaskSurvey = io { raw.taskSurvey(projectId, task) }

    /**
     * Saves one answer durably, offline. An answer that does not fit its question is
     * [FieldSyncException.InvalidInput] and nothing is written.
     */
    suspend fun saveSurveyAnswer(projectId: String, task: String, questionId: String, answer: SurveyAnswer): SurveyAnswer =
        io { raw.saveSurveyAnswer(projectId, task, questionId, answer) }

    /** Removes one answer from the draft (a previous rework answer then shows again). */
    suspend fun clearSurveyAnswer(projectId: String, task: String, questionId: String) =
        io { raw.clearSurveyAnswer(projectId, task, questionId) }

    /**
     * Submits a task's survey; [FieldSyncException.SurveyIncomplete] (with `missing` and `invalid`) while it
     * is not ready. The submission passes the QA gate like a photo and relays after its photos.
     */
    suspend fun submitSurvey(projectId: String, task: String): SurveySubmission = io { raw.submitSurvey(projectId, task) }

    /** QA approves a submitted survey: it relays at the next delivery. */
    suspend fun approveSurvey(uuid: String): SurveySubmission = io { raw.approveSurvey(uuid) }

    /** QA rejects a submitted survey with a reason: it is never relayed. */
    suspend fun rejectSurvey(uuid: String, reason: String): SurveySubmission = io { raw.rejectSurvey(uuid, reason) }

    /** Submitted surveys of a project, or of every project. */
    suspend fun surveySubmissions(projectId: String? = null): List<SurveySubmission> = io { raw.surveySubmissions(projectId) }

    /** What still keeps a project from being completed (empty: nothing). */
    suspend fun completionRequirements(projectId: String): List<UnmetRequirement> = io { raw.completionRequirements(projectId) }

    /**
     * Completes a project; [FieldSyncException.CompletionBlocked] (with the typed `unmet` list) unless every
     * requirement is met or [forceReason] gives a reason. The status is queued for the provider.
     */
    suspend fun completeProject(projectId: String, forceReason: String? = null): Completion =
        io { raw.completeProject(projectId, forceReason) }

    /** Creates a project on the device before its order arrives; its work waits for the order. */
    suspend fun createLocalProject(project: NewLocalProject): Project = io { raw.createLocalProject(project) }

    /** Discards a local project whose order never came; returns the folder its exported work is in. */
    suspend fun discardLocalProject(projectId: String): File = File(raw.discardLocalProject(projectId))

    // ----- observing -----

    /**
     * The integration as it is now, then again after every event about it (status changes, finished
     * imports). Completes only when the collector is cancelled. Throws [FieldSyncException.NotFound] if the
     * integration is deleted while collected.
     */
    fun integrationUpdates(code: String): Flow<Integration> =
        events
            // The ping goes to this collector only, after it subscribed: the first read cannot miss a change.
            .onSubscription { emit(subscriptionPing(code)) }
            .filter { it.integrationCode == code }
            .map { integration(code) }
            .distinctUntilChanged()

    /**
     * Stops background work (the auto-import loop), delivers the events already queued, ends the event
     * thread and frees the native object. Idempotent. Work still in flight finishes in the library; its
     * events are no longer delivered. Do not call it from an event collector running on the library's event
     * thread (it waits for that thread).
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        scope.cancel()
        raw.shutdown()
        raw.close()
    }

    private suspend inline fun <T> io(crossinline block: () -> T): T = withContext(ioDispatcher) { block() }

    companion object {
        private val STATUS_RETRY = 1.seconds

        /**
         * Opens (or creates) the cache described by [config]; secrets go to [secretStore] (Android Keystore,
         * or anything secure the host has). Main-safe: opening reads and may migrate the database and runs the
         * start-up recovery, all on [ioDispatcher]. [eventBufferCapacity] events are kept for slow collectors;
         * past that the oldest are dropped rather than blocking the library's event thread.
         * [statusStopTimeout]: how long the [syncStatus] watch outlives its last collector.
         */
        suspend fun open(
            config: FieldSyncConfig,
            secretStore: SecretStore,
            ioDispatcher: CoroutineDispatcher = Dispatchers.IO,
            eventBufferCapacity: Int = 256,
            statusStopTimeout: Duration = 5.seconds,
        ): FieldSyncClient = withContext(ioDispatcher) {
            val hub = EventHub(eventBufferCapacity)
            val raw = FieldSync.open(config, secretStore, hub)
            val status = try {
                raw.syncStatus()
            } catch (error: Throwable) {
                raw.shutdown()
                raw.close()
                throw error
            }
            FieldSyncClient(raw, hub, ioDispatcher, status, statusStopTimeout)
        }
    }
}

/**
 * The library's one [EventListener], turned into a hot flow. [onEvent] runs on the library's event thread and
 * must not block: [MutableSharedFlow.tryEmit] with a drop-oldest buffer never suspends.
 */
internal class EventHub(capacity: Int) : EventListener {
    private val shared = MutableSharedFlow<FieldSyncEvent>(
        replay = 0,
        extraBufferCapacity = capacity.coerceAtLeast(1),
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )
    val flow: SharedFlow<FieldSyncEvent> = shared.asSharedFlow()

    override fun onEvent(event: FieldSyncEvent) {
        shared.tryEmit(event)
    }
}

/** A synthetic event that makes [FieldSyncClient.integrationUpdates] read the first value. */
private fun subscriptionPing(code: String): FieldSyncEvent =
    FieldSyncEvent.IntegrationStatusChanged(code, IntegrationStatus.IDLE, null)

/** The integration an event is about, when it is about one (photo and upload events are not). */
val FieldSyncEvent.integrationCode: String?
    get() = when (this) {
        is FieldSyncEvent.IntegrationStatusChanged -> code
        is FieldSyncEvent.ImportFinished -> code
        else -> null
    }

/** True when retrying later may succeed (network, provider unavailable). */
val FieldSyncException.isRetryable: Boolean
    get() = this is FieldSyncException.Network

/** The provider's Retry-After, when it sent one. */
val FieldSyncException.retryAfter: Duration?
    get() = (this as? FieldSyncException.Network)?.retryAfterSecs?.toLong()?.seconds
