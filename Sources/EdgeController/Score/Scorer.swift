// The score itself: pure functions, no state, no clock.
//
//   score_raw = Σ w'_i · norm_i(x_i)   over the signals present, with w'_i = w_i / Σ_present w_j
//
// score_raw is badness in [0, 1]. An absent signal (no samples in the window) is left out and the
// remaining weights are renormalised, rather than guessing a value for it: guessing 0 rewards a node
// for being idle and guessing 0.5 punishes it; leaving it out scores the node on what was measured.
// The explanation marks the signal "absent" so the reader sees it. If no weighted signal is present
// at all the score is the neutral 0.5 (priority 5), noted as such.
//
// RTT outliers. A weighted sum caps what one signal can say: under min–max, a node whose RTT p99
// is 10× everyone else's gets the same 0.30 as one 20 % worse, and a signal that moves the other
// way (a node throttled by a bandwidth cap serves less, so its run queue and CPU look *better*)
// cancels half of it. That was the experiment's S3: 25 ms against 2 ms of RTT p99 came out one
// priority step down, which spreading outweighs. So, as proxies eject latency outliers (Envoy's
// outlier detection), a node whose RTT p99 is at least `score.outlier_ratio` × the median of the
// fresh nodes (and `score.outlier_min_gap` above it) gets badness 1 while that lasts: ranked
// lowest, never filtered. The median needs at least three fresh nodes with an RTT p99.
import EdgeConfig
import EdgeTelemetry

/// Why a node's RTT p99 made it an outlier.
public struct RTTOutlier: Sendable, Equatable, Codable {
    /// The node's RTT p99, ms.
    public var value: Double
    /// The fresh nodes' median RTT p99, ms (this node included).
    public var median: Double
    /// `value / median`.
    public var ratio: Double
}

/// The `[min, max]` of each signal over a candidate set, for min–max normalisation.
public struct SignalRanges: Sendable, Equatable {
    public var ranges: [ScoreSignal: SignalBounds]
    public init(ranges: [ScoreSignal: SignalBounds]) {
        self.ranges = ranges
    }
}

/// One signal's part in a score.
public struct SignalTerm: Sendable, Equatable, Codable {
    public var signal: ScoreSignal
    /// Raw value in the signal's unit; nil = absent.
    public var value: Double?
    /// Value mapped into [0, 1]; nil when absent.
    public var normalised: Double?
    /// Weight as configured.
    public var configuredWeight: Double
    /// Weight after renormalising over the present signals (0 when absent).
    public var weight: Double
    /// `weight · normalised` (0 when absent).
    public var contribution: Double
    /// The `[lo, hi]` the value was normalised against (fixed bounds, or the candidate set's min/max).
    public var bounds: SignalBounds?

    public var absent: Bool { value == nil }
}

/// A raw (unsmoothed) score with its terms.
public struct RawScore: Sendable, Equatable, Codable {
    /// Badness in [0, 1].
    public var total: Double
    public var terms: [SignalTerm]
    /// True when no weighted signal was present and `total` is the neutral 0.5.
    public var neutral: Bool
    /// Set when the node's RTT p99 was an outlier and `total` was raised to 1 for it.
    public var outlier: RTTOutlier?
}

public enum Scorer {
    /// The extender's top priority (kube-scheduler's `MaxExtenderPriority`).
    public static let maxPriority = 10
    /// Badness used when nothing weighted was measured.
    public static let neutralBadness = 0.5

    /// Min and max of each signal over `candidates`, ignoring absent values. Signals no candidate has are omitted.
    public static func ranges<C: Sequence>(over candidates: C) -> SignalRanges where C.Element == ScoreInputs {
        // Plain arrays in the loop: this runs over the whole fleet on every report in minmax mode.
        let n = ScoreSignal.allCases.count
        var lo = [Double](repeating: .infinity, count: n)
        var hi = [Double](repeating: -.infinity, count: n)
        for inputs in candidates {
            for signal in ScoreSignal.allCases {
                guard let x = inputs[signal], x.isFinite else { continue }
                let i = signal.index
                if x < lo[i] { lo[i] = x }
                if x > hi[i] { hi[i] = x }
            }
        }
        var r: [ScoreSignal: SignalBounds] = [:]
        for signal in ScoreSignal.allCases where lo[signal.index] <= hi[signal.index] {
            r[signal] = SignalBounds(lo: lo[signal.index], hi: hi[signal.index])
        }
        return SignalRanges(ranges: r)
    }

    /// The median of `signal` over `candidates`, or nil when fewer than three have it (with two,
    /// each would be measured against the pair's midpoint, which says nothing about either).
    public static func median<C: Sequence>(of signal: ScoreSignal, over candidates: C) -> Double? where C.Element == ScoreInputs {
        var values: [Double] = []
        for inputs in candidates {
            if let x = inputs[signal], x.isFinite { values.append(x) }
        }
        guard values.count >= 3 else { return nil }
        // Selection, not a sort: this runs over the fleet on every report (20,000 nodes by
        // default), where O(n log n) per report would saturate ingest.
        let mid = values.count / 2
        let upper = select(mid, in: &values)
        guard values.count % 2 == 0 else { return upper }
        // after the selection everything before `mid` is ≤ values[mid]: the lower middle is their max
        return (values[..<mid].max()! + upper) / 2
    }

    /// The `k`-th smallest of `values` (0-based), in expected O(n) (Hoare's quickselect). Leaves
    /// `values` partitioned around index `k`: nothing before it is larger, nothing after smaller.
    static func select(_ k: Int, in values: inout [Double]) -> Double {
        var lo = 0, hi = values.count - 1
        while lo < hi {
            let pivot = values[lo + (hi - lo) / 2]
            var i = lo, j = hi
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                break  // j < k < i: values[k] equals the pivot and is in place
            }
        }
        return values[k]
    }

    /// The node's RTT outlier against the fleet's median RTT p99, if it is one (see the file's head).
    public static func rttOutlier(_ inputs: ScoreInputs, median: Double?, settings: ControllerConfig.Score) -> RTTOutlier? {
        guard settings.outlierRatio > 0, let m = median, m > 0, let x = inputs[.rttP99],
              x >= settings.outlierRatio * m, x - m >= settings.outlierMinGapMs else { return nil }
        return RTTOutlier(value: x, median: m, ratio: x / m)
    }

    /// Maps `x` into [0, 1] against `[lo, hi]`. A degenerate range (every candidate equal) maps to 0:
    /// the signal does not tell the candidates apart, so it adds no badness to any of them.
    public static func normalise(_ x: Double, lo: Double, hi: Double) -> Double {
        guard hi > lo else { return 0 }
        let n = (x - lo) / (hi - lo)
        return Swift.min(Swift.max(n, 0), 1)
    }

    /// Scores one node. `ranges` is required for `.minmax` and ignored for `.fixed`. Under `.minmax`
    /// a range narrower than `settings.minmaxFloor` is widened upwards to it (the best candidate
    /// still maps to 0); the term's `bounds` are the widened ones. `rttMedian` is the fresh nodes'
    /// median RTT p99 for the outlier rule (nil: no rule).
    public static func score(_ inputs: ScoreInputs, settings: ControllerConfig.Score, ranges: SignalRanges? = nil,
                             rttMedian: Double? = nil) -> RawScore {
        var presentWeight = 0.0
        for signal in ScoreSignal.allCases where inputs[signal] != nil {
            presentWeight += settings.weights[signal] ?? 0
        }
        var terms: [SignalTerm] = []
        terms.reserveCapacity(ScoreSignal.allCases.count)
        var total = 0.0
        for signal in ScoreSignal.allCases {
            let configured = settings.weights[signal] ?? 0
            guard let x = inputs[signal] else {
                terms.append(SignalTerm(signal: signal, value: nil, normalised: nil, configuredWeight: configured,
                                        weight: 0, contribution: 0, bounds: nil))
                continue
            }
            let bounds: SignalBounds?
            switch settings.normalisation {
            case .fixed: bounds = settings.bounds[signal]
            case .minmax:
                // the candidates' range, widened to the signal's floor: a spread smaller than the
                // floor is noise and must not reach from 0 to 1
                let r = ranges?.ranges[signal] ?? SignalBounds(lo: x, hi: x)
                let floor = settings.minmaxFloor[signal] ?? 0
                bounds = r.hi - r.lo < floor ? SignalBounds(lo: r.lo, hi: r.lo + floor) : r
            }
            let n = bounds.map { normalise(x, lo: $0.lo, hi: $0.hi) } ?? 0
            let w = presentWeight > 0 ? configured / presentWeight : 0
            let c = w * n
            total += c
            terms.append(SignalTerm(signal: signal, value: x, normalised: n, configuredWeight: configured,
                                    weight: w, contribution: c, bounds: bounds))
        }
        if presentWeight <= 0 {
            return RawScore(total: neutralBadness, terms: terms, neutral: true)
        }
        if let outlier = rttOutlier(inputs, median: rttMedian, settings: settings) {
            return RawScore(total: 1, terms: terms, neutral: false, outlier: outlier)
        }
        return RawScore(total: Swift.min(Swift.max(total, 0), 1), terms: terms, neutral: false)
    }

    /// `round(10 · (1 − badness))`, halves rounded away from zero, clamped to 0…10.
    public static func priority(forBadness badness: Double) -> Int {
        let b = badness.isFinite ? Swift.min(Swift.max(badness, 0), 1) : 1
        return Int((Double(maxPriority) * (1 - b)).rounded(.toNearestOrAwayFromZero))
    }
}
