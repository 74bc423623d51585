// The per-run figures computed from raw files: reschedules from the watch CSV, request figures from
// the load CSV, badness samples from nodes.list and the score–latency Spearman ρ. Expected values
// are worked out by hand in the comments.
@testable import edge_experiment
import EdgeAPI
import XCTest

final class RunMetricsTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-experiment-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func file(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func summary(_ node: String, stale: Bool, smoothed: Double) -> NodeSummary {
        NodeSummary(node: node, agentVersion: "0.1.0", lastSeenSecondsAgo: stale ? 9 : 0.4, reportCount: 12, stale: stale,
                    signals: [.rttP99: 1.5, .retransRate: 0, .dropRate: 0, .dropRateWeighted: 0, .cpu: 0.3],
                    scoreRaw: smoothed, scoreSmoothed: smoothed, priority: stale ? 0 : 5)
    }

    func testReschedulesCountChangesOfTheTopNodeBetweenAnsweredSamples() throws {
        // n2 n2 (error) n3 n3 n2: the error row neither counts nor breaks the chain → 2 changes in 5 samples
        let path = try file("watch.csv", """
            t_s,top,priorities,error
            0.000,n2,n1=0;n2=10;n3=9,
            1.000,n2,n1=0;n2=10;n3=9,
            2.000,,,/filter: HTTP 500
            3.000,n3,n1=0;n2=8;n3=9,
            4.000,n3,n1=0;n2=8;n3=9,
            5.000,n2,n1=0;n2=10;n3=9,

            """)
        var m = RunMetrics()
        try m.readWatch(csvPath: path)
        XCTAssertEqual(m.reschedules, 2)
        XCTAssertEqual(m.topChangesByOrder, 2)
        XCTAssertEqual(m.watchSamples, 5)
        XCTAssertEqual(m.watchErrors, 1)
        // 2 changes over 5 samples × 1 s = 24 per minute; sampled every 0.5 s: 2 over 2.5 s = 48
        XCTAssertEqual(m.reschedulesPerMinute(), 24, accuracy: 1e-12)
        XCTAssertEqual(m.reschedulesPerMinute(sampleInterval: 0.5), 48, accuracy: 1e-12)
    }

    func testATieBreakFlipIsNotAReschedule() throws {
        // n2 and n3 tie at 8: the top flips by order but n2 is still among the best (no reschedule);
        // then n2 falls to 6 (reschedule to n3), then /filter drops n3 (reschedule to n4)
        let path = try file("ties.csv", """
            t_s,top,priorities,error
            0.000,n2,n1=2;n2=8;n3=7;n4=5,
            1.000,n3,n1=2;n2=8;n3=8;n4=5,
            2.000,n2,n1=2;n2=8;n3=8;n4=5,
            3.000,n3,n1=2;n2=6;n3=8;n4=5,
            4.000,n4,n1=2;n2=6;n3=-;n4=7,

            """)
        var m = RunMetrics()
        try m.readWatch(csvPath: path)
        XCTAssertEqual(m.topChangesByOrder, 4)
        XCTAssertEqual(m.reschedules, 2)
        XCTAssertEqual(m.watchSamples, 5)
    }

    func testLoadOnTheDegradedNodeFollowsItsShareOfReplicas() {
        func record(_ mode: Mode, _ placement: [String]) -> RunRecord {
            RunRecord(spec: RunSpec(scenario: .S3, mode: mode, rps: 200, rep: 1), metrics: RunMetrics(), placement: placement, notes: [],
                      responseBytes: 16384)
        }
        let records = [record(.baseline, ["node-1", "node-2", "node-3", "node-4"]),
                       record(.proposed, ["node-2", "node-3", "node-4", "node-2"]),
                       record(.proposed, ["node-1", "node-3", "node-4", "node-2"])]
        // 200 rps × 1/4 × 16,384 B × 8 = 6.5536 Mbit/s; proposed: mean of 0 and 6.5536
        XCTAssertEqual(Reports.degradedNodeLoadMbit(records, scenario: .S3, mode: .baseline, degradedNode: "node-1"),
                       6.5536, accuracy: 1e-9)
        XCTAssertEqual(Reports.degradedNodeLoadMbit(records, scenario: .S3, mode: .proposed, degradedNode: "node-1"),
                       3.2768, accuracy: 1e-9)
        XCTAssertTrue(Reports.degradedNodeLoadMbit(records, scenario: .S2, mode: .baseline, degradedNode: "node-1").isNaN)
    }

    func testNoWatchSamplesMeansNoReschedules() throws {
        var m = RunMetrics()
        try m.readWatch(csvPath: try file("empty.csv", "t_s,top,priorities,error\n"))
        XCTAssertEqual(m.reschedules, 0)
        XCTAssertEqual(m.reschedulesPerMinute(), 0)
    }

    func testRequestFiguresFromTheLoadCSV() throws {
        let path = try file("requests.csv", """
            offset_s,kind,node,port,latency_ms,outcome
            0.000000,replica,n2,7000,10.000,ok
            0.010000,replica,n3,7001,30.000,ok
            0.020000,replica,n2,7000,20.000,ok
            0.030000,replica,n1,7002,1000.000,timeout
            0.040000,probe,n1,6999,5.000,ok
            0.050000,probe,n1,6999,7.000,ok
            0.060000,probe,n2,6999,1.000,ok

            """)
        var m = RunMetrics()
        try m.readRequests(csvPath: path, seconds: 2)
        XCTAssertEqual(m.requests, 4)
        XCTAssertEqual(m.ok, 3)
        XCTAssertEqual(m.errors, 1)
        XCTAssertEqual(m.errorRate, 0.25)
        // nearest rank over [10, 20, 30, 1000]: p50 → rank 2, p99 → rank 4 (the timeout counts at its time)
        XCTAssertEqual(m.p50Ms, 20)
        XCTAssertEqual(m.p99Ms, 1000)
        XCTAssertEqual(m.p99OkMs, 30)
        XCTAssertEqual(m.qps, 1.5)
        XCTAssertEqual(m.nodeLatencyMs, ["n1": 6, "n2": 1])
    }

    func testMalformedRequestRowIsNamed() throws {
        let path = try file("bad.csv", "offset_s,kind,node,port,latency_ms,outcome\n0.1,replica,n1,7000,fast,ok\n")
        var m = RunMetrics()
        XCTAssertThrowsError(try m.readRequests(csvPath: path, seconds: 1)) { error in
            XCTAssertEqual("\(error)", "\(path): bad row '0.1,replica,n1,7000,fast,ok'")
        }
    }

    func testStaleNodeCountsAsWorstBadness() {
        let s = RunMetrics.badnessSample(NodesListResult(nodes: [
            summary("n1", stale: true, smoothed: 0.2), summary("n2", stale: false, smoothed: 0.15),
        ]))
        XCTAssertEqual(s, ["n1": 1.0, "n2": 0.15])
    }

    func testSpearmanOverNodesWithTiedBadness() {
        // (binary fractions, so that the means tie exactly)
        // mean badness: n1 (0.75 + 1.0 stale) / 2 = 0.875, n2 0.125, n3 (0.25 + 0.75) / 2 = 0.5, n4 0.5
        // ranks x = [4, 1, 2.5, 2.5]; latency [25, 1, 2, 1.5] ranks y = [4, 1, 3, 2]
        // Pearson of the ranks: Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5 → ρ = 4.5 / √22.5 = √0.9
        var m = RunMetrics()
        m.nodeLatencyMs = ["n1": 25, "n2": 1, "n3": 2, "n4": 1.5]
        m.correlate(scoreSamples: [["n1": 0.75, "n2": 0.125, "n3": 0.25, "n4": 0.5], ["n1": 1.0, "n2": 0.125, "n3": 0.75, "n4": 0.5]],
                    nodes: ["n1", "n2", "n3", "n4"])
        XCTAssertEqual(m.nodeBadness, ["n1": 0.875, "n2": 0.125, "n3": 0.5, "n4": 0.5])
        XCTAssertEqual(m.rho, 0.9.squareRoot(), accuracy: 1e-12)
    }

    func testSpearmanUsesOnlyNodesWithBothSides() {
        // n4 has no probe latency and n5 no score: ρ over n1…n3, identical orders → 1
        var m = RunMetrics()
        m.nodeLatencyMs = ["n1": 25, "n2": 1, "n3": 2, "n5": 0.5]
        m.correlate(scoreSamples: [["n1": 0.9, "n2": 0.1, "n3": 0.3, "n4": 0.0]], nodes: ["n1", "n2", "n3", "n4", "n5"])
        XCTAssertEqual(m.rho, 1, accuracy: 1e-12)
        XCTAssertNil(m.nodeBadness["n5"])
        XCTAssertEqual(m.nodeBadness["n4"], 0)
    }

    func testSpearmanReversedOrderAndConstantSide() {
        var reversed = RunMetrics()
        reversed.nodeLatencyMs = ["n1": 1, "n2": 2, "n3": 3]
        reversed.correlate(scoreSamples: [["n1": 0.9, "n2": 0.5, "n3": 0.1]], nodes: ["n1", "n2", "n3"])
        XCTAssertEqual(reversed.rho, -1, accuracy: 1e-12)

        // every node equally good: the ranking says nothing, ρ is undefined
        var constant = RunMetrics()
        constant.nodeLatencyMs = ["n1": 1, "n2": 2, "n3": 3]
        constant.correlate(scoreSamples: [["n1": 0.2, "n2": 0.2, "n3": 0.2]], nodes: ["n1", "n2", "n3"])
        XCTAssertTrue(constant.rho.isNaN)
    }
}
