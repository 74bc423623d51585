// Fault injection, clock jumps: the agent measures each tick's length on the monotonic clock,
// but a suspended VM, a stalled collector or a bug upstream can still hand the window a tick
// that is negative, zero, non-finite or hours long. Whatever arrives, the window must stay
// sane: a finite, non-negative covered time bounded by the window (or the one long tick),
// finite non-negative rates, and a quick return to normal once ordinary ticks resume.
import EdgeCore
import EdgeTelemetry
import XCTest

final class FaultClockJumpTests: XCTestCase {
    /// One ordinary 1 s tick with some of every counter.
    private func tick(_ duration: Double = 1) -> TelemetryInterval {
        var rtt = LogLinearHistogram()
        for v in [1_000_000, 2_000_000, 5_000_000] as [UInt64] { rtt.record(v) }
        return TelemetryInterval(duration: duration, histograms: [.rtt: rtt], counters: [.retransmits: 2, .segmentsOut: 100, .cpuBusyTicks: 30, .cpuTotalTicks: 100], drops: ["NO_SOCKET": 4])
    }

    private func window(_ a: TelemetryAggregator) -> TelemetryWindow {
        a.window(node: "n", agentVersion: "test", now: 1_700_000_000)
    }

    /// Every field a consumer divides by or compares is finite and in range.
    private func assertSane(_ w: TelemetryWindow, maxSeconds: Double, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(w.windowSeconds.isFinite && w.windowSeconds >= 0, "\(what): window \(w.windowSeconds)", file: file, line: line)
        XCTAssertLessThanOrEqual(w.windowSeconds, maxSeconds, what, file: file, line: line)
        XCTAssertTrue(w.dropRate.isFinite && w.dropRate >= 0, "\(what): drop rate \(w.dropRate)", file: file, line: line)
        XCTAssertTrue(w.dropRateWeighted.isFinite && w.dropRateWeighted >= 0, "\(what): weighted \(w.dropRateWeighted)", file: file, line: line)
        for d in w.drops {
            XCTAssertTrue(d.ratePerSecond.isFinite && d.ratePerSecond >= 0, "\(what): \(d)", file: file, line: line)
        }
        if let r = w.retransRate { XCTAssertTrue(r.isFinite && (0...1).contains(r), "\(what): retrans \(r)", file: file, line: line) }
        if let c = w.cpuUtilization { XCTAssertTrue((0...1).contains(c), "\(what): cpu \(c)", file: file, line: line) }
        if let p = w.rttP99Ms { XCTAssertTrue(p.isFinite && p > 0, "\(what): rtt p99 \(p)", file: file, line: line) }
        // The result must survive the trip to the controller (JSON has no NaN or infinity).
        XCTAssertNoThrow(try EdgeJSON.encoder().encode(w), what, file: file, line: line)
    }

    func testBackwardJumpsCountAsNoTimeAndRatesStayFinite() {
        var a = TelemetryAggregator(windowSeconds: 10, intervalSeconds: 1)
        for _ in 0..<5 { a.add(tick()) }
        // The wall clock stepped back an hour (NTP, a restored snapshot): the tick measures < 0.
        a.add(tick(-3600))
        var w = window(a)
        assertSane(w, maxSeconds: 10, "after a backward jump")
        XCTAssertEqual(w.windowSeconds, 5, accuracy: 1e-9, "a negative tick adds no time")
        // Only backward ticks: no time at all, so no per-second rate may be derived from them.
        var b = TelemetryAggregator(windowSeconds: 10, intervalSeconds: 1)
        for _ in 0..<3 { b.add(tick(-1)) }
        w = window(b)
        assertSane(w, maxSeconds: 10, "only backward ticks")
        XCTAssertEqual(w.windowSeconds, 0)
        XCTAssertEqual(w.dropRate, 0, "no covered time: no rate rather than a division by zero")
        XCTAssertEqual(w.retransmits, 6, "the counts themselves are still kept")
    }

    func testNonFiniteDurationsAreIgnored() {
        var a = TelemetryAggregator(windowSeconds: 10, intervalSeconds: 1)
        a.add(tick())
        for d in [Double.nan, .infinity, -.infinity, -.greatestFiniteMagnitude] {
            a.add(tick(d))
            assertSane(window(a), maxSeconds: 10, "after a \(d) tick")
        }
        XCTAssertEqual(window(a).windowSeconds, 1, accuracy: 1e-9)
    }

    func testAForwardJumpIsOneLongTickAndTheWindowRecoversAtTheNextTick() {
        var a = TelemetryAggregator(windowSeconds: 10, intervalSeconds: 1)
        for _ in 0..<10 { a.add(tick()) }
        let before = window(a)
        // A suspended VM resumes: one tick covers a day (and one even more than the 1e9 s cap).
        for jump in [86_400.0, 1e12] {
            var b = a
            b.add(tick(jump))
            let w = window(b)
            assertSane(w, maxSeconds: max(10, min(jump, 1e9)), "after a \(jump) s jump")
            XCTAssertLessThan(w.dropRate, before.dropRate, "the long tick dilutes the rate, it does not inflate it")
            // The next ordinary tick pushes the long one out: the window is ordinary again.
            b.add(tick())
            let recovered = window(b)
            assertSane(recovered, maxSeconds: 10, "one tick after a \(jump) s jump")
            XCTAssertLessThanOrEqual(recovered.windowSeconds, 1 + 1e-9, "the long tick is evicted")
            XCTAssertEqual(recovered.dropRate, 4, accuracy: 1e-9, "the rate is back to the true 4/s")
        }
    }

    func testARandomMixOfJumpsNeverBreaksTheWindow() {
        var rng = SystemRandomNumberGenerator()
        var a = TelemetryAggregator(windowSeconds: 5, intervalSeconds: 0.5)
        let odd: [Double] = [-1e9, -5, 0, 1e-12, 0.5, 0.5, 0.5, 3, 3600, .nan, .infinity]
        var longest = 0.0
        for i in 0..<2_000 {
            let d = odd.randomElement(using: &rng)!
            if d.isFinite && d > 0 { longest = max(longest, min(d, 1e9)) }
            a.add(tick(d))
            let w = window(a)
            assertSane(w, maxSeconds: max(5, longest) + 5, "step \(i) (\(d) s)")
            XCTAssertLessThanOrEqual(a.intervalCount, a.maxIntervals)
        }
    }
}
