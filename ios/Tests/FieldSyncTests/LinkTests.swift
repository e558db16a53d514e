// Linking a provider login: create, validate with the right and a wrong password, the push key, secrets.

import Foundation
import XCTest
import FieldSync

final class LinkTests: FieldSyncTestCase {
    func testValidateAcceptsTheRightPasswordAndKeepsOnlyItsSha1() async throws {
        try await emulator.createUser("vendor1", password: "secret1", token: "tok-1")
        let created = try await fieldSync.createIntegration(
            integration: newIntegration("ACME", username: "vendor1"), password: "secret1", token: "tok-1")
        XCTAssertEqual(created.code, "ACME")
        XCTAssertEqual(created.integrationType, "pruvan_share")
        XCTAssertEqual(created.mode, .external)
        XCTAssertNil(created.validatedAt, "not validated before the provider said so")

        let validation = try await fieldSync.validate(code: "ACME")
        XCTAssertTrue(validation.validated)
        XCTAssertTrue(validation.error?.isEmpty ?? true, "unexpected error: \(validation.error ?? "")")
        let integration = try await fieldSync.integration(code: "ACME")
        XCTAssertNotNil(integration.validatedAt)

        // The host's store holds the password's SHA-1 (40 hex digits) and the token, never the password.
        let stored = secrets.snapshot
        let sha1 = try XCTUnwrap(stored["ACME/password_sha1"])
        XCTAssertEqual(sha1.count, 40)
        XCTAssertTrue(sha1.allSatisfy(\.isHexDigit), sha1)
        XCTAssertEqual(stored["ACME/token"], "tok-1")
        XCTAssertFalse(stored.values.contains { $0.contains("secret1") }, "the password itself was stored")

        // Validation registered the integration's push key with the provider.
        let pushKey = try await fieldSync.pushKey(code: "ACME")
        XCTAssertFalse(pushKey.isEmpty)
        let user = try await emulator.admin("GET", "/users/vendor1") as? [String: Any]
        XCTAssertEqual(user?["pushKey"] as? String, pushKey)
    }

    func testValidateWithAWrongPasswordIsRefusedAndNothingIsMarkedValid() async throws {
        try await emulator.createUser("vendor1", password: "secret1", token: "tok-1")
        _ = try await fieldSync.createIntegration(
            integration: newIntegration("ACME", username: "vendor1"), password: "not-the-password", token: "tok-1")

        let validation = try await fieldSync.validate(code: "ACME")
        XCTAssertFalse(validation.validated)
        let reason = try XCTUnwrap(validation.error, "a refusal carries the provider's reason")
        XCTAssertFalse(reason.isEmpty)
        XCTAssertFalse(reason.contains("not-the-password"), "the password leaked into: \(reason)")
        let integration = try await fieldSync.integration(code: "ACME")
        XCTAssertNil(integration.validatedAt)
    }

    func testLinkKeepsAnAcceptedLoginAndRemovesARefusedOne() async throws {
        try await emulator.createUser("vendor1", password: "secret1", token: "tok-1")
        let linked = try await fieldSync.link(newIntegration("GOOD", username: "vendor1"),
                                              password: "secret1", token: "tok-1")
        XCTAssertNotNil(linked.validatedAt)

        let error = await assertThrows("an Auth error", {
            try await self.fieldSync.link(self.newIntegration("BAD", username: "vendor1"),
                                          password: "wrong", token: "tok-1")
        }, matches: { $0.needsSignIn })
        XCTAssertFalse(error?.isRetryable ?? true)
        let integrations = try await fieldSync.integrations()
        XCTAssertEqual(integrations.map(\.code), ["GOOD"], "the refused login was kept")
        XCTAssertNil(secrets.snapshot["BAD/password_sha1"], "the refused login's secrets were kept")
    }

    func testEditIntegrationChangesSettingsAndCredentials() async throws {
        try await emulator.createUser("vendor1", password: "secret1", token: "tok-1")
        _ = try await fieldSync.createIntegration(
            integration: newIntegration("ACME", username: "vendor1"), password: "wrong", token: "tok-1")
        let refused = try await fieldSync.validate(code: "ACME")
        XCTAssertFalse(refused.validated)

        let edited = try await fieldSync.editIntegration(
            code: "ACME",
            edit: IntegrationEdit(name: "Acme Field Services", autoAdmin: false, defaultAssignTo: "all"),
            password: "secret1", token: nil)
        XCTAssertEqual(edited.name, "Acme Field Services")
        XCTAssertFalse(edited.autoAdmin)
        XCTAssertEqual(edited.defaultAssignTo, "all")
        let accepted = try await fieldSync.validate(code: "ACME")
        XCTAssertTrue(accepted.validated, "the new password was not used: \(accepted.error ?? "")")
    }
}
