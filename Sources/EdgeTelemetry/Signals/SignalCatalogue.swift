// The signal catalogue: every signal of the telemetry window, described once. Adding a signal
// means one entry here, a field in TelemetryWindow and, for a new sum, a case below and the code
// that fills it in the agent. The agent's /metrics, ingest validation, the Prometheus source,
// the score, the extender's filter and edgectl's tables pick it up from here. See README.md,
// "Adding a signal".
//
// Order matters where lists are shown: /metrics, tables, explanations and filter reasons follow it.

// The sums the signals are made of. A signal computed from a new kernel or /proc sum adds a
// case here and fills it in the agent (KernelTelemetry.read or TelemetryCollector).

/// The sums the aggregator keeps per window, one histogram or counter per kind. A signal names
/// the sums it is made from; the agent's collector fills them from the kernel and /proc.
public enum TelemetryHistogram: String, CaseIterable, Sendable {
    /// TCP smoothed RTT samples, ns (tcp_probe).
    case rtt
    /// Run-queue latency samples, ns (sched_wakeup → sched_switch).
    case runqlat
}

/// Counters summed per window (deltas per interval).
public enum TelemetryCounter: String, CaseIterable, Sendable {
    /// TCP segments retransmitted (tcp_retransmit_skb).
    case retransmits
    /// TCP segments sent (/proc/net/snmp OutSegs): the retransmit rate's denominator.
    case segmentsOut
    /// CPU ticks busy (/proc/stat or the telemetry.cgroup's usage).
    case cpuBusyTicks
    /// CPU ticks elapsed, busy or not; 0 = no CPU reading.
    case cpuTotalTicks
}

// The signals.

extension TelemetrySignal {
    public static let rttP50 = TelemetrySignal(
        name: "rtt_p50_ms", source: .quantile(.rtt, 0.5), field: .optional(\.rttP50Ms),
        unit: "ms", format: .milliseconds, validity: .nonNegative,
        metric: SignalMetric("ebpf_rtt_p50_milliseconds", help: "TCP smoothed RTT, median over the window (tcp_probe)"),
        telemetryRow: TelemetryRow("rtt p50 (ms)") { String($0.rttSamples) })

    public static let rttP99 = TelemetrySignal(
        name: "rtt_p99_ms", source: .quantile(.rtt, 0.99), field: .optional(\.rttP99Ms),
        unit: "ms", format: .milliseconds, validity: .nonNegative,
        metric: SignalMetric("ebpf_rtt_p99_milliseconds", help: "TCP smoothed RTT, 99th percentile over the window"),
        score: ScoreRole("rtt_p99", weight: 0.30, bounds: 0...200, minmaxFloor: 1),
        filter: FilterRole("max_rtt_p99_ms", reason: "rtt_p99"),
        telemetryRow: TelemetryRow("rtt p99 (ms)") { String($0.rttSamples) }, nodesColumn: "RTT P99 MS")

    public static let rttSamples = TelemetrySignal(
        name: "rtt_samples", source: .samples(.rtt), field: .count(\.rttSamples),
        unit: "samples", format: .count, validity: .any,
        metric: SignalMetric("edgenode_rtt_samples", help: "RTT samples in the window"))

    public static let retransRate = TelemetrySignal(
        name: "retrans_rate", source: .ratio(.retransmits, over: .segmentsOut, clamped: false),
        field: .optional(\.retransRate), unit: "ratio", format: .ratio, validity: .fraction,
        metric: SignalMetric("ebpf_tcp_retrans_rate", help: "TCP retransmits per segment sent over the window"),
        score: ScoreRole("retrans", weight: 0.20, bounds: 0...0.05, minmaxFloor: 0.005),
        filter: FilterRole("max_retrans_rate", reason: "retrans_rate", maximum: 1),
        telemetryRow: TelemetryRow("retrans rate") { "\($0.retransmits)/\($0.segmentsOut)" }, nodesColumn: "RETRANS")

    public static let retransmits = TelemetrySignal(
        name: "retransmits", source: .count(.retransmits), field: .count(\.retransmits),
        unit: "segments", format: .count, validity: .any)

    public static let segmentsOut = TelemetrySignal(
        name: "segments_out", source: .count(.segmentsOut), field: .count(\.segmentsOut),
        unit: "segments", format: .count, validity: .any)

    public static let dropRate = TelemetrySignal(
        name: "drop_rate", source: .dropsPerSecond(weighted: false), field: .plain(\.dropRate),
        unit: "drops/s", format: .rate, validity: .nonNegative,
        metric: SignalMetric("ebpf_drop_rate", help: "Packets dropped per second (kfree_skb, all reasons)"),
        filter: FilterRole("max_drop_rate", reason: "drop_rate"),
        telemetryRow: TelemetryRow("drops (/s)") { w in String(w.drops.reduce(0) { $0 + $1.count }) }, inNodeList: true)

    public static let dropRateWeighted = TelemetrySignal(
        name: "drop_rate_weighted", source: .dropsPerSecond(weighted: true), field: .plain(\.dropRateWeighted),
        unit: "drops/s", format: .rate, validity: .nonNegative,
        metric: SignalMetric("ebpf_drop_rate_weighted", help: "Packets dropped per second, weighted by reason"),
        score: ScoreRole("drop_weighted", weight: 0.20, bounds: 0...100, minmaxFloor: 1),
        telemetryRow: TelemetryRow("drops weighted (/s)"), nodesColumn: "DROPS/S")

    public static let runqlatP95 = TelemetrySignal(
        name: "runqlat_p95_ms", source: .quantile(.runqlat, 0.95), field: .optional(\.runqlatP95Ms),
        unit: "ms", format: .milliseconds, validity: .nonNegative,
        metric: SignalMetric("ebpf_runqlat_p95_milliseconds", help: "Run-queue latency, 95th percentile over the window"),
        score: ScoreRole("runqlat_p95", weight: 0.15, bounds: 0...20, minmaxFloor: 1),
        telemetryRow: TelemetryRow("runqlat p95 (ms)") { String($0.runqlatSamples) }, nodesColumn: "RUNQ P95 MS")

    public static let runqlatSamples = TelemetrySignal(
        name: "runqlat_samples", source: .samples(.runqlat), field: .count(\.runqlatSamples),
        unit: "samples", format: .count, validity: .any)

    public static let cpu = TelemetrySignal(
        name: "cpu_utilization", source: .ratio(.cpuBusyTicks, over: .cpuTotalTicks, clamped: true),
        field: .optional(\.cpuUtilization), unit: "ratio", format: .percent, validity: .fraction,
        metric: SignalMetric("ebpf_cpu_utilization", help: "CPU utilisation in [0,1] over the window (/proc/stat)"),
        score: ScoreRole("cpu", weight: 0.15, bounds: 0...1, minmaxFloor: 0.1),
        filter: FilterRole("max_cpu", reason: "cpu", maximum: 1),
        telemetryRow: TelemetryRow("cpu"), nodesColumn: "CPU")

    public static let windowSeconds = TelemetrySignal(
        name: "window_seconds", source: .coveredSeconds, field: .plain(\.windowSeconds),
        unit: "s", format: .seconds, validity: .nonNegative,
        metric: SignalMetric("edgenode_window_seconds", help: "Seconds covered by the telemetry window"))

    /// Every signal, in the order lists show them.
    public static let catalogue: [TelemetrySignal] = [
        rttP50, rttP99, rttSamples, retransRate, retransmits, segmentsOut, dropRate, dropRateWeighted,
        runqlatP95, runqlatSamples, cpu, windowSeconds,
    ]

    /// The signals the agent exports as gauges (and the controller's Prometheus source reads back).
    public static let exported: [TelemetrySignal] = catalogue.filter { $0.metric != nil }

    /// The signals `[filter]` can limit, in the order filter reasons list them.
    public static let filterable: [TelemetrySignal] = catalogue.filter { $0.filter != nil }

    /// The signals `nodes.list` rows carry, in the order `edgectl nodes` shows them.
    public static let nodeList: [TelemetrySignal] = catalogue.filter(\.inNodeList)

    /// The catalogue entry with this JSON name.
    public static func named(_ name: String) -> TelemetrySignal? { catalogue.first { $0.name == name } }
}

extension SignalMetric {
    /// `edgenode_agent_up`: 1 while the agent's telemetry is attached. Not a signal of the window:
    /// the controller's Prometheus source feeds only nodes whose agent exports 1.
    public static let agentUp = SignalMetric("edgenode_agent_up", help: "1 while the agent's telemetry is attached")
}
