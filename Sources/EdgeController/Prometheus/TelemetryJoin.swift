// Per-gauge query results joined into one TelemetryWindow per node, on the node label. What cannot
// be joined cleanly is named as a problem (for the log) instead of guessed at.
import EdgeTelemetry

/// The outcome of joining one poll's query results.
public struct JoinedTelemetry: Sendable, Equatable {
    /// Validated windows, sorted by node name.
    public var windows: [TelemetryWindow]
    /// Nodes whose agent exports `edgenode_agent_up 0` (telemetry detached): left to go stale.
    public var agentsDown: [String]
    /// What is wrong with the data, keyed so that the same problem keeps the same key from poll to poll
    /// (the source logs each key once, and again only after it went away).
    public var problems: [String: String]
}

public enum TelemetryJoin {
    /// What `agent_version` reads for nodes fed from Prometheus: the agent's exposition has no version.
    public static let agentVersion = "unknown (prometheus source)"

    /// Joins the results of `AgentQueries.scrapeTime` and of every gauge's selector.
    /// - Parameters:
    ///   - scrapeTimes: `timestamp(edgenode_agent_up…)`: one series per scraped agent; defines the node set.
    ///   - gauges: each gauge's samples; a gauge without an entry counts as returning no series.
    ///   - nodeLabel: the label naming the node (`source.node_label`).
    public static func join(scrapeTimes: [PrometheusSample], gauges: [AgentGauge: [PrometheusSample]],
                            nodeLabel: String) -> JoinedTelemetry {
        var problems: [String: String] = [:]
        let hint = "label the agents' series with it in the scrape config (see edge-controller.toml(5))"

        let times = index(scrapeTimes, what: "timestamp(\(AgentGauge.up.metric))", nodeLabel: nodeLabel,
                          hint: hint, problems: &problems)
        var values: [AgentGauge: [String: Double]] = [:]
        var ambiguous = times.duplicates
        for gauge in AgentGauge.allCases {
            let samples = gauges[gauge] ?? []
            if samples.isEmpty && !scrapeTimes.isEmpty {
                problems["missing:\(gauge.metric)"] = "no series of \(gauge.metric) although agents are scraped: "
                    + "an agent older than the controller, or a relabelling rule that drops it"
            }
            let idx = index(samples, what: gauge.metric, nodeLabel: nodeLabel, hint: hint, problems: &problems)
            values[gauge] = idx.byNode
            ambiguous.formUnion(idx.duplicates)
        }
        for node in ambiguous.sorted() {
            problems["duplicate:\(node)"] = "more than one series carries \(nodeLabel)=\"\(node)\" (scraped by two jobs, "
                + "or two agents with one name?): node skipped; narrow source.matchers, e.g. job=\"edgenode\""
        }

        var windows: [TelemetryWindow] = []
        var down: [String] = []
        for (node, scrapedAt) in times.byNode.sorted(by: { $0.key < $1.key }) where !ambiguous.contains(node) {
            func value(_ g: AgentGauge) -> Double? { values[g]?[node] }

            let missing = AgentGauge.allCases.filter { value($0) == nil && !(gauges[$0] ?? []).isEmpty }
            if !missing.isEmpty {
                problems["partial:\(node)"] = "node \(node): no series of \(missing.map(\.metric).joined(separator: ", ")); "
                    + "those signals are taken as absent"
            }
            guard Self.signal(value(.up)) == 1 else {
                if value(.up) != nil { down.append(node) }
                continue
            }
            var window = TelemetryWindow(node: node, agentVersion: agentVersion, generatedAt: scrapedAt, windowSeconds: 0)
            for gauge in AgentGauge.allCases {
                if let signal = gauge.signal { signal.set(Self.signal(value(gauge)), in: &window) }
            }
            do {
                try ReportValidation.validate(window)
                windows.append(window)
            } catch {
                problems["invalid:\(node)"] = "node \"\(node)\" skipped: \(error)"
            }
        }
        return JoinedTelemetry(windows: windows, agentsDown: down, problems: problems)
    }

    /// Series by node label value; series without the label are counted into `problems`, and a node
    /// with two series is returned in `duplicates` (which one is right cannot be told).
    static func index(_ samples: [PrometheusSample], what: String, nodeLabel: String, hint: String,
                      problems: inout [String: String]) -> (byNode: [String: Double], duplicates: Set<String>) {
        var byNode: [String: Double] = [:]
        var duplicates = Set<String>()
        var unlabelled = 0
        for s in samples {
            guard let node = s.labels[nodeLabel], !node.isEmpty else {
                unlabelled += 1
                continue
            }
            if byNode.updateValue(s.value, forKey: node) != nil { duplicates.insert(node) }
        }
        if unlabelled > 0 {
            problems["unlabelled:\(what)"] = "\(unlabelled) series of \(what) have no \"\(nodeLabel)\" label and are ignored: \(hint)"
        }
        return (byNode, duplicates)
    }

    /// NaN is how the agent exports "no samples in the window": absent, never 0.
    static func signal(_ v: Double?) -> Double? { v.flatMap { $0.isNaN ? nil : $0 } }
}
