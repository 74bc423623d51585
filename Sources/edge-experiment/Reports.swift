// The result files: experiment_summary.csv (one row per run), statistical_analysis.csv (per
// scenario × RPS × metric: mean and 95% CI per mode, relative change, Welch and Mann–Whitney
// p-values) and verdict.txt (the success criteria, each PASS / FAIL / NOT RUN with its numbers).
import EdgeCore
import EdgeLab
import Foundation

enum Reports {
    static func num(_ x: Double, _ digits: Int = 4) -> String {
        x.isFinite ? String(format: "%.\(digits)f", x) : (x.isNaN ? "" : (x > 0 ? "inf" : "-inf"))
    }

    static func writeSummary(_ records: [RunRecord], degradedNode: String, to path: String) throws {
        var csv = "scenario,mode,rps,rep,workload,response_bytes,requests,ok,errors,error_rate,retrans_segs,kernel_drops,p50_ms,p99_ms,p99_ok_ms,qps,cpu_seconds,cpu_per_million,"
            + "reschedules,top_changes_by_order,watch_samples,rho,replicas_on_degraded,placement,node_badness,node_probe_latency_ms,node_retrans_segs,node_kernel_drops,"
            + "host_load1_start,host_load1_end,notes\n"
        for r in records {
            let m = r.metrics, s = r.spec
            let nodes = Set(m.nodeBadness.keys).union(m.nodeLatencyMs.keys).sorted()
            let degraded = r.placement.filter { $0 == degradedNode }.count
            let fields: [String] = [
                s.scenario.rawValue, s.mode.rawValue, String(Int(s.rps)), String(s.rep), s.workload.rawValue, String(r.responseBytes),
                String(m.requests), String(m.ok), String(m.errors), num(m.errorRate, 6), num(m.retransSegs, 0), num(m.kernelDrops, 0), num(m.p50Ms, 3), num(m.p99Ms, 3), num(m.p99OkMs, 3), num(m.qps, 2),
                num(m.cpuSeconds, 3), num(m.cpuPerMillion, 1), String(m.reschedules), String(m.topChangesByOrder), String(m.watchSamples), num(m.rho, 3),
                String(degraded), r.placement.joined(separator: ";"),
                nodes.map { "\($0)=\(num(m.nodeBadness[$0] ?? .nan, 3))" }.joined(separator: ";"),
                nodes.map { "\($0)=\(num(m.nodeLatencyMs[$0] ?? .nan, 3))" }.joined(separator: ";"),
                m.nodeRetrans.keys.sorted().map { "\($0)=\(m.nodeRetrans[$0]!)" }.joined(separator: ";"),
                m.nodeDrops.keys.sorted().map { "\($0)=\(m.nodeDrops[$0]!)" }.joined(separator: ";"),
                num(m.hostLoadStart, 2), num(m.hostLoadEnd, 2),
                r.notes.joined(separator: " | ").replacingOccurrences(of: ",", with: ";").replacingOccurrences(of: "\n", with: " "),
            ]
            csv += fields.joined(separator: ",") + "\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// placement.csv: where each run's replicas went (kept with the reference runs).
    static func writePlacement(_ records: [RunRecord], degradedNode: String, to path: String) throws {
        var csv = "scenario,mode,rps,rep,workload,placement,replicas_on_degraded,host_load1_start,host_load1_end\n"
        for r in records {
            csv += [r.spec.scenario.rawValue, r.spec.mode.rawValue, String(Int(r.spec.rps)), String(r.spec.rep), r.spec.workload.rawValue,
                    r.placement.joined(separator: ";"), String(r.placement.filter { $0 == degradedNode }.count),
                    num(r.metrics.hostLoadStart, 2), num(r.metrics.hostLoadEnd, 2)].joined(separator: ",") + "\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The metrics compared between modes, with how to read them from a run.
    static let metrics: [(name: String, value: (RunMetrics) -> Double)] = [
        ("p50_ms", { $0.p50Ms }), ("p99_ms", { $0.p99Ms }), ("error_rate", { $0.errorRate }),
        ("retrans_segs", { $0.retransSegs }), ("kernel_drops", { $0.kernelDrops }), ("retrans_and_drops", { $0.retransAndDrops }), ("qps", { $0.qps }),
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

    /// One line for a criterion over its scenarios.
    static func summarise(_ results: [String]) -> String {
        if results.contains("FAIL") { return "FAIL" }
        if results.contains("NOT RUN") { return results.contains("PASS") ? "NOT RUN (passed where run, not run everywhere)" : "NOT RUN" }
        if !results.isEmpty && results.allSatisfy({ $0 == "N/A" }) { return "N/A" }
        return results.isEmpty ? "NOT RUN" : "PASS"
    }

    /// The two overall verdicts: the study's (success if one or more criteria hold) and the strict one
    /// (every criterion in every scenario it is judged in).
    static func overallLines(_ outcome: [(criterion: String, results: [(ScenarioID?, String)])]) -> [String] {
        func name(_ c: String, _ s: ScenarioID?) -> String { s.map { "\(c) [\($0.rawValue)]" } ?? c }
        let holding = outcome.filter { o in !o.results.isEmpty && o.results.allSatisfy { $0.1 == "PASS" } }.map(\.criterion)
        let pairs = outcome.flatMap { o in o.results.filter { $0.1 == "PASS" }.map { name(o.criterion, $0.0) } }
        let failing = outcome.flatMap { o in o.results.filter { $0.1 != "PASS" }.map { "\(name(o.criterion, $0.0)) \($0.1)" } }
        return [
            "overall, the study's rule (success if one or more criteria hold): \(holding.isEmpty ? "FAILURE" : "SUCCESS") — "
                + "criteria holding in every scenario they are judged in: \(holding.isEmpty ? "none" : holding.joined(separator: "; "))",
            "  criterion–scenario pairs that hold: \(pairs.isEmpty ? "none" : pairs.joined(separator: "; "))",
            "overall, strict (every criterion in every scenario): \(failing.isEmpty && !outcome.isEmpty ? "PASS" : "FAIL")"
                + (failing.isEmpty ? "" : " — not holding: \(failing.joined(separator: "; "))"),
        ]
    }

    static func pct(_ x: Double) -> String { x.isFinite ? String(format: "%+.1f%%", x * 100) : "n/a" }

    /// verdict.txt
    /// The workload's response traffic the placement sent to the degraded node, in Mbit/s: the
    /// rate times the share of replicas placed there (round-robin over replicas) times the response
    /// size. Mean over the runs of `mode` in `scenario`; nan without runs.
    static func degradedNodeLoadMbit(_ records: [RunRecord], scenario: ScenarioID, mode: Mode, degradedNode: String) -> Double {
        let loads = records.filter { $0.spec.scenario == scenario && $0.spec.mode == mode && !$0.placement.isEmpty }.map { r in
            r.spec.rps * Double(r.placement.filter { $0 == degradedNode }.count) / Double(r.placement.count) * Double(r.responseBytes) * 8 / 1e6
        }
        return loads.isEmpty ? .nan : ExperimentStats.mean(loads)
    }

    /// The scenarios each criterion is judged in (the issue's targets).
    static let criterionScenarios: [String: [ScenarioID]] = [
        "p99": ScenarioID.allCases, "reliability": [.S2, .S3, .S5], "cpu": [.S2, .S4], "rho": ScenarioID.allCases,
    ]
    /// Significance asked of a claimed change (Welch).
    static let alpha = 0.05
    /// Today's best-node changes per minute (session 3's VM bed after the min–max floor): not to be exceeded.
    static let reschedulesPerMinuteLimit = 1.6

    static func verdict(records: [RunRecord], scenariosAsked: [ScenarioID], notRunnable: [ScenarioID: String],
                        mttr: MTTRRecord?, label: String, parameters: String, degradedNode: String, modes: [Mode] = Mode.allCases) -> String {
        let comps = compare(records)
        func rows(_ s: ScenarioID, _ metric: String) -> [Comparison] { comps.filter { $0.scenario == s && $0.metric == metric } }
        var lines: [String] = [
            "edgenode placement experiment (\(label))",
            "parameters: \(parameters)",
            "relative change = (proposed − baseline) / baseline of the per-run means; p = Welch t-test (Mann–Whitney in statistical_analysis.csv); "
                + "a criterion passes when the change meets its threshold with p < \(alpha)",
            "",
        ]
        for s in ScenarioID.allCases where records.contains(where: { $0.spec.scenario == s }) {
            let w = records.first { $0.spec.scenario == s }!
            lines.append("workload in \(s.rawValue): \(w.spec.workload.summary), \(w.responseBytes) B per answer")
        }
        /// Per criterion: scenario → PASS / FAIL / N/A / NOT RUN.
        var outcome: [(criterion: String, results: [(ScenarioID?, String)])] = []
        let bothModes = Set(modes).count == 2
        func scenarioLines(key: String, title: String, metric: String, threshold: Double,
                           extra: ((ScenarioID, Comparison) -> (Bool, String))? = nil) {
            var results: [(ScenarioID?, String)] = []
            var body: [String] = []
            for s in criterionScenarios[key]! {
                func notRun(_ why: String) { body.append("  \(s.rawValue): NOT RUN — \(why)"); results.append((s, "NOT RUN")) }
                if let why = notRunnable[s] { notRun(why); continue }
                guard scenariosAsked.contains(s) else { notRun("not selected for this run"); continue }
                guard bothModes else { notRun("only \(modes.map(\.rawValue).joined()) ran: a change needs both modes"); continue }
                let rs = rows(s, metric)
                guard !rs.isEmpty else { notRun("no runs recorded"); continue }
                var pass = true, undefined = false
                var parts: [String] = []
                for c in rs {
                    var ok = c.relativeChange.isFinite && c.relativeChange <= threshold && c.welchP < alpha
                    var note = c.relativeChange.isFinite && c.relativeChange <= threshold && !(c.welchP < alpha) ? " (not significant)" : ""
                    if (metric == "error_rate" || metric == "retrans_and_drops") && c.baseline.mean == 0 {
                        undefined = true
                        note = " (none in baseline: a reduction is undefined)"
                        ok = false
                    }
                    if let extra { let (e, n) = extra(s, c); ok = ok && e; note += n }
                    pass = pass && ok
                    parts.append(String(format: "%d rps: baseline %@ → proposed %@ (%@, p=%@)%@", Int(c.rps),
                                        num(c.baseline.mean, 4), num(c.proposed.mean, 4), pct(c.relativeChange), num(c.welchP, 3), note))
                }
                let v = pass ? "PASS" : (undefined && rs.allSatisfy { $0.baseline.mean == 0 } ? "N/A" : "FAIL")
                results.append((s, v))
                body.append("  \(s.rawValue) \(s.summary): \(v) — " + parts.joined(separator: "; "))
            }
            outcome.append((title, results))
            lines.append("\(title): \(summarise(results.map(\.1)))")
            lines += body
        }
        scenarioLines(key: "p99", title: "p99 latency −10% in every scenario", metric: "p99_ms", threshold: -0.10)
        if records.contains(where: { $0.spec.scenario == .S3 }) {
            // tbf only queues what exceeds its rate; below the cap S3 differs from a healthy node by its 4 KiB burst alone
            lines.append(String(format: "  S3 load on the capped node (responses): baseline %@ Mbit/s, proposed %@ Mbit/s, against a 50 Mbit/s cap",
                                num(degradedNodeLoadMbit(records, scenario: .S3, mode: .baseline, degradedNode: degradedNode), 1),
                                num(degradedNodeLoadMbit(records, scenario: .S3, mode: .proposed, degradedNode: degradedNode), 1)))
        }
        scenarioLines(key: "reliability", title: "the service's retransmitted segments + kernel drops −20% (S2, S3, S5)",
                      metric: "retrans_and_drops", threshold: -0.20) { s, c in
            // next to it, what the client saw: HTTP-level errors
            let e = comps.first { $0.scenario == s && $0.rps == c.rps && $0.metric == "error_rate" }
            let r = comps.first { $0.scenario == s && $0.rps == c.rps && $0.metric == "retrans_segs" }
            let d = comps.first { $0.scenario == s && $0.rps == c.rps && $0.metric == "kernel_drops" }
            return (true, String(format: " [retransmits %@ → %@, drops %@ → %@, request errors %@ → %@]",
                                 num(r?.baseline.mean ?? .nan, 1), num(r?.proposed.mean ?? .nan, 1),
                                 num(d?.baseline.mean ?? .nan, 1), num(d?.proposed.mean ?? .nan, 1),
                                 pct(e?.baseline.mean ?? .nan), pct(e?.proposed.mean ?? .nan)))
        }
        scenarioLines(key: "cpu", title: "CPU per million messages −10% at equal throughput (QPS within ±5%) (S2, S4)", metric: "cpu_per_million",
                      threshold: -0.10) { s, c in
            guard let q = comps.first(where: { $0.scenario == s && $0.rps == c.rps && $0.metric == "qps" }) else { return (false, " (no QPS)") }
            let equal = abs(q.relativeChange) <= 0.05
            return (equal, equal ? "" : " (throughput differs: QPS \(pct(q.relativeChange)))")
        }
        if let m = mttr {
            outcome.append(("MTTR ≤ 3 min", [(nil, m.totalSeconds <= 180 ? "PASS" : "FAIL")]))
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
            outcome.append(("MTTR ≤ 3 min", [(nil, "NOT RUN")]))
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
        // the target is per scenario: the mean per-run ρ over both modes' runs of that scenario
        var rhoResults: [(ScenarioID?, String)] = []
        for s in criterionScenarios["rho"]! {
            let rs = records.filter { $0.spec.scenario == s }.map(\.metrics.rho).filter(\.isFinite)
            guard !rs.isEmpty else { rhoResults.append((s, "NOT RUN")); continue }
            let ci = ExperimentStats.meanCI95(rs)
            let v = ci.mean >= 0.6 ? "PASS" : "FAIL"
            rhoResults.append((s, v))
            lines.append(String(format: "  ρ in %@: %@ — %.3f ± %@ over %d runs", s.rawValue, v, ci.mean, num(ci.halfWidth, 3), rs.count))
        }
        outcome.append(("Spearman ρ ≥ 0.6 in every scenario", rhoResults))
        let resched = records.map { $0.metrics.reschedulesPerMinute() }
        let flips = records.map { $0.metrics.perMinuteOfWatch($0.metrics.topChangesByOrder) }
        let proposedResched = records.filter { $0.spec.mode == .proposed }.map { $0.metrics.reschedulesPerMinute() }.filter(\.isFinite)
        let stable = proposedResched.isEmpty ? "NOT RUN" : (ExperimentStats.mean(proposedResched) <= reschedulesPerMinuteLimit ? "PASS" : "FAIL")
        outcome.append(("best-node changes ≤ \(reschedulesPerMinuteLimit)/min", [(nil, stable)]))
        lines.append(String(format: "best-node changes per minute ≤ %.1f: %@ — the best node changed %.2f times per minute of /filter + /prioritize samples on average "
                            + "(%.2f top-node changes counting tie-break flips between equally ranked nodes)",
                            reschedulesPerMinuteLimit, stable, ExperimentStats.mean(resched), ExperimentStats.mean(flips)))
        let loads = records.flatMap { [$0.metrics.hostLoadStart, $0.metrics.hostLoadEnd] }.filter(\.isFinite)
        if !loads.isEmpty {
            lines.append(String(format: "host: 1-min load average during the measured load %.1f on average (max %.1f) on %d CPUs; the bed shares "
                + "the machine with whatever else runs, which inflates and scatters every latency (see host_load1_* per run)",
                                ExperimentStats.mean(loads), loads.max()!, ProcessInfo.processInfo.activeProcessorCount))
        }
        lines.append("")
        lines += overallLines(outcome)
        if records.contains(where: { $0.spec.scenario == .S4 }) && parameters.hasPrefix("bed: network namespaces") && parameters.contains("node cgroups none") {
            lines.append("note: in the namespace bed every node shares one kernel, so the agents' CPU utilisation (/proc/stat) and run-queue "
                + "latency are host-wide and identical for all nodes: S4 can only be seen through its effect on TCP. "
                + "make experiment-vms gives each node its own kernel.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
