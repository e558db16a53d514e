// Storage that cleans itself, with real JPEGs relayed to the emulator: the storage report's bytes by photo
// state against the files on disk, renditions of decided photos deleted, originals within a byte cap and an
// age, never a file of a photo not yet relayed or decided by QA; a configured policy after a delivery; the
// default policy and typed refusals; database upkeep.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import FieldSync

final class StorageTests: FieldSyncTestCase {
    /// Four photos of WO-1: two relayed, one rejected by QA, one still waiting for QA.
    private struct Shoot {
        let relayed: [Photo]
        let rejected: Photo
        let waiting: Photo
        var decided: Set<String> { Set(relayed.map(\.uuid) + [rejected.uuid]) }
    }

    private let fixtures = (relayed: ["gps/DSCN0010.jpg", "gps/DSCN0012.jpg"], rejected: "gps/DSCN0021.jpg",
                            waiting: "gps/DSCN0025.jpg")

    /// The photo store of the cache `name` (`FieldSyncTestCase.config`).
    private func photoFolder(_ name: String = "cache") -> URL {
        directory.appendingPathComponent("\(name)-photos")
    }

    /// Links ACME and imports WO-1 with the task "Grass Cut".
    private func importSite() async throws {
        try await linkVendor()
        try await emulator.createOrders([ProviderEmulator.order("WO-1", assignedTo: "vendor1")])
        let report = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(report.created, 1)
    }

    private func add(_ fixture: String, evidence: EvidenceType = .before) async throws -> Photo {
        try await fieldSync.addPhoto(projectId: "ACME::WO-1", task: "Grass Cut", evidence: evidence,
                                     filePath: try photoFixture(fixture).path, fix: nil)
    }

    private func shoot() async throws -> Shoot {
        try await importSite()
        var relayed: [Photo] = []
        for fixture in fixtures.relayed {
            relayed.append(try await add(fixture))
        }
        let rejected = try await add(fixtures.rejected)
        let waiting = try await add(fixtures.waiting)
        for photo in relayed {
            _ = try await fieldSync.approvePhoto(uuid: photo.uuid)
        }
        _ = try await fieldSync.rejectPhoto(uuid: rejected.uuid, reason: "blurry")
        // Ages count in whole seconds: relayed after this pause, the relayed photos are strictly younger than
        // the rejected one (aged from when it was taken), so "oldest first" has one answer.
        try await _Concurrency.Task.sleep(nanoseconds: 1_100_000_000)
        let outcome = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(outcome.delivered, 2, "\(outcome)")
        XCTAssertNil(outcome.error)
        let photos = try await fieldSync.photos(projectId: "ACME::WO-1")
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: photos.map { ($0.uuid, $0.state) }), [
            relayed[0].uuid: .relayed, relayed[1].uuid: .relayed, rejected.uuid: .rejected, waiting.uuid: .pendingQa,
        ])
        return Shoot(relayed: relayed, rejected: rejected, waiting: waiting)
    }

    /// Every file of the photo store (`originals/<sha256>.jpg`...) and its size, measured on disk.
    private func photoFiles(_ name: String = "cache") throws -> [String: Int64] {
        let root = photoFolder(name)
        var files: [String: Int64] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: root.path) {
            let sub = root.appendingPathComponent(folder)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: sub.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                files[folder] = try size(of: sub)
                continue
            }
            for file in try FileManager.default.contentsOfDirectory(atPath: sub.path) {
                files["\(folder)/\(file)"] = try size(of: sub.appendingPathComponent(file))
            }
        }
        return files
    }

    private func size(of file: URL) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        return (attributes[.size] as? NSNumber)?.int64Value ?? -1
    }

    /// The file of the store's `folder` whose bytes are exactly `data` (`folder/<sha256>.jpg`).
    private func stored(_ folder: String, holding data: Data, in name: String = "cache") throws -> String {
        let root = photoFolder(name).appendingPathComponent(folder)
        let matches = try FileManager.default.contentsOfDirectory(atPath: root.path).filter {
            (try? Data(contentsOf: root.appendingPathComponent($0))) == data
        }
        XCTAssertEqual(matches.count, 1, "files of \(folder) holding \(data.count) bytes: \(matches)")
        return "\(folder)/\(try XCTUnwrap(matches.first))"
    }

    /// Where the store keeps a fixture's original: the camera's bytes, unchanged.
    private func original(_ fixture: String, in name: String = "cache") throws -> String {
        try stored("originals", holding: try Data(contentsOf: try photoFixture(fixture)), in: name)
    }

    /// The rendition the provider received for `uuid`, as the store keeps it.
    private func rendition(_ uuid: String) async throws -> String {
        try stored("renditions", holding: try await receivedFile(uuid))
    }

    private func thumbnail(_ photo: Photo) throws -> String {
        "thumbnails/\(URL(fileURLWithPath: try XCTUnwrap(photo.thumbnailPath)).lastPathComponent)"
    }

    /// The bytes the provider received for a picture (`GET /admin/items/{uuid}/file`).
    private func receivedFile(_ uuid: String) async throws -> Data {
        let url = try XCTUnwrap(URL(string: "\(emulator.adminURL)/items/\(uuid)/file"))
        let (data, status): (Data, Int) = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: URLRequest(url: url)) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: (data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
                }
            }.resume()
        }
        guard status == 200 else { throw EmulatorError(description: "GET /items/\(uuid)/file answered \(status)") }
        return data
    }

    private func usage(_ files: [String: Int64], _ names: [String]) -> FileUsage {
        for name in names { XCTAssertNotNil(files[name], "\(name) is not on disk: \(files.keys.sorted())") }
        return FileUsage(files: Int64(names.count), bytes: names.reduce(0) { $0 + (files[$1] ?? 0) })
    }

    private func under(_ folder: String, _ files: [String: Int64]) -> [String: Int64] {
        files.filter { $0.key.hasPrefix("\(folder)/") }
    }

    private func total(_ files: [String: Int64]) -> FileUsage {
        FileUsage(files: Int64(files.count), bytes: files.values.reduce(0, +))
    }

    private func fileSize(_ fixture: String) throws -> Int64 {
        try size(of: try photoFixture(fixture))
    }

    func testTheStorageReportGivesTheBytesByPhotoStateAsMeasuredOnDisk() async throws {
        let shoot = try await shoot()
        let report = try await fieldSync.storageReport()
        let onDisk = try photoFiles()

        let database = directory.appendingPathComponent("cache.db")
        XCTAssertEqual(report.databaseBytes, try size(of: database), "the SQLite file")
        XCTAssertEqual(report.walBytes, (try? size(of: URL(fileURLWithPath: database.path + "-wal"))) ?? 0)
        XCTAssertEqual(report.shmBytes, (try? size(of: URL(fileURLWithPath: database.path + "-shm"))) ?? 0)
        XCTAssertGreaterThanOrEqual(report.freeBytes, 0)
        XCTAssertEqual(report.autoVacuum, .incremental)

        XCTAssertEqual(report.photoBytes, onDisk.values.reduce(0, +), "every photo file, measured on disk")
        XCTAssertEqual(report.originals, total(under("originals", onDisk)))
        XCTAssertEqual(report.renditions, total(under("renditions", onDisk)))
        XCTAssertEqual(report.thumbnails, total(under("thumbnails", onDisk)))
        XCTAssertEqual([report.originals.files, report.renditions.files, report.thumbnails.files], [4, 4, 4])
        XCTAssertEqual(onDisk.count, 12, "nothing else in the photo store: \(onDisk.keys.sorted())")

        XCTAssertEqual(report.byState.map(\.state), [.pendingQa, .relayed, .rejected])
        XCTAssertEqual(report.byState.map(\.photos), [1, 2, 1])
        let byState = Dictionary(uniqueKeysWithValues: report.byState.map { ($0.state, $0) })
        // Originals and thumbnails of each state: the files of its own photos, byte for byte.
        let files: [PhotoState: (originals: [String], thumbnails: [String])] = [
            .relayed: (try fixtures.relayed.map { try original($0) }, try shoot.relayed.map { try thumbnail($0) }),
            .rejected: ([try original(fixtures.rejected)], [try thumbnail(shoot.rejected)]),
            .pendingQa: ([try original(fixtures.waiting)], [try thumbnail(shoot.waiting)]),
        ]
        for (state, expected) in files {
            let usageOfState = try XCTUnwrap(byState[state])
            XCTAssertEqual(usageOfState.originals, usage(onDisk, expected.originals), "\(state) originals")
            XCTAssertEqual(usageOfState.thumbnails, usage(onDisk, expected.thumbnails), "\(state) thumbnails")
        }
        XCTAssertEqual(byState[.pendingQa]?.originals.bytes, try fileSize(fixtures.waiting), "the camera's bytes")
        // The relayed photos' renditions are what the provider received.
        var relayedRenditions: [String] = []
        for photo in shoot.relayed {
            relayedRenditions.append(try await rendition(photo.uuid))
        }
        XCTAssertEqual(byState[.relayed]?.renditions, usage(onDisk, relayedRenditions))
        let others = under("renditions", onDisk).filter { !relayedRenditions.contains($0.key) }
        XCTAssertEqual(others.count, 2)
        for state in [PhotoState.rejected, .pendingQa] {
            let renditions = try XCTUnwrap(byState[state]?.renditions)
            XCTAssertEqual(renditions.files, 1, "\(state)")
            XCTAssertTrue(others.values.contains(renditions.bytes), "\(state): \(renditions), not one of \(others)")
        }
        XCTAssertEqual((byState[.rejected]?.renditions.bytes ?? 0) + (byState[.pendingQa]?.renditions.bytes ?? 0),
                       others.values.reduce(0, +))
        // The states share no file here: their bytes add up to the totals.
        XCTAssertEqual(report.byState.map(\.originals.bytes).reduce(0, +), report.originals.bytes)
        XCTAssertEqual(report.byState.map(\.renditions.bytes).reduce(0, +), report.renditions.bytes)
        XCTAssertEqual(report.byState.map(\.thumbnails.bytes).reduce(0, +), report.thumbnails.bytes)
        XCTAssertEqual([report.originalsEvicted, report.renditionsEvicted], [0, 0])
    }

    func testRetentionDeletesDecidedRenditionsThenOriginalsOverACapAndExpiredNeverAnUndecidedPhoto() async throws {
        let shoot = try await shoot()
        let before = try await fieldSync.storageReport()
        let waitingBefore = try XCTUnwrap(before.byState.first { $0.state == .pendingQa })
        let disk0 = try photoFiles()
        let waitingFiles = [try original(fixtures.waiting), try thumbnail(shoot.waiting)]
        var relayedRenditions: [String: String] = [:]
        for photo in shoot.relayed {
            relayedRenditions[photo.uuid] = try await rendition(photo.uuid)
        }

        // 1. The renditions of the relayed and the rejected photos go; nothing else.
        let renditions = try await fieldSync.applyRetention(policy: RetentionPolicy(deleteDecidedRenditions: true))
        XCTAssertEqual([renditions.renditionsDeleted, renditions.originalsDeleted], [3, 0])
        XCTAssertEqual(renditions.evictions.count, 3, "\(renditions.evictions)")
        XCTAssertEqual(Set(renditions.evictions.map(\.reason)), [.decidedRendition])
        XCTAssertEqual(Set(renditions.evictions.map(\.kind)), [.rendition])
        XCTAssertTrue(renditions.evictions.allSatisfy { $0.photos.count == 1 }, "one photo per file here")
        XCTAssertEqual(Set(renditions.evictions.flatMap(\.photos)), shoot.decided)
        for photo in shoot.relayed {
            let eviction = try XCTUnwrap(renditions.evictions.first { $0.photos == [photo.uuid] })
            XCTAssertEqual("renditions/\(eviction.sha256).jpg", relayedRenditions[photo.uuid], "the file the provider received")
        }
        let disk1 = try photoFiles()
        let gone = disk0.filter { disk1[$0.key] == nil }
        XCTAssertEqual(gone, Dictionary(uniqueKeysWithValues: renditions.evictions.map { ("renditions/\($0.sha256).jpg", $0.bytes) }),
                       "exactly the evicted files left the disk, at the size reported")
        XCTAssertTrue(disk1.keys.allSatisfy { disk0[$0] != nil })
        XCTAssertEqual(renditions.bytesFreed, renditions.evictions.map(\.bytes).reduce(0, +))
        XCTAssertEqual(renditions.photoBytes, before.photoBytes - renditions.bytesFreed)
        XCTAssertEqual(renditions.photoBytes, disk1.values.reduce(0, +))
        XCTAssertTrue(renditions.capMet, "no cap")
        let after = try await fieldSync.storageReport()
        XCTAssertEqual(after.byState.first { $0.state == .relayed }?.renditions.files, 0)
        XCTAssertEqual(after.byState.first { $0.state == .rejected }?.renditions, FileUsage(files: 0, bytes: 0))
        XCTAssertEqual(after.byState.first { $0.state == .pendingQa }, waitingBefore)
        XCTAssertEqual([after.renditionsEvicted, after.originalsEvicted], [3, 0])
        let again = try await fieldSync.applyRetention(policy: RetentionPolicy(deleteDecidedRenditions: true))
        XCTAssertEqual(again.evictions, [], "nothing left to delete")
        XCTAssertEqual(again.bytesFreed, 0)

        // 2. A cap one byte under what is left: the oldest decided original (the rejected photo's, aged from
        // when it was taken, before the relay) goes, and the cap is met.
        let rejectedOriginal = try original(fixtures.rejected)
        let cap = renditions.photoBytes - 1
        let capped = try await fieldSync.applyRetention(policy: RetentionPolicy(maxPhotoBytes: cap))
        XCTAssertEqual(capped.evictions.count, 1, "\(capped)")
        let eviction = try XCTUnwrap(capped.evictions.first)
        XCTAssertEqual(eviction.kind, .original)
        XCTAssertEqual(eviction.reason, .overCap)
        XCTAssertEqual(eviction.photos, [shoot.rejected.uuid])
        XCTAssertEqual("originals/\(eviction.sha256).jpg", rejectedOriginal)
        XCTAssertEqual(eviction.bytes, try fileSize(fixtures.rejected))
        XCTAssertEqual([capped.renditionsDeleted, capped.originalsDeleted], [0, 1])
        XCTAssertTrue(capped.capMet && capped.photoBytes <= cap, "\(capped)")
        XCTAssertEqual(capped.photoBytes, renditions.photoBytes - eviction.bytes)
        let disk2 = try photoFiles()
        XCTAssertEqual(capped.photoBytes, disk2.values.reduce(0, +))
        XCTAssertNil(disk2[rejectedOriginal])

        // 3. Originals older than no time at all: the relayed photos' originals go, as expired.
        let relayedOriginals = Set(try fixtures.relayed.map { try original($0) })
        let expired = try await fieldSync.applyRetention(policy: RetentionPolicy(keepOriginalsFor: 0))
        XCTAssertEqual([expired.originalsDeleted, expired.renditionsDeleted], [2, 0])
        XCTAssertEqual(Set(expired.evictions.map(\.reason)), [.expired])
        XCTAssertEqual(Set(expired.evictions.map(\.kind)), [.original])
        XCTAssertEqual(Set(expired.evictions.flatMap(\.photos)), Set(shoot.relayed.map(\.uuid)))
        XCTAssertEqual(Set(expired.evictions.map { "originals/\($0.sha256).jpg" }), relayedOriginals)

        // 4. A cap of one byte cannot be met: only the undecided photo's files are left, untouched.
        let squeezed = try await fieldSync.applyRetention(policy: RetentionPolicy(deleteDecidedRenditions: true,
                                                                                  maxPhotoBytes: 1))
        XCTAssertEqual(squeezed.evictions, [])
        XCTAssertFalse(squeezed.capMet)
        XCTAssertEqual(squeezed.bytesFreed, 0)
        let final = try await fieldSync.storageReport()
        XCTAssertEqual(final.byState.first { $0.state == .pendingQa }, waitingBefore,
                       "never a file of a photo QA has not decided")
        XCTAssertEqual([final.originals.files, final.renditions.files, final.thumbnails.files], [1, 1, 4], "thumbnails stay")
        XCTAssertEqual(final.byState.first { $0.state == .relayed }?.originals.files, 0)
        XCTAssertEqual(final.byState.first { $0.state == .rejected }?.originals.files, 0)
        XCTAssertEqual([final.originalsEvicted, final.renditionsEvicted], [3, 3])
        let disk4 = try photoFiles()
        XCTAssertEqual(final.photoBytes, disk4.values.reduce(0, +))
        XCTAssertEqual(Array(under("originals", disk4).keys), [try original(fixtures.waiting)])
        for name in waitingFiles {
            XCTAssertEqual(disk4[name], disk0[name], "\(name) untouched")
        }
        let waitingRendition = try XCTUnwrap(under("renditions", disk4).keys.first)
        XCTAssertEqual(under("renditions", disk4).count, 1)
        XCTAssertEqual(disk4[waitingRendition], disk0[waitingRendition])

        // The photo waiting for QA can still be approved and relayed: the rendition that stayed is what arrives.
        let approved = try await fieldSync.approvePhoto(uuid: shoot.waiting.uuid)
        XCTAssertEqual(approved.state, .queued)
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 1, "\(pushed)")
        let arrived = try await rendition(shoot.waiting.uuid)
        XCTAssertEqual(arrived, waitingRendition)
        let items = try await emulator.items(fileType: "picture")
        XCTAssertEqual(
            Dictionary(uniqueKeysWithValues: items.compactMap { item in
                (item["uuid"] as? String).map { ($0, (item["deliveries"] as? NSNumber)?.intValue ?? -1) }
            }),
            Dictionary(uniqueKeysWithValues: (shoot.relayed + [shoot.waiting]).map { ($0.uuid, 1) }),
            "each relayed photo arrived once; the rejected one never did")
    }

    func testAPolicyConfiguredInFieldSyncConfigRunsAfterADelivery() async throws {
        let policy = RetentionPolicy(deleteDecidedRenditions: true, keepOriginalsFor: 7 * 86_400)
        var own = config("own")
        own.retention = policy
        fieldSync = nil
        fieldSync = try await FieldSync.open(config: own, secretStore: secrets, listener: nil)
        XCTAssertEqual(fieldSync.retentionPolicy(), policy)
        try await importSite()

        let photo = try await add(fixtures.relayed[0], evidence: .after)
        _ = try await fieldSync.approvePhoto(uuid: photo.uuid)
        let queued = try await fieldSync.storageReport()
        let queuedUsage = try XCTUnwrap(queued.byState.first { $0.state == .queued })
        XCTAssertEqual([queuedUsage.originals.files, queuedUsage.renditions.files], [1, 1],
                       "nothing of a photo not yet relayed goes")
        let pushed = try await fieldSync.pushOutbox(code: "ACME")
        XCTAssertEqual(pushed.delivered, 1, "\(pushed)")

        let report = try await fieldSync.storageReport()
        let relayed = try XCTUnwrap(report.byState.first { $0.state == .relayed })
        XCTAssertEqual([relayed.originals.files, relayed.renditions.files], [1, 0], "the rendition went after the relay")
        XCTAssertEqual([report.renditionsEvicted, report.originalsEvicted], [1, 0])
        let onDisk = try photoFiles("own")
        XCTAssertEqual(under("renditions", onDisk), [:])
        XCTAssertEqual(Array(under("originals", onDisk).keys), [try original(fixtures.relayed[0], in: "own")], "a week to go")
        XCTAssertEqual(report.photoBytes, onDisk.values.reduce(0, +))
    }

    func testTheDefaultPolicyAndTypedRefusals() async throws {
        let defaultPolicy = defaultRetentionPolicy()
        XCTAssertEqual(fieldSync.retentionPolicy(), defaultPolicy, "what a client gets without FieldSyncConfig.retention")
        XCTAssertFalse(defaultPolicy.deleteDecidedRenditions, "renditions stay so that QA can publish again at once")
        XCTAssertEqual(defaultPolicy.keepOriginalsFor, 30 * 86_400)
        XCTAssertEqual(defaultPolicy.maxPhotoBytes, 2 * 1024 * 1024 * 1024)

        let negative = await assertThrows("InvalidInput (a negative cap)", {
            _ = try await self.fieldSync.applyRetention(policy: RetentionPolicy(maxPhotoBytes: -1))
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        XCTAssertTrue(negative?.reason.contains("max_photo_bytes") == true, "\(String(describing: negative))")
        let tooLong = await assertThrows("InvalidInput (an age beyond range)", {
            _ = try await self.fieldSync.applyRetention(policy: RetentionPolicy(keepOriginalsFor: 86_400 * 8_589_934_592))
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        XCTAssertTrue(tooLong?.reason.contains("keep_originals_for") == true, "\(String(describing: tooLong))")
        // In the config, the same refusal at open.
        var refusedConfig = config("refused")
        refusedConfig.retention = RetentionPolicy(maxPhotoBytes: -5)
        let refused = refusedConfig
        let atOpen = await assertThrows("InvalidInput (a negative cap in the config)", {
            _ = try await FieldSync.open(config: refused, secretStore: InMemorySecretStore())
        }, matches: { if case .InvalidInput = $0 { return true } else { return false } })
        XCTAssertTrue(atOpen?.reason.contains("max_photo_bytes") == true, "\(String(describing: atOpen))")
    }

    func testMaintainOptimizesAndGivesFreePagesBack() async throws {
        let fresh = try await fieldSync.maintain()
        XCTAssertNil(fresh.skipped, "\(fresh)")
        XCTAssertTrue(fresh.optimized)
        XCTAssertFalse(fresh.converted, "a new cache is incremental from the start")
        XCTAssertEqual(fresh.autoVacuum, .incremental)
        XCTAssertGreaterThanOrEqual(fresh.pagesFreed, 0)

        // Free pages to give back: an import of many orders, then its integration deleted.
        try await linkVendor()
        try await createOrders(400)
        let imported = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
        XCTAssertEqual(imported.created, 400)
        _ = try await fieldSync.deleteIntegration(code: "ACME", force: false)
        let before = try await fieldSync.storageReport()
        XCTAssertGreaterThan(before.freeBytes, 0, "the deleted rows left free pages: \(before)")

        let done = try await fieldSync.maintain()
        XCTAssertNil(done.skipped, "\(done)")
        XCTAssertTrue(done.optimized && !done.converted, "\(done)")
        XCTAssertEqual(done.pagesFreed, min(before.freeBytes / Self.pageSize, 1024), "a bounded incremental vacuum")
        let after = try await fieldSync.storageReport()
        XCTAssertEqual(after.freeBytes, before.freeBytes - done.pagesFreed * Self.pageSize)
    }

    /// SQLite's default page size, which fieldsync keeps.
    private static let pageSize: Int64 = 4096

    func testEverythingStaysInOneDirectoryWithTheDeviceIdInTheDatabase() async throws {
        func deviceId(in folder: URL, given: String? = nil) async throws -> String {
            var config = try FieldSyncDirectory.config(in: folder)
            if let given { config.deviceId = given }
            let opened = try await FieldSync.open(config: config, secretStore: InMemorySecretStore())
            let id = opened.deviceId()
            await opened.shutdown()
            return id
        }

        let phone = directory.appendingPathComponent("Application Support/fieldsync", isDirectory: true)
        let id = try await deviceId(in: phone)
        XCTAssertNotNil(UUID(uuidString: id), id)
        let contents = try FileManager.default.contentsOfDirectory(atPath: phone.path)
            .filter { !$0.hasPrefix("cache.db-") }
        XCTAssertEqual(Set(contents), [FieldSyncDirectory.database, FieldSyncDirectory.photos])
        let mode = try FileManager.default.attributesOfItem(atPath: phone.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o700)
        #if canImport(Darwin)
        XCTAssertEqual(FieldSyncDirectory.isExcludedFromBackup(phone), true)
        #else
        XCTAssertNil(FieldSyncDirectory.isExcludedFromBackup(phone), "no backups to exclude from here")
        #endif
        let again = try await deviceId(in: phone)
        XCTAssertEqual(again, id, "kept with the database across restarts")
        // A restore brings back everything but that directory: a new database, so a new device.
        let restored = try await deviceId(in: directory.appendingPathComponent("restored", isDirectory: true))
        XCTAssertNotEqual(restored, id)
        // An id the app insists on is used as given and not stored.
        let given = try await deviceId(in: phone, given: "app-chosen")
        XCTAssertEqual(given, "app-chosen")
        let kept = try await deviceId(in: phone)
        XCTAssertEqual(kept, id)
    }
}
