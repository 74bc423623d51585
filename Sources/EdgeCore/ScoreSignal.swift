// The five signals the controller's score is made of, with the names used in config files
// (score.weights, score.bounds) and in score explanations.

/// A signal that contributes to a node's score.
public enum ScoreSignal: String, CaseIterable, Sendable, Codable, Hashable {
    /// TCP RTT p99, milliseconds.
    case rttP99 = "rtt_p99"
    /// Retransmitted / sent segments, a fraction.
    case retrans
    /// Weighted drops per second.
    case dropWeighted = "drop_weighted"
    /// Run-queue latency p95, milliseconds.
    case runqlatP95 = "runqlat_p95"
    /// CPU utilisation in [0, 1].
    case cpu

    /// The signal's value in a telemetry window, nil when absent.
    public func value(in w: TelemetryWindow) -> Double? {
        switch self {
        case .rttP99: return w.rttP99Ms
        case .retrans: return w.retransRate
        case .dropWeighted: return w.dropRateWeighted
        case .runqlatP95: return w.runqlatP95Ms
        case .cpu: return w.cpuUtilization
        }
    }
}

/// Closed interval [lo, hi] that a signal is normalised over (lo ↦ 0, hi ↦ 1).
public struct SignalBounds: Sendable, Equatable, Codable {
    public var lo: Double
    public var hi: Double

    /// Bounds with lo < hi (not checked here; config parsing checks it).
    public init(lo: Double, hi: Double) {
        self.lo = lo
        self.hi = hi
    }
}
