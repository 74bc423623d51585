// Prometheus exposition of the agent's window, with the seed's metric names so its queries and
// dashboards work unchanged. Updated once per tick from the collector's window; scrapes only
// serialise what is already there.
import EdgeTelemetry
import Foundation
import Prometheus

public final class AgentMetrics: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry
    /// One gauge per exported catalogue signal, in catalogue order.
    private let signalGauges: [(signal: TelemetrySignal, gauge: Gauge)]
    private let up: Gauge
    private let lock = NSLock()
    private var reasonGauges: [String: Gauge] = [:]

    public init() {
        let registry = PrometheusCollectorRegistry()
        signalGauges = TelemetrySignal.exported.map { s in
            (s, registry.makeGauge(name: s.metric!.name, help: s.metric!.help))
        }
        up = registry.makeGauge(name: SignalMetric.agentUp.name, help: SignalMetric.agentUp.help)
        self.registry = registry
    }

    /// Absent signals export NaN: "no data" stays distinguishable from a real zero.
    public func update(from w: TelemetryWindow) {
        for (signal, gauge) in signalGauges { gauge.set(to: signal.value(in: w) ?? .nan) }
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
