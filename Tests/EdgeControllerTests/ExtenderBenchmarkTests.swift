import EdgeController
import Foundation
import XCTest

final class ExtenderBenchmarkTests: XCTestCase {
    func testBenchmarkProducesARowPerStep() {
        let out = ExtenderBenchmark.run(nodeCounts: [50], iterations: 5)
        let rows = out.split(separator: "\n").filter { $0.hasPrefix("50 ") }
        XCTAssertEqual(rows.map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }, ["filter", "prioritize", "decode-only"])
        for row in rows {
            let cols = row.split(separator: " ", omittingEmptySubsequences: true)
            XCTAssertGreaterThan(Double(cols[2]) ?? 0, 0, String(row))
            XCTAssertGreaterThanOrEqual(Double(cols[3]) ?? 0, Double(cols[2]) ?? .infinity, "p99 ≥ p50: \(row)")
        }
    }

    /// The full run (100/1000/5000 nodes) only on request: EDGENODE_BENCH=1 swift test --filter ExtenderBenchmarkTests
    func testFullBenchmarkOnRequest() throws {
        guard ProcessInfo.processInfo.environment["EDGENODE_BENCH"] == "1" else {
            throw XCTSkip("set EDGENODE_BENCH=1 to run the full extender benchmark")
        }
        print(ExtenderBenchmark.run(nodeCounts: [100, 1000, 5000], iterations: 100))
    }
}
