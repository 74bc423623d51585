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
    func verdict(for record: NodeRecord?, now: MonotonicInstant) -> FilterVerdict {
        guard let r = record else {
            return stalePolicy == .filter ? .unresolvable("edgenode: no telemetry received from this node") : .pass
        }
        if r.isStale(at: now, staleAfter: staleAfter) {
            guard stalePolicy == .filter else { return .pass }
            let age = (now - r.lastSeen).seconds
            return .unresolvable("edgenode: telemetry stale (last report \(fmt(age))s ago, stale_after \(fmt(staleAfter.seconds))s)")
        }
        var over: [String] = []
        let w = r.window
        // An absent signal (no samples) cannot exceed a limit.
        if let max = filter.maxRTTP99Ms, let v = w.rttP99Ms, v > max {
            over.append("rtt_p99 \(fmt(v)) ms > max \(fmt(max)) ms")
        }
        if let max = filter.maxRetransRate, let v = w.retransRate, v > max {
            over.append("retrans_rate \(fmt(v)) > max \(fmt(max))")
        }
        if let max = filter.maxDropRate, w.dropRate > max {
            over.append("drop_rate \(fmt(w.dropRate))/s > max \(fmt(max))/s")
        }
        if let max = filter.maxCPU, let v = w.cpuUtilization, v > max {
            over.append("cpu \(fmt(v)) > max \(fmt(max))")
        }
        return over.isEmpty ? .pass : .failed("edgenode: " + over.joined(separator: "; "))
    }

    /// Published priority; 0 for stale and unknown nodes (whatever the policy: with `.filter` they
    /// normally never reach prioritize, but if filter is not configured they must still rank last).
    func priority(for record: NodeRecord?, now: MonotonicInstant) -> Int {
        guard let r = record, !r.isStale(at: now, staleAfter: staleAfter) else { return 0 }
        return r.smoothing.priority
    }
}

/// Short decimal text for messages: up to 3 significant decimals, no trailing zeros.
func fmt(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}
