// Smoothing and hysteresis: what turns a noisy raw score into a stable published priority.
//
// The smoothed score is an EWMA over a node's reports. The published priority is computed from the
// smoothed score that last "won" (the anchor); it is recomputed only when the smoothed score has moved
// more than `hysteresis` away from that anchor. Noise smaller than the threshold therefore never
// reshuffles placements, while a real change moves the priority within a few reports.
import EdgeCore

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
    public var alpha: Double
    public var hysteresis: Double

    public init(alpha: Double, hysteresis: Double) {
        self.alpha = alpha
        self.hysteresis = hysteresis
    }

    public init(_ settings: ControllerConfig.Score) {
        self.init(alpha: settings.smoothing, hysteresis: settings.hysteresis)
    }

    /// Folds a new raw score into `previous` (nil = first report, or state reset after staleness).
    public func next(previous: SmoothedScore?, raw: Double) -> SmoothedScore {
        guard let p = previous else {
            return SmoothedScore(smoothed: raw, anchor: raw, priority: Scorer.priority(forBadness: raw), samples: 1)
        }
        let s = alpha * raw + (1 - alpha) * p.smoothed
        if abs(s - p.anchor) > hysteresis {
            return SmoothedScore(smoothed: s, anchor: s, priority: Scorer.priority(forBadness: s), samples: p.samples + 1)
        }
        return SmoothedScore(smoothed: s, anchor: p.anchor, priority: p.priority, samples: p.samples + 1)
    }
}
