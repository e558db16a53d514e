// Importing from the provider: Full Import, list and detail, incremental Refresh with an update, an
// unassignment (Cancelled) and a deletion (Deleted), the push key, sync of every due integration.

import Foundation
import XCTest
import FieldSync

final class ImportTests: FieldSyncTestCase {
    func testFullImportListsProjectsAndShowsTheirDetail() async throws {
        try await linkVendor()
        try await emulator.createUser("vendor2", password: "secret2", token: "tok-2")
        try await createOrders(3)
        try await emulator.createOrders([ProviderEmulator.order("OTHER-1", assignedTo: "vendor2")])
        try await emulator.createOrders([ProviderEmulator.order(
            "WO-BAD", assignedTo: "vendor1", extra: ["services": [[String: Any]]()])])

        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, 3)
        XCTAssertEqual(report.updated, 0)
        XCTAssertEqual(report.rejected.map(\.workOrderNumber), ["WO-BAD"], "an order without services")
        XCTAssertFalse(report.rejected.first?.reason.isEmpty ?? true)

        let list = try await fieldSync.projects(query: ProjectQuery(integration: "ACME", sortByNumber: true))
        XCTAssertEqual(list.map(\.id), ["ACME::WO-1", "ACME::WO-2", "ACME::WO-3"])
        XCTAssertEqual(list.map(\.workOrderNumber), ["WO-1", "WO-2", "WO-3"])
        XCTAssertEqual(list.first?.address1, "1 Main St")
        XCTAssertEqual(list.first?.clientStatus, "Open")
        XCTAssertEqual(list.first?.clientDueDate, "2030-01-01")
        let projects = try await fieldSync.projects(query: ProjectQuery(search: "2 Main"))
        XCTAssertEqual(projects.map(\.id), ["ACME::WO-2"])
        let allProjects = try await fieldSync.allProjects(pageSize: 2)
        XCTAssertEqual(allProjects.count, 3, "paging lost or repeated rows")

        let project = try await fieldSync.project(id: "ACME::WO-2")
        XCTAssertEqual(project.integration, "ACME")
        XCTAssertEqual(project.workOrderInfo, "Grass cut")
        XCTAssertEqual(project.address1, "2 Main St")
        XCTAssertEqual(project.city, "Columbus")
        XCTAssertEqual(project.state, "OH")
        XCTAssertEqual(project.zip, "43215")
        XCTAssertEqual(project.tasks.map(\.name), ["Grass Cut", "Debris Removal"])
        XCTAssertEqual(project.tasks.first?.instructions, "Front and back")
        XCTAssertEqual(project.options["check_in_required"] as? Bool, true, project.optionsJson)
        XCTAssertFalse(project.closed)
        XCTAssertFalse(project.removalPending)

        let integration = try await fieldSync.integration(code: "ACME")
        XCTAssertEqual(integration.status, .idle)
        XCTAssertNotNil(integration.lastRefreshed)
        XCTAssertNil(integration.lastError)
    }

    func testRefreshAppliesAnUpdateAnUnassignmentAndADeletion() async throws {
        try await linkVendor()
        try await createOrders(3)
        let first = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(first.created, 3)

        try await emulator.patchOrder("WO-1", ["clientInstructions": "Gate code 4411",
                                               "clientDueDate": "2030-01-05"])
        try await emulator.unassign("WO-2")
        try await emulator.deleteOrder("WO-3")
        try await emulator.createOrders([ProviderEmulator.order("WO-4", assignedTo: "vendor1")])

        let report = try await fieldSync.refresh(code: "ACME", mode: .changes)
        XCTAssertEqual(report.created, 1, "WO-4")
        XCTAssertEqual(report.updated, 1, "WO-1")
        XCTAssertEqual(report.cancelled, 1, "WO-2")
        XCTAssertEqual(report.deleted, 1, "WO-3")
        XCTAssertEqual(report.removed, 0, "an incremental refresh removes nothing")

        let updated = try await fieldSync.project(id: "ACME::WO-1")
        XCTAssertEqual(updated.clientInstructions, "Gate code 4411")
        XCTAssertEqual(updated.clientDueDate, "2030-01-05")
        XCTAssertEqual(updated.clientStatus, "Open")

        // Unassigned and deleted orders stay, with only their client status changed.
        let cancelled = try await fieldSync.project(id: "ACME::WO-2")
        XCTAssertEqual(cancelled.clientStatus, "Cancelled")
        XCTAssertEqual(cancelled.address1, "2 Main St")
        XCTAssertEqual(cancelled.tasks.count, 2)
        let deleted = try await fieldSync.project(id: "ACME::WO-3")
        XCTAssertEqual(deleted.clientStatus, "Deleted")
        XCTAssertEqual(deleted.address1, "3 Main St")

        let projects = try await fieldSync.projects(query: ProjectQuery(clientStatus: "Cancelled"))
        XCTAssertEqual(projects.map(\.id),
                       ["ACME::WO-2"])
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.count, 4)

        // The same refresh again changes nothing.
        let again = try await fieldSync.refresh(code: "ACME", mode: .changes)
        XCTAssertEqual([again.created, again.updated, again.cancelled, again.deleted], [0, 0, 0, 0])
    }

    func testFullImportRemovesProjectsTheProviderNoLongerLists() async throws {
        try await linkVendor()
        try await createOrders(2)
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        try await emulator.unassign("WO-1")

        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.removed, 1)
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.map(\.id), ["ACME::WO-2"])
    }

    func testRefreshByPushKeyRefreshesItsIntegrationOnly() async throws {
        try await linkVendor()
        let pushKey = try await fieldSync.pushKey(code: "ACME")
        try await createOrders(2)

        let report = try await fieldSync.refreshByPushKey(pushKey: pushKey)
        XCTAssertEqual(report?.created, 2)
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.count, 2)

        let unknown = try await fieldSync.refreshByPushKey(pushKey: "not-a-push-key")
        XCTAssertNil(unknown)
    }

    func testSyncRefreshesEveryDueIntegrationAndReportsEachOutcome() async throws {
        try await linkVendor("ACME", username: "vendor1")
        try await linkVendor("BETA", username: "vendor2", password: "secret2", token: "tok-2")
        try await createOrders(2, prefix: "A", for: "vendor1")
        try await createOrders(3, prefix: "B", for: "vendor2")

        let outcomes = try await fieldSync.sync(maxAgeSecs: 0)
        let byCode = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.code, $0) })
        XCTAssertEqual(Set(byCode.keys), ["ACME", "BETA"])
        XCTAssertEqual(byCode["ACME"]?.report?.created, 2)
        XCTAssertEqual(byCode["BETA"]?.report?.created, 3)
        XCTAssertNil(byCode["ACME"]?.error)

        // Both are fresh now: with an hour's tolerance nothing is due.
        let later = try await fieldSync.sync(maxAgeSecs: 3600)
        XCTAssertEqual(later.map(\.code), [])
    }
}
