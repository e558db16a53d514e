// The upload policy and the upload log: the host reports the network, the vendor sets Wi-Fi only and the
// pause switch; Wi-Fi only holds photos on a metered network but sends check-ins, unmetered sends them
// exactly once, no network sends nothing, each undelivered item has a typed reason.

import Foundation
import XCTest
import FieldSync

final class UploadPolicyTests: FieldSyncTestCase {
    /// Links ACME with auto relay on and imports WO-1 at `site` with the task "Grass Cut".
    private func importSite() async throws {
        try await linkVendor()
        _ = try await fieldSync.editIntegration(code: "ACME", edit: IntegrationEdit(autoRelay: true),
                                          password: nil, token: nil)
        try await emulator.createOrders([ProviderEmulator.order("WO-1", assignedTo: "vendor1", extra: [
            "gpsLatitude": site.latitude, "gpsLongitude": site.longitude,
        ])])
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
    }

    private func addPhoto() async throws -> String {
        try await fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Grass Cut", evidence: .before,
                                     filePath: try photoFixture("gps/DSCN0010.jpg").path,
                                     fix: fix(site.latitude, site.longitude)).uuid
    }

    private func reasons() throws -> [String: UploadWaitReason] {
        Dictionary(uniqueKeysWithValues: try fieldSync.uploadLog().map { ($0.id, $0.reason) })
    }

    func testWifiOnlyHoldsPhotosOnAMeteredNetworkButSendsCheckInsAndUnmeteredSendsThemOnce() async throws {
        try await importSite()
        let uploadPolicy = try await fieldSync.uploadPolicy()
        XCTAssertEqual(uploadPolicy, UploadPolicy(photosOnWifiOnly: false, paused: false))
        try await fieldSync.setUploadPolicy(policy: UploadPolicy(photosOnWifiOnly: true, paused: false))
        fieldSync.setNetwork(network: .metered)
        let photo = try await addPhoto()
        let checkIn = try await fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: fix(site.latitude, site.longitude),
                                                   badge: nil, user: nil).uuid

        XCTAssertEqual(try reasons()[photo], .waitingForWifi)
        XCTAssertEqual(try reasons()[checkIn], .queued)
        let metered = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(metered.delivered, 1)
        let checkIns = try await emulator.items(fileType: "checkin")
        XCTAssertEqual(checkIns.map { $0["uuid"] as? String }, [checkIn])
        let before = try await emulator.items(fileType: "picture")
        XCTAssertTrue(before.isEmpty, "the photo waits for Wi-Fi")

        fieldSync.setNetwork(network: .unmetered)
        XCTAssertEqual(try reasons()[photo], .queued)
        let unmetered = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(unmetered.delivered, 1)
        let again = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(again.delivered, 0)
        let pictures = try await emulator.items(fileType: "picture")
        XCTAssertEqual(pictures.map { $0["uuid"] as? String }, [photo])
        XCTAssertEqual((pictures.first?["deliveries"] as? NSNumber)?.intValue, 1, "exactly once")
        let uploadLog = try await fieldSync.uploadLog()
        XCTAssertEqual(uploadLog.count, 0)
    }

    func testNoNetworkSendsNothingPauseHoldsPhotosAndCleanUpKeepsUndeliveredItems() async throws {
        try await importSite()
        let photo = try await addPhoto()
        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: fix(site.latitude, site.longitude),
                                         badge: nil, user: nil)
        fieldSync.setNetwork(network: NetworkState.none)
        let offline = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(offline.delivered, 0)
        guard case .Network? = offline.error else { return XCTFail("no network is a Network error: \(offline)") }
        XCTAssertTrue(try reasons().values.allSatisfy { $0 == .waitingForNetwork })

        fieldSync.setNetwork(network: .unmetered)
        try await fieldSync.setUploadPolicy(policy: UploadPolicy(photosOnWifiOnly: false, paused: true))
        let paused = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(paused.delivered, 1, "the check-in goes")
        XCTAssertEqual(try reasons()[photo], .paused)
        let cleanUpDelivered = try await fieldSync.cleanUpDelivered()
        XCTAssertEqual(cleanUpDelivered, 1)
        let uploadLog = try await fieldSync.uploadLog()
        XCTAssertEqual(uploadLog.map(\.id), [photo])

        try await emulator.addFault(["endpoint": "uploadPictures", "kind": "http500", "times": 1])
        try await fieldSync.setUploadPolicy(policy: UploadPolicy(photosOnWifiOnly: false, paused: false))
        let failed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(failed.delivered, 0)
        guard case .backoff(let until) = try reasons()[photo] else {
            return XCTFail("expected a backoff: \(String(describing: try reasons()[photo]))")
        }
        XCTAssertGreaterThan(until, Int64(Date().timeIntervalSince1970))
        let retryAllFailed = try await fieldSync.retryAllFailed()
        XCTAssertEqual(retryAllFailed, 1)
        XCTAssertEqual(try reasons()[photo], .queued)
    }
}
