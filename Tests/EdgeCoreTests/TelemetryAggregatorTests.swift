@testable import EdgeTelemetry
import XCTest

final class TelemetryAggregatorTests: XCTestCase {
    private func histogram(_ values: [UInt64]) -> LogLinearHistogram {
        var h = LogLinearHistogram()
        for v in values { h.record(v) }
        return h
    }

    private func window(_ a: TelemetryAggregator) -> TelemetryWindow {
        a.window(node: "n1", agentVersion: "0.1.0", now: 1_700_000_000)
    }

    func testNothingAddedMeansEverySignalAbsent() {
        let w = window(TelemetryAggregator(windowSeconds: 30))
        XCTAssertEqual(w.node, "n1")
        XCTAssertEqual(w.agentVersion, "0.1.0")
        XCTAssertEqual(w.generatedAt, 1_700_000_000)
        XCTAssertEqual(w.windowSeconds, 0)
        XCTAssertNil(w.rttP50Ms)
        XCTAssertNil(w.rttP99Ms)
        XCTAssertEqual(w.rttSamples, 0)
        XCTAssertNil(w.retransRate)
        XCTAssertEqual(w.dropRate, 0)
        XCTAssertEqual(w.dropRateWeighted, 0)
        XCTAssertEqual(w.drops, [])
        XCTAssertNil(w.runqlatP95Ms)
        XCTAssertNil(w.cpuUtilization)
        XCTAssertEqual(w.peers, [])
    }

    func testQuietIntervalsKeepSignalsAbsentButCountTime() {
        var a = TelemetryAggregator(windowSeconds: 30)
        a.add(TelemetryInterval(duration: 1))
        a.add(TelemetryInterval(duration: 1.5))
        let w = window(a)
        XCTAssertEqual(w.windowSeconds, 2.5, accuracy: 1e-9)
        XCTAssertNil(w.rttP99Ms)
        XCTAssertNil(w.retransRate)
        XCTAssertNil(w.runqlatP95Ms)
        XCTAssertNil(w.cpuUtilization)
        XCTAssertEqual(w.dropRate, 0)
    }

    func testCountersRatesAndCPU() {
        var a = TelemetryAggregator(windowSeconds: 30)
        for i in 1...3 {
            a.add(TelemetryInterval(duration: 1, counters: [.retransmits: UInt64(i), .segmentsOut: 100, .cpuBusyTicks: 50, .cpuTotalTicks: 200]))
        }
        let w = window(a)
        XCTAssertEqual(w.retransmits, 6)
        XCTAssertEqual(w.segmentsOut, 300)
        XCTAssertEqual(w.retransRate!, 6.0 / 300.0, accuracy: 1e-12)
        XCTAssertEqual(w.cpuUtilization!, 0.25, accuracy: 1e-12)
        XCTAssertEqual(w.windowSeconds, 3, accuracy: 1e-9)
    }

    func testDropRatesWeightsAndOrder() {
        var a = TelemetryAggregator(windowSeconds: 30, dropWeights: ["NO_SOCKET": 2, "TCP_CSUM": 0],
                                    defaultDropWeight: 0.5)
        a.add(TelemetryInterval(duration: 2, drops: ["NO_SOCKET": 4, "TCP_CSUM": 10, "OTHERHOST": 1]))
        a.add(TelemetryInterval(duration: 2, drops: ["NO_SOCKET": 4, "QDISC_DROP": 8]))
        let w = window(a)
        // 4 s covered: NO_SOCKET 8 → 2/s (w 2), TCP_CSUM 10 → 2.5/s (w 0), QDISC_DROP 8 → 2/s (w 0.5),
        // OTHERHOST 1 → 0.25/s (w 0.5).
        XCTAssertEqual(w.dropRate, 27.0 / 4, accuracy: 1e-12)
        let expectedWeighted: Double = 2.0 * 2.0 + 0.0 * 2.5 + 0.5 * 2.0 + 0.5 * 0.25
        XCTAssertEqual(w.dropRateWeighted, expectedWeighted, accuracy: 1e-12)
        XCTAssertEqual(w.drops.map(\.reason), ["TCP_CSUM", "NO_SOCKET", "QDISC_DROP", "OTHERHOST"])
        XCTAssertEqual(w.drops.map(\.count), [10, 8, 8, 1])
        XCTAssertEqual(w.drops.map(\.weight), [0, 2, 0.5, 0.5])
        XCTAssertEqual(w.drops[0].ratePerSecond, 2.5, accuracy: 1e-12)
    }

    func testConsumedIsNotADropAndThePrefixIsStripped() {
        var a = TelemetryAggregator(windowSeconds: 30, dropWeights: ["NO_SOCKET": 3], defaultDropWeight: 1)
        a.add(TelemetryInterval(duration: 1, drops: ["CONSUMED": 1000, "SKB_DROP_REASON_NO_SOCKET": 2,
                                                     "SKB_DROP_REASON_CONSUMED": 5]))
        let w = window(a)
        XCTAssertEqual(w.drops, [DropReasonStat(reason: "NO_SOCKET", count: 2, ratePerSecond: 2, weight: 3)])
        XCTAssertEqual(w.dropRate, 2)
        XCTAssertEqual(w.dropRateWeighted, 6)
    }

    func testRTTAndRunqlatQuantilesInMilliseconds() {
        var a = TelemetryAggregator(windowSeconds: 30)
        // 1 ms … 100 ms in 1 ms steps, spread over 4 intervals.
        for part in 0..<4 {
            let rtts = stride(from: part + 1, through: 100, by: 4).map { UInt64($0) * 1_000_000 }
            a.add(TelemetryInterval(duration: 1, histograms: [.rtt: histogram(rtts), .runqlat: histogram(rtts.map { $0 / 100 })]))
        }
        let w = window(a)
        XCTAssertEqual(w.rttSamples, 100)
        XCTAssertEqual(w.rttP50Ms!, 50, accuracy: 5)
        XCTAssertEqual(w.rttP99Ms!, 99, accuracy: 9.9)
        XCTAssertEqual(w.runqlatSamples, 100)
        XCTAssertEqual(w.runqlatP95Ms!, 0.95, accuracy: 0.095)
    }

    func testEvictionByCountOfIntervals() {
        var a = TelemetryAggregator(windowSeconds: 3, intervalSeconds: 1)
        XCTAssertEqual(a.maxIntervals, 3)
        for i in 1...5 {
            // Short intervals: only the count limit can evict them.
            a.add(TelemetryInterval(duration: 0.5, counters: [.retransmits: UInt64(i), .segmentsOut: 10]))
        }
        XCTAssertEqual(a.intervalCount, 3)
        let w = window(a)
        XCTAssertEqual(w.retransmits, 3 + 4 + 5)
        XCTAssertEqual(w.segmentsOut, 30)
        XCTAssertEqual(w.windowSeconds, 1.5, accuracy: 1e-9)
    }

    func testEvictionByCoveredTime() {
        var a = TelemetryAggregator(windowSeconds: 6)
        for (i, d) in [1.0, 1, 1, 1, 5].enumerated() {
            a.add(TelemetryInterval(duration: d, counters: [.retransmits: UInt64(1) << UInt64(i), .segmentsOut: 1]))
        }
        // 9 s held after the fifth: the three oldest go, leaving 1 s + 5 s.
        XCTAssertEqual(a.intervalCount, 2)
        let w = window(a)
        XCTAssertEqual(w.windowSeconds, 6, accuracy: 1e-9)
        XCTAssertEqual(w.retransmits, 8 + 16)
    }

    func testTickJitterNeitherShrinksNorGrowsTheWindow() {
        var a = TelemetryAggregator(windowSeconds: 30)
        for i in 0..<200 {
            a.add(TelemetryInterval(duration: i % 2 == 0 ? 1.0004 : 0.9997))
            if i >= 30 {
                XCTAssertEqual(a.intervalCount, 30, "after \(i + 1) intervals")
                XCTAssertEqual(a.coveredSeconds, 30, accuracy: 0.01)
            }
        }
    }

    func testAnIntervalLongerThanTheWindowIsKeptUntilTheNextOne() {
        var a = TelemetryAggregator(windowSeconds: 30, intervalSeconds: 1)
        a.add(TelemetryInterval(duration: 1, counters: [.segmentsOut: 1]))
        a.add(TelemetryInterval(duration: 100, counters: [.segmentsOut: 2]))  // the agent was stalled
        XCTAssertEqual(a.intervalCount, 1)
        XCTAssertEqual(window(a).windowSeconds, 100, accuracy: 1e-9)
        a.add(TelemetryInterval(duration: 1, counters: [.segmentsOut: 4]))
        XCTAssertEqual(a.intervalCount, 1)
        XCTAssertEqual(window(a).segmentsOut, 4)
    }

    func testBadDurationsCountAsZero() {
        var a = TelemetryAggregator(windowSeconds: 30)
        a.add(TelemetryInterval(duration: -3, counters: [.segmentsOut: 1]))
        a.add(TelemetryInterval(duration: .nan, counters: [.segmentsOut: 1]))
        XCTAssertEqual(a.coveredSeconds, 0)
        XCTAssertEqual(window(a).segmentsOut, 2)
    }

    func testPeersBusiestFirstCappedAndForgottenAfterEviction() {
        var a = TelemetryAggregator(windowSeconds: 2, intervalSeconds: 1, maxPeers: 2)
        let ms: UInt64 = 1_000_000
        a.add(TelemetryInterval(duration: 1, peerRTT: [
            "10.0.0.1": histogram(Array(repeating: 5 * ms, count: 5)),
            "10.0.0.2": histogram(Array(repeating: 20 * ms, count: 10)),
            "fd00::3": histogram([1 * ms]),
            "10.0.0.9": LogLinearHistogram(),  // no samples: not a peer
        ]))
        var w = window(a)
        XCTAssertEqual(w.peers.map(\.address), ["10.0.0.2", "10.0.0.1"])
        XCTAssertEqual(w.peers.map(\.samples), [10, 5])
        XCTAssertEqual(w.peers[0].rttP50Ms!, 20, accuracy: 2)
        XCTAssertEqual(w.peers[1].rttP99Ms!, 5, accuracy: 0.5)

        a.add(TelemetryInterval(duration: 1, peerRTT: ["fd00::3": histogram(Array(repeating: 2 * ms, count: 20))]))
        w = window(a)
        XCTAssertEqual(w.peers.map(\.address), ["fd00::3", "10.0.0.2"])
        XCTAssertEqual(w.peers[0].samples, 21)

        // Both intervals above leave the window; the peers must go with them.
        a.add(TelemetryInterval(duration: 1))
        a.add(TelemetryInterval(duration: 1))
        XCTAssertEqual(window(a).peers, [])
    }

    func testZeroMaxPeersListsNone() {
        var a = TelemetryAggregator(windowSeconds: 30, maxPeers: 0)
        a.add(TelemetryInterval(duration: 1, peerRTT: ["10.0.0.1": histogram([1_000_000])]))
        XCTAssertEqual(window(a).peers, [])
    }

    /// The running sums (add new, subtract evicted) must equal a window built from scratch out of the
    /// intervals still held, at every step.
    func testIncrementalSumsMatchARecomputationAtEveryStep() {
        var rng = SplitMix64(seed: 11)
        var all: [TelemetryInterval] = []
        var a = TelemetryAggregator(windowSeconds: 7, intervalSeconds: 1,
                                    dropWeights: ["NO_SOCKET": 2], defaultDropWeight: 0.25, maxPeers: 3)
        let reasons = ["NO_SOCKET", "TCP_CSUM", "QDISC_DROP"]
        let peers = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "fd00::1"]
        for _ in 0..<120 {
            var iv = TelemetryInterval(duration: 1)
            for _ in 0..<(rng.next() % 50) { iv.histograms[.rtt, default: LogLinearHistogram()].record(rng.next() % 300_000_000) }
            for _ in 0..<(rng.next() % 50) { iv.histograms[.runqlat, default: LogLinearHistogram()].record(rng.next() % 5_000_000) }
            for p in peers where rng.next() % 2 == 0 {
                iv.peerRTT[p] = histogram((0..<(1 + rng.next() % 8)).map { _ in rng.next() % 100_000_000 })
            }
            for r in reasons where rng.next() % 3 == 0 { iv.drops[r] = rng.next() % 40 }
            iv.counters[.segmentsOut] = rng.next() % 1000
            iv.counters[.retransmits] = rng.next() % 10
            iv.counters[.cpuTotalTicks] = 200
            iv.counters[.cpuBusyTicks] = rng.next() % 200
            all.append(iv)
            a.add(iv)

            var fresh = TelemetryAggregator(windowSeconds: 7, intervalSeconds: 1,
                                            dropWeights: ["NO_SOCKET": 2], defaultDropWeight: 0.25, maxPeers: 3)
            for held in all.suffix(7) { fresh.add(held) }
            XCTAssertEqual(window(a), window(fresh), "after \(all.count) intervals")
        }
    }

    func testRemoveAllForgetsEverythingButKeepsSettings() {
        var a = TelemetryAggregator(windowSeconds: 5, intervalSeconds: 1, dropWeights: ["X": 4], maxPeers: 7)
        a.add(TelemetryInterval(duration: 1, histograms: [.rtt: histogram([1_000_000])], counters: [.segmentsOut: 3], drops: ["X": 1]))
        a.removeAll()
        XCTAssertEqual(a.intervalCount, 0)
        XCTAssertEqual(window(a), window(TelemetryAggregator(windowSeconds: 5)))
        XCTAssertEqual(a.maxIntervals, 5)
        XCTAssertEqual(a.maxPeers, 7)
        XCTAssertEqual(a.weight(ofDropReason: "X"), 4)
    }
}
