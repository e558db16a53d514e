// Typed errors: each FieldSyncError case says what the app can do, and reaches Swift as that case.

import Foundation
import XCTest
import FieldSync

private func isInvalidInput(_ error: FieldSyncError) -> Bool {
    if case .InvalidInput = error { return true }
    return false
}

private func isNotFound(_ error: FieldSyncError) -> Bool {
    if case .NotFound = error { return true }
    return false
}

private func isNetwork(_ error: FieldSyncError) -> Bool {
    if case .Network = error { return true }
    return false
}

final class ErrorTests: FieldSyncTestCase {
    func testInvalidInputIsRefusedBeforeAnythingIsWritten() async throws {
        await assertThrows("InvalidInput (code)", {
            _ = try self.fieldSync.createIntegration(
                integration: self.newIntegration("not a code!", username: "vendor1"), password: "secret1", token: nil)
        }, matches: isInvalidInput)
        await assertThrows("InvalidInput (empty password)", {
            _ = try self.fieldSync.createIntegration(
                integration: self.newIntegration("ACME", username: "vendor1"), password: "", token: nil)
        }, matches: isInvalidInput)
        await assertThrows("InvalidInput (plain http to a remote host)", {
            var remote = self.newIntegration("ACME", username: "vendor1")
            remote.baseUrl = "http://provider.example.com/api/v2"
            _ = try self.fieldSync.createIntegration(integration: remote, password: "secret1", token: nil)
        }, matches: isInvalidInput)
        await assertThrows("InvalidInput (default assign to)", {
            var new = self.newIntegration("ACME", username: "vendor1")
            new.defaultAssignTo = "bad\u{7}name"
            _ = try self.fieldSync.createIntegration(integration: new, password: "secret1", token: nil)
        }, matches: isInvalidInput)
        let integrations = try await fieldSync.integrations()
        XCTAssertEqual(integrations.count, 0, "an invalid integration was saved")
        XCTAssertTrue(secrets.snapshot.isEmpty, "secrets saved for an invalid integration")

        await assertThrows("InvalidInput (project id)", {
            _ = try self.fieldSync.project(id: "no-separator")
        }, matches: isInvalidInput)
        await assertThrows("InvalidInput (device id)", {
            var config = self.config("other")
            config.deviceId = "  "
            _ = try FieldSync.open(config: config, secretStore: InMemorySecretStore(), listener: nil)
        }, matches: isInvalidInput)

        try await linkVendor()
        try await createOrders(1)
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        await assertThrows("InvalidInput (due date)", {
            _ = try self.fieldSync.editProject(id: "ACME::WO-1", edit: ProjectEdit(dueDate: "next Tuesday"))
        }, matches: isInvalidInput)
        let project = try await fieldSync.project(id: "ACME::WO-1")
        XCTAssertNil(project.dueDate)
    }

    func testNotFoundNamesWhatIsMissing() async throws {
        let error = await assertThrows("NotFound (integration)", {
            _ = try self.fieldSync.integration(code: "NOPE")
        }, matches: isNotFound)
        XCTAssertTrue(error?.reason.contains("NOPE") ?? false, "\(String(describing: error))")
        await assertThrows("NotFound (refresh)", {
            _ = try await self.fieldSync.refresh(code: "NOPE", mode: .changes)
        }, matches: isNotFound)
        await assertThrows("NotFound (validate)", {
            _ = try await self.fieldSync.validate(code: "NOPE")
        }, matches: isNotFound)

        try await linkVendor()
        await assertThrows("NotFound (project)", {
            _ = try self.fieldSync.project(id: "ACME::WO-404")
        }, matches: isNotFound)
        await assertThrows("NotFound (edit)", {
            _ = try await self.fieldSync.setStatus("Complete", ofProject: "ACME::WO-404")
        }, matches: isNotFound)
    }

    func testConflictsWithExistingData() async throws {
        try await linkVendor()
        await assertThrows("Conflict (duplicate code)", {
            _ = try self.fieldSync.createIntegration(
                integration: self.newIntegration("ACME", username: "vendor1"), password: "secret1", token: nil)
        }, matches: { if case .Conflict(_, .duplicateIntegration) = $0 { return true } else { return false } })

        try await createOrders(1)
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        let closed = try await fieldSync.closeProject(id: "ACME::WO-1")
        XCTAssertTrue(closed.closed)
        await assertThrows("Conflict (closed project)", {
            _ = try self.fieldSync.editProject(id: "ACME::WO-1", edit: ProjectEdit(instructions: "too late"))
        }, matches: { if case .Conflict(_, .projectClosed) = $0 { return true } else { return false } })
    }

    func testAnInjectedServerErrorIsARetryableNetworkErrorWithRetryAfter() async throws {
        try await linkVendor()
        try await createOrders(2)
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "http503", "retryAfter": 7, "times": 1])

        let error = await assertThrows("Network (503)", {
            _ = try await self.fieldSync.refresh(code: "ACME", mode: .fullImport)
        }, matches: isNetwork)
        XCTAssertEqual(error?.isRetryable, true)
        XCTAssertEqual(error?.retryAfter, 7)
        let failed = try await fieldSync.integration(code: "ACME")
        XCTAssertEqual(failed.status, .error)
        XCTAssertNotNil(failed.lastError)
        let allProjects = try await fieldSync.allProjects()
        XCTAssertEqual(allProjects.count, 0)

        // The fault was for one request: the next refresh succeeds and clears the error.
        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, 2)
        let integration = try await fieldSync.integration(code: "ACME")
        XCTAssertEqual(integration.status, .idle)
        let integration2 = try await fieldSync.integration(code: "ACME")
        XCTAssertNil(integration2.lastError)
    }

    func testADroppedConnectionAndADownProviderAreNetworkErrors() async throws {
        try await linkVendor()
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "dropBefore"])
        await assertThrows("Network (dropped connection)", {
            _ = try await self.fieldSync.refresh(code: "ACME", mode: .changes)
        }, matches: isNetwork)
        try await emulator.clearFaults()

        emulator.stop()
        XCTAssertFalse(emulator.isRunning)
        await assertThrows("Network (connection refused)", {
            _ = try await self.fieldSync.validate(code: "ACME")
        }, matches: isNetwork)
    }

    func testRefusedCredentialsAreAnAuthError() async throws {
        try await linkVendor()
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "http401"])
        let injected = await assertThrows("Auth (401)", {
            _ = try await self.fieldSync.refresh(code: "ACME", mode: .fullImport)
        }, matches: { if case .Auth(_, "ACME"?) = $0 { return true } else { return false } })
        XCTAssertEqual(injected?.isRetryable, false)
        try await emulator.clearFaults()

        // A login whose password is wrong: the provider itself answers 401 to getWorkOrders.
        _ = try await fieldSync.createIntegration(
            integration: newIntegration("WRONG", username: "vendor1"), password: "not-secret1", token: "tok-1")
        let refused = await assertThrows("Auth (wrong password)", {
            _ = try await self.fieldSync.refresh(code: "WRONG", mode: .fullImport)
        }, matches: { if case .Auth(_, "WRONG"?) = $0 { return true } else { return false } })
        XCTAssertFalse(refused?.reason.contains("not-secret1") ?? true, "the password leaked into the error")
        let integration = try await fieldSync.integration(code: "WRONG")
        XCTAssertEqual(integration.status, .error)
    }
}
