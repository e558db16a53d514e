// Watch queries as AsyncSequences, against the emulator: a watched filtered list follows an import, an edit,
// a check-in and a delivery, and stops when its task is cancelled; the sync status goes up on capture and
// down on delivery; many iterate/cancel cycles leave no watch behind.

import Foundation
import XCTest
import FieldSync

/// Everything a stream yielded, read by the test at its own pace.
private actor Received<Element: Sendable> {
    private var values: [Element] = []
    private var taken = 0
    private(set) var ended = false

    func append(_ value: Element) { values.append(value) }
    func end() { ended = true }

    /// The next value not taken yet, or nil after `timeout` seconds.
    func next(within timeout: TimeInterval) async -> Element? {
        let deadline = Date().addingTimeInterval(timeout)
        while taken == values.count {
            if Date() > deadline { return nil }
            try? await _Concurrency.Task.sleep(nanoseconds: 5_000_000)
        }
        taken += 1
        return values[taken - 1]
    }
}

/// A stream iterated by a task of its own (as a SwiftUI `.task` does).
private final class Collection<Element: Sendable>: @unchecked Sendable {
    let received = Received<Element>()
    private(set) var task: _Concurrency.Task<Void, Never>!

    init(_ stream: AsyncThrowingStream<Element, Error>) {
        let received = self.received
        task = _Concurrency.Task {
            do {
                for try await value in stream { await received.append(value) }
            } catch {}
            await received.end()
        }
    }

    func next(within timeout: TimeInterval = 5) async throws -> Element {
        guard let value = await received.next(within: timeout) else {
            throw TimeoutError(description: "no result within \(timeout) s")
        }
        return value
    }

    /// Results until one satisfies `predicate` (a change may commit in several steps); returns it.
    func until(
        _ what: String,
        within timeout: TimeInterval = 5,
        _ predicate: (Element) -> Bool
    ) async throws -> Element {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let value = await received.next(within: max(0, deadline.timeIntervalSinceNow)) else {
                throw TimeoutError(description: "no result with \(what) within \(timeout) s")
            }
            if predicate(value) { return value }
        }
    }

    /// True when nothing arrives for `quiet` seconds.
    func nothing(within quiet: TimeInterval = 0.4) async -> Bool {
        await received.next(within: quiet) == nil
    }
}

final class WatchTests: FieldSyncTestCase {
    /// The property of the orders.
    private let home: [String: Any] = ["gpsLatitude": 39.7817, "gpsLongitude": -89.6501]

    private func nearHome() -> LocationFix {
        LocationFix(latitude: 39.7818, longitude: -89.6501, accuracyM: 5, altitudeM: nil,
                    fixTimeMs: Int64(Date().timeIntervalSince1970 * 1000), isMock: false)
    }

    /// Links ACME and imports WO-1...WO-4 at the property, on Main St.
    private func importSite() async throws {
        try await linkVendor()
        try await emulator.createOrders((1...4).map {
            ProviderEmulator.order("WO-\($0)", assignedTo: "vendor1", extra: home)
        })
        try await refresh()
    }

    private func refresh() async throws {
        let outcome = try await fieldSync.refreshAll(codes: ["ACME"])
        _ = try XCTUnwrap(outcome["ACME"]).get()
    }

    private func eventually(_ what: String, timeout: TimeInterval = 5, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw TimeoutError(description: "timed out waiting until \(what)") }
            try await _Concurrency.Task.sleep(nanoseconds: 10_000_000)
        }
    }

    func testAWatchedListFollowsImportsEditsCheckInsAndDeliveriesUntilItsTaskIsCancelled() async throws {
        try await importSite()
        let before = fieldSync.liveWatches()
        let mainStreet = ProjectQuery(integration: "ACME", search: "Main St", sortByNumber: true, limit: 100)
        let list = Collection(fieldSync.projectsStream(mainStreet, throttle: 0.02))

        let first = try await list.next()
        XCTAssertEqual(first.map(\.workOrderNumber), ["WO-1", "WO-2", "WO-3", "WO-4"], "the current result comes at once")
        XCTAssertEqual(fieldSync.liveWatches(), before + 1)
        let quiet = await list.nothing()
        XCTAssertTrue(quiet, "no commit, no new result")

        // An import: an order on Main St joins the list, one elsewhere does not.
        try await emulator.createOrders([
            ProviderEmulator.order("WO-5", assignedTo: "vendor1", extra: home),
            ProviderEmulator.order("WO-6", assignedTo: "vendor1", address: "9 Oak Ave", extra: home),
        ])
        try await refresh()
        let imported = try await list.until("WO-5") { $0.contains { $0.workOrderNumber == "WO-5" } }
        XCTAssertFalse(imported.contains { $0.workOrderNumber == "WO-6" }, "the filter holds")

        // An edit.
        _ = try fieldSync.editProject(id: "ACME::WO-1", edit: ProjectEdit(status: "In Progress"))
        _ = try await list.until("the edit") { $0.first { $0.id == "ACME::WO-1" }?.status == "In Progress" }

        // A check-in: the field status moves to In Process and the row shows its pending upload.
        _ = try fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: nearHome(), badge: nil, user: nil)
        let checkedIn = try await list.until("the check-in") {
            $0.first { $0.id == "ACME::WO-1" }?.fieldStatus == .inProcess
        }
        XCTAssertGreaterThan(try XCTUnwrap(checkedIn.first { $0.id == "ACME::WO-1" }).pendingUploads, 0)

        // A delivery: the list reads the outbox, so delivering changes what it shows.
        _ = try await fieldSync.pushOutbox(code: "ACME")
        let delivered = try await list.until("the delivery") { $0.first { $0.id == "ACME::WO-1" }?.pendingUploads == 0 }
        XCTAssertNotEqual(delivered, checkedIn)

        // Cancelling the task ends the stream and cancels the watch: no subscription left, no result after.
        list.task.cancel()
        await list.task.value
        try await eventually("the watch is cancelled") { fieldSync.liveWatches() == before }
        _ = try fieldSync.editProject(id: "ACME::WO-1", edit: ProjectEdit(status: "Open"))
        let afterCancel = await list.nothing()
        XCTAssertTrue(afterCancel, "a cancelled stream yields nothing")
        let ended = await list.received.ended
        XCTAssertTrue(ended)
    }

    func testTheSyncStatusGoesUpOnCaptureAndDownOnDeliveryAndFollowsTheNetwork() async throws {
        try await importSite()
        let before = fieldSync.liveWatches()
        let now = try XCTUnwrap(fieldSync.currentSyncStatus)
        XCTAssertEqual(now.uploadsPending, 0)
        XCTAssertFalse(now.paused)
        XCTAssertEqual(now.integrations.map(\.code), ["ACME"])

        let status = Collection(fieldSync.syncStatusStream(throttle: 0.01))
        let first = try await status.next()
        XCTAssertEqual(first, now, "the first element is the status now")

        _ = try fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: nearHome(), badge: nil, user: nil)
        _ = try fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: nearHome(), badge: nil, user: nil)
        let pending = try await status.until("2 uploads pending") { $0.uploadsPending == 2 }
        XCTAssertGreaterThan(pending.uploadBytesPending, 0)

        _ = try await fieldSync.pushOutbox(code: "ACME")
        let done = try await status.until("nothing pending") { $0.uploadsPending == 0 }
        XCTAssertNotNil(done.lastDelivered)

        fieldSync.setNetwork(network: .metered)
        _ = try await status.until("the metered network") { $0.network == .metered }

        status.task.cancel()
        await status.task.value
        try await eventually("the watch is cancelled") { fieldSync.liveWatches() == before }
    }

    func testManyIterateAndCancelCyclesLeaveNoWatchBehind() async throws {
        try await importSite()
        let before = fieldSync.liveWatches()
        let query = ProjectQuery(integration: "ACME")
        for index in 0..<200 {
            switch index % 4 {
            case 0:
                // `break` out of the loop: the released stream cancels its watch.
                for try await projects in fieldSync.projectsStream(query) {
                    XCTAssertEqual(projects.count, 4)
                    break
                }
            case 1:
                var iterator = fieldSync.syncStatusStream().makeAsyncIterator()
                _ = try await iterator.next()
            case 2:
                // A task cancelled while it waits for the next result.
                let collection = Collection(fieldSync.projectsStream(query))
                _ = try await collection.next()
                collection.task.cancel()
                await collection.task.value
            default:
                let collection = Collection(fieldSync.uploadLogStream())
                _ = try await collection.next()
                collection.task.cancel()
                await collection.task.value
            }
        }
        try await eventually("every watch is gone") { fieldSync.liveWatches() == before }
    }

    func testSeveralStreamsEachGetTheChange() async throws {
        try await importSite()
        let before = fieldSync.liveWatches()
        let streams = (0..<5).map { _ in Collection(fieldSync.projectStream(id: "ACME::WO-1", throttle: 0.01)) }
        for stream in streams {
            let project = try await stream.next()
            XCTAssertNotEqual(project.instructions, "Back gate")
        }
        _ = try fieldSync.editProject(id: "ACME::WO-1", edit: ProjectEdit(instructions: "Back gate"))
        for stream in streams {
            _ = try await stream.until("the new instructions") { $0.instructions == "Back gate" }
            stream.task.cancel()
            await stream.task.value
        }
        try await eventually("every watch is gone") { fieldSync.liveWatches() == before }
    }
}
