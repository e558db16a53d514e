// Observable models for SwiftUI (and UIKit with Observation tracking): a paged project list refreshed by
// its watch, and the sync status. Platform-neutral: the Observation module also ships with Swift on
// Linux, so the Linux test package compiles and tests them (SwiftUI itself exists only on Apple platforms;
// README.md shows the views).
//
// Both are `@MainActor`: a view reads them on the main actor, and their `run()` (a view's `.task`) applies
// each result there. The library's work never runs on the main actor: the watches read on the library's
// threads, and a page is read through the `async` overloads of FieldSync+Async.swift.

#if canImport(Observation)
import Foundation
import Observation

/// A project list that pages and stays up to date.
///
/// It shows the rows of `query` from the top, `pageSize` more with each `loadNextPage()`. The next page is
/// read with the keyset of the last row shown (`ProjectQuery.after`: as fast deep in the list as at its
/// top, no row repeated or skipped while projects arrive) and shown at once; from then on one watch over
/// every row loaded keeps them current: an import, an edit, a check-in, a photo or a delivery changes
/// `projects` at the next result (the watch's throttle, 0.1 s by default), with no polling.
///
/// ```swift
/// @State private var model = ProjectListModel(fieldSync: fieldSync, query: ProjectQuery(integration: "ACME"))
/// List(model.projects, id: \.id) { row in ProjectRow(row).onAppear { if row.id == model.projects.last?.id {
///     Task { await model.loadNextPage() } } } }
///     .task { await model.run() }          // the view going away cancels the watch
/// ```
///
/// Paging goes forward only: the bindings offer no `before` key yet, so the model keeps every row it loaded
/// (a list a vendor scrolls is hundreds of rows, not 100k) and `setQuery(_:)` starts again from the top.
@available(iOS 17.0, macOS 14.0, tvOS 17.0, watchOS 10.0, *)
@MainActor
@Observable
public final class ProjectListModel {
    /// The rows loaded so far, in the query's order, as the watch last saw them.
    public private(set) var projects: [ProjectSummary] = []
    /// False once a page came back short: there is nothing after the last row.
    public private(set) var hasMore = true
    /// True while `loadNextPage()` reads.
    public private(set) var isLoadingPage = false
    /// True until the first result arrived.
    public private(set) var isLoading = true
    /// Why the last read or the watch failed (the watch then stops; `run()` returns).
    public private(set) var failure: FieldSyncError?
    /// The filter (its `limit`, `offset` and `after` are the model's own).
    public private(set) var query: ProjectQuery

    @ObservationIgnored public let fieldSync: FieldSync
    @ObservationIgnored public let pageSize: UInt32
    @ObservationIgnored private let throttle: TimeInterval?
    /// How many rows the watch covers: a multiple of `pageSize`.
    @ObservationIgnored private var window: UInt32
    /// Bumped when the watched window or the query changes: `run()` then starts the watch again.
    @ObservationIgnored private var generation = 0
    @ObservationIgnored private var watch: Task<Void, Never>?

    public init(fieldSync: FieldSync, query: ProjectQuery = ProjectQuery(), pageSize: UInt32 = 50,
                throttle: TimeInterval? = nil) {
        self.fieldSync = fieldSync
        self.query = query
        self.pageSize = max(pageSize, 1)
        self.throttle = throttle
        window = max(pageSize, 1)
    }

    /// Keeps `projects` up to date until the calling task is cancelled (a view's `.task`), or until the
    /// watch fails (`failure`). Call it once at a time.
    public func run() async {
        while !Task.isCancelled {
            let generation = self.generation
            let query = watchedQuery()
            let watch = Task { await self.follow(query, generation: generation) }
            self.watch = watch
            await withTaskCancellationHandler {
                await watch.value
            } onCancel: {
                watch.cancel()
            }
            self.watch = nil
            // The same generation: the watch ended by itself (a failure) or we were cancelled.
            if generation == self.generation { return }
        }
    }

    /// Reads the page after the last row (keyset `after`), shows it, and widens the watch to cover it.
    public func loadNextPage() async {
        guard hasMore, !isLoadingPage else { return }
        isLoadingPage = true
        defer { isLoadingPage = false }
        var next = query
        next.after = projects.last?.id
        next.offset = 0
        next.limit = pageSize
        do {
            let page = try await fieldSync.projects(query: next)
            let known = Set(projects.map(\.id))
            projects.append(contentsOf: page.filter { !known.contains($0.id) })
            hasMore = page.count == Int(pageSize)
            isLoading = false
            failure = nil
            let wanted = (UInt32(projects.count) + pageSize - 1) / pageSize * pageSize
            if wanted > window {
                window = wanted
                restartWatch()
            }
        } catch {
            failure = FieldSyncError(error)
        }
    }

    /// Shows another filter from its top (the first page; `run()` follows it).
    public func setQuery(_ query: ProjectQuery) {
        guard query != self.query else { return }
        self.query = query
        window = pageSize
        projects = []
        hasMore = true
        isLoading = true
        restartWatch()
    }

    private func restartWatch() {
        generation += 1
        watch?.cancel()
    }

    private func watchedQuery() -> ProjectQuery {
        var watched = query
        watched.after = nil
        watched.offset = 0
        watched.limit = window
        return watched
    }

    private func follow(_ query: ProjectQuery, generation: Int) async {
        do {
            for try await rows in fieldSync.projectsStream(query, throttle: throttle) {
                guard generation == self.generation else { return }
                projects = rows
                hasMore = rows.count >= Int(query.limit)
                isLoading = false
                failure = nil
            }
        } catch {
            if generation == self.generation { failure = FieldSyncError(error) }
        }
    }
}

/// The sync status for a status bar or a badge: `current` is the status now (nil until the first result,
/// which comes at once), kept up to date by a watch while `run()` runs.
///
/// ```swift
/// @State private var status = SyncStatusModel(fieldSync: fieldSync)
/// Text("\(status.current?.uploadsPending ?? 0) to upload").task { await status.run() }
/// ```
@available(iOS 17.0, macOS 14.0, tvOS 17.0, watchOS 10.0, *)
@MainActor
@Observable
public final class SyncStatusModel {
    /// The status as the watch last saw it.
    public private(set) var current: SyncStatus?
    /// Why the watch failed (then `run()` returns).
    public private(set) var failure: FieldSyncError?

    @ObservationIgnored public let fieldSync: FieldSync
    @ObservationIgnored private let throttle: TimeInterval?

    public init(fieldSync: FieldSync, throttle: TimeInterval? = nil) {
        self.fieldSync = fieldSync
        self.throttle = throttle
    }

    /// Follows the status until the calling task is cancelled or the watch fails.
    public func run() async {
        do {
            for try await status in fieldSync.syncStatusStream(throttle: throttle) {
                current = status
                failure = nil
            }
        } catch {
            failure = FieldSyncError(error)
        }
    }
}
#endif
