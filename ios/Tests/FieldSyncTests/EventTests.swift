// Events from the library's listener thread, read through the AsyncStream wrapper (FieldSyncEventStream).

import Foundation
import XCTest
import FieldSync

private func isImportFinished(_ event: FieldSyncEvent, _ code: String) -> Bool {
    if case .importFinished(code, _, _, _, _, _, _) = event { return true }
    return false
}

private func isStatus(_ event: FieldSyncEvent, _ code: String, _ status: IntegrationStatus) -> Bool {
    if case .integrationStatusChanged(code, status, _) = event { return true }
    return false
}

final class EventTests: FieldSyncTestCase {
    func testAnImportReportsItsResultAndThenIdleThroughTheStream() async throws {
        try await linkVendor()
        try await createOrders(3)
        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)

        let events = try await recorder.wait(for: "ImportFinished then Idle") { events in
            guard let finished = events.firstIndex(where: { isImportFinished($0, "ACME") }) else { return false }
            return events[finished...].contains { isStatus($0, "ACME", .idle) }
        }
        guard case let .importFinished(_, created, updated, cancelled, deleted, removed, rejected)? =
            events.first(where: { isImportFinished($0, "ACME") })
        else { return XCTFail("no ImportFinished in \(events)") }
        XCTAssertEqual(created, report.created)
        XCTAssertEqual(created, 3)
        XCTAssertEqual([updated, cancelled, deleted, removed, rejected], [0, 0, 0, 0, 0])
        XCTAssertTrue(events.allSatisfy { $0.integrationCode == "ACME" }, "\(events)")
        // A status never follows a later one of the same run: the last word is Idle.
        XCTAssertTrue(isStatus(events.last!, "ACME", .idle), "\(events)")
    }

    func testAFailedImportArrivesAsAnErrorStatusWithItsReason() async throws {
        try await linkVendor()
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "http500"])
        do {
            _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
            XCTFail("the refresh should fail")
        } catch {}

        let events = try await recorder.wait(for: "an Error status") { events in
            events.contains { isStatus($0, "ACME", .error) }
        }
        guard case let .integrationStatusChanged(_, _, lastError)? = events.last(where: { isStatus($0, "ACME", .error) })
        else { return XCTFail("no Error status in \(events)") }
        XCTAssertFalse(lastError?.isEmpty ?? true, "an Error status carries the reason")
        XCTAssertFalse(events.contains { isImportFinished($0, "ACME") }, "a failed import reported a result")
    }

    func testEventsOfTwoIntegrationsImportingAtOnceAllArrive() async throws {
        try await linkVendor("ACME", username: "vendor1")
        try await linkVendor("BETA", username: "vendor2", password: "secret2", token: "tok-2")
        try await createOrders(2, prefix: "A", for: "vendor1")
        try await createOrders(1, prefix: "B", for: "vendor2")

        let fieldSync = self.fieldSync!
        async let acme = fieldSync.refresh(code: "ACME", mode: .fullImport)
        async let beta = fieldSync.refresh(code: "BETA", mode: .fullImport)
        let reports = try await (acme, beta)
        XCTAssertEqual(reports.0.created, 2)
        XCTAssertEqual(reports.1.created, 1)

        _ = try await recorder.wait(for: "both imports and both Idle statuses") { events in
            ["ACME", "BETA"].allSatisfy { code in
                events.contains { isImportFinished($0, code) } && events.contains { isStatus($0, code, .idle) }
            }
        }
    }

    func testTheStreamFinishesWhenTheLibraryIsReleased() async throws {
        func open() async throws -> (FieldSync?, AsyncStream<FieldSyncEvent>) {
            let (opened, events) = try await FieldSync.openWithEvents(config: config("other"),
                                                                       secretStore: InMemorySecretStore())
            return (opened, events)
        }
        var other: FieldSync?
        let events: AsyncStream<FieldSyncEvent>
        (other, events) = try await open()
        let recorder = EventRecorder(events)
        XCTAssertEqual(other?.version().isEmpty, false)
        other = nil   // the library drops its listener, which finishes the stream
        try await recorder.waitUntilFinished()
    }
}
