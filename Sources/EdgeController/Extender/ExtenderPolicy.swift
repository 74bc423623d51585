// What the extender decides for each candidate node: pass or fail (and why), and its priority.
// Pure over registry records; the HTTP handling is in `Extender`.
import EdgeCore
import Foundation

/// The verdict of `/filter` on one node.
public enum FilterVerdict: Equatable, Sendable {
    case pass
    /// Fails; preemption on this node might still help (a load threshold).
    case failed(String)
    /// Fails whatever is preempted (no usable telemetry).
    case unresolvable(String)
}

/// The filter and priority rules.
public struct ExtenderPolicy: Sendable {
    /// Hard limits; nil = no limit.
    public var filter: ControllerConfig.Filter
    public var stalePolicy: StalePolicy
    public var staleAfter: Duration

    public init(filter: ControllerConfig.Filter, stalePolicy: StalePolicy, staleAfter: Duration) {
        self.filter = filter
        self.stalePolicy = stalePolicy
        self.staleAfter = staleAfter
    }

    /// Reasons are prefixed "edgenode:" because kube-scheduler shows them next to other plugins' reasons.
    func verdict(for record: NodeFacts?, now: MonotonicInstant) -> FilterVerdict {
        guard let r = record else {
            return stalePolicy == .filter ? .unresolvable("edgenode: no telemetry received from this node") : .pass
        }
        if r.isStale(at: now, staleAfter: staleAfter) {
            guard stalePolicy == .filter else { return .pass }
            let age = (now - r.lastSeen).seconds
            return .unresolvable("edgenode: telemetry stale (last report \(fmt(age))s ago, stale_after \(fmt(staleAfter.seconds))s)")
        }
        var over: [String] = []
        // An absent signal (no samples) cannot exceed a limit.
        if let max = filter.maxRTTP99Ms, let v = r.rttP99Ms, v > max {
            over.append("rtt_p99 \(fmt(v)) ms > max \(fmt(max)) ms")
        }
        if let max = filter.maxRetransRate, let v = r.retransRate, v > max {
            over.append("retrans_rate \(fmt(v)) > max \(fmt(max))")
        }
        if let max = filter.maxDropRate, r.dropRate > max {
            over.append("drop_rate \(fmt(r.dropRate))/s > max \(fmt(max))/s")
        }
        if let max = filter.maxCPU, let v = r.cpuUtilization, v > max {
            over.append("cpu \(fmt(v)) > max \(fmt(max))")
        }
        return over.isEmpty ? .pass : .failed("edgenode: " + over.joined(separator: "; "))
    }

    /// The bounded label values a filter reason counts under in
    /// `edgenode_extender_filtered_nodes_total`: "no_telemetry", "stale", or one per exceeded
    /// limit ("rtt_p99", "retrans_rate", "drop_rate", "cpu"); reasons are free text with figures.
    public static func reasonKinds(_ reason: String) -> [String] {
        let text = reason.hasPrefix("edgenode: ") ? String(reason.dropFirst(10)) : reason
        if text.hasPrefix("no telemetry") { return ["no_telemetry"] }
        if text.hasPrefix("telemetry stale") { return ["stale"] }
        let known: Set<String> = ["rtt_p99", "retrans_rate", "drop_rate", "cpu"]
        return text.components(separatedBy: "; ").map { part in
            let word = String(part.prefix { $0 != " " })
            return known.contains(word) ? word : "other"
        }
    }

    /// Published priority; 0 for stale and unknown nodes (whatever the policy: with `.filter` they
    /// normally never reach prioritize, but if filter is not configured they must still rank last).
    func priority(for record: NodeFacts?, now: MonotonicInstant) -> Int {
        guard let r = record, !r.isStale(at: now, staleAfter: staleAfter) else { return 0 }
        return r.priority
    }
}

/// What the extender reads of a registry record, copied out field by field under the registry
/// lock. Handing whole `NodeRecord`s (window, peers, score terms) to the policy copied and
/// released every one of their references per candidate: a third of a 1 000-node call.
struct NodeFacts {
    var lastSeen: MonotonicInstant
    var rttP99Ms: Double?
    var retransRate: Double?
    var dropRate: Double
    var cpuUtilization: Double?
    /// The published (smoothed, hysteresis-held) priority.
    var priority: Int

    /// Reads the record in place (`inout` only so that the registry need not copy it; nothing is written).
    @inline(__always)
    init(_ r: inout NodeRecord) {
        lastSeen = r.lastSeen
        rttP99Ms = r.window.rttP99Ms
        retransRate = r.window.retransRate
        dropRate = r.window.dropRate
        cpuUtilization = r.window.cpuUtilization
        priority = r.smoothing.priority
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
