import EdgeController
import EdgeTelemetry
import XCTest

final class NodeRegistryTests: XCTestCase {
    let t0 = ContinuousClock.now

    func testIngestKeepsLatestWindowAndCounts() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig())
        try reg.ingest(Fixtures.window("a", cpu: 0.3), now: t0)
        var w = Fixtures.window("a", cpu: 0.5)
        w.agentVersion = "0.2.0"
        let s = try reg.ingest(w, now: t0 + .seconds(5))
        XCTAssertEqual(s.reportCount, 2)
        XCTAssertEqual(s.agentVersion, "0.2.0")
        XCTAssertEqual(s.window.cpuUtilization, 0.5)
        let later = try XCTUnwrap(reg.snapshot(node: "a", now: t0 + .seconds(8)))
        XCTAssertEqual(later.age, .seconds(3))
        XCTAssertFalse(later.stale)
        XCTAssertNil(reg.snapshot(node: "nope", now: t0))
        XCTAssertEqual(reg.counts(now: t0 + .seconds(8)).reportsAccepted, 2)
    }

    func testStaleAfterConfiguredAge() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 15))
        try reg.ingest(Fixtures.window("a"), now: t0)
        XCTAssertFalse(reg.snapshot(node: "a", now: t0 + .seconds(15))!.stale)
        let s = reg.snapshot(node: "a", now: t0 + .seconds(16))!
        XCTAssertTrue(s.stale)
        XCTAssertEqual(s.extenderPriority, 0)
        XCTAssertGreaterThan(s.smoothing.priority, 0, "the published priority is kept; only the extender answer drops")
        let c = reg.counts(now: t0 + .seconds(16))
        XCTAssertEqual([c.total, c.fresh, c.stale], [1, 0, 1])
    }

    func testSmoothingRestartsAfterStaleness() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(smoothing: 0.5), registry: Fixtures.registryConfig(staleAfter: 15))
        try reg.ingest(Fixtures.window("a"), now: t0)                                    // raw 0.13
        let bad = Fixtures.window("a", rtt: 200, retrans: 0.05, dropW: 100, runqlat: 20, cpu: 1) // raw 1
        let fresh = try reg.ingest(bad, now: t0 + .seconds(5))
        XCTAssertEqual(fresh.smoothing.smoothed, 0.5 * 1 + 0.5 * 0.13, accuracy: 1e-12)
        let afterGap = try reg.ingest(bad, now: t0 + .seconds(60))
        XCTAssertEqual(afterGap.smoothing.smoothed, 1, accuracy: 1e-12, "minutes-old state must not be averaged in")
        XCTAssertEqual(afterGap.smoothing.samples, 1)
    }

    func testMaxNodesEvictsOnlyStaleNodes() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 15, maxNodes: 2))
        try reg.ingest(Fixtures.window("a"), now: t0)
        try reg.ingest(Fixtures.window("b"), now: t0 + .seconds(1))
        XCTAssertThrowsError(try reg.ingest(Fixtures.window("c"), now: t0 + .seconds(2))) { error in
            XCTAssertEqual(error as? RegistryError, .full(maxNodes: 2))
        }
        try reg.ingest(Fixtures.window("a"), now: t0 + .seconds(3)) // known nodes still update when full
        try reg.ingest(Fixtures.window("c"), now: t0 + .seconds(17)) // b (last seen t0+1) is stale: evicted
        XCTAssertEqual(reg.snapshots(now: t0 + .seconds(17)).map(\.name), ["a", "c"])
    }

    func testMinMaxInRegistryUsesFreshFleet() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(normalisation: .minmax),
                               registry: Fixtures.registryConfig(staleAfter: 15))
        try reg.ingest(Fixtures.window("old", rtt: 1000), now: t0) // will be stale: must not stretch the range
        try reg.ingest(Fixtures.window("a", rtt: 10), now: t0 + .seconds(20))
        let b = try reg.ingest(Fixtures.window("b", rtt: 110), now: t0 + .seconds(21))
        XCTAssertEqual(b.raw.terms[0].bounds, SignalBounds(lo: 10, hi: 110))
        XCTAssertEqual(b.raw.terms[0].normalised, 1)
        XCTAssertEqual(b.raw.total, 0.3, accuracy: 1e-12)
    }

    func testNoisyNodeKeepsPriorityThroughRegistry() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(smoothing: 0.5, hysteresis: 0.05), registry: Fixtures.registryConfig())
        var priorities = Set<Int>()
        for (i, rtt) in [20.0, 24, 17, 26, 15, 23].enumerated() { // ±5 ms of RTT jitter
            priorities.insert(try reg.ingest(Fixtures.window("a", rtt: rtt), now: t0 + .seconds(i)).extenderPriority)
        }
        XCTAssertEqual(priorities.count, 1)
    }
}
