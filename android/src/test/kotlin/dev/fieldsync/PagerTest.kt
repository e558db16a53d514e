package dev.fieldsync

import dev.fieldsync.ffi.ProjectEdit
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.RefreshMode
import dev.fieldsync.support.workOrder
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * The platform-free pager (what the Android PagingSource wraps), against the emulator and a real cache: keys
 * cover the list once in order, and a generation is invalidated by a commit that changes a row it handed out,
 * not by one that changes only rows it has not loaded yet.
 */
class PagerTest : EmulatorTest() {
    private val soon = 5.seconds
    private val quiet = 400.milliseconds

    private suspend fun tenProjects(): Vendor = vendor(orders = 10).also { it.client.refresh(it.code, mode = RefreshMode.FULL_IMPORT) }

    private fun Vendor.query() = ProjectQuery(integration = code, sortByNumber = true)

    /** Every page from the top, following the keys. */
    private suspend fun ProjectPageSource.all(size: Int): List<List<String>> {
        val pages = mutableListOf<List<String>>()
        var key: String? = null
        do {
            val page = load(key, size)
            pages += page.items.map { it.id }
            key = page.nextKey
        } while (key != null)
        return pages
    }

    @Test
    fun `keys page through the list once, in order, and the last page has no next key`() = coTest {
        val vendor = tenProjects()
        val expected = vendor.client.projects(vendor.query().copy(limit = 100u)).map { it.id }
        assertEquals(10, expected.size)

        val source = ProjectPageSource(vendor.client, vendor.query(), pageSize = 4)
        val pages = source.all(4)
        assertEquals(listOf(4, 4, 2), pages.map { it.size })
        assertEquals(expected, pages.flatten(), "no row repeated or skipped")
        assertEquals(expected, source.loaded.map { it.id })

        // A page size that divides the list: the key after the last full page reads an empty end, never a
        // page that claims more.
        val exact = ProjectPageSource(vendor.client, vendor.query(), pageSize = 5).all(5)
        assertEquals(listOf(5, 5), exact.map { it.size })
        val empty = ProjectPageSource(vendor.client, vendor.query().copy(search = "no such street")).load(null)
        assertEquals(ProjectPage(emptyList(), null), empty)
    }

    @Test
    fun `a commit to a loaded row invalidates the generation, one to a row not loaded yet does not`() = coTest {
        val vendor = tenProjects()
        val client = vendor.client
        val before = client.liveWatches()
        val source = ProjectPageSource(client, vendor.query(), pageSize = 4, throttle = 10.milliseconds)
        val first = source.load(null)
        val waiting = async(start = CoroutineStart.UNDISPATCHED) { source.awaitInvalidation() }

        // Row 9 of 10 is beyond the first page: reading it later is enough.
        val notLoaded = source.loaded.map { it.id }.let { loaded -> client.projects(vendor.query().copy(limit = 100u)).map { it.id }.last { it !in loaded } }
        client.editProject(notLoaded, ProjectEdit(status = "Later"))
        assertNull(withTimeoutOrNull(quiet) { waiting.await() }, "an edit of a row not loaded invalidated the page")
        assertFalse(waiting.isCompleted)

        // An edit of a loaded row does.
        client.editProject(first.items[1].id, ProjectEdit(status = "Edited"))
        withTimeout(soon) { waiting.await() }
        assertEquals(before, client.liveWatches(), "the invalidation watch is freed")

        // The next generation reads the edit.
        val next = ProjectPageSource(client, vendor.query(), pageSize = 4).load(null)
        assertEquals("Edited", next.items.single { it.id == first.items[1].id }.status)
    }

    @Test
    fun `a row imported at the end of a fully loaded list invalidates it, and cancelling frees the watch`() = coTest {
        val vendor = tenProjects()
        val client = vendor.client
        val before = client.liveWatches()
        val source = ProjectPageSource(client, vendor.query(), pageSize = 4, throttle = 10.milliseconds)
        source.all(4)
        val waiting = async(start = CoroutineStart.UNDISPATCHED) { source.awaitInvalidation() }
        assertNull(withTimeoutOrNull(quiet) { waiting.await() }, "no commit, no invalidation")
        assertEquals(before + 1, client.liveWatches())

        // "K…-99" sorts after every other number of this vendor.
        emulator.admin.putWorkOrders(listOf(workOrder(vendor.number(99), vendor.username)))
        client.refresh(vendor.code)
        withTimeout(soon) { waiting.await() }
        val reread = ProjectPageSource(client, vendor.query(), pageSize = 4).all(4).flatten()
        assertEquals(vendor.id(99), reread.last())

        // A generation nobody waits on any more holds no watch.
        val abandoned = async(start = CoroutineStart.UNDISPATCHED) { ProjectPageSource(client, vendor.query()).apply { load(null) }.awaitInvalidation() }
        assertTrue(withTimeoutOrNull(quiet) { abandoned.await() } == null)
        abandoned.cancel()
        abandoned.join()
        assertEquals(before, client.liveWatches())
    }
}
