// The result files: experiment_summary.csv (one row per run), statistical_analysis.csv (per
// scenario × RPS × metric: mean and 95% CI per mode, relative change, Welch and Mann–Whitney
// p-values) and verdict.txt (the success criteria, each PASS / FAIL / NOT RUN with its numbers).
import EdgeCore
import Foundation

enum Reports {
    static func num(_ x: Double, _ digits: Int = 4) -> String {
        x.isFinite ? String(format: "%.\(digits)f", x) : (x.isNaN ? "" : (x > 0 ? "inf" : "-inf"))
    }

    static func writeSummary(_ records: [RunRecord], degradedNode: String, to path: String) throws {
        var csv = "scenario,mode,rps,rep,requests,ok,errors,error_rate,p50_ms,p99_ms,p99_ok_ms,qps,cpu_seconds,cpu_per_million,"
            + "reschedules,top_changes_by_order,watch_samples,rho,replicas_on_degraded,placement,node_badness,node_probe_latency_ms,host_load1_start,host_load1_end,notes\n"
        for r in records {
            let m = r.metrics, s = r.spec
            let nodes = Set(m.nodeBadness.keys).union(m.nodeLatencyMs.keys).sorted()
            let degraded = r.placement.filter { $0 == degradedNode }.count
            let fields: [String] = [
                s.scenario.rawValue, s.mode.rawValue, String(Int(s.rps)), String(s.rep), String(m.requests), String(m.ok),
                String(m.errors), num(m.errorRate, 6), num(m.p50Ms, 3), num(m.p99Ms, 3), num(m.p99OkMs, 3), num(m.qps, 2),
                num(m.cpuSeconds, 3), num(m.cpuPerMillion, 1), String(m.reschedules), String(m.topChangesByOrder), String(m.watchSamples), num(m.rho, 3),
                String(degraded), r.placement.joined(separator: ";"),
                nodes.map { "\($0)=\(num(m.nodeBadness[$0] ?? .nan, 3))" }.joined(separator: ";"),
                nodes.map { "\($0)=\(num(m.nodeLatencyMs[$0] ?? .nan, 3))" }.joined(separator: ";"),
                num(m.hostLoadStart, 2), num(m.hostLoadEnd, 2),
                r.notes.joined(separator: " | ").replacingOccurrences(of: ",", with: ";").replacingOccurrences(of: "\n", with: " "),
            ]
            csv += fields.joined(separator: ",") + "\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The metrics compared between modes, with how to read them from a run.
    static let metrics: [(name: String, value: (RunMetrics) -> Double)] = [
        ("p50_ms", { $0.p50Ms }), ("p99_ms", { $0.p99Ms }), ("error_rate", { $0.errorRate }), ("qps", { $0.qps }),
        ("cpu_per_million", { $0.cpuPerMillion }), ("reschedules", { Double($0.reschedules) }), ("rho", { $0.rho }),
    ]

    struct Comparison {
        var scenario: ScenarioID
        var rps: Double
        var metric: String
        var baseline: ExperimentStats.MeanCI
        var proposed: ExperimentStats.MeanCI
        var relativeChange: Double
        var welchP: Double
        var mannWhitneyP: Double
    }

    static func compare(_ records: [RunRecord]) -> [Comparison] {
        var out: [Comparison] = []
        let keys = records.map { "\($0.spec.scenario.rawValue)|\(Int($0.spec.rps))" }
        var seen = Set<String>()
        for (i, key) in keys.enumerated() where seen.insert(key).inserted {
            let s = records[i].spec
            let group = records.filter { $0.spec.scenario == s.scenario && $0.spec.rps == s.rps }
            for (name, value) in metrics {
                let b = group.filter { $0.spec.mode == .baseline }.map { value($0.metrics) }.filter(\.isFinite)
                let p = group.filter { $0.spec.mode == .proposed }.map { value($0.metrics) }.filter(\.isFinite)
                let bc = ExperimentStats.meanCI95(b), pc = ExperimentStats.meanCI95(p)
                out.append(Comparison(scenario: s.scenario, rps: s.rps, metric: name, baseline: bc, proposed: pc,
                                      relativeChange: ExperimentStats.relativeChange(control: bc.mean, treatment: pc.mean),
                                      welchP: ExperimentStats.welchTTest(p, b).pValue,
                                      mannWhitneyP: b.isEmpty || p.isEmpty ? .nan : ExperimentStats.mannWhitneyU(p, b).pValue))
            }
        }
        return out
    }

    static func writeStatistics(_ records: [RunRecord], to path: String) throws {
        var csv = "scenario,rps,metric,n_baseline,baseline_mean,baseline_ci95,n_proposed,proposed_mean,proposed_ci95,"
            + "relative_change,welch_t_p,mann_whitney_p\n"
        for c in compare(records) {
            csv += [c.scenario.rawValue, String(Int(c.rps)), c.metric, String(c.baseline.count), num(c.baseline.mean, 6),
                    num(c.baseline.halfWidth, 6), String(c.proposed.count), num(c.proposed.mean, 6), num(c.proposed.halfWidth, 6),
                    num(c.relativeChange, 4), num(c.welchP, 4), num(c.mannWhitneyP, 4)].joined(separator: ",") + "\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func pct(_ x: Double) -> String { x.isFinite ? String(format: "%+.1f%%", x * 100) : "n/a" }

    /// verdict.txt
    /// The workload's response traffic the placement sent to the degraded node, in Mbit/s: the
    /// rate times the share of replicas placed there (round-robin over replicas) times the response
    /// size. Mean over the runs of `mode` in `scenario`; nan without runs.
    static func degradedNodeLoadMbit(_ records: [RunRecord], scenario: ScenarioID, mode: Mode, degradedNode: String, responseBytes: Int) -> Double {
        let loads = records.filter { $0.spec.scenario == scenario && $0.spec.mode == mode && !$0.placement.isEmpty }.map { r in
            r.spec.rps * Double(r.placement.filter { $0 == degradedNode }.count) / Double(r.placement.count) * Double(responseBytes) * 8 / 1e6
        }
        return loads.isEmpty ? .nan : ExperimentStats.mean(loads)
    }

    static func verdict(records: [RunRecord], scenariosAsked: [ScenarioID], notRunnable: [ScenarioID: String],
                        mttr: MTTRRecord?, label: String, parameters: String, degradedNode: String, responseBytes: Int) -> String {
        let comps = compare(records)
        func rows(_ s: ScenarioID, _ metric: String) -> [Comparison] { comps.filter { $0.scenario == s && $0.metric == metric } }
        var lines: [String] = [
            "edgenode placement experiment (\(label))",
            "parameters: \(parameters)",
            "relative change = (proposed − baseline) / baseline of the per-run means; p = Welch t-test (Mann–Whitney in statistical_analysis.csv)",
            "",
        ]
        func scenarioLines(title: String, metric: String, threshold: Double, extra: ((ScenarioID, Comparison) -> (Bool, String))? = nil) {
            var overall: [String] = []
            var body: [String] = []
            for s in ScenarioID.allCases {
                if let why = notRunnable[s] { body.append("  \(s.rawValue): NOT RUN — \(why)"); overall.append("NOT RUN"); continue }
                guard scenariosAsked.contains(s) else { body.append("  \(s.rawValue): NOT RUN — not selected for this run"); overall.append("NOT RUN"); continue }
                let rs = rows(s, metric)
                guard !rs.isEmpty else { body.append("  \(s.rawValue): NOT RUN — no runs recorded"); overall.append("NOT RUN"); continue }
                var pass = true
                var parts: [String] = []
                var undefined = false
                for c in rs {
                    var ok = c.relativeChange.isFinite && c.relativeChange <= threshold
                    var note = ""
                    if metric == "error_rate" && c.baseline.mean == 0 {
                        undefined = true
                        note = " (no errors in baseline: a reduction is undefined)"
                        ok = false
                    }
                    if let extra { let (e, n) = extra(s, c); ok = ok && e; note += n }
                    pass = pass && ok
                    parts.append(String(format: "%d rps: baseline %@ → proposed %@ (%@, p=%@)%@", Int(c.rps),
                                        num(c.baseline.mean, 4), num(c.proposed.mean, 4), pct(c.relativeChange), num(c.welchP, 3), note))
                }
                let v = pass ? "PASS" : (undefined && rs.allSatisfy { $0.baseline.mean == 0 } ? "N/A" : "FAIL")
                overall.append(v)
                body.append("  \(s.rawValue) \(s.summary): \(v) — " + parts.joined(separator: "; "))
            }
            let o: String
            if overall.contains("FAIL") { o = "FAIL" }
            else if overall.contains("NOT RUN") { o = overall.contains("PASS") ? "NOT RUN (passed where run, not run everywhere)" : "NOT RUN" }
            else if overall.allSatisfy({ $0 == "N/A" }) { o = "N/A" }
            else { o = "PASS" }
            lines.append("\(title): \(o)")
            lines += body
        }
        scenarioLines(title: "p99 latency −10% in every scenario", metric: "p99_ms", threshold: -0.10)
        if records.contains(where: { $0.spec.scenario == .S3 }) {
            // tbf only queues what exceeds its rate; below the cap S3 differs from a healthy node by its 4 KiB burst alone
            lines.append(String(format: "  S3 load on the capped node (responses): baseline %@ Mbit/s, proposed %@ Mbit/s, against a 50 Mbit/s cap",
                                num(degradedNodeLoadMbit(records, scenario: .S3, mode: .baseline, degradedNode: degradedNode, responseBytes: responseBytes), 1),
                                num(degradedNodeLoadMbit(records, scenario: .S3, mode: .proposed, degradedNode: degradedNode, responseBytes: responseBytes), 1)))
        }
        scenarioLines(title: "error rate −20%", metric: "error_rate", threshold: -0.20)
        scenarioLines(title: "CPU per million messages −10% at equal throughput (QPS within ±5%)", metric: "cpu_per_million",
                      threshold: -0.10) { s, c in
            guard let q = comps.first(where: { $0.scenario == s && $0.rps == c.rps && $0.metric == "qps" }) else { return (false, " (no QPS)") }
            let equal = abs(q.relativeChange) <= 0.05
            return (equal, equal ? "" : " (throughput differs: QPS \(pct(q.relativeChange)))")
        }
        if let m = mttr {
            lines.append(String(format: "MTTR ≤ 3 min: %@ — %.2f s under %@: default scheduling restored %.3f s after SIGTERM to edge-controller "
                                + "(%d placement attempts), every re-placed replica answering at %.2f s; placement %@ → %@",
                                m.totalSeconds <= 180 ? "PASS" : "FAIL", m.totalSeconds, m.scenario.rawValue, m.decisionSeconds, m.attempts,
                                m.totalSeconds, m.before.joined(separator: ","), m.after.joined(separator: ",")))
            lines.append(String(format: "  measured on the bed's real controller: the scheduler configuration marks the extender ignorable, so stopping "
                                + "the controller is the rollback; edge-controller exited after %@ s. A frozen controller (SIGSTOP) instead cost "
                                + "%.2f s to place %d pods (httpTimeout %@ s per call, %d pods answered). Not included: kube-scheduler itself, "
                                + "the API server, image pulls, and removing the extender from the scheduler configuration for good.",
                                num(m.controllerExitSeconds, 3), m.hungPlacementSeconds, m.before.count, num(m.httpTimeout, 2), m.hungAnswers))
        } else {
            lines.append("MTTR ≤ 3 min: NOT RUN — disabled (--no-mttr) or no scenario ran")
        }
        let rhos = records.map(\.metrics.rho).filter(\.isFinite)
        let pooledB = records.flatMap { r in r.metrics.nodeBadness.keys.sorted().compactMap { n in r.metrics.nodeLatencyMs[n].map { _ in r.metrics.nodeBadness[n]! } } }
        let pooledL = records.flatMap { r in r.metrics.nodeBadness.keys.sorted().compactMap { n in r.metrics.nodeLatencyMs[n] } }
        let pooled = ExperimentStats.spearman(pooledB, pooledL)
        if rhos.isEmpty {
            lines.append("score–latency Spearman ρ ≥ 0.6: NOT RUN — no run had both scores and probe latencies")
        } else {
            let ci = ExperimentStats.meanCI95(rhos)
            lines.append(String(format: "score–latency Spearman ρ ≥ 0.6: %@ — mean per-run ρ %.3f ± %@ over %d runs (pooled over all node-runs: %.3f)",
                                ci.mean >= 0.6 ? "PASS" : "FAIL", ci.mean, num(ci.halfWidth, 3), rhos.count, pooled))
            lines.append("  ρ per run: nodes ranked by mean smoothed score badness (stale = 1) vs mean latency of probe requests to each node "
                + "(failed probes count at their time to fail); \(records.count - rhos.count) runs had a constant side (ρ undefined)")
        }
        let resched = records.map { $0.metrics.reschedulesPerMinute() }
        let flips = records.map { $0.metrics.perMinuteOfWatch($0.metrics.topChangesByOrder) }
        lines.append(String(format: "schedule stability (no criterion): the best node changed %.2f times per minute of /filter + /prioritize samples on average "
                            + "(%.2f top-node changes counting tie-break flips between equally ranked nodes)",
                            ExperimentStats.mean(resched), ExperimentStats.mean(flips)))
        let loads = records.flatMap { [$0.metrics.hostLoadStart, $0.metrics.hostLoadEnd] }.filter(\.isFinite)
        if !loads.isEmpty {
            lines.append(String(format: "host: 1-min load average during the measured load %.1f on average (max %.1f) on %d CPUs; the bed shares "
                + "the machine with whatever else runs, which inflates and scatters every latency (see host_load1_* per run)",
                                ExperimentStats.mean(loads), loads.max()!, ProcessInfo.processInfo.activeProcessorCount))
        }
        if records.contains(where: { $0.spec.scenario == .S4 }) && parameters.hasPrefix("bed: network namespaces") {
            lines.append("note: in the namespace bed every node shares one kernel, so the agents' CPU utilisation (/proc/stat) and run-queue "
                + "latency are host-wide and identical for all nodes: S4 can only be seen through its effect on TCP. "
                + "make experiment-vms gives each node its own kernel.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
