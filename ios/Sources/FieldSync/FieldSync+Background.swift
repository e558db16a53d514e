// Background runs and cancellation that follows Swift's structured concurrency. Platform-neutral: also
// compiled into the Linux test package.
//
// uniffi's async functions do not observe Task cancellation: cancelling the Task that awaits
// `runBackgroundSync` (or `refresh`, `sync`, `pushOutbox`) would neither stop the work nor return early.
// These wrappers pass a `Cancellation` and cancel it from `withTaskCancellationHandler`, so cancelling the
// Task aborts the request in flight (an upload goes back to the outbox under the same UUID, an import
// rolls back) and the call returns promptly.

import Foundation

extension FieldSync {
    /// One background run (BGTaskScheduler, a silent push, regained connectivity): field work first, then
    /// photos, then the refreshes older than `refreshOlderThan` seconds; returns by `deadline` with what it
    /// did and what is left (`moreWork`, `nextRunAt`).
    ///
    /// Cancelling the calling Task (a BGTask's expiration handler) stops it promptly: it then returns a
    /// result with `stopped == .cancelled` and `moreWork`, the upload in flight aborted and queued again.
    /// It throws only when paused (`FieldSyncError.Paused`) or when the storage breaks; errors of an
    /// integration are in the result (`authFailed`: the user must sign in again).
    public func performBackgroundSync(
        until deadline: Date,
        reason: BackgroundReason = .scheduled,
        refreshOlderThan: TimeInterval = 900
    ) async throws -> BackgroundSyncResult {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await runBackgroundSync(
                deadline: deadline,
                reason: reason,
                refreshOlderThanSecs: UInt64(max(refreshOlderThan, 0)),
                cancel: cancellation
            )
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// `pushOutbox` that stops its work when the calling Task is cancelled: it then throws
    /// `FieldSyncError.Cancelled` and the interrupted upload goes again later under the same UUID.
    public func pushOutboxCancellable(code: String) async throws -> SyncOutcome {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await pushOutbox(code: code, cancel: cancellation)
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// `refresh` that stops its work when the calling Task is cancelled: the download is aborted or the
    /// import rolls back, and it throws `FieldSyncError.Cancelled`.
    public func refreshCancellable(code: String, mode: RefreshMode = .changes) async throws -> ImportReport {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await refresh(code: code, mode: mode, cancel: cancellation)
        } onCancel: {
            cancellation.cancel()
        }
    }
}
