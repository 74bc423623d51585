// Prometheus exposition of the agent's window, with the seed's metric names so its queries and
// dashboards work unchanged. Updated once per tick from the collector's window; scrapes only
// serialise what is already there.
import EdgeCore
import Foundation
import Prometheus

public final class AgentMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let rttP50, rttP99, retransRate, dropRate, dropRateWeighted, runqlatP95, cpu: Gauge
    private let rttSamples, windowSeconds, up: Gauge
    private let lock = NSLock()
    private var reasonGauges: [String: Gauge] = [:]

    public init() {
        rttP50 = registry.makeGauge(name: "ebpf_rtt_p50_milliseconds", help: "TCP smoothed RTT, median over the window (tcp_probe)")
        rttP99 = registry.makeGauge(name: "ebpf_rtt_p99_milliseconds", help: "TCP smoothed RTT, 99th percentile over the window")
        retransRate = registry.makeGauge(name: "ebpf_tcp_retrans_rate", help: "TCP retransmits per segment sent over the window")
        dropRate = registry.makeGauge(name: "ebpf_drop_rate", help: "Packets dropped per second (kfree_skb, all reasons)")
        dropRateWeighted = registry.makeGauge(name: "ebpf_drop_rate_weighted", help: "Packets dropped per second, weighted by reason")
        runqlatP95 = registry.makeGauge(name: "ebpf_runqlat_p95_milliseconds", help: "Run-queue latency, 95th percentile over the window")
        cpu = registry.makeGauge(name: "ebpf_cpu_utilization", help: "CPU utilisation in [0,1] over the window (/proc/stat)")
        rttSamples = registry.makeGauge(name: "edgenode_rtt_samples", help: "RTT samples in the window")
        windowSeconds = registry.makeGauge(name: "edgenode_window_seconds", help: "Seconds covered by the telemetry window")
        up = registry.makeGauge(name: "edgenode_agent_up", help: "1 while the agent's telemetry is attached")
    }

    /// Absent signals export NaN: "no data" stays distinguishable from a real zero.
    public func update(from w: TelemetryWindow) {
        rttP50.set(to: w.rttP50Ms ?? .nan)
        rttP99.set(to: w.rttP99Ms ?? .nan)
        retransRate.set(to: w.retransRate ?? .nan)
        dropRate.set(to: w.dropRate)
        dropRateWeighted.set(to: w.dropRateWeighted)
        runqlatP95.set(to: w.runqlatP95Ms ?? .nan)
        cpu.set(to: w.cpuUtilization ?? .nan)
        rttSamples.set(to: Double(w.rttSamples))
        windowSeconds.set(to: w.windowSeconds)
        up.set(to: 1)
        lock.lock()
        defer { lock.unlock() }
        var seen = Set<String>()
        for d in w.drops {
            seen.insert(d.reason)
            let g = reasonGauges[d.reason] ?? {
                let g = registry.makeGauge(name: "ebpf_drop_reason_rate", labels: [("reason", d.reason)],
                                           help: "Packets dropped per second by kfree_skb reason")
                reasonGauges[d.reason] = g
                return g
            }()
            g.set(to: d.ratePerSecond)
        }
        // a reason that left the window reads 0, not its last rate
        for (reason, g) in reasonGauges where !seen.contains(reason) { g.set(to: 0) }
    }

    public func markDown() { up.set(to: 0) }

    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
