// Consuming a watch stream the way a view does (a task of its own iterates it) and waiting for what it
// yields without polling: the reader waits on a continuation that the next element resumes.

import Foundation
import XCTest
import FieldSync

/// The elements a stream yielded, in order, with a reader that waits for the next one.
actor Inbox<Element: Sendable> {
    private var buffer: [Element] = []
    private(set) var ended = false
    private var waiter: (id: UUID, continuation: CheckedContinuation<Element?, Never>)?

    func append(_ element: Element) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: element)
        } else {
            buffer.append(element)
        }
    }

    func end() {
        ended = true
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: nil)
        }
    }

    /// Elements received and not taken yet.
    var pending: Int { buffer.count }

    /// The next element not taken yet; nil once the stream ended, or after `timeout` seconds (a bound on a
    /// wait that failed, never a way to let something happen).
    func next(within timeout: TimeInterval) async -> Element? {
        if !buffer.isEmpty { return buffer.removeFirst() }
        if ended { return nil }
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiter = (id, $0) }
    }

    private func expire(_ id: UUID) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}

/// A stream iterated by a task of its own, as a SwiftUI `.task` does.
final class Collector<Element: Sendable>: Sendable {
    let inbox = Inbox<Element>()
    let task: Task<Void, Never>

    init(_ stream: AsyncThrowingStream<Element, Error>) {
        let inbox = self.inbox
        task = Task {
            do {
                for try await value in stream { await inbox.append(value) }
            } catch {}
            await inbox.end()
        }
    }

    /// The next result.
    func next(within timeout: TimeInterval = 10) async throws -> Element {
        guard let value = await inbox.next(within: timeout) else {
            throw TimeoutError(description: "no result within \(timeout) s")
        }
        return value
    }

    /// Results until one satisfies `predicate` (a change may commit in several steps); returns it.
    func until(
        _ what: String,
        within timeout: TimeInterval = 10,
        _ predicate: (Element) -> Bool
    ) async throws -> Element {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let value = await inbox.next(within: max(0, deadline.timeIntervalSinceNow)) else {
                throw TimeoutError(description: "no result with \(what) within \(timeout) s")
            }
            if predicate(value) { return value }
        }
    }

    /// True when nothing arrives within `quiet` seconds (only for checks that nothing comes).
    func nothing(within quiet: TimeInterval = 0.3) async -> Bool {
        await inbox.next(within: quiet) == nil
    }

    /// Cancels the iterating task (as SwiftUI does when the view goes away) and waits until it ended.
    func cancel() async {
        task.cancel()
        await task.value
    }
}
