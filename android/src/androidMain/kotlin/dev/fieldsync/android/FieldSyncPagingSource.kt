package dev.fieldsync.android

import androidx.paging.Pager
import androidx.paging.PagingConfig
import androidx.paging.PagingData
import androidx.paging.PagingSource
import androidx.paging.PagingState
import dev.fieldsync.FieldSyncClient
import dev.fieldsync.ProjectPageSource
import dev.fieldsync.ffi.FieldSyncException
import dev.fieldsync.ffi.ProjectQuery
import dev.fieldsync.ffi.ProjectSummary
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.launch

/**
 * A Paging 3 [PagingSource] over a project list: a thin shell over the platform-free [ProjectPageSource]
 * (keys, page reads and invalidation live there and are tested on the JVM). It invalidates itself when a
 * commit changes a row it handed out (the watch of [ProjectPageSource.awaitInvalidation], collected in
 * [scope] and cancelled when Paging drops this source).
 *
 * Keys are the id of the previous page's last row (`ProjectQuery.after`). Paging goes forward only: a refresh
 * starts at the top ([getRefreshKey] is `null`); `placeholders` are off (the list has no count yet).
 *
 * Not compiled here: it needs androidx.paging (`paging-runtime-ktx`, in build.gradle.kts).
 */
class FieldSyncPagingSource(
    private val source: ProjectPageSource,
    scope: CoroutineScope,
) : PagingSource<String, ProjectSummary>() {

    private val watching: Job = scope.launch {
        source.awaitInvalidation()
        invalidate()
    }

    init {
        registerInvalidatedCallback { watching.cancel() }
    }

    override suspend fun load(params: LoadParams<String>): LoadResult<String, ProjectSummary> =
        try {
            val page = source.load(params.key, params.loadSize)
            LoadResult.Page(data = page.items, prevKey = null, nextKey = page.nextKey)
        } catch (error: FieldSyncException) {
            LoadResult.Error(error)
        }

    override fun getRefreshKey(state: PagingState<String, ProjectSummary>): String? = null

    companion object {
        /**
         * A `Flow<PagingData>` for a list screen: `FieldSyncPagingSource.pager(client, query, viewModelScope)
         * .flow.cachedIn(viewModelScope)`, shown with `collectAsLazyPagingItems()`.
         */
        fun pager(
            client: FieldSyncClient,
            query: ProjectQuery,
            scope: CoroutineScope,
            pageSize: Int = 50,
        ): Pager<String, ProjectSummary> = Pager(
            config = PagingConfig(pageSize = pageSize, enablePlaceholders = false),
            pagingSourceFactory = { FieldSyncPagingSource(ProjectPageSource(client, query, pageSize), scope) },
        )

        /** [pager]'s flow. */
        fun flow(client: FieldSyncClient, query: ProjectQuery, scope: CoroutineScope, pageSize: Int = 50): Flow<PagingData<ProjectSummary>> =
            pager(client, query, scope, pageSize).flow
    }
}
