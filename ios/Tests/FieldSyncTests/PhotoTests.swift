// Photos with real JPEGs: durable capture, processing, the QA gate and relay to the provider exactly once;
// hostile files refused with a typed error and nothing written.

import Foundation
import XCTest
import FieldSync

final class PhotoTests: FieldSyncTestCase {
    /// Links ACME (auto relay as given) and imports WO-1 and WO-2 at `site`, each with the task "Grass Cut";
    /// WO-2's check-in waits for a relayed photo.
    private func importSites(autoRelay: Bool) async throws {
        try await linkVendor()
        if autoRelay {
            _ = try await fieldSync.editIntegration(code: "ACME", edit: IntegrationEdit(autoRelay: true),
                                              password: nil, token: nil)
        }
        try await emulator.createOrders(["WO-1", "WO-2"].map {
            ProviderEmulator.order($0, assignedTo: "vendor1", extra: [
                "gpsLatitude": site.latitude, "gpsLongitude": site.longitude,
                "options": ["check_in_photo_required": $0 == "WO-2"],
            ])
        })
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
    }

    private func add(_ fixture: String, to project: String = "ACME::WO-1",
                     evidence: EvidenceType = .before) async throws -> Photo {
        try await fieldSync.addPhoto(projectId: project, task: "Grass Cut", evidence: evidence,
                                     filePath: try photoFixture(fixture).path, fix: fix(site.latitude, site.longitude))
    }

    private func relayedUUIDs() async throws -> [String] {
        try await emulator.items(fileType: "picture").compactMap { $0["uuid"] as? String }.sorted()
    }

    func testWithoutAutoRelayOnlyApprovedPhotosRelayOnceAndRejectedNever() async throws {
        try await importSites(autoRelay: false)
        let approved = try await add("gps/DSCN0010.jpg")
        let rejected = try await add("gps/DSCN0012.jpg", evidence: .during)
        let byProject = try await add("gps/DSCN0021.jpg", evidence: .after)
        for photo in [approved, rejected, byProject] {
            XCTAssertEqual(photo.state, .pendingQa, "\(photo)")
            XCTAssertFalse(photo.duplicate)
            let (width, height) = (try XCTUnwrap(photo.width), try XCTUnwrap(photo.height))
            XCTAssertTrue(max(width, height) <= 2048 && min(width, height) > 0, "\(width)x\(height)")
            XCTAssertEqual(photo.locationCertified, true)
            let thumbnail = try XCTUnwrap(photo.thumbnailPath, "no thumbnail for \(photo.uuid)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: thumbnail), thumbnail)
        }
        let before = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(before.delivered, 0, "nothing moves before QA")

        let approvedNow = try await fieldSync.approvePhoto(uuid: approved.uuid)
        XCTAssertEqual(approvedNow.state, .queued)
        let rejectedNow = try await fieldSync.rejectPhoto(uuid: rejected.uuid, reason: "blurry")
        XCTAssertEqual(rejectedNow.state, .rejected)
        XCTAssertEqual(rejectedNow.message, "blurry")
        let approvedByProject = try await fieldSync.approveProjectPhotos(projectId: "ACME::WO-1")
        XCTAssertEqual(approvedByProject, 1)

        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 2, "\(pushed)")
        let relayed = try await relayedUUIDs()
        XCTAssertEqual(relayed, [approved.uuid, byProject.uuid].sorted())
        let photos = try await fieldSync.photos(projectId: "ACME::WO-1")
        let states = Dictionary(uniqueKeysWithValues: photos.map { ($0.uuid, $0.state) })
        XCTAssertEqual(states, [approved.uuid: .relayed, rejected.uuid: .rejected, byProject.uuid: .relayed])

        await assertThrows("Conflict (a rejected photo stays rejected)", {
            _ = try self.fieldSync.approvePhoto(uuid: rejected.uuid)
        }, matches: { if case .Conflict(_, .photoState) = $0 { return true } else { return false } })
        await assertThrows("Conflict (a relayed photo cannot be unsent)", {
            _ = try self.fieldSync.rejectPhoto(uuid: approved.uuid, reason: "late")
        }, matches: { if case .Conflict(_, .photoState) = $0 { return true } else { return false } })

        // Publishing again delivers again but never duplicates at the provider.
        _ = try await fieldSync.approvePhoto(uuid: approved.uuid)
        _ = try await fieldSync.pushOutbox(code: "ACME")
        let items = try await emulator.items(fileType: "picture")
        XCTAssertEqual(items.count, 2, "\(items)")
        let republished = try XCTUnwrap(items.first { $0["uuid"] as? String == approved.uuid })
        XCTAssertEqual(republished["deliveries"] as? Int, 2)
        XCTAssertEqual(republished["evidenceType"] as? String, "before")
        XCTAssertEqual(republished["taskName"] as? String, "Grass Cut")
    }

    func testWithAutoRelayAPhotoRelaysWithoutApprovalAndTheSameBytesTwiceAreOnePhoto() async throws {
        try await importSites(autoRelay: true)
        let photo = try await add("gps/DSCN0010.jpg")
        XCTAssertEqual(photo.state, .queued)
        let again = try await add("gps/DSCN0010.jpg", evidence: .after)
        XCTAssertTrue(again.duplicate)
        XCTAssertEqual(again.uuid, photo.uuid)
        let photos = try await fieldSync.photos(projectId: "ACME::WO-1")
        XCTAssertEqual(photos.count, 1)

        let outcomes = try await fieldSync.sync(maxAgeSecs: 3600)
        XCTAssertEqual(outcomes.first { $0.code == "ACME" }?.delivered, 1, "\(outcomes)")
        let relayed = try await relayedUUIDs()
        XCTAssertEqual(relayed, [photo.uuid])
        let photos2 = try await fieldSync.photos(projectId: "ACME::WO-1")
        XCTAssertEqual(photos2.map(\.state), [.relayed])
        let events = try await recorder.wait(for: "the photo's relay") { events in
            events.contains { if case let .photoChanged(uuid, state) = $0 { return uuid == photo.uuid && state == .relayed }
                              return false }
        }
        XCTAssertTrue(events.contains { if case let .uploadStarted(uuid, bytes) = $0 { return uuid == photo.uuid && bytes > 0 }
                                         return false }, "\(events)")
        // Byte progress: never backwards, ending at the size the provider received.
        let sent: [(UInt64, UInt64)] = events.compactMap {
            if case let .uploadProgress(uuid, bytesSent, bytesTotal, _, _) = $0, uuid == photo.uuid { return (bytesSent, bytesTotal) }
            return nil
        }
        let received = try await emulator.items(fileType: "picture")
        let size = try XCTUnwrap(received.first?["fileSize"] as? Int)
        XCTAssertFalse(sent.isEmpty, "no progress events: \(events)")
        XCTAssertEqual(sent.map(\.0), sent.map(\.0).sorted())
        XCTAssertEqual(sent.last?.0, UInt64(size))
        XCTAssertTrue(sent.allSatisfy { $0.1 == UInt64(size) }, "\(sent) for \(size) bytes")
    }

    func testACheckInThatNeedsAPhotoWaitsForItsRelay() async throws {
        try await importSites(autoRelay: false)
        let checkIn = try await fieldSync.checkInWithFix(projectId: "ACME::WO-2", fix: fix(site.latitude, site.longitude),
                                                   badge: nil, user: nil)
        let waiting = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(waiting.delivered, 0, "waits: no photo relayed yet")
        let photo = try await add("gps/DSCN0027.jpg", to: "ACME::WO-2")
        _ = try await fieldSync.approvePhoto(uuid: photo.uuid)
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 2, "the photo, then the check-in that waited for it")
        let checkIns = try await emulator.items(fileType: "checkin")
        XCTAssertEqual(checkIns.compactMap { $0["uuid"] as? String }, [checkIn.uuid])
    }

    func testHostileAndBrokenFilesAreRefusedWithATypedErrorAndNothingWritten() async throws {
        try await importSites(autoRelay: true)
        let scratch = directory.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let jpeg = try Data(contentsOf: try photoFixture("gps/DSCN0010.jpg"))

        // A real JPEG whose frame header declares 30000x30000 pixels (a decompression bomb).
        var bomb = jpeg
        // The last frame header is the main image's (an EXIF thumbnail has its own, earlier).
        let sof = try XCTUnwrap((0..<(bomb.count - 9)).last { bomb[$0] == 0xFF && (0xC0...0xC2).contains(bomb[$0 + 1]) })
        for (offset, byte) in [(5, 0x75), (6, 0x30), (7, 0x75), (8, 0x30)] as [(Int, UInt8)] {
            bomb[sof + offset] = byte
        }
        let hostile: [(String, Data)] = [
            ("empty.jpg", Data()),
            ("notes.jpg", Data("this is not an image at all".utf8)),
            ("bomb.jpg", bomb),
            ("header-only.jpg", jpeg.prefix(300)),
        ]
        for (name, bytes) in hostile {
            let file = scratch.appendingPathComponent(name)
            try bytes.write(to: file)
            let started = Date()
            await assertThrows("InvalidInput (\(name))", {
                _ = try await self.fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Grass Cut", evidence: .before,
                                                      filePath: file.path, fix: nil)
            }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(name) was not refused quickly")
        }
        await assertThrows("InvalidInput (missing file)", {
            _ = try await self.fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Grass Cut", evidence: .before,
                                                  filePath: scratch.appendingPathComponent("nope.jpg").path, fix: nil)
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        await assertThrows("a task the project does not have", {
            _ = try await self.fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Pool", evidence: .before,
                                                  filePath: try photoFixture("gps/DSCN0010.jpg").path, fix: nil)
        }, matches: { if case .InvalidInput = $0 { return true } else if case .NotFound = $0 { return true } else { return false } })

        let photos = try await fieldSync.photos(projectId: nil)
        XCTAssertEqual(photos.count, 0, "a refused file left a photo")
        let outbox = try await fieldSync.outbox(code: "ACME")
        XCTAssertEqual(outbox.count, 0, "a refused file queued something")

        // Every file of the fixtures' invalid/ folder: a typed error or a photo; never a crash or a hang.
        let invalid = try photoFixture("invalid")
        for name in try FileManager.default.contentsOfDirectory(atPath: invalid.path).sorted() {
            do {
                let photo = try await fieldSync.addPhoto(projectId: "ACME::WO-2", task: "Grass Cut", evidence: .before,
                                                         filePath: invalid.appendingPathComponent(name).path, fix: nil)
                XCTAssertTrue([PhotoState.queued, .failed].contains(photo.state), "\(name): \(photo)")
            } catch let error as FieldSyncError {
                XCTAssertFalse(error.reason.isEmpty, name)
            }
        }
    }
}
