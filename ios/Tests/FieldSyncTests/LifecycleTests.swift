// Logging, the in-memory secret store, and shutting the library down.

import Foundation
import XCTest
import FieldSync

/// Collects log lines from any thread.
private final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(LogLevel, String, String)] = []

    func append(_ level: LogLevel, _ target: String, _ message: String) {
        lock.lock()
        defer { lock.unlock() }
        lines.append((level, target, message))
    }

    var snapshot: [(LogLevel, String, String)] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}

final class LifecycleTests: FieldSyncTestCase {
    func testLibraryLogsReachTheSwiftLoggerWithoutSecrets() async throws {
        // The first initLogging of the process wins; this is the only test that calls it.
        let collector = LogCollector()
        initLogging(logger: ClosureLogger { collector.append($0, $1, $2) }, level: .debug)

        try await linkVendor()
        try await createOrders(2)
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)

        let lines = collector.snapshot
        XCTAssertTrue(lines.contains { $0.2.contains("downloaded work orders") && $0.1.hasPrefix("fieldsync") },
                      "no import log line among \(lines.count): \(lines.map(\.2).prefix(20))")
        let secretValues = ["secret1", "tok-1", try await fieldSync.pushKey(code: "ACME")]
        let secretsSeen = lines.filter { line in secretValues.contains { line.2.contains($0) } }
        XCTAssertTrue(secretsSeen.isEmpty, "a secret was logged: \(secretsSeen.map(\.2))")
    }

    func testInMemorySecretStoreAndErrorHelpers() throws {
        let store = InMemorySecretStore(["A/token": "t"])
        XCTAssertEqual(try store.get(key: "A/token"), "t")
        try store.set(key: "A/token", value: "u")
        XCTAssertEqual(try store.get(key: "A/token"), "u")
        try store.delete(key: "A/token")
        try store.delete(key: "A/token")   // deleting what is absent is no error
        XCTAssertNil(try store.get(key: "A/token"))

        let network = FieldSyncError.Network(reason: "down", retryAfterSecs: 30)
        XCTAssertTrue(network.isRetryable)
        XCTAssertEqual(network.retryAfter, 30)
        XCTAssertEqual(network.reason, "down")
        XCTAssertFalse(FieldSyncError.Auth(reason: "no", integration: "ACME").isRetryable)
        XCTAssertTrue(FieldSyncError.Auth(reason: "no", integration: nil).needsSignIn)
        XCTAssertNil(FieldSyncError.Conflict(reason: "c", kind: .projectClosed).retryAfter)
        struct Other: Error {}
        guard case .Internal = FieldSyncError(Other()) else { return XCTFail("foreign errors become Internal") }
    }

    func testShutdownReturnsAndEndsTheEventStream() async throws {
        try await linkVendor()
        let fieldSync = self.fieldSync!
        let returned = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            fieldSync.shutdown()
            returned.signal()
        }
        XCTAssertEqual(returned.wait(timeout: .now() + 10), .success, "shutdown() did not return within 10 s")
        try await recorder.waitUntilFinished()
    }
}
