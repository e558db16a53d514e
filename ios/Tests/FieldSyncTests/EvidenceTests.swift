// Content credentials from Swift: a DeviceSigner implemented in Swift is called by the library (here one
// whose key store is locked, so the photo waits with the reason in the upload log), and photos signed by
// the library's software signer reach the provider with credentials it verifies.
//
// No test signs with a Swift P-256 key: Swift on Linux has none without a network package (CryptoKit is
// Apple-only; swift-crypto would be a dependency fetched from GitHub). The Kotlin and Python suites sign
// with a host key; ios/README.md shows a Secure Enclave signer.

import Foundation
import XCTest
import FieldSync

/// The DER certificates of a PEM chain.
private func derChain(_ pem: String) -> [Data] {
    pem.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().compactMap { block in
        let body = block.components(separatedBy: "-----END CERTIFICATE-----")[0]
        return Data(base64Encoded: body.filter { !$0.isWhitespace })
    }
}

/// A device key store not unlocked since boot: it has its certificates, but every signature is refused
/// with the library's own error.
private final class LockedSigner: DeviceSigner, @unchecked Sendable {
    let chain: [Data]
    private let lock = NSLock()
    private var asked = 0
    var calls: Int { lock.withLock { asked } }

    init(chain: [Data]) {
        self.chain = chain
    }

    func signDigest(digest: Data) throws -> Data {
        lock.withLock { asked += 1 }
        throw FieldSyncError.Internal(reason: "keystore locked: the user has not unlocked the device")
    }

    func certificateChain() throws -> [Data] {
        chain
    }
}

final class EvidenceTests: FieldSyncTestCase {
    private func importSite() async throws {
        try await linkVendor()
        try await emulator.createOrders([ProviderEmulator.order("WO-1", assignedTo: "vendor1")])
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
    }

    func testALockedSwiftSignerLeavesThePhotoWaitingWithItsReason() async throws {
        try await importSite()
        let credentials = try createDevelopmentCredentials(deviceId: "swift-phone", organisation: "Swift Test Vendor")
        let signer = LockedSigner(chain: derChain(credentials.devicePem))
        XCTAssertFalse(signer.chain.isEmpty)
        fieldSync.setDeviceSigner(signer: signer)
        let photo = try await fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Grass Cut", evidence: .before,
                                                 filePath: try photoFixture("gps/DSCN0010.jpg").path, fix: nil)
        XCTAssertGreaterThan(signer.calls, 0, "the library asked the Swift signer")
        XCTAssertFalse(photo.signed)
        XCTAssertEqual(photo.state, .processing, "\(photo)")
        let log = try await fieldSync.uploadLog()
        let entry = try XCTUnwrap(log.first { $0.id == photo.uuid })
        guard case let .waitingForSigner(error) = entry.reason else {
            return XCTFail("not waiting for the signer: \(entry.reason)")
        }
        XCTAssertTrue(error.contains("locked"), error)
    }

    func testPhotosSignedByTheSoftwareSignerReachTheProviderWithValidCredentials() async throws {
        try await importSite()
        let credentials = try createDevelopmentCredentials(deviceId: "swift-phone", organisation: "Swift Test Vendor")
        try await fieldSync.setSoftwareSigner(deviceKeyPem: credentials.deviceKeyPem, chainPem: credentials.devicePem)
        let photo = try await fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Grass Cut", evidence: .before,
                                                 filePath: try photoFixture("gps/DSCN0010.jpg").path, fix: nil)
        XCTAssertTrue(photo.signed, "\(photo)")
        _ = try await fieldSync.approvePhoto(uuid: photo.uuid)
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 1, "\(pushed)")
        let items = try await emulator.items(fileType: "picture")
        let item = try XCTUnwrap(items.first { $0["uuid"] as? String == photo.uuid }, "\(items)")
        let checked = try XCTUnwrap(item["credentials"] as? [String: Any], "\(item)")
        XCTAssertEqual(checked["result"] as? String, "valid", "\(checked)")

        // The original camera file carries no credentials.
        let original = try Data(contentsOf: try photoFixture("gps/DSCN0010.jpg"))
        XCTAssertEqual(verifyPhoto(bytes: original, trustAnchorsPem: credentials.caPem).outcome, .unsigned)
    }
}
