// Smoothing and hysteresis: what turns a noisy raw score into a stable published priority.
//
// The smoothed score is an asymmetric EWMA over a node's reports: a worse raw score is folded in with
// `attack` (fast), a better one with `release` (slow). Degradation therefore reaches the scheduler within
// a few reports, while recovery has to last before it is believed. Why asymmetric: with one factor a
// node flapping between healthy and badly degraded keeps a smoothed swing of α·Δ/(2−α) (≈ 0.13 for
// α = 0.3 and Δ = 0.76), wider than any useful hysteresis, so its priority flips with the flaps; with a
// slow release the swing shrinks to a few hundredths and the node settles near its degraded score,
// which is also the safe place to rank an unreliable node. The published priority is computed from the
// smoothed score that last "won" (the anchor); it is recomputed only when the smoothed score has moved
// more than `hysteresis` away from that anchor. Noise smaller than the threshold therefore never
// reshuffles placements, while a real change moves the priority within a few reports.
import EdgeConfig

/// A node's smoothing state after a report.
public struct SmoothedScore: Sendable, Equatable, Codable {
    /// EWMA of the raw score.
    public var smoothed: Double
    /// The smoothed score that produced `priority`.
    public var anchor: Double
    /// Published extender priority (0…10).
    public var priority: Int
    /// Reports folded in since the state was (re)started.
    public var samples: Int
}

/// EWMA + hysteresis parameters, applied report by report.
public struct ScoreSmoother: Sendable, Equatable {
    /// EWMA factor when the raw score is worse (higher badness) than the smoothed one.
    public var attack: Double
    /// EWMA factor when it is better.
    public var release: Double
    public var hysteresis: Double

    /// A symmetric smoother unless `release` is given.
    public init(alpha: Double, release: Double? = nil, hysteresis: Double) {
        self.attack = alpha
        self.release = release ?? alpha
        self.hysteresis = hysteresis
    }

    public init(_ settings: ControllerConfig.Score) {
        self.init(alpha: settings.smoothing, release: settings.recoverySmoothing, hysteresis: settings.hysteresis)
    }

    /// Folds a new raw score into `previous` (nil = first report, or state reset after staleness).
    public func next(previous: SmoothedScore?, raw: Double) -> SmoothedScore {
        guard let p = previous else {
            return SmoothedScore(smoothed: raw, anchor: raw, priority: Scorer.priority(forBadness: raw), samples: 1)
        }
        let alpha = raw > p.smoothed ? attack : release
        let s = alpha * raw + (1 - alpha) * p.smoothed
        if abs(s - p.anchor) > hysteresis {
            return SmoothedScore(smoothed: s, anchor: s, priority: Scorer.priority(forBadness: s), samples: p.samples + 1)
        }
        return SmoothedScore(smoothed: s, anchor: p.anchor, priority: p.priority, samples: p.samples + 1)
    }
}
