// Watch queries as AsyncSequences and the observable models over them, against the emulator and the real
// SQLite cache: a watched filtered list follows an import, an edit, a check-in and a delivery, and yields
// nothing once its task is cancelled; the sync status goes up on capture and down on delivery; the list
// model pages with the keyset and stays current; 500 subscribe/cancel cycles leave no watch behind.
//
// No polling and no sleeps: a test waits for the stream's next element (Support/Collector.swift), and
// `liveWatches()` is exact the moment a consuming task has ended (its stream's termination cancels the
// watch synchronously).

import Foundation
import XCTest
import FieldSync

final class WatchTests: FieldSyncTestCase {
    /// The property of the orders.
    private let home: [String: Any] = ["gpsLatitude": 39.7817, "gpsLongitude": -89.6501]

    private func nearHome() -> LocationFix {
        LocationFix(latitude: 39.7818, longitude: -89.6501, accuracyM: 5, altitudeM: nil,
                    fixTimeMs: Int64(Date().timeIntervalSince1970 * 1000), isMock: false)
    }

    /// Links ACME and imports WO-1...WO-`count`, at the property, on Main St.
    private func importSite(_ count: Int = 4) async throws {
        try await linkVendor()
        try await emulator.createOrders((1...count).map {
            ProviderEmulator.order(String(format: "WO-%03d", $0), assignedTo: "vendor1", extra: home)
        })
        _ = try await fieldSync.refresh(code: "ACME", mode: .fullImport)
    }

    func testAWatchedFilteredListFollowsAnImportAnEditACheckInAndADeliveryAndNothingAfterCancel() async throws {
        try await importSite()
        XCTAssertEqual(fieldSync.liveWatches(), 0)
        let mainStreet = ProjectQuery(integration: "ACME", search: "Main St", sortByNumber: true, limit: 100)
        let list = Collector(fieldSync.projectsStream(mainStreet, throttle: 0.02))

        let first = try await list.next()
        XCTAssertEqual(first.map(\.workOrderNumber), ["WO-001", "WO-002", "WO-003", "WO-004"],
                       "the current result comes at once")
        XCTAssertEqual(fieldSync.liveWatches(), 1)
        let quiet = await list.nothing()
        XCTAssertTrue(quiet, "no commit, no new result")

        // An import: an order on Main St joins the list, one elsewhere does not.
        try await emulator.createOrders([
            ProviderEmulator.order("WO-005", assignedTo: "vendor1", extra: home),
            ProviderEmulator.order("WO-006", assignedTo: "vendor1", address: "9 Oak Ave", extra: home),
        ])
        _ = try await fieldSync.refresh(code: "ACME", mode: .changes)
        let imported = try await list.until("WO-005") { $0.contains { $0.workOrderNumber == "WO-005" } }
        XCTAssertFalse(imported.contains { $0.workOrderNumber == "WO-006" }, "the filter holds")

        // An edit.
        _ = try await fieldSync.editProject(id: "ACME::WO-001", edit: ProjectEdit(status: "In Progress"))
        _ = try await list.until("the edit") { $0.first { $0.id == "ACME::WO-001" }?.status == "In Progress" }

        // A check-in: the field status moves to In Process and the row shows its pending upload.
        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-001", fix: nearHome(), badge: nil, user: nil)
        let checkedIn = try await list.until("the check-in") {
            $0.first { $0.id == "ACME::WO-001" }?.fieldStatus == .inProcess
        }
        XCTAssertGreaterThan(try XCTUnwrap(checkedIn.first { $0.id == "ACME::WO-001" }).pendingUploads, 0)

        // A delivery: the list reads the outbox, so delivering changes what it shows.
        _ = try await fieldSync.pushOutbox(code: "ACME")
        _ = try await list.until("the delivery") { $0.first { $0.id == "ACME::WO-001" }?.pendingUploads == 0 }

        // Cancelling the task ends the stream and cancels the watch, at once.
        await list.cancel()
        XCTAssertEqual(fieldSync.liveWatches(), 0, "the cancelled stream's watch is gone")
        let ended = await list.inbox.ended
        XCTAssertTrue(ended)
        let left = await list.inbox.pending

        // A change after the cancel: a second watch sees it (so it was committed and announced), the
        // cancelled one receives nothing.
        _ = try await fieldSync.editProject(id: "ACME::WO-002", edit: ProjectEdit(status: "Open"))
        let witness = Collector(fieldSync.projectsStream(mainStreet, throttle: 0.02))
        _ = try await witness.until("the edit after the cancel") {
            $0.first { $0.id == "ACME::WO-002" }?.status == "Open"
        }
        await witness.cancel()
        let leftAfter = await list.inbox.pending
        XCTAssertEqual(leftAfter, left, "a cancelled stream yields nothing")
        XCTAssertEqual(fieldSync.liveWatches(), 0)
    }

    func testTheStatusGoesUpOnCaptureAndDownOnDeliveryAndFollowsTheNetwork() async throws {
        try await importSite()
        let now = try await fieldSync.syncStatus()
        XCTAssertEqual(now.uploadsPending, 0)
        XCTAssertFalse(now.paused)
        XCTAssertEqual(now.integrations.map(\.code), ["ACME"])

        let status = Collector(fieldSync.syncStatusStream(throttle: 0.01))
        let first = try await status.next()
        XCTAssertEqual(first, now, "the first element is the status now")

        // Capture: two check-ins and a photo.
        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-001", fix: nearHome(), badge: nil, user: nil)
        _ = try await fieldSync.checkInWithFix(projectId: "ACME::WO-002", fix: nearHome(), badge: nil, user: nil)
        let two = try await status.until("2 uploads pending") { $0.uploadsPending == 2 }
        XCTAssertGreaterThan(two.uploadBytesPending, 0)
        let photo = try await fieldSync.addPhoto(projectId: "ACME::WO-001", task: "Grass Cut", evidence: .before,
                                                 filePath: try photoFixture("gps/DSCN0010.jpg").path, fix: nil)
        _ = try await fieldSync.approvePhoto(uuid: photo.uuid)
        let three = try await status.until("3 uploads pending") { $0.uploadsPending == 3 }
        XCTAssertGreaterThan(three.uploadBytesPending, two.uploadBytesPending, "the photo's bytes count")

        // Delivery.
        _ = try await fieldSync.pushOutbox(code: "ACME")
        let done = try await status.until("nothing pending") { $0.uploadsPending == 0 }
        XCTAssertNotNil(done.lastDelivered)
        XCTAssertEqual(done.uploadBytesPending, 0)

        fieldSync.setNetwork(network: .metered)
        _ = try await status.until("the metered network") { $0.network == .metered }

        await status.cancel()
        XCTAssertEqual(fieldSync.liveWatches(), 0)
    }

    func testFiveHundredSubscribeAndCancelCyclesLeaveNoWatchBehind() async throws {
        try await importSite()
        XCTAssertEqual(fieldSync.liveWatches(), 0)
        let query = ProjectQuery(integration: "ACME")
        for index in 0..<500 {
            switch index % 5 {
            case 0:
                // `break` out of the loop: the released stream cancels its watch.
                for try await projects in fieldSync.projectsStream(query) {
                    XCTAssertEqual(projects.count, 4)
                    break
                }
            case 1:
                // An iterator dropped after one element.
                var iterator = fieldSync.syncStatusStream().makeAsyncIterator()
                _ = try await iterator.next()
            case 2:
                // A task cancelled while it waits for the next result.
                let collector = Collector(fieldSync.projectsStream(query))
                _ = try await collector.next()
                await collector.cancel()
            case 3:
                // A stream made and never iterated.
                _ = fieldSync.photosStream(projectId: "ACME::WO-001")
            default:
                let collector = Collector(fieldSync.uploadLogStream())
                _ = try await collector.next()
                await collector.cancel()
            }
            if fieldSync.liveWatches() != 0 {
                return XCTFail("cycle \(index) left \(fieldSync.liveWatches()) watch(es)")
            }
        }
        // The library still answers, and a new watch still works.
        let after = Collector(fieldSync.projectStream(id: "ACME::WO-001"))
        _ = try await after.next()
        await after.cancel()
        XCTAssertEqual(fieldSync.liveWatches(), 0)
    }

    func testSeveralStreamsEachGetTheChange() async throws {
        try await importSite()
        let streams = (0..<5).map { _ in Collector(fieldSync.projectStream(id: "ACME::WO-001", throttle: 0.01)) }
        for stream in streams {
            let project = try await stream.next()
            XCTAssertNotEqual(project.instructions, "Back gate")
        }
        XCTAssertEqual(fieldSync.liveWatches(), 5)
        _ = try await fieldSync.editProject(id: "ACME::WO-001", edit: ProjectEdit(instructions: "Back gate"))
        for stream in streams {
            _ = try await stream.until("the new instructions") { $0.instructions == "Back gate" }
            await stream.cancel()
        }
        XCTAssertEqual(fieldSync.liveWatches(), 0)
    }

    func testAWatchedProjectEndsWithNotFoundOnceItIsGone() async throws {
        try await linkVendor()
        let local = try await fieldSync.createLocalProject(project: NewLocalProject(
            integration: "ACME", workOrderNumber: "L-1", address1: "1 Elm St", city: nil, state: nil, zip: nil,
            tasks: ["Grass Cut"]))
        var iterator = fieldSync.projectStream(id: local.id, throttle: 0.01).makeAsyncIterator()
        let first = try await iterator.next()
        XCTAssertEqual(first?.id, local.id, "the project comes first")
        _ = try await fieldSync.discardLocalProject(projectId: local.id)
        do {
            while try await iterator.next() != nil {}
            XCTFail("the stream ended without saying why")
        } catch FieldSyncError.NotFound {}
        XCTAssertEqual(fieldSync.liveWatches(), 0)
    }
}
