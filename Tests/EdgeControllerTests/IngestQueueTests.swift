// The ingest queue: a bounded number of reports at once, run off Swift's cooperative pool, and
// what is over the bound answered 503 with its reason (issue 13, finding 10 in make abuse).
import EdgeController
import EdgeCore
import Foundation
import XCTest

final class IngestQueueTests: XCTestCase {
    func testPlacesAreBoundedAndGivenBack() {
        let q = IngestQueue(maxWaiting: 2)
        XCTAssertNil(q.admit())
        XCTAssertNil(q.admit())
        let refused = q.admit()
        XCTAssertEqual(refused, "2 reports are already waiting to be ingested")
        q.release()
        XCTAssertNil(q.admit())
        XCTAssertEqual(q.inProgress, 2)
    }

    /// Work runs on the ingest thread: while it blocks, the cooperative pool still runs tasks
    /// (on a 2-core host the pool has two threads; two blocked reports used to stop everything).
    func testWorkDoesNotHoldTheCooperativePool() async throws {
        let q = IngestQueue(maxWaiting: 8)
        let gate = DispatchSemaphore(value: 0)
        let blocked = Task { await q.run { gate.wait(); return Thread.isMainThread } }
        let second = Task { await q.run { 7 } }
        // With both reports held, a plain task (a /healthz answer) still completes at once.
        let start = ContinuousClock.now
        let answered = await Task { 42 }.value
        XCTAssertEqual(answered, 42)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        gate.signal()
        _ = await blocked.value
        let seven = await second.value
        XCTAssertEqual(seven, 7, "reports run one after another, in order")
    }

    func testBusyIsA503WithItsReason() {
        let busy = IngestOutcome.busy(reason: "32 reports are already waiting to be ingested")
        XCTAssertEqual(busy.httpStatus, 503)
        XCTAssertEqual(busy.metricLabel, "busy")
        XCTAssertEqual(busy.response.error, "busy: 32 reports are already waiting to be ingested; retry later")
    }
}
