// The RTT outlier rule (Scorer's file head): a node whose RTT p99 is outlier_ratio × the fresh
// nodes' median and outlier_min_gap above it is ranked lowest; otherwise the weighted sum stands.
import EdgeController
import EdgeCore
import XCTest

final class RTTOutlierTests: XCTestCase {
    private func inputs(rtt: Double?, runqlat: Double = 2) -> ScoreInputs {
        ScoreInputs(Fixtures.window("n", rtt: rtt, runqlat: runqlat))
    }

    func testTheMedianNeedsThreeNodesAndIgnoresAbsentValues() {
        XCTAssertNil(Scorer.median(of: .rttP99, over: [inputs(rtt: 2), inputs(rtt: 25)]))
        XCTAssertNil(Scorer.median(of: .rttP99, over: [inputs(rtt: 2), inputs(rtt: nil), inputs(rtt: 25)]))
        XCTAssertEqual(Scorer.median(of: .rttP99, over: [inputs(rtt: 25), inputs(rtt: 2), inputs(rtt: 1.8)]), 2)
        XCTAssertEqual(Scorer.median(of: .rttP99, over: [inputs(rtt: 25), inputs(rtt: 2), inputs(rtt: 1.8), inputs(rtt: 2.2)]), 2.1)
    }

    /// The selection gives the sorted median on any input: odd and even counts, ties, already
    /// sorted and reversed orders.
    func testTheMedianEqualsTheSortedMedian() {
        var generator = SystemRandomNumberGenerator()
        var shapes: [[Double]] = [[1, 1, 1], [3, 2, 1, 0], [5, 5, 1, 5, 5, 1], Array(0..<101).map(Double.init),
                                  Array((0..<100).reversed()).map(Double.init)]
        for n in [3, 4, 5, 10, 11, 1000, 1001] {
            shapes.append((0..<n).map { _ in Double(Int.random(in: 0..<20, using: &generator)) / 4 })
            shapes.append((0..<n).map { _ in Double.random(in: 0..<500, using: &generator) })
        }
        for values in shapes {
            let sorted = values.sorted()
            let m = sorted.count / 2
            let expected = sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
            XCTAssertEqual(Scorer.median(of: .rttP99, over: values.map { inputs(rtt: $0) }), expected, "\(values.prefix(12))")
        }
    }

    /// S3 of the experiment, as `edgectl score --explain` showed it: node-1 at 25 ms among 2 ms
    /// nodes, with a better run queue than theirs. The weighted sum gave it one priority step less;
    /// the rule ranks it lowest.
    func testACappedNodeAmongHealthyOnesIsRankedLowest() {
        var cfg = Fixtures.scoreConfig(normalisation: .minmax)
        XCTAssertEqual(cfg.outlierRatio, 4)
        XCTAssertEqual(cfg.outlierMinGapMs, 5)
        let fleet = [inputs(rtt: 25, runqlat: 19), inputs(rtt: 2.1, runqlat: 38), inputs(rtt: 1.7, runqlat: 39), inputs(rtt: 2.0, runqlat: 40)]
        let ranges = Scorer.ranges(over: fleet)
        let median = Scorer.median(of: .rttP99, over: fleet)
        XCTAssertEqual(median, 2.05)
        let capped = Scorer.score(fleet[0], settings: cfg, ranges: ranges, rttMedian: median)
        XCTAssertEqual(capped.total, 1)
        XCTAssertEqual(capped.outlier?.value, 25)
        XCTAssertEqual(capped.outlier?.median, 2.05)
        XCTAssertEqual(capped.outlier?.ratio, 25 / 2.05)
        XCTAssertEqual(Scorer.priority(forBadness: capped.total), 0)
        // the terms are still the weighted sum's, for the explanation
        XCTAssertEqual(capped.terms.first { $0.signal == .rttP99 }?.contribution ?? 0, 0.3, accuracy: 1e-12)
        for healthy in fleet.dropFirst() {
            let s = Scorer.score(healthy, settings: cfg, ranges: ranges, rttMedian: median)
            XCTAssertNil(s.outlier)
            XCTAssertLessThan(s.total, 1)
            XCTAssertEqual(s, Scorer.score(healthy, settings: cfg, ranges: ranges), "the rule leaves other nodes alone")
        }
        // off: the weighted sum alone
        cfg.outlierRatio = 0
        let off = Scorer.score(fleet[0], settings: cfg, ranges: ranges, rttMedian: median)
        XCTAssertNil(off.outlier)
        XCTAssertLessThan(off.total, 0.5)
    }

    func testBelowTheRatioOrTheGapIsNoOutlier() {
        let cfg = Fixtures.scoreConfig()
        // 3.9× the median: below the ratio
        XCTAssertNil(Scorer.rttOutlier(inputs(rtt: 39), median: 10, settings: cfg))
        XCTAssertNotNil(Scorer.rttOutlier(inputs(rtt: 40), median: 10, settings: cfg))
        // 10× but only 0.45 ms above: below the gap (loopback-fast fleets are not outliers by noise)
        XCTAssertNil(Scorer.rttOutlier(inputs(rtt: 0.5), median: 0.05, settings: cfg))
        // no median (fewer than three nodes) or no RTT: no rule
        XCTAssertNil(Scorer.rttOutlier(inputs(rtt: 500), median: nil, settings: cfg))
        XCTAssertNil(Scorer.rttOutlier(inputs(rtt: nil), median: 2, settings: cfg))
    }

    /// Through the registry: the rule works under the default fixed normalisation too, the node
    /// recovers once its RTT is back among the others, and the explanation names it.
    func testTheRegistryRanksAnOutlierLowestAndExplainsIt() throws {
        let cfg = Fixtures.scoreConfig(normalisation: .fixed)
        let registry = NodeRegistry(score: cfg, registry: Fixtures.registryConfig())
        for (name, rtt) in [("a", 2.0), ("b", 2.2), ("c", 1.9)] {
            try registry.ingest(Fixtures.window(name, rtt: rtt))
        }
        let slow = try registry.ingest(Fixtures.window("d", rtt: 30))
        XCTAssertEqual(slow.raw.outlier?.median, 2.1)
        XCTAssertEqual(slow.extenderPriority, 0)
        let explanation = ScoreExplainer.explain(slow, settings: cfg, registry: Fixtures.registryConfig(), explain: true)
        XCTAssertTrue(explanation.notes.contains { $0.hasPrefix("RTT outlier: rtt_p99 30 ms is 14.3× the fresh nodes' median 2.1 ms (score.outlier_ratio 4") },
                      "\(explanation.notes)")
        let back = try registry.ingest(Fixtures.window("d", rtt: 2.5))
        XCTAssertNil(back.raw.outlier)
        XCTAssertGreaterThan(back.extenderPriority, 5)
    }
}
