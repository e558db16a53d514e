// Every FieldSyncError case, raised by the real library against the emulator and caught BY TYPE, with its
// payload: `catch FieldSyncError.CheckInRefused(_, let project, let rules)`, never by the message's text.
// (The messages are only checked for what they must not hold: secrets.)
//
// DeadlineReached is the one case no call throws today: a background run that reaches its deadline
// returns normally with `stopped == .deadline` (BackgroundSyncTests); the case is matched here on a value.

import Foundation
import XCTest
import FieldSync

/// A location service that fails with an error of the host's own (not a FieldSyncError).
private final class BrokenLocation: LocationSource, @unchecked Sendable {
    struct ChipOnFire: Error {}

    func nextFix(timeoutMs: UInt64) throws -> LocationFix? {
        throw ChipOnFire()
    }
}

/// A secret store whose writes fail (a locked keychain), with the library's own Storage error.
private final class LockedSecretStore: SecretStore, @unchecked Sendable {
    func get(key: String) throws -> String? { nil }
    func set(key: String, value: String) throws { throw FieldSyncError.Storage(reason: "the keychain is locked") }
    func delete(key: String) throws {}
}

/// A Keychain whose item for the password can no longer be decrypted (a restored backup): `get` throws
/// `SecretUnreadable` for the keys in `undecryptable` instead of pretending they are absent.
private final class UndecryptableSecretStore: SecretStore, @unchecked Sendable {
    let inner = InMemorySecretStore()
    private let lock = NSLock()
    private var undecryptableKeys: Set<String> = []

    var undecryptable: Set<String> {
        get { lock.withLock { undecryptableKeys } }
        set { lock.withLock { undecryptableKeys = newValue } }
    }

    func get(key: String) throws -> String? {
        if undecryptable.contains(key) {
            throw FieldSyncError.SecretUnreadable(reason: "keychain: cannot decrypt \(key)", integration: nil)
        }
        return try inner.get(key: key)
    }

    func set(key: String, value: String) throws { try inner.set(key: key, value: value) }
    func delete(key: String) throws { try inner.delete(key: key) }
}

final class TypedErrorTests: FieldSyncTestCase {
    /// Links ACME and imports WO-1 and WO-2 at `site` (check-in required).
    private func importSite() async throws {
        try await linkVendor()
        try await emulator.createOrders(["WO-1", "WO-2"].map {
            ProviderEmulator.order($0, assignedTo: "vendor1", extra: [
                "gpsLatitude": site.latitude, "gpsLongitude": site.longitude,
                "options": ["check_in_required": true],
            ])
        })
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
    }

    func testARefusedCheckInIsCheckInRefusedWithItsProjectAndEveryFailedRule() async throws {
        try await importSite()
        let strict = CheckInRules(geofenceRadiusM: 5, maxAccuracyM: 3, refuseUncertified: true)
        _ = try await fieldSync.editIntegration(code: "ACME", edit: IntegrationEdit(checkIn: strict),
                                                password: nil, token: nil)
        do {
            // About 11 m north of the property, with a 6 m accuracy: two rules broken.
            _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-1",
                                                   fix: fix(site.latitude + 0.0001, site.longitude, accuracy: 6),
                                                   badge: nil, user: nil)
            XCTFail("the check-in was not refused")
        } catch FieldSyncError.CheckInRefused(_, let project, let rules) {
            XCTAssertEqual(project, "ACME::WO-1")
            XCTAssertEqual(rules.count, 2, "\(rules)")
        }
        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox, [], "a refused check-in writes nothing")
    }

    func testABlockedCompletionIsCompletionBlockedWithItsUnmetRequirements() async throws {
        try await importSite()
        do {
            _ = try await fieldSync.completeProject(projectId: "ACME::WO-1", forceReason: nil)
            XCTFail("the completion was not blocked")
        } catch FieldSyncError.CompletionBlocked(_, let unmet) {
            XCTAssertEqual(unmet, [UnmetRequirement(task: nil, kind: .checkIn, evidence: nil, have: 0, need: 1)])
        }
    }

    func testEachConflictComesWithItsKind() async throws {
        try await importSite()
        do {
            _ = try await fieldSync.createIntegration(
                integration: newIntegration("ACME", username: "vendor1"), password: "secret1", token: "tok-1")
            XCTFail("a second ACME was created")
        } catch FieldSyncError.Conflict(_, let kind) {
            XCTAssertEqual(kind, .duplicateIntegration)
        }

        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: fix(site.latitude, site.longitude),
                                               badge: nil, user: nil)
        do {
            _ = try await fieldSync.deleteIntegration(code: "ACME", force: false)
            XCTFail("an integration with undelivered field work was deleted")
        } catch FieldSyncError.Conflict(_, let kind) {
            XCTAssertEqual(kind, .pendingFieldWork)
        }

        _ = try await fieldSync.completeProject(projectId: "ACME::WO-1", forceReason: nil)
        do {
            _ = try await fieldSync.completeProject(projectId: "ACME::WO-1", forceReason: nil)
            XCTFail("completed twice")
        } catch FieldSyncError.Conflict(_, let kind) {
            XCTAssertEqual(kind, .alreadyCompleted)
        }

        _ = try await fieldSync.closeProject(id: "ACME::WO-2")
        do {
            _ = try await fieldSync.editProject(id: "ACME::WO-2", edit: ProjectEdit(instructions: "too late"))
            XCTFail("a closed project was edited")
        } catch FieldSyncError.Conflict(_, let kind) {
            XCTAssertEqual(kind, .projectClosed)
        }

        do {
            _ = try await fieldSync.createLocalProject(project: NewLocalProject(
                integration: "ACME", workOrderNumber: "WO-2", address1: nil, city: nil, state: nil, zip: nil,
                tasks: ["Grass Cut"]))
            XCTFail("a local project shadowed an imported order")
        } catch FieldSyncError.Conflict(_, let kind) {
            XCTAssertEqual(kind, .projectExists)
        }
    }

    func testAServerBusyIsNetworkWithItsRetryAfterAlsoInASyncOutcome() async throws {
        try await linkVendor()
        try await createOrders(1)
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "http503", "retryAfter": 7])
        do {
            _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
            XCTFail("the refresh succeeded against a 503")
        } catch FieldSyncError.Network(_, let retryAfter) {
            XCTAssertEqual(retryAfter, 7)
        }
        // Inside a sync, the same failure is the outcome's typed error.
        let outcomes = try await fieldSync.sync(maxAgeSecs: 0)
        guard case let .Network(_, retryAfter)? = outcomes.first?.error else {
            return XCTFail("not a Network error: \(outcomes)")
        }
        XCTAssertEqual(retryAfter, 7)
    }

    func testRefusedCredentialsAreAuthNamingTheIntegration() async throws {
        try await emulator.createUser("vendor1", password: "secret1", token: "tok-1")
        _ = try await fieldSync.createIntegration(
            integration: newIntegration("ACME", username: "vendor1"), password: "wr0ng-Passw0rd", token: "tok-1")
        do {
            _ = try await fieldSync.refresh(code: "ACME", mode: .changes)
            XCTFail("a wrong password was accepted")
        } catch FieldSyncError.Auth(let reason, let integration) {
            XCTAssertEqual(integration, "ACME")
            XCTAssertFalse(reason.contains("wr0ng-Passw0rd"), "the password leaked into the error")
        }
        let outcomes = try await fieldSync.sync(maxAgeSecs: 0)
        guard case let .Auth(_, integration)? = outcomes.first?.error else {
            return XCTFail("not an Auth error: \(outcomes)")
        }
        XCTAssertEqual(integration, "ACME")
    }

    func testAPasswordTheStoreCannotDecryptIsSecretUnreadableUntilTheUserSignsInAgain() async throws {
        try await emulator.createUser("vendor1", password: "secret1", token: "tok-1")
        try await createOrders(1)
        let store = UndecryptableSecretStore()
        let restored = try await FieldSync.open(config: config("restored"), secretStore: store)
        _ = try await restored.createIntegration(
            integration: newIntegration("ACME", username: "vendor1"), password: "secret1", token: "tok-1")
        store.undecryptable = ["ACME/password_sha1"]

        do {
            _ = try await restored.refresh(code: "ACME", mode: .fullImport)
            XCTFail("a refresh ran without a readable password")
        } catch FieldSyncError.SecretUnreadable(let reason, let integration) {
            XCTAssertEqual(integration, "ACME")
            XCTAssertTrue(reason.contains("sign in again"), reason)
            XCTAssertTrue(FieldSyncError.SecretUnreadable(reason: reason, integration: integration).needsSignIn)
        }
        let integration = try await restored.integration(code: "ACME")
        XCTAssertEqual(integration.status, .error, "an error the user sees, not a missing password")
        let projects = try await restored.projects(query: ProjectQuery())
        XCTAssertEqual(projects, [], "the cache is as it was")
        let run = try await restored.performBackgroundSync(until: Date().addingTimeInterval(30), refreshOlderThan: 0)
        XCTAssertTrue(run.authFailed, "a background run does not retry it: \(run)")

        store.undecryptable = []
        _ = try await restored.editIntegration(code: "ACME", edit: IntegrationEdit(), password: "secret1", token: nil)
        let report = try await restored.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, 1)
    }

    func testAnAnswerThatIsNotJSONIsProvider() async throws {
        try await linkVendor()
        try await emulator.addFault(["endpoint": "getWorkOrders", "kind": "exactBody", "status": 200,
                                     "headers": ["content-type": "application/json"],
                                     "body": "<html>not json</html>"])
        do {
            _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
            XCTFail("a body that is not JSON was imported")
        } catch FieldSyncError.Provider {
            let projects = try await fieldSync.projects(query: ProjectQuery())
            XCTAssertEqual(projects, [], "nothing imported")
        }
    }

    func testInvalidInputAndNotFound() async throws {
        do {
            _ = try await fieldSync.createIntegration(
                integration: newIntegration("not a code!", username: "vendor1"), password: "secret1", token: nil)
            XCTFail("an invalid code was accepted")
        } catch FieldSyncError.InvalidInput {}
        do {
            _ = try await fieldSync.project(id: "ACME::WO-404")
            XCTFail("a missing project was found")
        } catch FieldSyncError.NotFound {}
    }

    func testASubmissionWithMissingAnswersIsSurveyIncomplete() async throws {
        try await linkVendor()
        try await emulator.seed()
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        _ = try await fieldSync.addSurveyTemplate(json: try surveyFixture("property-inspection.json"))
        do {
            _ = try await fieldSync.submitSurvey(projectId: "ACME::WO-100109", task: "Property Inspection")
            XCTFail("an empty survey was submitted")
        } catch FieldSyncError.SurveyIncomplete(_, let missing, let invalid) {
            XCTAssertTrue(missing.contains("inspector_certification"), "\(missing)")
            XCTAssertEqual(invalid, [])
        }
    }

    func testADatabaseThatCannotBeCreatedAndARefusingSecretStoreAreStorage() async throws {
        // The database's folder is a file: nothing can be created there.
        let blocker = directory.appendingPathComponent("blocker")
        try Data("a file".utf8).write(to: blocker)
        var config = self.config()
        config.databasePath = blocker.appendingPathComponent("cache.db").path
        do {
            _ = try await FieldSync.open(config: config, secretStore: InMemorySecretStore())
            XCTFail("a database was opened under a file")
        } catch FieldSyncError.Storage {}

        // A host secret store that refuses (a locked keychain): its typed error comes back as it is.
        let locked = try await FieldSync.open(config: self.config("locked"), secretStore: LockedSecretStore())
        do {
            _ = try await locked.createIntegration(
                integration: newIntegration("ACME", username: "vendor1"), password: "secret1", token: nil)
            XCTFail("credentials were saved in a locked store")
        } catch FieldSyncError.Storage(let reason) {
            XCTAssertTrue(reason.contains("locked"), reason)
        }
        let integrations = try await locked.integrations()
        XCTAssertEqual(integrations, [], "nothing kept without its secrets")
    }

    func testACallGivenACancelledHandleIsCancelled() async throws {
        try await importSite()
        let cancellation = Cancellation()
        cancellation.cancel()
        do {
            _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport, cancel: cancellation)
            XCTFail("a cancelled refresh ran")
        } catch FieldSyncError.Cancelled {}
        let integration = try await fieldSync.integration(code: "ACME")
        XCTAssertNotEqual(integration.status, .running)
    }

    func testACallWhilePausedIsPaused() async throws {
        try await importSite()
        try await fieldSync.pause()
        do {
            _ = try await fieldSync.projects(query: ProjectQuery())
            XCTFail("the cache was read while paused")
        } catch FieldSyncError.Paused {}
        do {
            _ = try await fieldSync.refresh(code: "ACME", mode: .changes)
            XCTFail("a refresh ran while paused")
        } catch FieldSyncError.Paused {}
        try await fieldSync.resume()
        let projects = try await fieldSync.projects(query: ProjectQuery())
        XCTAssertEqual(projects.count, 2)
    }

    func testAHostCallbackFailingWithItsOwnErrorIsInternal() async throws {
        try await importSite()
        do {
            _ = try await fieldSync.checkIn(projectId: "ACME::WO-1", location: BrokenLocation(), budgetMs: 500,
                                            goodEnoughM: 10, badge: nil, user: nil)
            XCTFail("a check-in without a location service")
        } catch FieldSyncError.Internal {}
    }

    func testDeadlineReachedIsAnInterruption() {
        let error: Error = FieldSyncError.DeadlineReached(reason: "the background run's time is up")
        guard case FieldSyncError.DeadlineReached = error else { return XCTFail("not DeadlineReached") }
        XCTAssertTrue(FieldSyncError(error).isInterruption)
        XCTAssertFalse(FieldSyncError(error).isRetryable)
    }
}
