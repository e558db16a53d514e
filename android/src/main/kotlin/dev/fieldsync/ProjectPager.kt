package dev.fieldsync

import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.ProjectSummary
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.flatMapLatest
import kotlinx.coroutines.flow.map
import kotlin.time.Duration

/** One page of a [ProjectPageSource]: its rows and the key of the next page (`null`: the list ends here). */
data class ProjectPage(val items: List<ProjectSummary>, val nextKey: String?)

/**
 * Pages a project list by key, and says when what it handed out is no longer what the cache holds: the
 * platform-free half of a Paging 3 `PagingSource` (the Android adapter, `FieldSyncPagingSource`, is a thin
 * shell over it), usable on its own on the JVM or in a desktop tool.
 *
 * - **Keys.** A page continues after the id of the previous page's last row ([ProjectQuery.after]: keyset
 *   paging, as fast deep in the list as on its first page, and no row repeated or skipped while projects
 *   arrive). The first page has the key `null`. Paging goes forward only: the bindings have no backward key
 *   yet, so a refresh starts again at the top.
 * - **Invalidation.** One source is one generation of a list. [awaitInvalidation] watches exactly the rows
 *   handed out so far, from the top (a watch query with that many rows, and one more once the end was
 *   reached, so that a row added at the end counts), and returns as soon as a commit changes them: an
 *   import, an edit, a check-in or a delivery that changes a row, a row that joins or leaves the filter.
 *   Commits that change only rows not loaded yet do not invalidate it; they are read when the list gets
 *   there. Throw the source away then and make a new one (Paging 3 does exactly that on `invalidate()`).
 *
 * [query] gives the filters and the order; its `limit`, `offset` and `after` are the pager's own and are
 * ignored. Thread-safe.
 */
class ProjectPageSource(
    private val client: FieldSyncClient,
    query: ProjectQuery,
    /** Rows per page when [load] is given no size. */
    val pageSize: Int = 50,
    /** At most one re-read of the watched rows per interval (library default: 100 ms). */
    private val throttle: Duration? = null,
) {
    private val filters = query.copy(limit = 0u, offset = 0u, after = null)

    /** The rows handed out so far, contiguous from the top, and whether the last page was the end. */
    private data class Window(val rows: List<ProjectSummary>, val ended: Boolean, val started: Boolean)

    private val window = MutableStateFlow(Window(emptyList(), ended = false, started = false))

    init {
        require(pageSize > 0) { "pageSize must be positive, not $pageSize" }
    }

    /**
     * The page after [key] (`null`: the first page), of [size] rows. Reads one row more than asked to know
     * whether another page follows, so `nextKey` is `null` exactly at the end.
     */
    suspend fun load(key: String?, size: Int = pageSize): ProjectPage {
        require(size > 0) { "size must be positive, not $size" }
        val rows = client.projects(filters.copy(limit = (size + 1).toUInt(), after = key))
        val items = rows.take(size)
        val more = rows.size > size
        val page = ProjectPage(items, nextKey = if (more) items.last().id else null)
        // Only a page that continues the window from the top extends what is watched.
        window.compareAndUpdate { current ->
            val continues = if (current.rows.isEmpty()) !current.started && key == null else key == current.rows.last().id
            if (continues && !current.ended) Window(current.rows + items, ended = !more, started = true) else null
        }
        return page
    }

    /**
     * Suspends until a commit changes the rows this source handed out (from the first page on); returns at
     * once if they changed since they were read. Before the first page it waits for one. Cancel the caller
     * to stop watching: the watch is freed with it.
     */
    @OptIn(ExperimentalCoroutinesApi::class)
    suspend fun awaitInvalidation() {
        window
            .filter { it.started }
            .flatMapLatest { handed ->
                // One row more once the end was reached: a row appended at the end changes the result too.
                val rows = handed.rows.size + if (handed.ended) 1 else 0
                client.watchProjects(filters.copy(limit = rows.toUInt()), throttle).map { it != handed.rows }
            }
            .first { changed -> changed }
    }

    /** Every row handed out so far from the top (a diagnostic, and what a list shows). */
    val loaded: List<ProjectSummary> get() = window.value.rows
}

/** Applies [change] atomically; `null` from [change] keeps the value. */
private inline fun <T> MutableStateFlow<T>.compareAndUpdate(change: (T) -> T?) {
    while (true) {
        val current = value
        val next = change(current) ?: return
        if (compareAndSet(current, next)) return
    }
}
