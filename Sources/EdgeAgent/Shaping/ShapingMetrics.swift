// Per-class shaping counters for Prometheus, registered on the agent's registry:
// edgenode_shaping_{bytes,packets,drops,ecn_marks}_total{class} and the class's rate.
// The BPF counters are cumulative; Prometheus counters only go up, so each refresh adds the
// difference (a class re-created with lower counters restarts from its new value).
import EdgeAPI
import Foundation
import Prometheus

public final class ShapingMetrics: @unchecked Sendable {
    private let registry: PrometheusCollectorRegistry
    private let lock = NSLock()
    private var series: [String: ClassSeries] = [:]

    private final class ClassSeries {
        let bytes, packets, drops, ecnMarks: Counter
        let rate: Gauge
        var last = (bytes: UInt64(0), packets: UInt64(0), drops: UInt64(0), ecnMarks: UInt64(0))

        init(registry: PrometheusCollectorRegistry, selector: String) {
            let labels = [("class", selector)]
            bytes = registry.makeCounter(name: "edgenode_shaping_bytes_total", labels: labels,
                                         help: "Wire bytes accepted by the EDT shaper, per class")
            packets = registry.makeCounter(name: "edgenode_shaping_packets_total", labels: labels,
                                           help: "Packets accepted by the EDT shaper, per class")
            drops = registry.makeCounter(name: "edgenode_shaping_drops_total", labels: labels,
                                         help: "Packets dropped past the class horizon")
            ecnMarks = registry.makeCounter(name: "edgenode_shaping_ecn_marks_total", labels: labels,
                                            help: "Packets CE-marked by the EDT shaper")
            rate = registry.makeGauge(name: "edgenode_shaping_rate_bits_per_second", labels: labels,
                                      help: "Configured egress rate of the class")
        }
    }

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Brings the series in line with `classes`; classes that are gone are unregistered.
    public func update(_ classes: [ShapingClassInfo]) {
        lock.lock()
        defer { lock.unlock() }
        var seen = Set<String>()
        for c in classes {
            seen.insert(c.selector)
            let s = series[c.selector] ?? {
                let s = ClassSeries(registry: registry, selector: c.selector)
                series[c.selector] = s
                return s
            }()
            func advance(_ counter: Counter, _ now: UInt64, _ before: UInt64) {
                let delta = now >= before ? now - before : now
                if delta > 0 { counter.increment(by: Int64(clamping: delta)) }
            }
            advance(s.bytes, c.bytes, s.last.bytes)
            advance(s.packets, c.packets, s.last.packets)
            advance(s.drops, c.drops, s.last.drops)
            advance(s.ecnMarks, c.ecnMarks, s.last.ecnMarks)
            s.last = (c.bytes, c.packets, c.drops, c.ecnMarks)
            s.rate.set(to: Double(c.rate.bitsPerSecond))
        }
        for (selector, s) in series where !seen.contains(selector) {
            registry.unregisterCounter(s.bytes)
            registry.unregisterCounter(s.packets)
            registry.unregisterCounter(s.drops)
            registry.unregisterCounter(s.ecnMarks)
            registry.unregisterGauge(s.rate)
            series[selector] = nil
        }
    }
}
