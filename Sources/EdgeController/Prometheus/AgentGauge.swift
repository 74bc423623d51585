// The agent's Prometheus gauges the controller reads back (names as edge-agent exports them, see
// Sources/EdgeAgent/AgentMetrics.swift and edge-agent(8)), and the PromQL that selects them.
import EdgeCore

/// One gauge of the agent's `/metrics` and the TelemetryWindow field it fills.
public enum AgentGauge: String, CaseIterable, Sendable {
    /// 1 while the agent's telemetry is attached; nodes at 0 are not fed (they go stale).
    case up = "edgenode_agent_up"
    case rttP50 = "ebpf_rtt_p50_milliseconds"
    case rttP99 = "ebpf_rtt_p99_milliseconds"
    case retransRate = "ebpf_tcp_retrans_rate"
    case dropRate = "ebpf_drop_rate"
    case dropRateWeighted = "ebpf_drop_rate_weighted"
    case runqlatP95 = "ebpf_runqlat_p95_milliseconds"
    case cpu = "ebpf_cpu_utilization"
    case rttSamples = "edgenode_rtt_samples"
    case windowSeconds = "edgenode_window_seconds"

    /// The metric name.
    public var metric: String { rawValue }
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
