// The agent's Prometheus gauges the controller reads back: `edgenode_agent_up` and every
// exported signal of the catalogue (the same descriptions the agent's /metrics is made from, so
// an exported and an imported name cannot differ), and the PromQL that selects them.
import EdgeTelemetry

/// One gauge of the agent's `/metrics`: the up gauge, or a catalogue signal.
public struct AgentGauge: Sendable, Hashable, CustomStringConvertible {
    /// The metric name.
    public let metric: String
    /// The window signal it fills; nil for `up`.
    public let signal: TelemetrySignal?

    /// 1 while the agent's telemetry is attached; nodes at 0 are not fed (they go stale).
    public static let up = AgentGauge(metric: SignalMetric.agentUp.name, signal: nil)

    /// The gauge of an exported catalogue signal.
    public static func of(_ signal: TelemetrySignal) -> AgentGauge {
        precondition(signal.metric != nil, "\(signal.name) is not exported as a gauge")
        return AgentGauge(metric: signal.metric!.name, signal: signal)
    }

    /// `up`, then every exported signal in catalogue order.
    public static let allCases: [AgentGauge] = [up] + TelemetrySignal.exported.map { of($0) }

    public var description: String { metric }
}

/// The PromQL the source sends, for one `[source]` configuration.
public struct AgentQueries: Sendable, Equatable {
    /// `source.matchers`, "" for none.
    public let matchers: String

    public init(matchers: String) {
        self.matchers = matchers.trimmingCharacters(in: .whitespaces)
    }

    /// `ebpf_cpu_utilization{job="edgenode"}`, or the bare name without matchers.
    public func selector(_ gauge: AgentGauge) -> String {
        matchers.isEmpty ? gauge.metric : "\(gauge.metric){\(matchers)}"
    }

    /// When each node was last scraped: `timestamp()` gives a sample's own time, not the evaluation
    /// time, so a node whose scrapes stopped shows its age here.
    public var scrapeTime: String { "timestamp(\(selector(.up)))" }
}
