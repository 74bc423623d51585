// The controller's Prometheus metrics.
//
// Per-node gauges are derived from the registry at scrape time (not pushed on every report), so a
// scrape shows a consistent picture and gauges of nodes that left the registry disappear.
import Foundation
import Prometheus

/// Counters, histograms and per-node gauges, rendered for `/metrics`.
public final class ControllerMetrics: @unchecked Sendable {
    // @unchecked: `nodeGauges` is behind `lock`; Prometheus types are Sendable.
    public let prometheus: PrometheusCollectorRegistry
    private let lock = NSLock()
    private var nodeGauges: [String: NodeGauges] = [:]

    /// The extender's latency buckets: kube-scheduler's default extender timeout is 5 s, and a
    /// healthy answer takes well under 10 ms.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(1000), .milliseconds(5000),
    ]

    private struct NodeGauges {
        let priority: Gauge
        let raw: Gauge
        let age: Gauge
        let penalty: Gauge
        let suppressed: Gauge
    }

    public init(prometheus: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.prometheus = prometheus
    }

    /// Counts one pushed report by outcome.
    public func recordReport(_ outcome: IngestOutcome) {
        prometheus.makeCounter(name: "edgenode_reports_total", labels: [("result", outcome.metricLabel)],
                               help: "Reports pushed by agents, by result").increment()
    }

    /// Counts one extender call and its handling time.
    public func recordExtender(verb: String, status: Int, duration: Duration) {
        prometheus.makeCounter(name: "edgenode_extender_requests_total", labels: [("verb", verb), ("code", String(status))],
                               help: "kube-scheduler extender requests, by verb and HTTP status").increment()
        prometheus.makeDurationHistogram(name: "edgenode_extender_request_duration_seconds", labels: [("verb", verb)],
                                         buckets: Self.latencyBuckets,
                                         help: "Time to decode, decide and encode an extender request").record(duration)
    }

    /// Whether an extender answer was given in panic (too few fresh candidates).
    public func recordPanic(verb: String, _ panic: Bool) {
        prometheus.makeGauge(name: "edgenode_extender_panic", labels: [("verb", verb)],
                             help: "1 when the last answer was given in panic (fewer fresh candidates than registry.panic_threshold: "
                                + "nothing filtered, priorities flat), else 0").set(Double(panic ? 1 : 0))
        if panic {
            prometheus.makeCounter(name: "edgenode_extender_panic_total", labels: [("verb", verb)],
                                   help: "Extender answers given in panic").increment()
        }
    }

    /// The share of fresh candidates and the rejections of one /filter call.
    public func recordFilter(_ f: FilterSummary) {
        prometheus.makeGauge(name: "edgenode_filter_fresh_share",
                             help: "Share of the last /filter call's candidates with fresh telemetry")
            .set(f.candidates > 0 ? Double(f.fresh) / Double(f.candidates) : 1)
        for (cause, n) in f.rejected {
            prometheus.makeCounter(name: "edgenode_filter_rejected_total", labels: [("cause", cause)],
                                   help: "Nodes turned away by /filter, by cause (stale, suppressed, limit)").increment(by: Int64(n))
        }
    }

    /// Counts what one answered extender call decided: each filtered node by reason kind, and
    /// for /prioritize the node ranked first (one placement decision).
    public func recordDecision(_ reply: ExtenderReply) {
        guard reply.status == 200 else { return }
        for reason in reply.filteredReasons {
            for kind in ExtenderPolicy.reasonKinds(reason) {
                prometheus.makeCounter(name: "edgenode_extender_filtered_nodes_total", labels: [("reason", kind)],
                                       help: "Nodes /filter removed, by reason (a node over two limits counts under both)").increment()
            }
        }
        if let node = reply.placedOn {
            prometheus.makeCounter(name: "edgenode_placement_decisions_total", labels: [("node", node)],
                                   help: "/prioritize answers, by the node ranked first (where the pod is steered)").increment()
        }
    }

    /// Brings per-node gauges in line with the registry and renders the exposition text.
    public func render(nodes: [NodeSnapshot]) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        var seen = Set<String>()
        for n in nodes {
            seen.insert(n.name)
            let g = nodeGauges[n.name] ?? makeGauges(n.name)
            nodeGauges[n.name] = g
            g.priority.set(Double(n.extenderPriority))
            g.raw.set(n.raw.total)
            g.age.set(n.age.seconds)
            g.penalty.set(n.damping.penalty)
            g.suppressed.set(Double(n.damping.suppressed ? 1 : 0))
        }
        for (name, g) in nodeGauges where !seen.contains(name) {
            prometheus.unregisterGauge(g.priority)
            prometheus.unregisterGauge(g.raw)
            prometheus.unregisterGauge(g.age)
            prometheus.unregisterGauge(g.penalty)
            prometheus.unregisterGauge(g.suppressed)
            nodeGauges.removeValue(forKey: name)
        }
        return prometheus.emitToBuffer()
    }

    private func makeGauges(_ node: String) -> NodeGauges {
        NodeGauges(
            // The name and labels follow kube-scheduler's own plugin score metric so dashboards can
            // show edgenode next to the built-in plugins.
            priority: prometheus.makeGauge(name: "scheduler_framework_score", labels: [("plugin", "edgenode"), ("node", node)],
                                           help: "Extender priority (0-10) the controller returns for the node"),
            raw: prometheus.makeGauge(name: "edgenode_node_score_raw", labels: [("node", node)],
                                      help: "Latest raw badness score of the node in [0,1]"),
            age: prometheus.makeGauge(name: "edgenode_report_age_seconds", labels: [("node", node)],
                                      help: "Seconds since the node's last accepted report"),
            penalty: prometheus.makeGauge(name: "edgenode_node_damping_penalty", labels: [("node", node)],
                                          help: "Flap damping penalty of the node (decayed to now)"),
            suppressed: prometheus.makeGauge(name: "edgenode_node_suppressed", labels: [("node", node)],
                                             help: "1 while flap damping suppresses the node, else 0"))
    }
}
