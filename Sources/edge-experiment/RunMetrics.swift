// What one run measured, computed from its raw files (the request CSV written by `load`, the
// watch CSV written by `watch`) and the score samples, so every figure can be recomputed from raw/.
import EdgeAPI
import EdgeCore
import EdgeLab
import Foundation

struct RunMetrics {
    var requests = 0
    var ok = 0
    var errors = 0
    var errorRate = Double.nan
    /// Over every due request; a failed one counts with the time it took to fail (a timeout at the timeout).
    var p50Ms = Double.nan
    var p99Ms = Double.nan
    /// Over successful requests only.
    var p99OkMs = Double.nan
    var qps = Double.nan
    var cpuSeconds = Double.nan
    /// CPU seconds of the replica servers per million answered requests.
    var cpuPerMillion = Double.nan
    /// Changes of the best node (see `readWatch`).
    var reschedules = 0
    /// Changes of the top node including tie-break flips between equally ranked nodes.
    var topChangesByOrder = 0
    var watchSamples = 0
    var watchErrors = 0
    /// Spearman ρ over nodes: mean score badness vs mean probe latency.
    var rho = Double.nan
    var nodeLatencyMs: [String: Double] = [:]
    var nodeBadness: [String: Double] = [:]
    /// The host's 1-minute load average at the start and end of the measured load: the bed shares
    /// the machine, and other work on it inflates every latency (a run to read with care).
    var hostLoadStart = Double.nan
    var hostLoadEnd = Double.nan
    /// The reliability measure (NodeCounters.swift): Tcp RetransSegs and kernel drops that grew in
    /// the node namespaces during the measured load, summed over the nodes, and per node.
    var retransSegs = Double.nan
    var kernelDrops = Double.nan
    var nodeRetrans: [String: UInt64] = [:]
    var nodeDrops: [String: UInt64] = [:]
    /// Retransmitted segments plus drops: what the −20 % reliability criterion is judged on.
    var retransAndDrops: Double { retransSegs + kernelDrops }

    /// Fills the reliability fields from per-node counter readings before and after the load.
    mutating func countReliability(before: [String: NodeNetCounters], after: [String: NodeNetCounters]) {
        var r: UInt64 = 0, d: UInt64 = 0
        for (node, b) in before {
            guard let a = after[node] else { continue }
            let delta = a.delta(since: b)
            nodeRetrans[node] = delta.retransSegs
            nodeDrops[node] = delta.drops
            r += delta.retransSegs
            d += delta.drops
        }
        guard !before.isEmpty, before.count == after.count else { return }
        retransSegs = Double(r)
        kernelDrops = Double(d)
    }

    /// The 1-minute load average from /proc/loadavg.
    static func hostLoad1() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = s.split(separator: " ").first, let v = Double(first) else { return .nan }
        return v
    }

    /// One row of the request CSV `load` writes (offset_s,kind,node,port,latency_ms,outcome).
    struct RequestRow {
        var probe: Bool
        var node: Substring
        var port: Substring
        var latencyMs: Double
        var ok: Bool
    }

    /// The rows of a request CSV; a malformed row is an error naming the file and the row.
    static func requestRows(csvPath: String) throws -> [RequestRow] {
        let text = try String(contentsOfFile: csvPath, encoding: .utf8)
        return try text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 6, let ms = Double(f[4]) else { throw CommandFailure(description: "\(csvPath): bad row '\(line)'") }
            return RequestRow(probe: f[1] == "probe", node: f[2], port: f[3], latencyMs: ms, ok: f[5] == "ok")
        }
    }

    /// Reads the request CSV; replica rows give the workload figures, probe rows the per-node latency.
    mutating func readRequests(csvPath: String, seconds: Double) throws {
        var latencies: [Double] = [], okLatencies: [Double] = []
        var probe: [String: [Double]] = [:]
        for row in try Self.requestRows(csvPath: csvPath) {
            if row.probe {
                probe[String(row.node), default: []].append(row.latencyMs)
                continue
            }
            latencies.append(row.latencyMs)
            if row.ok { okLatencies.append(row.latencyMs) }
        }
        requests = latencies.count
        ok = okLatencies.count
        errors = requests - ok
        errorRate = requests > 0 ? Double(errors) / Double(requests) : .nan
        latencies.sort()
        okLatencies.sort()
        p50Ms = ExperimentStats.quantile(sorted: latencies, 0.50)
        p99Ms = ExperimentStats.quantile(sorted: latencies, 0.99)
        p99OkMs = ExperimentStats.quantile(sorted: okLatencies, 0.99)
        qps = Double(ok) / seconds
        nodeLatencyMs = probe.mapValues { ExperimentStats.mean($0) }
    }

    /// Reads the watch CSV (t_s,top,priorities,error). The best node changes when the node chosen
    /// before is no longer among the best: its priority is now below the highest, or /filter dropped
    /// it. A different top node while the previous one still ties for the highest priority is only
    /// the tie-break (kube-scheduler picks at random among ties; `watch` picks by node order): it is
    /// counted in `topChangesByOrder`, not as a reschedule. Error rows neither count nor break the chain.
    mutating func readWatch(csvPath: String) throws {
        let text = try String(contentsOfFile: csvPath, encoding: .utf8)
        var best: Substring?
        var lastTop: Substring?
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 3 else { continue }
            guard !f[1].isEmpty else { watchErrors += 1; continue }
            watchSamples += 1
            let top = f[1]
            if let l = lastTop, l != top { topChangesByOrder += 1 }
            lastTop = top
            let priorities = Self.priorities(f[2])
            if let b = best, b != top {
                let highest = priorities.values.max()
                if let pb = priorities[b], let h = highest, pb >= h { continue }
                reschedules += 1
            }
            best = top
        }
    }

    /// "n1=3;n2=-;n3=7" → [n1: 3, n3: 7]; "-" (filtered) and unreadable entries are left out.
    static func priorities(_ field: Substring) -> [Substring: Int] {
        var out: [Substring: Int] = [:]
        for pair in field.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let p = Int(kv[1]) { out[kv[0]] = p }
        }
        return out
    }

    /// Reschedules per minute of watch samples taken every `sampleInterval` seconds (0 with no sample).
    func reschedulesPerMinute(sampleInterval: Double = 1) -> Double {
        perMinuteOfWatch(reschedules, sampleInterval: sampleInterval)
    }

    /// `count` events per minute of watch samples taken every `sampleInterval` seconds (0 with no sample).
    func perMinuteOfWatch(_ count: Int, sampleInterval: Double = 1) -> Double {
        Double(count) / (max(1, Double(watchSamples)) * sampleInterval) * 60
    }

    /// One `nodes.list` answer as badness per node: the smoothed score, and 1 (the worst) for a
    /// stale node, whose score is old news: the controller stopped hearing from it.
    static func badnessSample(_ list: NodesListResult) -> [String: Double] {
        Dictionary(list.nodes.map { ($0.node, $0.stale ? 1.0 : $0.scoreSmoothed) }, uniquingKeysWith: { a, _ in a })
    }

    /// Mean badness per node over the run's `nodes.list` samples, then ρ against the probe latencies.
    mutating func correlate(scoreSamples: [[String: Double]], nodes: [String]) {
        for n in nodes {
            let xs = scoreSamples.compactMap { $0[n] }
            if !xs.isEmpty { nodeBadness[n] = ExperimentStats.mean(xs) }
        }
        let common = nodes.filter { nodeBadness[$0] != nil && nodeLatencyMs[$0] != nil }
        rho = ExperimentStats.spearman(common.map { nodeBadness[$0]! }, common.map { nodeLatencyMs[$0]! })
    }
}
