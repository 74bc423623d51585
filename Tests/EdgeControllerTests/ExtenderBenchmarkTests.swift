import EdgeController
import EdgeControllerLab
import Foundation
import XCTest

final class ExtenderBenchmarkTests: XCTestCase {
    func testBenchmarkProducesARowPerStepAndPath() {
        let out = ExtenderBenchmark.run(nodeCounts: [50], iterations: 5, encodeNodes: 40)
        let rows = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let handlerRows = rows.filter { $0.first == "50" }
        XCTAssertEqual(handlerRows.map { "\($0[1]) \($0[2])" },
                       ["decode-only foundation", "decode-only live", "prioritize foundation", "prioritize live",
                        "filter foundation", "filter live"])
        for row in handlerRows {
            let n = row[3...7].map { Double($0) ?? -1 } // p50, p99, cpu p50, cpu p99, ×floor
            XCTAssertGreaterThan(n[0], 0, "\(row)")
            XCTAssertGreaterThanOrEqual(n[1], n[0], "p99 ≥ p50: \(row)")
            XCTAssertGreaterThanOrEqual(n[3], n[2], "cpu p99 ≥ cpu p50: \(row)")
            XCTAssertGreaterThan(n[4], 0, "\(row)")
        }
        // The floor is the fastest decode-only row, so one of them is ×1.0 and none is below.
        XCTAssertEqual(handlerRows.filter { $0[1] == "decode-only" }.map { Double($0[7]) ?? -1 }.min(), 1.0)
        let encodeRows = rows.filter { $0.first == "40" }
        XCTAssertEqual(encodeRows.map { "\($0[1]) \($0[2])" },
                       ["HostPriorityList foundation", "HostPriorityList live", "FilterResult foundation", "FilterResult live"])
        XCTAssertTrue(out.contains("1-min load average"), out)
    }
}
