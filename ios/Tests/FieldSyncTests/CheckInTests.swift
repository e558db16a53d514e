// Check-in on site: the host's location source, validation against the property, the offline queue and
// delivery to the provider exactly once.

import Foundation
import XCTest
import FieldSync

/// A location service that hands out scripted fixes, one per call, then none (after a short wait, as a
/// real one would at the end of its timeout). Called from a library worker thread.
final class ScriptedLocation: LocationSource, @unchecked Sendable {
    private let lock = NSLock()
    private var fixes: [LocationFix]
    private(set) var calls = 0

    init(_ fixes: [LocationFix]) {
        self.fixes = fixes
    }

    func nextFix(timeoutMs: UInt64) throws -> LocationFix? {
        lock.lock()
        calls += 1
        let next = fixes.isEmpty ? nil : fixes.removeFirst()
        lock.unlock()
        if next == nil {
            Thread.sleep(forTimeInterval: min(Double(timeoutMs), 20) / 1000)
        }
        return next
    }
}

/// A location service that fails (permission revoked, say).
final class DeniedLocation: LocationSource, @unchecked Sendable {
    func nextFix(timeoutMs: UInt64) throws -> LocationFix? {
        throw FieldSyncError.InvalidInput(reason: "location permission denied")
    }
}

/// The property of every order in these tests.
let site = (latitude: 39.7817, longitude: -89.6501)

func fix(_ latitude: Double, _ longitude: Double, accuracy: Double = 5, ageSeconds: Double = 0) -> LocationFix {
    LocationFix(latitude: latitude, longitude: longitude, accuracyM: accuracy, altitudeM: nil,
                fixTimeMs: Int64((Date().timeIntervalSince1970 - ageSeconds) * 1000), isMock: false)
}

final class CheckInTests: FieldSyncTestCase {
    /// Links ACME and imports WO-1 (at `site`, check-in required) and WO-2 (no coordinates).
    private func importSites() async throws {
        try await linkVendor()
        try await emulator.createOrders([
            ProviderEmulator.order("WO-1", assignedTo: "vendor1", extra: [
                "gpsLatitude": site.latitude, "gpsLongitude": site.longitude,
                "options": ["check_in_required": true],
            ]),
            ProviderEmulator.order("WO-2", assignedTo: "vendor1", extra: ["options": [String: Any]()]),
        ])
        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, 2)
    }

    func testACheckInOnSiteIsCertifiedQueuedAndDeliveredOnceWithItsOriginalTime() async throws {
        try await importSites()
        // The location service first gives a coarse fix, then a good one: the best is kept.
        let location = ScriptedLocation([fix(site.latitude + 0.0005, site.longitude, accuracy: 80),
                                         fix(site.latitude + 0.0001, site.longitude - 0.0001, accuracy: 4)])
        let checkIn = try await fieldSync.checkIn(projectId: "ACME::WO-1", location: location, budgetMs: 3000,
                                                  goodEnoughM: 10, badge: "B-17", user: "alice")
        XCTAssertTrue(checkIn.certified, "reasons: \(checkIn.reasons)")
        XCTAssertEqual(checkIn.reasons, [])
        let distance = try XCTUnwrap(checkIn.distanceM)
        XCTAssertTrue((10...20).contains(distance), "about 14 m from the property: \(distance)")
        XCTAssertEqual(checkIn.state, .queued)
        XCTAssertEqual(location.calls, 2, "stopped once a fix was good enough")

        let outbox = try await fieldSync.outbox(code: "ACME")
        let entry = try XCTUnwrap(outbox.first { $0.kind == .checkIn })
        XCTAssertEqual(entry.id, checkIn.uuid)
        XCTAssertEqual(entry.project, "ACME::WO-1")
        let itemsBefore = try await emulator.items()
        XCTAssertTrue(itemsBefore.isEmpty, "nothing leaves before a sync: \(itemsBefore)")

        // The provider fails: the check-in stays queued for a retry.
        try await emulator.addFault(["endpoint": "uploadPictures", "kind": "http500"])
        let failed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(failed.delivered, 0)
        XCTAssertEqual(failed.retrying, 1)
        let outbox2 = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox2.map(\.id), [checkIn.uuid])

        try await emulator.clearFaults()
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 1, "\(pushed)")
        let outbox3 = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox3.count, 0)
        // Again: nothing more goes out.
        let again = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(again.delivered, 0)

        let items = try await emulator.items(fileType: "checkin")
        XCTAssertEqual(items.count, 1, "\(items)")
        let item = try XCTUnwrap(items.first)
        XCTAssertEqual(item["uuid"] as? String, checkIn.uuid)
        XCTAssertEqual(item["workOrderNumber"] as? String, "WO-1")
        XCTAssertEqual(item["deliveries"] as? Int, 1, "delivered exactly once: \(item)")
        let metadata = try XCTUnwrap(item["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["checkInId"] as? String, "B-17")
        XCTAssertEqual(metadata["createdBySubUser"] as? String, "alice")
        XCTAssertEqual(metadata["csrCertifiedLocation"] as? Bool, true)
        XCTAssertEqual(try XCTUnwrap(metadata["gpsLatitude"] as? Double), site.latitude + 0.0001, accuracy: 1e-9)
    }

    func testACheckInFarFromThePropertyIsRecordedButNotCertifiedWithItsReason() async throws {
        try await importSites()
        let far = try await fieldSync.checkInWithFix(projectId: "ACME::WO-1",
                                                fix: fix(site.latitude + 0.045, site.longitude), badge: nil, user: nil)
        XCTAssertFalse(far.certified)
        XCTAssertTrue((4900...5100).contains(try XCTUnwrap(far.distanceM)), "about 5 km: \(String(describing: far.distanceM))")
        XCTAssertFalse(far.reasons.isEmpty)
        XCTAssertTrue(far.reasons.joined(separator: " ").contains("geofence"), "\(far.reasons)")

        // A project without coordinates cannot be verified until the host geocodes it.
        let unknown = try await fieldSync.checkInWithFix(projectId: "ACME::WO-2", fix: fix(site.latitude, site.longitude),
                                                   badge: nil, user: nil)
        XCTAssertFalse(unknown.certified)
        XCTAssertNil(unknown.distanceM)
        try await fieldSync.setProjectLocation(projectId: "ACME::WO-2", latitude: site.latitude, longitude: site.longitude)
        let geocoded = try await fieldSync.checkInWithFix(projectId: "ACME::WO-2", fix: fix(site.latitude, site.longitude),
                                                    badge: nil, user: nil)
        XCTAssertTrue(geocoded.certified, "\(geocoded.reasons)")
        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox.filter { $0.kind == .checkIn }.count, 3)
    }

    func testNoFixInTimeOrADeniedLocationIsAnErrorAndWritesNothing() async throws {
        try await importSites()
        let silent = ScriptedLocation([])
        await assertThrows("InvalidInput (no fix)", {
            _ = try await self.fieldSync.checkIn(projectId: "ACME::WO-1", location: silent, budgetMs: 200,
                                                 goodEnoughM: 10, badge: nil, user: nil)
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        XCTAssertGreaterThan(silent.calls, 0)

        let denied = await assertThrows("an error from the host's location service", {
            _ = try await self.fieldSync.checkIn(projectId: "ACME::WO-1", location: DeniedLocation(), budgetMs: 200,
                                                 goodEnoughM: 10, badge: nil, user: nil)
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        XCTAssertTrue(denied?.reason.contains("permission denied") ?? false, "\(String(describing: denied))")
        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox.count, 0, "a refused check-in queued something")
    }

    func testImpossibleFixesAndUnknownProjectsAreTypedErrorsWithNothingWritten() async throws {
        try await importSites()
        for (what, bad) in [("latitude 95", fix(95, site.longitude)),
                            ("NaN longitude", fix(site.latitude, .nan)),
                            ("negative accuracy", fix(site.latitude, site.longitude, accuracy: -1))] {
            await assertThrows("InvalidInput (\(what))", {
                _ = try self.fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: bad, badge: nil, user: nil)
            }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        }
        await assertThrows("NotFound (unknown project)", {
            _ = try self.fieldSync.checkInWithFix(projectId: "ACME::WO-404", fix: fix(site.latitude, site.longitude),
                                                  badge: nil, user: nil)
        }, matches: { if case .NotFound = $0 { return true } else { return false } })
        await assertThrows("InvalidInput (malformed project id)", {
            _ = try self.fieldSync.checkInWithFix(projectId: "no separator", fix: fix(site.latitude, site.longitude),
                                                  badge: nil, user: nil)
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox.count, 0)
    }

    func testACheckInMakesTheRequiredStatusChangePossible() async throws {
        try await importSites()
        await assertThrows("CompletionBlocked (check-in required)", {
            try await self.fieldSync.setStatus("Complete", ofProject: "ACME::WO-1")
        }, matches: { $0.unmetRequirements?.map(\.kind) == [.checkIn] })
        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-1", fix: fix(site.latitude, site.longitude),
                                         badge: nil, user: nil)
        let setStatus = try await fieldSync.setStatus("Complete", ofProject: "ACME::WO-1")
        XCTAssertEqual(setStatus.status, "Complete")
        let kinds = try await fieldSync.outbox(code: "ACME").map(\.kind)
        XCTAssertEqual(kinds, [.checkIn, .status], "the check-in is delivered before the status it allowed")
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 2)
        let checkIns = try await emulator.items(fileType: "checkin")
        XCTAssertEqual(checkIns.count, 1)
        let updates = try await emulator.statusUpdates()
        XCTAssertEqual(updates.map { $0["status"] as? String }, ["Complete"])
    }
}
