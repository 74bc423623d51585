// The lab's statistics, one implementation for every tool: the nearest-rank quantile that
// edge-bench, edge-soak, the extender benchmark and the placement experiment report latencies
// with, and the experiment's means with confidence intervals, tests between the two modes and
// rank correlation between a node's score and the latency measured to it. Pure functions, no
// I/O, so they are unit tested against values worked out by hand and against published tables.
// (Named for the experiment it was written for; the name stays so its callers and tests do.)
import Foundation

/// Descriptive statistics and tests used by the lab's tools.
public enum ExperimentStats {
    /// Nearest-rank quantile of an ascending-sorted sample (`q` in [0, 1]); NaN when empty.
    /// Nearest rank never invents a latency nobody measured, which interpolation would.
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    /// Arithmetic mean; NaN when empty.
    public static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
    }

    /// Sample variance (n − 1 in the denominator); NaN below two values.
    public static func variance(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return .nan }
        let m = mean(xs)
        return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    }

    /// A mean and the half-width of its two-sided 95% confidence interval (Student t).
    public struct MeanCI: Equatable, Sendable {
        public var mean: Double
        /// NaN with fewer than two values (no spread can be estimated).
        public var halfWidth: Double
        public var count: Int
    }

    /// Mean and 95% confidence half-width `t(0.975, n−1) · s / √n`.
    public static func meanCI95(_ xs: [Double]) -> MeanCI {
        let n = xs.count
        guard n > 1 else { return MeanCI(mean: mean(xs), halfWidth: .nan, count: n) }
        let t = studentTQuantile(0.975, degreesOfFreedom: Double(n - 1))
        return MeanCI(mean: mean(xs), halfWidth: t * (variance(xs) / Double(n)).squareRoot(), count: n)
    }

    /// (treatment − control) / control; NaN when the control is 0 or either is NaN.
    public static func relativeChange(control: Double, treatment: Double) -> Double {
        guard control.isFinite, treatment.isFinite, control != 0 else { return .nan }
        return (treatment - control) / abs(control)
    }

    // MARK: rank correlation

    /// Ranks starting at 1; tied values share the mean of the ranks they span.
    public static func averageRanks(_ xs: [Double]) -> [Double] {
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        var ranks = [Double](repeating: 0, count: xs.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && xs[order[j + 1]] == xs[order[i]] { j += 1 }
            let shared = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = shared }
            i = j + 1
        }
        return ranks
    }

    /// Pearson correlation; NaN when either side has no spread or the lengths differ.
    public static func pearson(_ xs: [Double], _ ys: [Double]) -> Double {
        guard xs.count == ys.count, xs.count > 1 else { return .nan }
        let mx = mean(xs), my = mean(ys)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
            syy += (y - my) * (y - my)
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's ρ: the Pearson correlation of the average ranks (correct with ties).
    /// NaN when either side is constant (every node scored alike says nothing about order).
    public static func spearman(_ xs: [Double], _ ys: [Double]) -> Double {
        guard xs.count == ys.count else { return .nan }
        return pearson(averageRanks(xs), averageRanks(ys))
    }

    // MARK: tests between two samples

    /// Welch's unequal-variance t-test.
    public struct WelchResult: Equatable, Sendable {
        public var t: Double
        public var degreesOfFreedom: Double
        /// Two-sided p-value; NaN when it cannot be computed (n < 2 or no variance at all).
        public var pValue: Double
    }

    /// Welch's t-test of `a` against `b` (two-sided).
    public static func welchTTest(_ a: [Double], _ b: [Double]) -> WelchResult {
        guard a.count > 1, b.count > 1 else { return WelchResult(t: .nan, degreesOfFreedom: .nan, pValue: .nan) }
        let va = variance(a) / Double(a.count), vb = variance(b) / Double(b.count)
        let se2 = va + vb
        guard se2 > 0 else {
            // both samples constant: equal means are indistinguishable, different ones certain
            let same = mean(a) == mean(b)
            return WelchResult(t: same ? 0 : .infinity, degreesOfFreedom: .nan, pValue: same ? 1 : 0)
        }
        let t = (mean(a) - mean(b)) / se2.squareRoot()
        let df = se2 * se2 / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        return WelchResult(t: t, degreesOfFreedom: df, pValue: studentTTwoSidedP(t, degreesOfFreedom: df))
    }

    /// The Mann–Whitney U test.
    public struct MannWhitneyResult: Equatable, Sendable {
        /// U of the first sample (number of pairs where it is larger, ties counting half).
        public var u: Double
        /// Two-sided p-value.
        public var pValue: Double
        /// True when the p-value is exact (small samples without ties), false for the normal approximation.
        public var exact: Bool
    }

    /// Mann–Whitney U of `a` against `b`, two-sided. Exact distribution when there are no ties and
    /// both samples are small (≤ 20 each); otherwise the normal approximation with tie correction
    /// and continuity correction.
    public static func mannWhitneyU(_ a: [Double], _ b: [Double]) -> MannWhitneyResult {
        let n1 = a.count, n2 = b.count
        guard n1 > 0, n2 > 0 else { return MannWhitneyResult(u: .nan, pValue: .nan, exact: false) }
        let ranks = averageRanks(a + b)
        let r1 = ranks[0..<n1].reduce(0, +)
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let hasTies = Set(a + b).count < n1 + n2
        let meanU = Double(n1 * n2) / 2
        if !hasTies && n1 <= 20 && n2 <= 20 {
            let dist = exactUDistribution(n1, n2)
            let total = dist.reduce(0, +)
            let extreme = min(u1, Double(n1 * n2) - u1)
            let tail = dist[0...Int(extreme)].reduce(0, +) / total
            return MannWhitneyResult(u: u1, pValue: min(1, 2 * tail), exact: true)
        }
        // tie-corrected variance: n1 n2 / 12 · ((n + 1) − Σ(t³ − t) / (n (n − 1)))
        let n = Double(n1 + n2)
        var counts: [Double: Int] = [:]
        for x in a + b { counts[x, default: 0] += 1 }
        let tieSum = counts.values.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
        let varU = Double(n1 * n2) / 12 * ((n + 1) - tieSum / (n * (n - 1)))
        guard varU > 0 else { return MannWhitneyResult(u: u1, pValue: 1, exact: false) }
        let z = max(0, abs(u1 - meanU) - 0.5) / varU.squareRoot()
        return MannWhitneyResult(u: u1, pValue: min(1, erfc(z / 2.0.squareRoot())), exact: false)
    }

    /// Number of arrangements giving each U = 0…n1·n2 (as Double: counts grow past Int for n = 20+20).
    static func exactUDistribution(_ n1: Int, _ n2: Int) -> [Double] {
        // f(m, n)[u] = f(m − 1, n)[u − n] + f(m, n − 1)[u]: the largest value belongs to either sample.
        var table = [[[Double]]](repeating: [[Double]](repeating: [], count: n2 + 1), count: n1 + 1)
        for m in 0...n1 {
            for n in 0...n2 {
                if m == 0 || n == 0 { table[m][n] = [1]; continue }
                var f = [Double](repeating: 0, count: m * n + 1)
                for (u, c) in table[m - 1][n].enumerated() { f[u + n] += c }
                for (u, c) in table[m][n - 1].enumerated() { f[u] += c }
                table[m][n] = f
            }
        }
        return table[n1][n2]
    }

    // MARK: Student t distribution

    /// Two-sided p-value of `t` under Student's t with `degreesOfFreedom`: I_{ν/(ν+t²)}(ν/2, 1/2).
    public static func studentTTwoSidedP(_ t: Double, degreesOfFreedom df: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? .nan : 0 }
        guard df > 0 else { return .nan }
        return regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// The `p` quantile (0.5 < p < 1) of Student's t, by bisection on the two-sided p-value.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        precondition(p > 0.5 && p < 1 && df > 0, "studentTQuantile: p in (0.5, 1), df > 0")
        let target = 2 * (1 - p)
        var lo = 0.0, hi = 1.0
        while studentTTwoSidedP(hi, degreesOfFreedom: df) > target { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if studentTTwoSidedP(mid, degreesOfFreedom: df) > target { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 * max(1, hi) { break }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b), the regularized incomplete beta function, by Lentz's continued fraction
    /// (converges for x < (a + 1)/(a + b + 2); the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) covers the rest).
    public static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(x: 1 - x, a: b, b: a) }
        let lnBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let lnPowers: Double = a * log(x) + b * log(1 - x)
        let lnFront = lnBeta + lnPowers
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...500 {
            let mm = Double(m)
            // even step
            let twoM: Double = 2 * mm
            var num: Double = mm * (b - mm) * x / ((a + twoM - 1) * (a + twoM))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            // odd step
            num = -(a + mm) * (a + b + mm) * x / ((a + twoM) * (a + twoM + 1))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(lnFront) * f / a
    }
}
