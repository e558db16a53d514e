// The provider emulator (`fieldsync provider serve`) as a child process on 127.0.0.1, and a small client
// for its admin JSON API (provider/README.md). Every test gets its own emulator and database.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

struct EmulatorError: Error, CustomStringConvertible {
    let description: String
}

#if os(macOS) || os(Linux)
/// One running emulator. `stop()` (or deinit) ends it. Sendable: its state is fixed once it listens (the
/// admin calls are stateless), and `Process` may be signalled and asked from any thread.
final class ProviderEmulator: @unchecked Sendable {
    /// The wire base URL, `http://127.0.0.1:PORT/api/v2`.
    let baseURL: String
    /// The admin API root, `http://127.0.0.1:PORT/admin`.
    let adminURL: String
    /// What the emulator printed (stdout and stderr).
    let outputFile: URL
    private let process: Process

    /// The `fieldsync` CLI: `$FIELDSYNC_CLI` (set by scripts/test-swift.sh), else the workspace's
    /// `target/debug/fieldsync` next to this package (`cargo build -p fieldsync-cli`).
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["FIELDSYNC_CLI"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        // WORKSPACE/ios/Tests/FieldSyncTests/Support/ProviderEmulator.swift: the workspace is 5 components up.
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { root.deleteLastPathComponent() }
        let candidate = root.appendingPathComponent("target/debug/fieldsync")
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw EmulatorError(description: """
                the provider emulator was not found: build it with `cargo build -p fieldsync-cli` in the \
                workspace, or set FIELDSYNC_CLI to the `fieldsync` binary (looked at \(candidate.path))
                """)
        }
        return candidate
    }

    /// Starts an emulator with its database in `directory` and waits until it listens.
    init(directory: URL, timeout: TimeInterval = 30) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        outputFile = directory.appendingPathComponent("emulator.log")
        guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
            throw EmulatorError(description: "cannot create \(outputFile.path)")
        }
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }

        process = Process()
        process.executableURL = try Self.executable()
        process.arguments = [
            "provider", "serve", "--addr", "127.0.0.1:0",
            "--provider-db", directory.appendingPathComponent("provider.db").path,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["RUST_LOG"] = "warn"
        process.environment = environment
        // A file, not a pipe: nobody has to keep draining it, so the emulator can never block on a full pipe.
        process.standardOutput = output
        process.standardError = output
        try process.run()

        let deadline = Date().addingTimeInterval(timeout)
        var wire: String?
        var admin: String?
        while wire == nil || admin == nil {
            let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
            wire = Self.url(after: "wire base URL ", in: text)
            admin = Self.url(after: "admin API ", in: text)
            if wire != nil && admin != nil { break }
            if !process.isRunning {
                throw EmulatorError(description: "the emulator exited (\(process.terminationStatus)): \(text)")
            }
            if Date() > deadline {
                process.terminate()
                throw EmulatorError(description: "the emulator did not print its URLs in \(timeout) s: \(text)")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        baseURL = wire!
        adminURL = admin!
    }

    deinit {
        stop()
    }

    private static func url(after label: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: label) else { continue }
            let url = line[range.upperBound...].split(separator: " ").first.map(String.init)
            if let url, url.hasPrefix("http://") { return url }
        }
        return nil
    }

    /// Stops the emulator (Ctrl-C; SIGTERM, then SIGKILL if it lingers) and waits for it.
    func stop() {
        let signals: [() -> Void] = [
            { self.process.interrupt() },
            { self.process.terminate() },
            { _ = kill(self.process.processIdentifier, SIGKILL) },
        ]
        for send in signals where process.isRunning {
            send()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        process.waitUntilExit()
    }

    var isRunning: Bool { process.isRunning }
}
#else
/// iOS, tvOS, watchOS: no child processes, so the tests that need the emulator are skipped there.
final class ProviderEmulator: Sendable {
    let baseURL = ""
    let adminURL = ""
    var isRunning: Bool { false }

    init(directory: URL, timeout: TimeInterval = 30) throws {
        throw XCTSkip("the provider emulator runs as a child process: run these tests on macOS or Linux")
    }

    func stop() {}
}
#endif

extension ProviderEmulator {
    // MARK: - admin API (URLSession: Foundation on Apple platforms, FoundationNetworking on Linux)

    /// One admin call. Returns the decoded JSON answer (nil when empty); throws on a status outside 2xx.
    @discardableResult
    func admin(_ method: String, _ path: String, _ body: Any? = nil) async throws -> Any? {
        guard let url = URL(string: adminURL + path) else {
            throw EmulatorError(description: "bad admin path \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, status) = try await Self.send(request)
        guard (200..<300).contains(status) else {
            let text = String(decoding: data, as: UTF8.self)
            throw EmulatorError(description: "admin \(method) \(path) answered \(status): \(text)")
        }
        return data.isEmpty ? nil : try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    /// URLSession through a completion handler: the same code on Apple platforms and on Linux
    /// (FoundationNetworking).
    private static func send(_ request: URLRequest) async throws -> (Data, Int) {
        try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                    continuation.resume(returning: (data ?? Data(), status))
                }
            }.resume()
        }
    }

    func createUser(_ username: String, password: String, token: String) async throws {
        try await admin("POST", "/users", ["username": username, "password": password, "token": token])
    }

    func createOrders(_ orders: [[String: Any]]) async throws {
        try await admin("POST", "/work-orders", orders)
    }

    func patchOrder(_ number: String, _ patch: [String: Any]) async throws {
        try await admin("PATCH", "/work-orders/\(number)", patch)
    }

    func unassign(_ number: String) async throws {
        try await admin("POST", "/work-orders/\(number)/unassign")
    }

    func deleteOrder(_ number: String) async throws {
        try await admin("DELETE", "/work-orders/\(number)")
    }

    /// Adds fault rules (provider/README.md, "Faults").
    func addFault(_ rule: [String: Any]) async throws {
        try await admin("POST", "/faults", rule)
    }

    func clearFaults() async throws {
        try await admin("DELETE", "/faults")
    }

    /// The demo seed: login `vendor1` / `secret1` / `tok-1` and orders WO-100101 ... WO-100111.
    func seed() async throws {
        try await admin("POST", "/seed")
    }

    /// Replaces an order's `options` (e.g. `["photos_required": ["after": 1]]`).
    func setOptions(_ number: String, _ options: [String: Any]) async throws {
        try await admin("PUT", "/work-orders/\(number)/options", options)
    }

    /// The surveys the provider received for an order: `uuid`, `taskName`, `templateId`, `answerCount`,
    /// `photosReceivedBefore`, `missingPhotos`, `deliveries`...
    func surveys(workOrderNumber number: String) async throws -> [[String: Any]] {
        let query = number.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? number
        guard let list = try await admin("GET", "/surveys?workOrderNumber=\(query)") as? [[String: Any]] else {
            throw EmulatorError(description: "GET /surveys did not answer a list")
        }
        return list
    }

    /// The status updates the provider received, in order.
    func statusUpdates() async throws -> [[String: Any]] {
        let answer = try await admin("GET", "/status-updates")
        if let list = answer as? [[String: Any]] { return list }
        if let object = answer as? [String: Any] {
            for value in object.values {
                if let list = value as? [[String: Any]] { return list }
            }
        }
        return []
    }

    /// The items (`uploadPictures`) the provider stored, each once by `uuId` with its `deliveries` count;
    /// `fileType` filters (`picture`, `checkin`).
    func items(fileType: String? = nil) async throws -> [[String: Any]] {
        let query = fileType.map { "?fileType=\($0)" } ?? ""
        guard let list = try await admin("GET", "/items\(query)") as? [[String: Any]] else {
            throw EmulatorError(description: "GET /items did not answer a list")
        }
        return list
    }

    /// A wire work order with every field a client needs to create it.
    static func order(
        _ number: String,
        assignedTo: String?,
        address: String = "1 Main St",
        city: String = "Columbus",
        extra: [String: Any] = [:]
    ) -> [String: Any] {
        var order: [String: Any] = [
            "workOrderNumber": number,
            "workOrderInfo": "Grass cut",
            "address1": address,
            "city": city,
            "state": "OH",
            "zip": "43215",
            "clientStatus": "Open",
            "clientDueDate": "2030-01-01",
            "assignedTo": assignedTo ?? NSNull(),
            "options": ["check_in_required": true],
            "services": [
                ["serviceName": "Grass Cut", "instructions": "Front and back", "options": [String: Any]()],
                ["serviceName": "Debris Removal", "instructions": "", "options": [String: Any]()],
            ],
        ]
        order.merge(extra) { _, new in new }
        return order
    }
}
