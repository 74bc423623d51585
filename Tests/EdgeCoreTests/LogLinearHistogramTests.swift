@testable import EdgeTelemetry
import Foundation
import XCTest

final class LogLinearHistogramTests: XCTestCase {
    typealias H = LogLinearHistogram

    // MARK: slot layout

    func testSmallValuesHaveExactSlots() {
        for v in UInt64(0)..<16 {
            XCTAssertEqual(H.slot(for: v), Int(v))
            XCTAssertEqual(H.lowerBound(ofSlot: Int(v)), v)
            XCTAssertEqual(H.upperBound(ofSlot: Int(v)), v + 1)
        }
    }

    func testBoundaryValues() {
        // Worked by hand from the layout: e = floor(log2 v), slot = (e-3)*16 + ((v >> (e-4)) & 15).
        XCTAssertEqual(H.slot(for: 15), 15)
        XCTAssertEqual(H.slot(for: 16), 16)
        XCTAssertEqual(H.slot(for: 31), 31)
        XCTAssertEqual(H.slot(for: 32), 32)
        XCTAssertEqual(H.slot(for: 33), 32)  // e = 5: slots are 2 wide
        XCTAssertEqual(H.slot(for: 34), 33)
        XCTAssertEqual(H.slot(for: 63), 47)
        XCTAssertEqual(H.slot(for: 64), 48)
        XCTAssertEqual(H.slot(for: 1000), 111)  // e = 9, m = (1000 >> 5) & 15 = 15
        XCTAssertEqual(H.lowerBound(ofSlot: 111), 992)
        XCTAssertEqual(H.upperBound(ofSlot: 111), 1024)
        XCTAssertEqual(H.slot(for: 1_000_000), 270)  // e = 19, m = 14
        XCTAssertEqual(H.lowerBound(ofSlot: 270), 983_040)
        XCTAssertEqual(H.slot(for: 1 << 34), 496)
        XCTAssertEqual(H.slot(for: (1 << 35) - 1), 511)
        XCTAssertEqual(H.slot(for: 1 << 35), 511)  // e = 35 clamps
        XCTAssertEqual(H.slot(for: UInt64.max), 511)
        XCTAssertEqual(H.lowerBound(ofSlot: 511), 31 << 30)
        XCTAssertEqual(H.upperBound(ofSlot: 511), 1 << 35)
    }

    func testSlotRangesTileTheLineWithoutGaps() {
        XCTAssertEqual(H.lowerBound(ofSlot: 0), 0)
        for s in 0..<(H.slotCount - 1) {
            XCTAssertEqual(H.upperBound(ofSlot: s), H.lowerBound(ofSlot: s + 1), "gap after slot \(s)")
            XCTAssertLessThan(H.lowerBound(ofSlot: s), H.upperBound(ofSlot: s))
        }
        // Every slot from 16 on is at most 1/16 of its lower bound wide: the 10% quantile budget.
        for s in 16..<H.slotCount {
            let width = H.upperBound(ofSlot: s) - H.lowerBound(ofSlot: s)
            XCTAssertLessThanOrEqual(width * 16, H.lowerBound(ofSlot: s), "slot \(s)")
        }
    }

    func testSlotIsMonotonicAndContinuousOverARange() {
        var previous = 0
        for v in UInt64(0)...200_000 {
            let s = H.slot(for: v)
            XCTAssertTrue(s == previous || s == previous + 1, "slot jumps from \(previous) to \(s) at \(v)")
            previous = s
        }
        XCTAssertEqual(previous, H.slot(for: 200_000))
    }

    func testEveryValueFallsInsideItsSlotsBounds() {
        var rng = SplitMix64(seed: 1)
        for _ in 0..<50_000 {
            // Spread over all magnitudes: random shift of a random number.
            let v = rng.next() >> (rng.next() % 64)
            let s = H.slot(for: v)
            XCTAssertGreaterThanOrEqual(v, H.lowerBound(ofSlot: s))
            if s < H.slotCount - 1 {
                XCTAssertLessThan(v, H.upperBound(ofSlot: s), "value \(v) slot \(s)")
            }
        }
        // And the lower bound of each slot maps back to that slot.
        for s in 0..<H.slotCount {
            XCTAssertEqual(H.slot(for: H.lowerBound(ofSlot: s)), s)
            XCTAssertEqual(H.slot(for: H.upperBound(ofSlot: s) - 1), s)
        }
    }

    // MARK: counting

    func testRecordTotalAdd() {
        var a = H()
        XCTAssertTrue(a.isEmpty)
        a.record(5)
        a.record(1000, count: 3)
        XCTAssertEqual(a.total, 4)
        XCTAssertEqual(a.counts[5], 1)
        XCTAssertEqual(a.counts[111], 3)
        var b = H()
        b.record(5, count: 2)
        b.add(a)
        XCTAssertEqual(b.counts[5], 3)
        XCTAssertEqual(b.total, 6)
        XCTAssertFalse(b.isEmpty)
    }

    func testSubtractingWrappingGivesTheDeltaAcrossACounterWrap() throws {
        var older = try H(counts: Array(repeating: 0, count: H.slotCount))
        older.record(3, count: UInt64.max - 1)
        older.record(100, count: 10)
        var newer = H()
        newer.record(3, count: 2)  // wrapped: max-1 → +4 → 2
        newer.record(100, count: 15)
        let delta = newer.subtractingWrapping(older)
        XCTAssertEqual(delta.counts[3], 4)
        XCTAssertEqual(delta.counts[H.slot(for: 100)], 5)
        XCTAssertEqual(delta.total, 9)
    }

    func testInitCountsValidatesLength() {
        XCTAssertThrowsError(try H(counts: [1, 2, 3])) { error in
            XCTAssertEqual("\(error)", "histogram needs exactly 512 slot counts, got 3")
        }
        XCTAssertNoThrow(try H(counts: Array(repeating: 7, count: 512)))
    }

    func testCodableRoundTripAndLengthCheck() throws {
        var h = H()
        h.record(42, count: 9)
        h.record(123_456_789)
        let data = try JSONEncoder().encode(h)
        XCTAssertEqual(try JSONDecoder().decode(H.self, from: data), h)
        let short = Data(#"{"counts":[1,2]}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(H.self, from: short))
    }

    // MARK: quantiles

    func testEmptyHistogramHasNoQuantileOrMean() {
        XCTAssertNil(H().quantile(0.5))
        XCTAssertNil(H().mean)
    }

    func testExactSlotsReturnExactValues() {
        var h = H()
        for v in UInt64(0)..<10 { h.record(v) }
        XCTAssertEqual(h.quantile(0), 0)
        XCTAssertEqual(h.quantile(0.5), 4)  // nearest rank: ceil(5) = 5th value = 4
        XCTAssertEqual(h.quantile(1), 9)
    }

    func testUniformSamples() {
        var rng = SplitMix64(seed: 2)
        let samples = (0..<20_000).map { _ in 1_000 + rng.next() % 10_000_000 }
        assertQuantilesClose(samples, "uniform")
    }

    func testLogNormalSamples() {
        var rng = SplitMix64(seed: 3)
        let samples = (0..<20_000).map { _ in UInt64(exp(log(2e6) + rng.normal())) }
        assertQuantilesClose(samples, "lognormal")
    }

    func testBimodalSamples() {
        var rng = SplitMix64(seed: 4)
        let samples: [UInt64] = (0..<20_000).map { i in
            let centre = i % 5 == 0 ? 50e6 : 200e3  // 20% slow path at 50 ms, 80% at 200 µs
            return UInt64(centre * (0.9 + 0.2 * rng.unit()))
        }
        assertQuantilesClose(samples, "bimodal")
    }

    func testConstantSamples() {
        let samples = Array(repeating: UInt64(1_234_567), count: 1000)
        assertQuantilesClose(samples, "constant")
        var h = H()
        h.record(1_234_567, count: 1000)
        XCTAssertEqual(h.mean!, 1_234_567, accuracy: 1_234_567 * 0.0625)
    }

    func testHeavyTailSamples() {
        var rng = SplitMix64(seed: 5)
        // Pareto(x_m = 100 µs, alpha = 1.2), kept below the last slot's nominal range.
        let samples: [UInt64] = (0..<20_000).map { _ in
            let x = 100e3 / pow(1 - rng.unit(), 1 / 1.2)
            return UInt64(min(x, Double((1 << 35) - 1)))
        }
        assertQuantilesClose(samples, "pareto")
    }

    func testSmallSampleCounts() {
        assertQuantilesClose([7_000_000], "one sample")
        assertQuantilesClose([1_000, 2_000_000], "two samples")
        assertQuantilesClose([5, 9, 12, 40, 41, 300, 70_000], "seven samples")
    }

    // MARK: helpers

    /// p50, p95 and p99 (and the extremes) within 10% of the exact nearest-rank quantile of `samples`.
    private func assertQuantilesClose(_ samples: [UInt64], _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        var h = H()
        for v in samples { h.record(v) }
        XCTAssertEqual(h.total, UInt64(samples.count), file: file, line: line)
        let sorted = samples.sorted()
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
            let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
            let exact = Double(sorted[rank - 1])
            guard let estimate = h.quantile(q) else {
                return XCTFail("\(name): no quantile \(q)", file: file, line: line)
            }
            XCTAssertEqual(estimate, exact, accuracy: exact * 0.10,
                           "\(name) q=\(q): estimate \(estimate), exact \(exact)", file: file, line: line)
        }
    }
}

/// Deterministic PRNG so that the sample sets (and so the tests) are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return sqrt(-2 * log(u1)) * cos(2 * .pi * u2)
    }
}
