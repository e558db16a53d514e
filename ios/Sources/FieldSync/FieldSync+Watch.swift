// Watch queries as AsyncSequences. Platform-neutral: also compiled into the Linux test package.
//
// Each stream opens a watch in the library (a change subscription, no polling): it yields the query's
// current result at once, then a new result after every commit that can change it (an import, an edit, a
// check-in, a photo, a delivery), never the same result twice in a row and at most one per `throttle`.
// Ending the iteration (the view's `.task` cancelled, a `break`, the stream released) cancels the watch, so
// nothing stays subscribed. Each call opens its own watch: iterate a stream from one task.

import Foundation

/// What every generated watch handle offers (`ProjectListWatch`, `SyncStatusWatch`...).
protocol FieldSyncWatchHandle: AnyObject, Sendable {
    associatedtype Value: Sendable
    func next() async throws -> Value?
    func cancel()
}

extension ProjectListWatch: FieldSyncWatchHandle {}
extension ProjectWatch: FieldSyncWatchHandle {}
extension UploadLogWatch: FieldSyncWatchHandle {}
extension PhotoListWatch: FieldSyncWatchHandle {}
extension SyncStatusWatch: FieldSyncWatchHandle {}

extension FieldSync {
    /// A project list (any `ProjectQuery`: a filter, a search, a page), kept up to date: the list now,
    /// then again after each change to what it shows (rows carry their `pendingUploads`, so a capture or a
    /// delivery changes them too). `throttle`: at most one result per interval (library default: 0.1 s).
    public func projectsStream(
        _ query: ProjectQuery = ProjectQuery(),
        throttle: TimeInterval? = nil
    ) -> AsyncThrowingStream<[ProjectSummary], Error> {
        Self.stream(watchProjects(query: query, throttleMs: Self.milliseconds(throttle)))
    }

    /// One project (`CODE::NUMBER`) with its tasks, kept up to date. The stream ends with
    /// `FieldSyncError.NotFound` when the project is gone.
    public func projectStream(id: String, throttle: TimeInterval? = nil) -> AsyncThrowingStream<Project, Error> {
        Self.stream(watchProject(id: id, throttleMs: Self.milliseconds(throttle)))
    }

    /// The upload log (every item not delivered yet, with why it waits), kept up to date.
    public func uploadLogStream(throttle: TimeInterval? = nil) -> AsyncThrowingStream<[UploadLogEntry], Error> {
        Self.stream(watchUploadLog(throttleMs: Self.milliseconds(throttle)))
    }

    /// The photos of a project (`projectId` nil: of every project), kept up to date.
    public func photosStream(
        projectId: String? = nil,
        throttle: TimeInterval? = nil
    ) -> AsyncThrowingStream<[Photo], Error> {
        Self.stream(watchPhotos(projectId: projectId, throttleMs: Self.milliseconds(throttle)))
    }

    /// The sync status, kept up to date: uploads pending go up on capture and down on delivery; the
    /// network, the pause and each integration's state are in it too. Its first element is the status now;
    /// for a value to show before that, `syncStatus()` reads it synchronously (it answers while paused).
    public func syncStatusStream(throttle: TimeInterval? = nil) -> AsyncThrowingStream<SyncStatus, Error> {
        Self.stream(watchSyncStatus(throttleMs: Self.milliseconds(throttle)))
    }

    /// The status to show right now, or nil if the cache cannot be read (then the stream will say why).
    public var currentSyncStatus: SyncStatus? {
        try? syncStatus()
    }

    private static func milliseconds(_ interval: TimeInterval?) -> UInt64? {
        interval.map { UInt64(max(0, ($0 * 1000).rounded())) }
    }

    /// Pulls `watch` from a task of its own into a stream. The stream keeps only the newest result a slow
    /// reader has not taken yet (each result is a whole snapshot). Its termination (the reader cancelled or
    /// gone) cancels the watch, which ends the pending `next()` at once.
    static func stream<Watch: FieldSyncWatchHandle>(_ watch: Watch) -> AsyncThrowingStream<Watch.Value, Error> {
        AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let pump = _Concurrency.Task {
                do {
                    while let value = try await watch.next() {
                        if case .terminated = continuation.yield(value) { break }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                watch.cancel()
                pump.cancel()
            }
        }
    }
}
