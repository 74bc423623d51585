// One interval's worth of telemetry deltas: what the agent's collector produces every tick and the
// aggregator's sliding window consumes. Sums are keyed by kind (see TelemetrySignal.swift), so a new
// signal made of a new sum adds a case there, not a field here.

public struct TelemetryInterval: Sendable, Equatable {
    /// Seconds covered, measured on the monotonic clock.
    public var duration: Double
    /// Samples per histogram kind (ns); a kind without an entry had none.
    public var histograms: [TelemetryHistogram: LogLinearHistogram]
    /// Counter deltas per kind; a kind without an entry counts 0.
    public var counters: [TelemetryCounter: UInt64]
    /// RTT samples (ns) per remote address (text form); peers without samples may be left out.
    public var peerRTT: [String: LogLinearHistogram]
    /// Dropped packets by reason name without the `SKB_DROP_REASON_` prefix, e.g. "NO_SOCKET".
    public var drops: [String: UInt64]

    /// An interval of `duration` seconds; every sum left out defaults to "no samples".
    public init(duration: Double,
                histograms: [TelemetryHistogram: LogLinearHistogram] = [:],
                counters: [TelemetryCounter: UInt64] = [:],
                peerRTT: [String: LogLinearHistogram] = [:],
                drops: [String: UInt64] = [:]) {
        self.duration = duration
        self.histograms = histograms
        self.counters = counters
        self.peerRTT = peerRTT
        self.drops = drops
    }
}
