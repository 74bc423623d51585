@testable import EdgeTelemetry
import XCTest

final class ProcStatTests: XCTestCase {
    // Copied from a 2-CPU machine running 6.18.
    static let sample = """
        cpu  18749 0 4893 758949 1386 0 40 29 0 0
        cpu0 8686 0 2009 381210 55 0 11 14 0 0
        cpu1 10063 0 2884 377739 1330 0 28 15 0 0
        intr 1234567 0 9 0 0
        ctxt 2345678
        btime 1700000000
        processes 4242
        procs_running 1
        procs_blocked 0
        softirq 98765 0 1 2 3 4 5 6 7 8 9

        """

    func testAggregateLineOfARealFile() throws {
        let t = try ProcStat.parseCPUTicks(Self.sample)
        // total = user+nice+system+idle+iowait+irq+softirq+steal; busy = total - idle - iowait.
        XCTAssertEqual(t.total, 18749 + 4893 + 758949 + 1386 + 40 + 29)
        XCTAssertEqual(t.busy, 18749 + 4893 + 40 + 29)
    }

    func testGuestTimeIsNotCountedTwice() throws {
        let t = try ProcStat.parseCPUTicks("cpu  100 10 50 1000 20 5 5 3 40 7\n")
        XCTAssertEqual(t.total, 100 + 10 + 50 + 1000 + 20 + 5 + 5 + 3)
        XCTAssertEqual(t.busy, 100 + 10 + 50 + 5 + 5 + 3)
    }

    func testOldKernelWithFourFields() throws {
        let t = try ProcStat.parseCPUTicks("cpu 10 2 3 85\ncpu0 10 2 3 85\n")
        XCTAssertEqual(t, CPUTicks(busy: 15, total: 100))
    }

    func testErrorsNameTheProblem() {
        XCTAssertThrowsError(try ProcStat.parseCPUTicks("cpu0 1 2 3 4\nintr 5\n")) {
            XCTAssertEqual("\($0)", "/proc/stat: no aggregate \"cpu \" line")
        }
        XCTAssertThrowsError(try ProcStat.parseCPUTicks("cpu  1 2 3\n", file: "x")) {
            XCTAssertEqual("\($0)", "x: \"cpu \" line has 3 fields, expected at least 4")
        }
        XCTAssertThrowsError(try ProcStat.parseCPUTicks("cpu  1 2 x 4 5\n")) {
            XCTAssertEqual("\($0)", "/proc/stat: \"cpu \" field 3 is not a tick count: \"x\"")
        }
        XCTAssertThrowsError(try ProcStat.parseCPUTicks(""))
    }

    func testDeltaSaturatesWhenCountersStepBack() {
        let older = CPUTicks(busy: 100, total: 1000)
        XCTAssertEqual(CPUTicks(busy: 150, total: 1200).delta(since: older), CPUTicks(busy: 50, total: 200))
        // iowait decreasing makes total step back: no underflow, busy clamped to total.
        XCTAssertEqual(CPUTicks(busy: 110, total: 990).delta(since: older), CPUTicks(busy: 0, total: 0))
    }

    func testReadsTheRealFile() throws {
        let a = try ProcStat.readCPUTicks()
        XCTAssertGreaterThan(a.total, 0)
        XCTAssertLessThanOrEqual(a.busy, a.total)
        XCTAssertThrowsError(try ProcStat.readCPUTicks(path: "/proc/does-not-exist")) {
            XCTAssertTrue("\($0)".hasPrefix("/proc/does-not-exist: cannot read"), "\($0)")
        }
    }
}
