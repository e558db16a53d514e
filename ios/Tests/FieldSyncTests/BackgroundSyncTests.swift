// Living inside an iOS app, against the emulator: cancelling the Task of `performBackgroundSync` stops it
// promptly (the provider sees the client leave mid-body) and the upload goes again under the same UUID;
// pause() releases the database files and resume() finishes the interrupted relay exactly once; a
// background run returns at its deadline with work left, and a second run finishes.

import Foundation
import XCTest
import FieldSync

extension ProviderEmulator {
    /// The request-body accounting of `uploadPictures`: `bodyBytesReceived`, `inFlight`, `abandoned`, `requests`.
    func uploadTraffic() async throws -> [String: Int] {
        guard let object = try await admin("GET", "/traffic?endpoint=uploadPictures") as? [String: Any] else {
            throw EmulatorError(description: "GET /traffic did not answer an object")
        }
        return object.compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    /// The UUIDs of the check-ins the provider stored, sorted.
    func receivedCheckIns() async throws -> [String] {
        try await items(fileType: "checkin").compactMap { $0["uuid"] as? String }.sorted()
    }
}

/// Polls `condition` every 10 ms until it holds; throws after `timeout` seconds.
func waitUntil(
    _ what: String,
    timeout: TimeInterval = 10,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try await !condition() {
        if Date() > deadline {
            throw TimeoutError(description: "timed out after \(timeout) s waiting until \(what)")
        }
        try await _Concurrency.Task.sleep(nanoseconds: 10_000_000)
    }
}

final class BackgroundSyncTests: FieldSyncTestCase {
    private let orders = ["WO-1", "WO-3", "WO-4"]

    /// Links ACME and imports three orders at the property without check-in requirements.
    private func importSites() async throws {
        try await linkVendor()
        try await emulator.createOrders(orders.map {
            ProviderEmulator.order($0, assignedTo: "vendor1", extra: [
                "gpsLatitude": site.latitude, "gpsLongitude": site.longitude, "options": [String: Any](),
            ])
        })
        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, UInt64(orders.count))
    }

    /// `count` check-ins queued, spread over the orders; their UUIDs.
    private func checkIns(_ count: Int) throws -> [String] {
        try (0..<count).map {
            try fieldSync.checkInWithFix(projectId: "ACME::\(orders[$0 % orders.count])",
                                         fix: fix(site.latitude + 0.0001, site.longitude), badge: nil, user: nil).uuid
        }
    }

    /// This process's open descriptors of the cache database, its WAL and its SHM file.
    private func databaseDescriptors() -> [String] {
        let database = URL(fileURLWithPath: config().databasePath).resolvingSymlinksInPath().path
        let names: Set<String> = [database, database + "-wal", database + "-shm"]
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")).flatMap {
                names.contains($0) ? $0 : nil
            }
        }
    }

    func testCancellingTheTaskStopsABackgroundRunMidBodyAndTheUploadGoesAgainUnderTheSameUUID() async throws {
        try await importSites()
        let uuid = try XCTUnwrap(try checkIns(1).first)
        try await emulator.addFault(["endpoint": "uploadPictures", "kind": "slowBody", "bytes": 32, "everyMs": 40,
                                     "times": 1])
        let fieldSync = self.fieldSync!
        let run = _Concurrency.Task {
            try await fieldSync.performBackgroundSync(until: Date().addingTimeInterval(30), reason: .push)
        }
        try await waitUntil("the upload is under way") {
            let traffic = try await emulator.uploadTraffic()
            return traffic["inFlight"] == 1 && (traffic["bodyBytesReceived"] ?? 0) > 0
        }
        let cancelled = Date()
        run.cancel()
        let result = try await withTimeout(10, "the cancelled run") { try await run.value }
        let took = Date().timeIntervalSince(cancelled)
        XCTAssertEqual(result.stopped, .cancelled, "\(result)")
        XCTAssertTrue(result.moreWork, "\(result)")
        XCTAssertLessThan(took, 2, "stopped promptly, not at the deadline")

        try await waitUntil("the provider saw the client leave", timeout: 3) {
            try await emulator.uploadTraffic()["inFlight"] == 0
        }
        let seen = try await emulator.uploadTraffic()
        XCTAssertEqual(seen["abandoned"], 1, "\(seen)")
        try await _Concurrency.Task.sleep(nanoseconds: 200_000_000)
        let later = try await emulator.uploadTraffic()
        XCTAssertEqual(later["bodyBytesReceived"], seen["bodyBytesReceived"], "the provider stopped receiving bytes")
        let stored = try await emulator.receivedCheckIns()
        XCTAssertEqual(stored, [], "nothing half-delivered was stored")

        let outcome = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(outcome.delivered, 1)
        let items = try await emulator.items(fileType: "checkin")
        XCTAssertEqual(items.compactMap { $0["uuid"] as? String }, [uuid], "the same UUID")
        XCTAssertEqual((items.first?["deliveries"] as? NSNumber)?.intValue, 1, "stored once")
    }

    func testCancellingTheTaskOfAPushThrowsCancelled() async throws {
        try await importSites()
        _ = try checkIns(1)
        try await emulator.addFault(["endpoint": "uploadPictures", "kind": "slowBody", "bytes": 32, "everyMs": 40,
                                     "times": 1])
        let fieldSync = self.fieldSync!
        let push = _Concurrency.Task { try await fieldSync.pushOutboxCancellable(code: "ACME") }
        try await waitUntil("the upload is under way") {
            (try await emulator.uploadTraffic()["bodyBytesReceived"] ?? 0) > 0
        }
        push.cancel()
        await assertThrows("Cancelled", { _ = try await withTimeout(5, "the cancelled push") { try await push.value } }) {
            if case .Cancelled = $0 { return true }
            return false
        }
        try await waitUntil("the provider saw the client leave", timeout: 3) {
            try await emulator.uploadTraffic()["inFlight"] == 0
        }
        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox.count, 1, "queued again")
    }

    func testPauseClosesTheDatabaseAndResumeFinishesTheRelayExactlyOnce() async throws {
        try await importSites()
        let uuids = try checkIns(9)
        XCTAssertFalse(databaseDescriptors().isEmpty, "the open library holds the database")
        try await emulator.addFault(["endpoint": "uploadPictures", "kind": "latency", "ms": 150])
        let fieldSync = self.fieldSync!
        let relay = _Concurrency.Task { try await fieldSync.pushOutbox(code: "ACME") }
        try await waitUntil("the relay is under way") { try await !emulator.receivedCheckIns().isEmpty }

        try await fieldSync.pause()
        await assertThrows("Paused", { _ = try await withTimeout(10, "the paused relay") { try await relay.value } }) {
            if case .Paused = $0 { return true }
            return false
        }
        XCTAssertEqual(databaseDescriptors(), [], "no descriptor of the database, WAL or SHM file")
        XCTAssertTrue(fieldSync.isPaused())
        await assertThrows("Paused", { _ = try fieldSync.projects(query: ProjectQuery()) }) {
            if case .Paused = $0 { return true }
            return false
        }
        let sent = try await emulator.receivedCheckIns().count
        XCTAssertLessThan(sent, uuids.count, "the pause interrupted the relay")

        try await emulator.clearFaults()
        try await fieldSync.resume()
        XCTAssertFalse(fieldSync.isPaused())
        try await waitUntil("resume() delivered the rest", timeout: 20) {
            try await emulator.receivedCheckIns().count >= uuids.count
        }
        let received = try await emulator.receivedCheckIns()
        XCTAssertEqual(received, uuids.sorted(), "each check-in exactly once")
    }

    func testABackgroundRunStopsAtItsDeadlineAndASecondRunFinishes() async throws {
        try await importSites()
        let uuids = try checkIns(15)
        try await emulator.addFault(["endpoint": "uploadPictures", "kind": "latency", "ms": 500])

        let started = Date()
        let first = try await fieldSync.performBackgroundSync(until: Date().addingTimeInterval(2))
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(first.stopped, .deadline, "\(first)")
        XCTAssertTrue(first.moreWork, "\(first)")
        XCTAssertNotNil(first.nextRunAt, "\(first)")
        XCTAssertGreaterThan(first.delivered, 0, "\(first)")
        XCTAssertLessThan(first.delivered, UInt64(uuids.count), "\(first)")
        XCTAssertLessThan(took, 3, "returned at its deadline")
        XCTAssertFalse(first.authFailed)

        let second = try await fieldSync.performBackgroundSync(until: Date().addingTimeInterval(60),
                                                               reason: .connectivityRegained)
        XCTAssertNil(second.stopped, "\(second)")
        XCTAssertFalse(second.moreWork, "\(second)")
        XCTAssertEqual(first.delivered + second.delivered, UInt64(uuids.count))
        let received = try await emulator.receivedCheckIns()
        XCTAssertEqual(received, uuids.sorted(), "each check-in exactly once")
    }
}
