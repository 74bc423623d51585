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
}
