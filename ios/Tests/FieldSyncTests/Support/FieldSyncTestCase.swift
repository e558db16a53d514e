// The fixture every test class shares: a fresh emulator, a fresh cache, an in-memory secret store and an
// event recorder fed by the AsyncStream wrapper.

import Foundation
import XCTest
import FieldSync

struct TimeoutError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body`, failing with `TimeoutError` after `seconds`.
func withTimeout<T: Sendable>(
    _ seconds: TimeInterval,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await _Concurrency.Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            throw TimeoutError(description: "timed out after \(seconds) s waiting for \(what)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Consumes an event stream from one task and keeps every event, so tests can wait for what they expect.
/// A waiting test is resumed by the event that satisfies it (or the stream's end), never by a timer; the
/// timeout only bounds a wait that failed.
actor EventRecorder {
    private(set) var events: [FieldSyncEvent] = []
    private(set) var finished = false
    private var waiters: [UUID: (check: ([FieldSyncEvent]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = [:]

    init(_ stream: AsyncStream<FieldSyncEvent>) {
        Task { [weak self] in
            for await event in stream {
                await self?.record(event)
            }
            await self?.finish()
        }
    }

    private func record(_ event: FieldSyncEvent) {
        events.append(event)
        for (id, waiter) in waiters where waiter.check(events) {
            waiters[id] = nil
            waiter.continuation.resume(returning: true)
        }
    }

    private func finish() {
        finished = true
        for (id, waiter) in waiters {
            waiters[id] = nil
            waiter.continuation.resume(returning: waiter.check(events))
        }
    }

    private func expire(_ id: UUID) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: false)
    }

    /// Waits until `check` holds, the stream finished or `timeout` passed; true if `check` held.
    private func waitFor(_ timeout: TimeInterval, _ check: @escaping ([FieldSyncEvent]) -> Bool) async -> Bool {
        if check(events) { return true }
        if finished { return false }
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiters[id] = (check, $0) }
    }

    /// Waits until `predicate` holds for the events recorded so far; returns them.
    func wait(
        timeout: TimeInterval = 10,
        for what: String,
        until predicate: @escaping ([FieldSyncEvent]) -> Bool
    ) async throws -> [FieldSyncEvent] {
        guard await waitFor(timeout, predicate) else {
            throw TimeoutError(description: "no \(what) within \(timeout) s; events: \(events)")
        }
        return events
    }

    /// Waits until the stream has finished.
    func waitUntilFinished(timeout: TimeInterval = 10) async throws {
        _ = await waitFor(timeout) { _ in false }
        guard finished else {
            throw TimeoutError(description: "the event stream did not finish within \(timeout) s")
        }
    }
}

/// A file of the photo fixtures (the repository's `fixtures/photos`, see its README): from
/// `$FIELDSYNC_PHOTO_FIXTURES` (scripts/test-swift.sh copies them into the chroot), else `fixtures/photos`
/// in the workspace this package lives in.
func photoFixture(_ relative: String) throws -> URL {
    let root: URL
    if let path = ProcessInfo.processInfo.environment["FIELDSYNC_PHOTO_FIXTURES"], !path.isEmpty {
        root = URL(fileURLWithPath: path)
    } else {
        // WORKSPACE/ios/Tests/FieldSyncTests/Support/FieldSyncTestCase.swift: the workspace is 5 components up.
        var workspace = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { workspace.deleteLastPathComponent() }
        root = workspace.appendingPathComponent("fixtures/photos")
    }
    let file = root.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: file.path) else {
        throw EmulatorError(description: "photo fixture \(relative) not found under \(root.path) (set FIELDSYNC_PHOTO_FIXTURES)")
    }
    return file
}

/// The text of a survey template fixture (the repository's `fixtures/surveys`): from
/// `$FIELDSYNC_SURVEY_FIXTURES` (scripts/test-swift.sh copies them into the chroot), else `fixtures/surveys`
/// in the workspace this package lives in.
func surveyFixture(_ name: String) throws -> String {
    let root: URL
    if let path = ProcessInfo.processInfo.environment["FIELDSYNC_SURVEY_FIXTURES"], !path.isEmpty {
        root = URL(fileURLWithPath: path)
    } else {
        var workspace = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { workspace.deleteLastPathComponent() }
        root = workspace.appendingPathComponent("fixtures/surveys")
    }
    let file = root.appendingPathComponent(name)
    guard let text = try? String(contentsOf: file, encoding: .utf8) else {
        throw EmulatorError(description: "survey fixture \(name) not found under \(root.path) (set FIELDSYNC_SURVEY_FIXTURES)")
    }
    return text
}

class FieldSyncTestCase: XCTestCase {
    var directory: URL!
    var emulator: ProviderEmulator!
    var secrets: InMemorySecretStore!
    var fieldSync: FieldSync!
    var recorder: EventRecorder!

    // XCTest runs `setUp() async` first, then `setUpWithError()`.
    override func setUp() async throws {
        try await super.setUp()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fieldsync-swift-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        secrets = InMemorySecretStore()
        // Opening is async: the database is opened and recovered off this task's executor.
        let (fieldSync, events) = try await FieldSync.openWithEvents(config: config(), secretStore: secrets)
        self.fieldSync = fieldSync
        recorder = EventRecorder(events)
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        // Started from the synchronous set-up, on the main thread: a child process inherits the signal
        // mask of the thread that spawns it, and the threads that run async code block SIGINT and SIGTERM,
        // so an emulator spawned there would ignore `stop()` until its SIGKILL (10 s per test).
        emulator = try ProviderEmulator(directory: directory.appendingPathComponent("provider"))
    }

    override func tearDownWithError() throws {
        // Releasing the last reference closes the library (its Drop joins the event thread).
        fieldSync = nil
        recorder = nil
        emulator?.stop()
        emulator = nil
        if let directory {
            try? FileManager.default.removeItem(at: directory)
        }
        try super.tearDownWithError()
    }

    /// The configuration of the cache in this test's folder (`name` picks another database).
    func config(_ name: String = "cache") -> FieldSyncConfig {
        FieldSyncConfig(
            databasePath: directory.appendingPathComponent("\(name).db").path,
            photoDirectory: directory.appendingPathComponent("\(name)-photos").path,
            deviceId: "swift-test-device"
        )
    }

    /// An integration of the emulator's login `username` (external, Auto Admin on).
    func newIntegration(_ code: String, username: String) -> NewIntegration {
        NewIntegration(code: code, baseUrl: emulator.baseURL, username: username, mode: .external)
    }

    /// Creates the login on the provider, links it as `code` and validates it.
    @discardableResult
    func linkVendor(
        _ code: String = "ACME",
        username: String = "vendor1",
        password: String = "secret1",
        token: String = "tok-1"
    ) async throws -> Integration {
        try await emulator.createUser(username, password: password, token: token)
        let integration = try await fieldSync.createIntegration(
            integration: newIntegration(code, username: username), password: password, token: token)
        let validation = try await fieldSync.validate(code: integration.code)
        XCTAssertTrue(validation.validated, "the emulator refused \(username): \(validation.error ?? "")")
        return integration
    }

    /// `count` orders `PREFIX-1`... assigned to `username`.
    func createOrders(_ count: Int, prefix: String = "WO", for username: String = "vendor1") async throws {
        try await emulator.createOrders((1...count).map {
            ProviderEmulator.order("\(prefix)-\($0)", assignedTo: username, address: "\($0) Main St")
        })
    }

    /// Asserts that `body` throws a `FieldSyncError` for which `matches` is true; returns it.
    @discardableResult
    func assertThrows(
        _ expected: String,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ body: () async throws -> Void,
        matches: (FieldSyncError) -> Bool
    ) async -> FieldSyncError? {
        do {
            try await body()
            XCTFail("expected \(expected), but nothing was thrown", file: file, line: line)
        } catch let error as FieldSyncError {
            XCTAssertTrue(matches(error), "expected \(expected), got \(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected \(expected), got a \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }
}
