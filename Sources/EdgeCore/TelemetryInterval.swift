// One tick's worth of telemetry: the deltas of the kernel counters between two reads.
// The agent builds one per interval and feeds it to `TelemetryAggregator`.

/// Telemetry deltas covering one interval.
public struct TelemetryInterval: Sendable, Equatable {
    /// Seconds covered, measured on the monotonic clock.
    public var duration: Double
    /// TCP smoothed-RTT samples (ns) in this interval.
    public var rtt: LogLinearHistogram
    /// Run-queue latency samples (ns) in this interval.
    public var runqlat: LogLinearHistogram
    /// RTT samples (ns) per remote address (text form); peers without samples may be left out.
    public var peerRTT: [String: LogLinearHistogram]
    /// TCP segments retransmitted.
    public var retransmits: UInt64
    /// TCP segments sent (the denominator of the retransmit rate).
    public var segmentsOut: UInt64
    /// Dropped packets by reason name without the `SKB_DROP_REASON_` prefix, e.g. "NO_SOCKET".
    public var drops: [String: UInt64]
    /// CPU ticks spent busy (from /proc/stat deltas).
    public var cpuBusyTicks: UInt64
    /// CPU ticks elapsed in total, busy or not (from /proc/stat deltas); 0 = no CPU reading.
    public var cpuTotalTicks: UInt64

    /// An interval of `duration` seconds; every signal left out defaults to "no samples".
    public init(duration: Double,
                rtt: LogLinearHistogram = LogLinearHistogram(),
                runqlat: LogLinearHistogram = LogLinearHistogram(),
                peerRTT: [String: LogLinearHistogram] = [:],
                retransmits: UInt64 = 0, segmentsOut: UInt64 = 0,
                drops: [String: UInt64] = [:],
                cpuBusyTicks: UInt64 = 0, cpuTotalTicks: UInt64 = 0) {
        self.duration = duration
        self.rtt = rtt
        self.runqlat = runqlat
        self.peerRTT = peerRTT
        self.retransmits = retransmits
        self.segmentsOut = segmentsOut
        self.drops = drops
        self.cpuBusyTicks = cpuBusyTicks
        self.cpuTotalTicks = cpuTotalTicks
    }
}
