// The experiment's statistics against closed forms (Cauchy = t with 1 df, t with 2 df), published
// t tables, and small cases worked out by hand.
@testable import edge_experiment
import EdgeCore
import EdgeLab
import Foundation
import XCTest

final class ExperimentStatsTests: XCTestCase {
    func testNearestRankQuantiles() {
        let xs = (1...100).map(Double.init)
        XCTAssertEqual(ExperimentStats.quantile(sorted: xs, 0.99), 99)
        XCTAssertEqual(ExperimentStats.quantile(sorted: xs, 0.50), 50)
        XCTAssertEqual(ExperimentStats.quantile(sorted: xs, 1.0), 100)
        XCTAssertEqual(ExperimentStats.quantile(sorted: xs, 0.0), 1)
        XCTAssertEqual(ExperimentStats.quantile(sorted: [1, 2, 3, 4], 0.5), 2)
        XCTAssertTrue(ExperimentStats.quantile(sorted: [], 0.5).isNaN)
    }

    func testStudentTDistributionAgainstClosedFormsAndTables() {
        // df = 1 is Cauchy: two-sided p = 1 − (2/π)·atan|t|
        for t in [0.5, 1.0, 3.0, 10.0] {
            XCTAssertEqual(ExperimentStats.studentTTwoSidedP(t, degreesOfFreedom: 1), 1 - 2 / Double.pi * atan(t), accuracy: 1e-10)
        }
        // df = 2: two-sided p = 1 − t / √(2 + t²)
        for t in [0.3, 2.0, 7.0] {
            XCTAssertEqual(ExperimentStats.studentTTwoSidedP(t, degreesOfFreedom: 2), 1 - t / (2 + t * t).squareRoot(), accuracy: 1e-10)
        }
        // large df tends to the normal: |t| = 1.959964 → p = 0.05
        XCTAssertEqual(ExperimentStats.studentTTwoSidedP(1.959964, degreesOfFreedom: 1e7), 0.05, accuracy: 1e-5)
        // t tables, 97.5% point
        XCTAssertEqual(ExperimentStats.studentTQuantile(0.975, degreesOfFreedom: 1), 12.7062, accuracy: 1e-3)
        XCTAssertEqual(ExperimentStats.studentTQuantile(0.975, degreesOfFreedom: 4), 2.7764, accuracy: 1e-3)
        XCTAssertEqual(ExperimentStats.studentTQuantile(0.975, degreesOfFreedom: 10), 2.2281, accuracy: 1e-3)
        XCTAssertEqual(ExperimentStats.studentTQuantile(0.975, degreesOfFreedom: 30), 2.0423, accuracy: 1e-3)
        XCTAssertEqual(ExperimentStats.regularizedIncompleteBeta(x: 0.5, a: 3, b: 3), 0.5, accuracy: 1e-12)
    }

    func testMeanCI95() {
        let ci = ExperimentStats.meanCI95([1, 2, 3, 4, 5])
        XCTAssertEqual(ci.mean, 3)
        // s = √2.5, t(0.975, 4) = 2.776445
        XCTAssertEqual(ci.halfWidth, 2.776445 * (2.5 / 5).squareRoot(), accuracy: 1e-5)
        XCTAssertTrue(ExperimentStats.meanCI95([7]).halfWidth.isNaN)
    }

    func testWelchTTest() {
        // a has no spread, so the Welch df reduces to n_b − 1 = 1 (Cauchy): t = (5 − 2)/1 = 3
        let r = ExperimentStats.welchTTest([5, 5, 5], [1, 3])
        XCTAssertEqual(r.t, 3, accuracy: 1e-12)
        XCTAssertEqual(r.degreesOfFreedom, 1, accuracy: 1e-12)
        XCTAssertEqual(r.pValue, 1 - 2 / Double.pi * atan(3), accuracy: 1e-10)
        // worked by hand: means 2.5 and 5, variances 5/3 and 20/3, n = 4 each
        let w = ExperimentStats.welchTTest([1, 2, 3, 4], [2, 4, 6, 8])
        XCTAssertEqual(w.t, -2.5 / (25.0 / 12).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(w.degreesOfFreedom, 4.41176, accuracy: 1e-4)
        XCTAssertGreaterThan(w.pValue, 0.1)
        XCTAssertLessThan(w.pValue, 0.2)
        XCTAssertTrue(ExperimentStats.welchTTest([1], [2, 3]).pValue.isNaN)
        XCTAssertEqual(ExperimentStats.welchTTest([2, 2], [2, 2]).pValue, 1)
    }

    func testMannWhitneyExactAndApproximate() {
        // completely separated 3 vs 3: U = 0, P(U ≤ 0) = 1/20, two-sided 0.1
        let sep = ExperimentStats.mannWhitneyU([1, 2, 3], [4, 5, 6])
        XCTAssertEqual(sep.u, 0)
        XCTAssertEqual(sep.pValue, 0.1, accuracy: 1e-12)
        XCTAssertTrue(sep.exact)
        // interleaved: U = 3, counts for U = 0…3 are 1, 1, 2, 3 out of 20 → p = 2·7/20
        let mixed = ExperimentStats.mannWhitneyU([1, 3, 5], [2, 4, 6])
        XCTAssertEqual(mixed.u, 3)
        XCTAssertEqual(mixed.pValue, 0.7, accuracy: 1e-12)
        // ties force the normal approximation; identical samples are not different
        let tied = ExperimentStats.mannWhitneyU([1, 1, 2, 2], [1, 1, 2, 2])
        XCTAssertFalse(tied.exact)
        XCTAssertEqual(tied.pValue, 1, accuracy: 1e-12)
        // a large clear shift is significant under the approximation too
        let a = (0..<30).map { Double($0) }, b = (0..<30).map { Double($0) + 100.5 }
        XCTAssertLessThan(ExperimentStats.mannWhitneyU(a + [1], b).pValue, 1e-6)
    }

    func testSpearmanWithTies() {
        XCTAssertEqual(ExperimentStats.averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
        // y ranks 1, 2, 3.5, 5, 3.5 against 1…5: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5
        XCTAssertEqual(ExperimentStats.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / 95.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(ExperimentStats.spearman([1, 2, 3], [30, 20, 10]), -1, accuracy: 1e-12)
        // monotone but non-linear is still 1
        XCTAssertEqual(ExperimentStats.spearman([1, 2, 3, 4], [1, 8, 27, 1000]), 1, accuracy: 1e-12)
        XCTAssertTrue(ExperimentStats.spearman([1, 1, 1], [1, 2, 3]).isNaN)
    }

    func testRelativeChange() {
        XCTAssertEqual(ExperimentStats.relativeChange(control: 10, treatment: 8), -0.2, accuracy: 1e-12)
        XCTAssertTrue(ExperimentStats.relativeChange(control: 0, treatment: 1).isNaN)
    }
}
