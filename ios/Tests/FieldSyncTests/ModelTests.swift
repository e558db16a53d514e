// The observable models a SwiftUI view binds to, on the main actor as in a view: ProjectListModel pages with
// the keyset and keeps every loaded row current from its watch; SyncStatusModel follows capture and
// delivery; cancelling the task that runs a model cancels its watch.
//
// A test waits for a model property through Observation (`withObservationTracking`): it is resumed by the
// model's next change, never by a timer.

import Foundation
import Observation
import XCTest
import FieldSync

/// Waits until `predicate` holds for `value()` (read on the main actor), re-checking after each change that
/// Observation reports; fails after `timeout` seconds.
@MainActor
func observe<T>(
    _ what: String,
    timeout: TimeInterval = 10,
    _ value: @escaping @MainActor () -> T,
    until predicate: (T) -> Bool
) async throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let (changed, signal) = AsyncStream<Void>.makeStream()
        let current = withObservationTracking(value) {
            signal.yield()
            signal.finish()
        }
        if predicate(current) { return current }
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else {
            throw TimeoutError(description: "timed out waiting until \(what); last value: \(current)")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in changed { return } }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(remaining * 1_000_000_000))
                throw TimeoutError(description: "timed out waiting until \(what)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}

/// Imports WO-`first`...WO-`last` (zero-padded numbers, at one property) into ACME.
private func importOrders(_ numbers: ClosedRange<Int>, _ emulator: ProviderEmulator, _ fieldSync: FieldSync) async throws {
    try await emulator.createOrders(numbers.map {
        ProviderEmulator.order(String(format: "WO-%03d", $0), assignedTo: "vendor1",
                               extra: ["gpsLatitude": 39.7817, "gpsLongitude": -89.6501])
    })
    _ = try await fieldSync.refresh(code: "ACME", mode: .changes)
}

// Each test sets up on the test case, then runs its scenario on the main actor, as a view would.
final class ModelTests: FieldSyncTestCase {
    func testTheListModelPagesWithTheKeysetAndKeepsEveryLoadedRowCurrent() async throws {
        try await linkVendor()
        try await importOrders(1...12, emulator, fieldSync)
        try await Self.pagingScenario(fieldSync, emulator)
    }

    func testTheStatusModelFollowsCaptureAndDelivery() async throws {
        try await linkVendor()
        try await importOrders(1...2, emulator, fieldSync)
        try await Self.statusScenario(fieldSync)
    }

    func testRunningAndCancellingModelsManyTimesLeavesNoWatch() async throws {
        try await linkVendor()
        try await importOrders(1...3, emulator, fieldSync)
        try await Self.cyclesScenario(fieldSync)
    }

    @MainActor
    private static func pagingScenario(_ fieldSync: FieldSync, _ emulator: ProviderEmulator) async throws {
        let model = ProjectListModel(fieldSync: fieldSync, query: ProjectQuery(integration: "ACME", sortByNumber: true),
                                     pageSize: 5, throttle: 0.01)
        XCTAssertTrue(model.isLoading)
        let run = Task { await model.run() }

        let first = try await observe("the first page", { model.projects }, until: { $0.count == 5 })
        XCTAssertEqual(first.map(\.workOrderNumber), ["WO-001", "WO-002", "WO-003", "WO-004", "WO-005"])
        XCTAssertTrue(model.hasMore)
        XCTAssertFalse(model.isLoading)
        XCTAssertEqual(fieldSync.liveWatches(), 1)

        // The next pages: read after the last row shown, appended at once.
        await model.loadNextPage()
        XCTAssertEqual(model.projects.map(\.workOrderNumber).suffix(5), ["WO-006", "WO-007", "WO-008", "WO-009", "WO-010"])
        XCTAssertTrue(model.hasMore)
        await model.loadNextPage()
        XCTAssertEqual(model.projects.count, 12)
        XCTAssertFalse(model.hasMore, "the last page came back short")
        await model.loadNextPage()   // nothing more to read
        XCTAssertEqual(model.projects.count, 12)

        // The watch now covers every loaded row: an edit deep in the list shows up...
        _ = try await fieldSync.editProject(id: "ACME::WO-011", edit: ProjectEdit(status: "Done"))
        _ = try await observe("the edit of WO-011", { model.projects }) {
            $0.first { $0.id == "ACME::WO-011" }?.status == "Done"
        }
        // ...and so does an import.
        try await importOrders(13...13, emulator, fieldSync)
        let all = try await observe("WO-013", { model.projects }) { $0.count == 13 }
        XCTAssertEqual(all.last?.workOrderNumber, "WO-013")
        XCTAssertEqual(Set(all.map(\.id)).count, 13, "no row twice")
        XCTAssertEqual(fieldSync.liveWatches(), 1, "one watch for every page")

        // Another filter starts again from its top.
        model.setQuery(ProjectQuery(integration: "ACME", search: "WO-01", sortByNumber: true))
        let filtered = try await observe("the new filter", { model.projects }) { $0.count == 4 }
        XCTAssertEqual(filtered.map(\.workOrderNumber), ["WO-010", "WO-011", "WO-012", "WO-013"])
        XCTAssertFalse(model.hasMore)

        // The view goes away: its task is cancelled, and the watch with it.
        run.cancel()
        await run.value
        XCTAssertEqual(fieldSync.liveWatches(), 0)
        XCTAssertNil(model.failure)
    }

    @MainActor
    private static func statusScenario(_ fieldSync: FieldSync) async throws {
        let model = SyncStatusModel(fieldSync: fieldSync, throttle: 0.01)
        XCTAssertNil(model.current)
        let run = Task { await model.run() }

        let now = try await observe("the current status", { model.current }) { $0 != nil }
        XCTAssertEqual(now?.uploadsPending, 0)
        let fix = LocationFix(latitude: 39.7818, longitude: -89.6501, accuracyM: 5, altitudeM: nil,
                              fixTimeMs: Int64(Date().timeIntervalSince1970 * 1000), isMock: false)
        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-001", fix: fix, badge: nil, user: nil)
        _ = try await observe("one upload pending", { model.current?.uploadsPending }) { $0 == 1 }
        _ = try await fieldSync.pushOutbox(code: "ACME")
        let delivered = try await observe("nothing pending", { model.current }) { $0?.uploadsPending == 0 }
        XCTAssertNotNil(delivered?.lastDelivered)

        run.cancel()
        await run.value
        XCTAssertEqual(fieldSync.liveWatches(), 0)
    }

    @MainActor
    private static func cyclesScenario(_ fieldSync: FieldSync) async throws {
        for index in 0..<100 {
            if index.isMultiple(of: 2) {
                let model = ProjectListModel(fieldSync: fieldSync, query: ProjectQuery(integration: "ACME"))
                let run = Task { await model.run() }
                _ = try await observe("the first page", { model.projects }) { $0.count == 3 }
                run.cancel()
                await run.value
            } else {
                let model = SyncStatusModel(fieldSync: fieldSync)
                let run = Task { await model.run() }
                _ = try await observe("the status", { model.current }) { $0 != nil }
                run.cancel()
                await run.value
            }
            if fieldSync.liveWatches() != 0 {
                return XCTFail("cycle \(index) left \(fieldSync.liveWatches()) watch(es)")
            }
        }
    }
}
