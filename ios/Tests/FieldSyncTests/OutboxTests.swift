// Field work through the outbox: a status edit is recorded locally at once and queued for the provider.

import Foundation
import XCTest
import FieldSync

final class OutboxTests: FieldSyncTestCase {
    /// Links ACME and imports WO-1 and WO-2 without check-in requirements.
    private func importTwoOrders() async throws {
        try await linkVendor()
        try await emulator.createOrders(["WO-1", "WO-2"].map {
            ProviderEmulator.order($0, assignedTo: "vendor1", extra: ["options": [String: Any]()])
        })
        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, 2)
    }

    func testEditingTheStatusQueuesOneOutboxEntryAndDeliversIt() async throws {
        try await importTwoOrders()
        let empty = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(empty.count, 0)

        let edited = try await fieldSync.setStatus("Complete", ofProject: "ACME::WO-1")
        XCTAssertEqual(edited.status, "Complete")
        let project = try await fieldSync.project(id: "ACME::WO-1")
        XCTAssertEqual(project.status, "Complete", "not saved locally")

        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox.count, 1)
        let entry = try XCTUnwrap(outbox.first)
        XCTAssertEqual(entry.kind, .status)
        XCTAssertEqual(entry.project, "ACME::WO-1")
        XCTAssertEqual(entry.state, .queued)
        XCTAssertEqual(entry.attempts, 0)
        XCTAssertNil(entry.lastError)
        XCTAssertNotNil(UUID(uuidString: entry.id), "the idempotency key is a UUID: \(entry.id)")

        // Edits that do not change the status queue nothing more.
        _ = try await fieldSync.editProject(id: "ACME::WO-1",
                                      edit: ProjectEdit(dueDate: "2030-02-01", instructions: "Call first"))
        try await fieldSync.setStatus("Complete", ofProject: "ACME::WO-1")
        let outbox2 = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox2.map(\.id), [entry.id])
        let project2 = try await fieldSync.project(id: "ACME::WO-1")
        XCTAssertEqual(project2.dueDate, "2030-02-01")

        // Delivered to the provider's `status` service, then gone from the outbox.
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 1)
        XCTAssertNil(pushed.error)
        let outbox3 = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox3.count, 0)
        let updates = try await emulator.statusUpdates()
        XCTAssertEqual(updates.count, 1, "\(updates)")
        let update = try XCTUnwrap(updates.first)
        XCTAssertEqual(update["workOrderNumber"] as? String, "WO-1", "\(update)")
        XCTAssertEqual(update["status"] as? String, "Complete", "\(update)")
        XCTAssertEqual(update["uuid"] as? String, entry.id, "the outbox UUID is the provider's idempotency key")
    }

    func testCompletingAProjectThatRequiresACheckInIsBlockedAndQueuesNothing() async throws {
        try await linkVendor()
        try await emulator.createOrders([ProviderEmulator.order("WO-1", assignedTo: "vendor1",
                                                                extra: ["options": ["check_in_required": true]])])
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)

        let blocked = await assertThrows("CompletionBlocked (check-in required)", {
            try await self.fieldSync.setStatus("Complete", ofProject: "ACME::WO-1")
        }, matches: { if case .CompletionBlocked = $0 { return true } else { return false } })
        XCTAssertEqual(blocked?.unmetRequirements?.map(\.kind), [.checkIn])
        let project = try await fieldSync.project(id: "ACME::WO-1")
        XCTAssertNil(project.status)
        let empty = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(empty.count, 0)
    }

    func testDeletingAnIntegrationWithPendingWorkNeedsForceAndExportsThatWork() async throws {
        try await importTwoOrders()
        try await fieldSync.setStatus("Complete", ofProject: "ACME::WO-2")
        let outbox = try await fieldSync.outbox(code: "ACME")
        let entry = try XCTUnwrap(outbox.first)

        await assertThrows("Conflict (pending field work)", {
            _ = try self.fieldSync.deleteIntegration(code: "ACME", force: false)
        }, matches: { if case .Conflict(_, .pendingFieldWork) = $0 { return true } else { return false } })
        let integrations = try await fieldSync.integrations()
        XCTAssertEqual(integrations.map(\.code), ["ACME"], "deleted despite pending work")

        let deleteIntegration = try await fieldSync.deleteIntegration(code: "ACME", force: true)
        let export = try XCTUnwrap(deleteIntegration,
                                   "a forced delete returns the pending work")
        XCTAssertTrue(export.contains(entry.id), export)
        let integrations2 = try await fieldSync.integrations()
        XCTAssertEqual(integrations2.count, 0)
        XCTAssertTrue(secrets.snapshot.isEmpty, "secrets left behind: \(secrets.snapshot.keys)")
    }
}
