package dev.fieldsync

import dev.fieldsync.support.HOME_LAT
import dev.fieldsync.support.HOME_LON
import dev.fieldsync.support.locationFix
import dev.fieldsync.support.workOrder
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.SharingStarted
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.plus
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Test
import uniffi.fieldsync_ffi.FieldStatus
import uniffi.fieldsync_ffi.NetworkState
import uniffi.fieldsync_ffi.ProjectEdit
import uniffi.fieldsync_ffi.ProjectQuery
import uniffi.fieldsync_ffi.ProjectSummary
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Watch queries as Flows, against the emulator: a watched filtered list follows an import, an edit, a
 * check-in and a delivery, and stops when its collector is cancelled; the sync status StateFlow goes up on
 * capture and down on delivery; many collect/cancel cycles leave no watch behind.
 */
class WatchTest : EmulatorTest() {

    /** Long enough that a result which should come does, short enough that the suite stays quick. */
    private val soon = 5.seconds

    /** What a collection received, and its job. */
    private class Collected<T>(val job: Job, val values: Channel<T>) {
        suspend fun next(within: Duration): T = withTimeout(within) { values.receive() }

        /** Results until one satisfies [predicate] (commits may come in several steps); returns it. */
        suspend fun until(within: Duration, predicate: (T) -> Boolean): T = withTimeout(within) {
            var value = values.receive()
            while (!predicate(value)) value = values.receive()
            value
        }

        /** True when nothing arrives for [quiet]. */
        suspend fun nothingWithin(quiet: Duration = 400.milliseconds): Boolean =
            withTimeoutOrNull(quiet) { values.receive() } == null
    }

    /** Collects [flow] in this scope, every result into a channel; started before this returns. */
    private fun <T> CoroutineScope.collect(flow: Flow<T>): Collected<T> {
        val values = Channel<T>(Channel.UNLIMITED)
        val job = launch(start = CoroutineStart.UNDISPATCHED) { flow.collect { values.send(it) } }
        return Collected(job, values)
    }

    /** Field orders 1..4 at the property, imported. */
    private suspend fun site(): Vendor = vendor().also {
        it.assignFieldOrders()
        it.client.refresh(it.code, full = true)
    }

    private fun List<ProjectSummary>.numbers() = map { it.workOrderNumber }

    private fun List<ProjectSummary>.row(id: String) = single { it.id == id }

    @Test
    fun `a watched list follows imports, edits, check-ins and deliveries until its collector is cancelled`() = coTest {
        val site = site()
        val client = site.client
        val before = client.liveWatches()
        // A filtered list: this vendor's orders on Main St, by number.
        val mainStreet = ProjectQuery(integration = site.code, search = "Main St", sortByNumber = true, limit = 100u)
        val list = collect(client.watchProjects(mainStreet, throttle = 20.milliseconds))

        val first = list.next(soon)
        assertEquals((1..4).map { site.number(it) }, first.numbers(), "the current result comes at once")
        assertEquals(before + 1, client.liveWatches())
        assertTrue(list.nothingWithin(), "no commit, no new result")

        // An import: an order on Main St joins the list, one elsewhere does not.
        val home = mapOf("gpsLatitude" to HOME_LAT, "gpsLongitude" to HOME_LON)
        emulator.admin.putWorkOrders(
            listOf(
                workOrder(site.number(5), site.username, extra = home),
                workOrder(site.number(6), site.username, extra = home + ("address1" to "9 Oak Ave")),
            ),
        )
        client.refresh(site.code)
        val imported = list.until(soon) { site.number(5) in it.numbers() }
        assertFalse(site.number(6) in imported.numbers(), "the filter holds: ${imported.numbers()}")

        // An edit.
        client.editProject(site.id(1), ProjectEdit(status = "In Progress"))
        val edited = list.until(soon) { it.row(site.id(1)).status == "In Progress" }
        assertNotEquals(imported.row(site.id(1)), edited.row(site.id(1)))

        // A check-in: the field status moves to In Process and the row shows its pending upload.
        client.checkIn(site.id(1), locationFix())
        val checkedIn = list.until(soon) { it.row(site.id(1)).fieldStatus == FieldStatus.IN_PROCESS }
        assertTrue(checkedIn.row(site.id(1)).pendingUploads > 0, "pending: ${checkedIn.row(site.id(1))}")

        // A delivery: the list reads the outbox, so delivering changes what it shows.
        client.pushOutbox(site.code)
        val delivered = list.until(soon) { it.row(site.id(1)).pendingUploads == 0L }
        assertNotEquals(checkedIn, delivered)

        // Cancelling the collector cancels the watch: no subscription left, no result after.
        list.job.cancelAndJoin()
        assertEquals(before, client.liveWatches(), "the cancelled collection left its watch behind")
        client.editProject(site.id(1), ProjectEdit(status = "Open"))
        assertTrue(list.nothingWithin(), "a cancelled collection gets nothing")
    }

    @Test
    fun `the sync status StateFlow goes up on capture and down on delivery and follows the network`() = coTest {
        val site = site()
        val client = site.client
        val before = client.liveWatches()
        val sharing = Job(coroutineContext[Job])
        val status = client.syncStatusIn(this + sharing, stopTimeout = Duration.ZERO, throttle = 10.milliseconds)

        assertEquals(0L, status.value.uploadsPending, "the initial value is the status now")
        assertFalse(status.value.paused)
        assertEquals(listOf(site.code), status.value.integrations.map { it.code })
        assertEquals(before, client.liveWatches(), "WhileSubscribed: no watch before a collector")

        val screen = collect(status)
        waitUntil("the status watch runs") { client.liveWatches() == before + 1 }

        client.checkIn(site.id(1), locationFix())
        client.checkIn(site.id(1), locationFix())
        val pending = screen.until(soon) { it.uploadsPending == 2L }
        assertTrue(pending.uploadBytesPending > 0, "bytes pending: $pending")
        assertEquals(pending, status.value)

        client.pushOutbox(site.code)
        val done = screen.until(soon) { it.uploadsPending == 0L }
        assertNotNull(done.lastDelivered)
        assertEquals(0L, done.uploadBytesPending)

        client.setNetwork(NetworkState.METERED)
        screen.until(soon) { it.network == NetworkState.METERED }

        // The last collector leaves: with no stop timeout the watch ends at once.
        screen.job.cancelAndJoin()
        waitUntil("the status watch stops") { client.liveWatches() == before }
        sharing.cancelAndJoin()
        assertEquals(before, client.liveWatches())
    }

    @Test
    fun `a status StateFlow started eagerly has the watch's result without a collector`() = coTest {
        val site = site()
        val client = site.client
        val sharing = Job(coroutineContext[Job])
        val status = client.syncStatusIn(this + sharing, started = SharingStarted.Eagerly, throttle = 10.milliseconds)
        client.checkIn(site.id(1), locationFix())
        waitUntil("the check-in shows", detail = { status.value }) { status.value.uploadsPending == 1L }
        assertEquals(status.value, client.syncStatusNow())
        sharing.cancelAndJoin()
    }

    @Test
    fun `many collect and cancel cycles leave no watch behind`() = coTest(timeout = 120.seconds) {
        val site = site()
        val client = site.client
        val before = client.liveWatches()
        val query = ProjectQuery(integration = site.code)
        repeat(200) { index ->
            when (index % 4) {
                // first(): the flow ends after one result.
                0 -> assertEquals(4, client.watchProjects(query).first().size)
                1 -> client.watchSyncStatus().first()
                // A collector cancelled while it waits for the next result (suspended in the library).
                2 -> collect(client.watchProjects(query)).also { it.next(soon) }.job.cancelAndJoin()
                else -> collect(client.watchUploadLog()).also { it.next(soon) }.job.cancelAndJoin()
            }
        }
        assertEquals(before, client.liveWatches())
    }

    @Test
    fun `several collectors each get the change and a watched project follows its edits`() = coTest {
        val site = site()
        val client = site.client
        val before = client.liveWatches()
        val watchers = List(5) { collect(client.watchProject(site.id(1), throttle = 10.milliseconds)) }
        for (watcher in watchers) assertNotEquals("Back gate", watcher.next(soon).instructions)
        client.editProject(site.id(1), ProjectEdit(instructions = "Back gate"))
        for (watcher in watchers) assertEquals("Back gate", watcher.until(soon) { it.instructions == "Back gate" }.instructions)
        watchers.forEach { it.job.cancelAndJoin() }
        assertEquals(before, client.liveWatches())
    }
}
