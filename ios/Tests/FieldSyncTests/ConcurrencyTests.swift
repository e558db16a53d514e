// Many Swift tasks calling one FieldSync at once: async calls run on the library's threads, refreshes of
// one integration are coalesced, and cancelling a waiting task never cancels the import itself.

import Foundation
import XCTest
import FieldSync

final class ConcurrencyTests: FieldSyncTestCase {
    func testConcurrentCallsFromManyTasksAllSucceed() async throws {
        let vendors = [("ACME", "vendor1"), ("BETA", "vendor2"), ("GAMMA", "vendor3")]
        for (index, (code, username)) in vendors.enumerated() {
            try await linkVendor(code, username: username, password: "pw-\(index)", token: "tok-\(index)")
            try await createOrders(4, prefix: code, for: username)
        }

        let fieldSync = self.fieldSync!
        let calls = try await withThrowingTaskGroup(of: String.self) { group in
            for (code, _) in vendors {
                group.addTask { _ = try await fieldSync.refresh(code: code, mode: .fullImport); return "full \(code)" }
                group.addTask { _ = try await fieldSync.refresh(code: code, mode: .fullImport); return "full \(code)" }
                group.addTask { _ = try await fieldSync.refresh(code: code, mode: .changes); return "refresh \(code)" }
                group.addTask {
                    let validation = try await fieldSync.validate(code: code)
                    XCTAssertTrue(validation.validated, "\(code): \(validation.error ?? "")")
                    return "validate \(code)"
                }
                group.addTask {
                    _ = try fieldSync.projects(query: ProjectQuery(integration: code))
                    return "list \(code)"
                }
            }
            group.addTask {
                let outcomes = try await fieldSync.sync(maxAgeSecs: 0)
                XCTAssertTrue(outcomes.allSatisfy { $0.error == nil }, "\(outcomes)")
                return "sync"
            }
            var done: [String] = []
            for try await call in group { done.append(call) }
            return done
        }
        XCTAssertEqual(calls.count, 16)

        for (code, _) in vendors {
            let projects = try await fieldSync.projects(query: ProjectQuery(integration: code, sortByNumber: true))
            XCTAssertEqual(projects.map(\.workOrderNumber), (1...4).map { "\(code)-\($0)" })
            let integration = try await fieldSync.integration(code: code)
            XCTAssertEqual(integration.status, .idle)
        }
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.count, 12, "duplicates or losses under concurrency")
    }

    func testConcurrentRefreshesOfOneIntegrationAreCoalescedIntoConsistentResults() async throws {
        try await linkVendor()
        try await createOrders(3)
        // Slow answers, so that the refreshes overlap.
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "latency", "ms": 300])

        let fieldSync = self.fieldSync!
        let reports = try await withThrowingTaskGroup(of: ImportReport.self) { group in
            for _ in 0..<6 {
                group.addTask { try await fieldSync.refresh(code: "ACME", mode: .fullImport) }
            }
            var reports: [ImportReport] = []
            for try await report in group { reports.append(report) }
            return reports
        }
        XCTAssertEqual(reports.count, 6)
        // Whichever run served a caller, the three orders were created exactly once.
        XCTAssertTrue(reports.allSatisfy { $0.created == 3 || $0.created == 0 }, "\(reports.map(\.created))")
        XCTAssertTrue(reports.contains { $0.created == 3 })
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.count, 3)
        let integration = try await fieldSync.integration(code: "ACME")
        XCTAssertEqual(integration.status, .idle)
    }

    func testRefreshAllReturnsEveryOutcomeWhenOneIntegrationFails() async throws {
        try await linkVendor("ACME", username: "vendor1")
        try await createOrders(2, for: "vendor1")
        _ = try await fieldSync.createIntegration(
            integration: newIntegration("WRONG", username: "vendor1"), password: "not-the-password", token: nil)

        let outcomes = try await fieldSync.refreshAll(mode: .fullImport)
        XCTAssertEqual(Set(outcomes.keys), ["ACME", "WRONG"])
        XCTAssertEqual(try outcomes["ACME"]?.get().created, 2)
        guard case let .failure(error)? = outcomes["WRONG"] else {
            return XCTFail("WRONG should fail: \(String(describing: outcomes["WRONG"]))")
        }
        XCTAssertTrue(error.needsSignIn, "\(error)")
    }

    func testCancellingTheWaitingTaskDoesNotCancelTheImport() async throws {
        try await linkVendor()
        try await createOrders(2)
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "latency", "ms": 500, "times": 1])

        let fieldSync = self.fieldSync!
        let waiting = _Concurrency.Task { try await fieldSync.refresh(code: "ACME", mode: .fullImport) }
        _ = try await recorder.wait(for: "the refresh to start") { events in
            events.contains { if case .integrationStatusChanged("ACME", .running, _) = $0 { return true } else { return false } }
        }
        waiting.cancel()
        _ = await waiting.result   // returns or throws; either way the import goes on

        _ = try await recorder.wait(for: "the import to finish anyway") { events in
            events.contains {
                if case .importFinished("ACME", 2, _, _, _, _, _) = $0 { return true } else { return false }
            }
        }
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.count, 2)
    }

    func testEveryCoalescedCallerGetsTheSameTypedError() async throws {
        try await linkVendor()
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "latency", "ms": 300])
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "http401"])

        let fieldSync = self.fieldSync!
        let errors = await withTaskGroup(of: FieldSyncError?.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    do {
                        _ = try await fieldSync.refresh(code: "ACME", mode: .changes)
                        return nil
                    } catch {
                        return FieldSyncError(error)
                    }
                }
            }
            var errors: [FieldSyncError?] = []
            for await error in group { errors.append(error) }
            return errors
        }
        XCTAssertEqual(errors.count, 4)
        for error in errors {
            XCTAssertEqual(error?.needsSignIn, true, "expected Auth, got \(String(describing: error))")
        }
    }
}
