// Main-safe calls: the async twins of the blocking calls (FieldSync+Async.swift) do their work off the
// caller's actor, here the main actor, and opening does too.

import Foundation
import XCTest
@testable import FieldSync

final class MainSafetyTests: FieldSyncTestCase {
    func testTheAsyncTwinsWorkOffTheMainThreadAndAnswerOnIt() async throws {
        try await linkVendor()
        try await createOrders(3)
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        try await Self.onTheMainActor(fieldSync, config("second"))
    }

    @MainActor
    private static func onTheMainActor(_ fieldSync: FieldSync, _ other: FieldSyncConfig) async throws {
        XCTAssertTrue(Thread.isMainThread)
        // Where a blocking call runs.
        let ranOnMain = await Blocking.run { Thread.isMainThread }
        XCTAssertFalse(ranOnMain, "the blocking work ran on the main thread")
        // The twins answer the main actor with the library's results.
        let projects = try await fieldSync.projects(query: ProjectQuery(integration: "ACME"))
        XCTAssertEqual(projects.count, 3)
        XCTAssertTrue(Thread.isMainThread, "back on the main actor")
        let edited = try await fieldSync.editProject(id: projects[0].id, edit: ProjectEdit(status: "Open"))
        XCTAssertEqual(edited.status, "Open")
        // Opening, off the main thread too.
        let opened = try await FieldSync.open(config: other, secretStore: InMemorySecretStore())
        let integrations = try await opened.integrations()
        XCTAssertEqual(integrations, [])
        await opened.shutdown()
    }
}
