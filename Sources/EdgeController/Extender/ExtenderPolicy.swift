// What the extender decides for each candidate node: pass or fail (and why), and its priority.
// Pure over registry records; the HTTP handling is in `Extender`.
import EdgeConfig
import EdgeTelemetry
import Foundation

/// The verdict of `/filter` on one node.
///
/// Reasons are fixed texts per cause, never live values: kube-scheduler copies them into the pod's
/// PodScheduled condition, and a text that changes on every call (an age, a measurement) is a pod
/// update that requeues the pod at once, a hot loop of scheduling attempts and Events. Fixed texts
/// also let kube-scheduler group the nodes per reason in its FailedScheduling message. The live
/// values are in the logs (debug), /metrics and `edgectl score --explain`.
public enum FilterVerdict: Equatable, Sendable {
    case pass
    /// Fails; preemption on this node might still help (a load threshold).
    case failed(String)
    /// Fails whatever is preempted (stale telemetry).
    case unresolvable(String)
    /// Suppressed by flap damping: filtered only when some other candidate passes (`Extender`
    /// decides that over the whole candidate list), otherwise kept and ranked lowest.
    case suppressed(String)
}

/// The filter and priority rules.
public struct ExtenderPolicy: Sendable {
    /// Hard limits; nil = no limit.
    public var filter: ControllerConfig.Filter {
        didSet { limits = FilterValues { filter[$0] } }
    }
    /// `filter` in `TelemetrySignal.filterable` order, for the per-candidate check.
    private(set) var limits: FilterValues
    public var stalePolicy: StalePolicy
    public var staleAfter: Duration
    public var damping: ControllerConfig.Damping
    public var unknownPolicy: UnknownPolicy
    /// Below this share of candidates with fresh telemetry nothing is filtered (see `Extender`).
    public var panicThreshold: Double
    /// Until then, nodes restored from the state file that have not reported since the start
    /// count as not heard yet (feasible, `unknownPolicy`) rather than stale: after a controller
    /// outage agents come back on their own backoff.
    public var warmupEnds: MonotonicInstant

    public init(filter: ControllerConfig.Filter, stalePolicy: StalePolicy, staleAfter: Duration,
                damping: ControllerConfig.Damping = ControllerConfig.defaultDamping,
                unknownPolicy: UnknownPolicy = .lowest, panicThreshold: Double = 0,
                warmupEnds: MonotonicInstant = .now) {
        self.filter = filter
        limits = FilterValues { filter[$0] }
        self.stalePolicy = stalePolicy
        self.staleAfter = staleAfter
        self.damping = damping
        self.unknownPolicy = unknownPolicy
        self.panicThreshold = panicThreshold
        self.warmupEnds = warmupEnds
    }

    /// Reasons are prefixed "edgenode:" because kube-scheduler shows them next to other plugins' reasons.
    static let staleReason = "edgenode: telemetry stale (no report within registry.stale_after)"
    static let suppressedReason = "edgenode: node suppressed after repeated telemetry outages (flap damping)"

    /// The fixed reason for the set of exceeded limits, in catalogue order
    /// ("edgenode: rtt_p99 above filter.max_rtt_p99_ms; cpu above filter.max_cpu").
    static func limitReason(_ over: LimitSet) -> String {
        var parts: [String] = []
        for (i, signal) in TelemetrySignal.filterable.enumerated() where over.contains(.signal(at: i)) {
            let role = signal.filter!
            parts.append("\(role.reasonName) above filter.\(role.key)")
        }
        return "edgenode: " + parts.joined(separator: "; ")
    }

    /// The `reason` words of limits, from the catalogue.
    static let limitReasonNames: Set<String> = Set(TelemetrySignal.filterable.map { $0.filter!.reasonName })

    /// The bounded label values a filter reason counts under in
    /// `edgenode_extender_filtered_nodes_total`: "no_telemetry", "stale", or one per exceeded
    /// limit (the catalogue's reason names: "rtt_p99", "retrans_rate", "drop_rate", "cpu");
    /// reasons are free text with figures.
    public static func reasonKinds(_ reason: String) -> [String] {
        let text = reason.hasPrefix("edgenode: ") ? String(reason.dropFirst(10)) : reason
        if text.hasPrefix("no telemetry") { return ["no_telemetry"] }
        if text.hasPrefix("telemetry stale") { return ["stale"] }
        if text.hasPrefix("node suppressed") { return ["suppressed"] }
        return text.components(separatedBy: "; ").map { part in
            let word = String(part.prefix { $0 != " " })
            return limitReasonNames.contains(word) ? word : "other"
        }
    }

    /// Which filter limits a node exceeds: bit i = `TelemetrySignal.filterable[i]`.
    struct LimitSet: OptionSet {
        let rawValue: UInt8
        static func signal(at i: Int) -> LimitSet { LimitSet(rawValue: 1 << UInt8(i)) }
    }

    /// True when the node's telemetry counts as fresh for the panic threshold.
    func isFresh(_ record: NodeFacts?, now: MonotonicInstant) -> Bool {
        guard let r = record else { return false }
        return !r.isStale(at: now, staleAfter: staleAfter)
    }

    /// A node we have no telemetry for that is not to be held against it: it never reported, or
    /// it was restored from the state file and the warm-up after the start has not passed.
    func isUnheard(_ record: NodeFacts?, now: MonotonicInstant) -> Bool {
        guard let r = record else { return true }
        return r.restored && now < warmupEnds && r.isStale(at: now, staleAfter: staleAfter)
    }

    func verdict(for record: NodeFacts?, now: MonotonicInstant) -> FilterVerdict {
        // Missing telemetry is not sickness: a node that never reported stays feasible.
        guard let r = record, !isUnheard(record, now: now) else { return .pass }
        if r.isStale(at: now, staleAfter: staleAfter) {
            return stalePolicy == .filter ? .unresolvable(Self.staleReason) : .pass
        }
        if r.damping.isSuppressed(at: now, damping) {
            return .suppressed(Self.suppressedReason)
        }
        let over = limitsExceeded(r)
        return over.isEmpty ? .pass : .failed(Self.limitReason(over))
    }

    /// An absent signal (no samples) cannot exceed a limit.
    func limitsExceeded(_ r: NodeFacts) -> LimitSet {
        var over: LimitSet = []
        for i in TelemetrySignal.filterable.indices {
            if let max = limits[i], let v = r.filterValues[i], v > max { over.insert(.signal(at: i)) }
        }
        return over
    }

    /// The live values behind a verdict, for the debug log (never for the reason text).
    func detail(for record: NodeFacts?, now: MonotonicInstant) -> String {
        guard let r = record else { return "never reported" }
        var parts = ["last report \(fmt((now - r.lastSeen).seconds))s ago"]
        for (i, signal) in TelemetrySignal.filterable.enumerated() {
            if let v = r.filterValues[i] { parts.append("\(signal.filter!.reasonName) \(fmt(v))\(signal.unit == "ratio" ? "" : " " + signal.unit)") }
        }
        parts.append("damping penalty \(fmt(r.damping.penalty(at: now, damping).rounded()))")
        return parts.joined(separator: ", ")
    }

    /// Published priority; 0 for stale and suppressed nodes (whatever the policy: with `.filter`
    /// they normally never reach prioritize, but if filter is not configured, or nothing else was
    /// feasible, they must still rank last). Nodes without telemetry get `unknownPolicy`'s.
    func priority(for record: NodeFacts?, now: MonotonicInstant) -> Int {
        if isUnheard(record, now: now) { return unknownPolicy == .neutral ? Scorer.maxPriority / 2 : 0 }
        guard let r = record, !r.isStale(at: now, staleAfter: staleAfter),
              !r.damping.isSuppressed(at: now, damping) else { return 0 }
        return r.priority
    }
}

/// What the extender reads of a registry record, copied out field by field under the registry
/// lock. Handing whole `NodeRecord`s (window, peers, score terms) to the policy copied and
/// released every one of their references per candidate: a third of a 1 000-node call.
struct NodeFacts {
    var lastSeen: MonotonicInstant
    /// The values of `TelemetrySignal.filterable`, in that order (computed once per report).
    var filterValues: FilterValues
    /// The published (smoothed, hysteresis-held) priority.
    var priority: Int
    var damping: DampingState
    var restored: Bool

    /// Reads the record in place (`inout` only so that the registry need not copy it; nothing is written).
    @inline(__always)
    init(_ r: inout NodeRecord) {
        lastSeen = r.lastSeen
        filterValues = r.filterValues
        priority = r.smoothing.priority
        damping = r.damping
        restored = r.restored
    }

    func isStale(at now: MonotonicInstant, staleAfter: Duration) -> Bool {
        now - lastSeen > staleAfter
    }
}

/// Short decimal text for messages: `%.3f` without trailing zeros ("0.97", "180", "-0").
///
/// String(format:) cost more than the rest of a /filter verdict, so the usual case is done with
/// integers: `%.3f` rounds the exact binary value of `v` to thousandths, which is what rounding
/// `v·1000` gives unless the product lands so close to a …5 tie that its own rounding error could
/// flip the direction; those rare values (and huge or non-finite ones) still go through printf.
func fmt(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    let scaled = v * 1000
    let thousandths = scaled.rounded(.toNearestOrEven)
    guard abs(scaled) < 1e12, abs(abs(scaled - thousandths) - 0.5) > 1e-9 * max(1, abs(scaled)) else {
        return fmtPrintf(v)
    }
    let n = Int64(abs(thousandths))
    var text = v < 0 ? "-" : ""
    text += String(n / 1000)
    var frac = n % 1000
    if frac != 0 {
        var digits = 3
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        let s = String(frac)
        text += "." + String(repeating: "0", count: digits - s.count) + s
    }
    return text
}

/// The reference formatting `fmt` must equal: printf's `%.3f`, trailing zeros and point removed.
func fmtPrintf(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}
