// What the registry keeps per node, and the read-only view handed out of it.
import EdgeTelemetry

/// Monotonic time used for "last seen" (never the agent's wall clock, which may be skewed).
public typealias MonotonicInstant = ContinuousClock.Instant

/// Registry-internal state of one node.
struct NodeRecord: Sendable {
    /// The latest report (records are created anew for each report, so `filterValues` follows it).
    let window: TelemetryWindow
    /// What the extender's filter reads of `window`, computed once per report rather than once
    /// per /filter candidate.
    let filterValues: FilterValues
    var inputs: ScoreInputs
    var firstSeen: MonotonicInstant
    var lastSeen: MonotonicInstant
    var reportCount: UInt64
    /// Raw score of the latest report, with its terms (what `--explain` shows).
    var raw: RawScore
    var smoothing: SmoothedScore
    /// Flap damping: penalties earned by going stale and coming back.
    var damping: DampingState
    /// Loaded from the state file and not heard from since this controller started.
    var restored = false

    init(window: TelemetryWindow, inputs: ScoreInputs, firstSeen: MonotonicInstant, lastSeen: MonotonicInstant,
         reportCount: UInt64, raw: RawScore, smoothing: SmoothedScore, damping: DampingState, restored: Bool = false) {
        self.window = window
        filterValues = FilterValues { $0.value(in: window) }
        self.inputs = inputs
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.reportCount = reportCount
        self.raw = raw
        self.smoothing = smoothing
        self.damping = damping
        self.restored = restored
    }

    func isStale(at now: MonotonicInstant, staleAfter: Duration) -> Bool {
        now - lastSeen > staleAfter
    }
}

/// A consistent copy of one node's state at a given moment.
public struct NodeSnapshot: Sendable, Equatable {
    public var name: String
    public var window: TelemetryWindow
    public var agentVersion: String { window.agentVersion }
    /// Time since the last accepted report.
    public var age: Duration
    public var reportCount: UInt64
    public var stale: Bool
    public var raw: RawScore
    public var smoothing: SmoothedScore
    /// Flap damping as of the snapshot (the pending fresh→stale transition of a stale node included).
    public var damping: DampingView
    /// Loaded from the state file and not heard from since the controller started.
    public var restored = false

    /// The priority the extender returns for this node: the published priority, or 0 when stale or
    /// suppressed by flap damping.
    public var extenderPriority: Int { stale || damping.suppressed ? 0 : smoothing.priority }
}

extension Duration {
    /// The duration in seconds as a Double (for JSON, metrics and messages).
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
