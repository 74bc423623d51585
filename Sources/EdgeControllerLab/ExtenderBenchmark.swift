// Server-side cost of an extender call, without the network, for growing candidate lists
// (NodeNames bodies, as a nodeCacheCapable kube-scheduler sends them):
//  - decode-only: parsing the body and extracting the names — the floor any handler pays;
//  - filter / prioritize: the whole handler (read → decide → write);
//  - encode-only: writing the 5 000-node responses;
// each through the live path (jansson + direct writing) and the Codable reference path
// (JSONDecoder/JSONEncoder), so the choice of the live path is visible in the figures.
import EdgeAPI
import EdgeConfig
import EdgeController
import EdgeCore
import EdgeJansson
import EdgeLab
import EdgeTelemetry
import Foundation

public enum ExtenderBenchmark {
    /// Runs the benchmark and returns printable lines: per node count, p50/p99 of each step on
    /// each path, and each handler's ratio to the fastest decode-only p50 (the floor); then the
    /// encode-only rows for `encodeNodes` candidates.
    public static func run(nodeCounts: [Int] = [100, 1000, 5000], iterations: Int = 500, encodeNodes: Int = 5000) -> String {
        precondition(iterations > 0, "iterations must be > 0")
        let loadStart = loadAverage()
        var lines = ["extender server-side latency, NodeNames bodies with a full v1.Pod, \(iterations) iterations per row",
                     "(live = jansson read + direct write; foundation = JSONDecoder/JSONEncoder reference; cpu = this thread's CPU time,",
                     " which other processes on the cores do not inflate; ×floor = cpu p50 / fastest decode-only cpu p50)"]
        lines.append(row("nodes", "step", "path", "p50 µs", "p99 µs", "cpu p50", "cpu p99", "×floor", "body KiB"))
        for n in nodeCounts where n > 0 {
            let (extender, body) = setUp(nodes: n)
            let kib = String(format: "%.1f", Double(body.count) / 1024)
            let steps: [(String, String, () -> Void)] = [
                ("decode-only", "foundation", { _ = try? Extender.candidateNames(Extender.decodeArgs(body)) }),
                ("decode-only", "live", { _ = try? ParsedExtenderArgs.read(body).candidateNames() }),
                ("prioritize", "foundation", { _ = extender.handlePrioritizeWithFoundation(body: body) }),
                ("prioritize", "live", { _ = extender.handlePrioritize(body: body) }),
                ("filter", "foundation", { _ = extender.handleFilterWithFoundation(body: body) }),
                ("filter", "live", { _ = extender.handleFilter(body: body) }),
            ]
            let measured = steps.map { ($0.0, $0.1, measure(iterations, $0.2)) }
            let floor = measured.filter { $0.0 == "decode-only" }.map(\.2.cpuP50).min() ?? .nan
            for (step, path, q) in measured {
                lines.append(row(String(n), step, path, us(q.p50), us(q.p99), us(q.cpuP50), us(q.cpuP99),
                                 String(format: "%.1f", q.cpuP50 / floor), kib))
            }
        }
        lines.append(contentsOf: encodeOnly(nodes: encodeNodes, iterations: iterations))
        lines.append("1-min load average: \(loadStart) at start, \(loadAverage()) at end (other work on the cores inflates p99)")
        return lines.joined(separator: "\n")
    }

    /// Writing the responses alone at `nodes` candidates (a tenth of them failing the filter).
    static func encodeOnly(nodes: Int, iterations: Int) -> [String] {
        let names = (0..<nodes).map { "edge-node-\($0)" }
        let scores = names.indices.map { Int64($0 % 11) }
        let list = zip(names, scores).map { HostPriority(host: $0, score: $1) }
        var failed: [String: String] = [:]
        for name in names.enumerated().filter({ $0.offset % 10 == 0 }).map(\.element) {
            failed[name] = "edgenode: cpu 0.95 > max 0.9"
        }
        let passing = names.enumerated().filter { $0.offset % 10 != 0 }.map(\.element)
        let result = ExtenderFilterResult(nodeNames: passing, failedNodes: failed)
        let encoder = ExtenderJSON.encoder()
        let rows: [(String, String, () -> Void)] = [
            ("HostPriorityList", "foundation", { _ = try? encoder.encode(list) }),
            ("HostPriorityList", "live", { _ = ExtenderResponseWriter.hostPriorityList(hosts: names, scores: scores) }),
            ("FilterResult", "foundation", { _ = try? encoder.encode(result) }),
            ("FilterResult", "live", {
                _ = ExtenderResponseWriter.filterResult(nodeNames: passing, failed: failed, unresolvable: [:],
                                                        nodeList: nil, keptItems: [], error: "")
            }),
        ]
        var lines = ["encode-only, \(nodes) nodes (\(failed.count) failing the filter)"]
        lines.append(row("nodes", "body", "path", "p50 µs", "p99 µs", "cpu p50", "cpu p99", "", ""))
        for (what, path, body) in rows {
            let q = measure(iterations, body)
            lines.append(row(String(nodes), what, path, us(q.p50), us(q.p99), us(q.cpuP50), us(q.cpuP99), "", ""))
        }
        return lines
    }

    /// One table row: three left-aligned columns, the rest right-aligned.
    static func row(_ a: String, _ b: String, _ c: String, _ numbers: String...) -> String {
        func left(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        func right(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        return ([left(a, 6), left(b, 16), left(c, 10)] + numbers.map { right($0, 9) }).joined(separator: " ")
    }

    static func us(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A v1.Pod as kube-scheduler sends it (what every extender request carries besides the names).
    static let pod = """
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"bench-pod-7d9f8","generateName":"bench-pod-","namespace":"default",\
        "uid":"b2f5e4a1-3c6d-4e8f-9a0b-1c2d3e4f5a6b","resourceVersion":"90211","creationTimestamp":"2025-01-12T08:00:00Z",\
        "labels":{"app":"bench","pod-template-hash":"7d9f8"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet",\
        "name":"bench-7d9f8","uid":"c3a6f5b2-4d7e-4f90-8b1c-2d3e4f5a6b7c","controller":true,"blockOwnerDeletion":true}]},\
        "spec":{"containers":[{"name":"app","image":"registry.example.com/app:1","resources":{"requests":{"cpu":"500m",\
        "memory":"256Mi"},"limits":{"memory":"512Mi"}},"ports":[{"containerPort":8080,"protocol":"TCP"}],\
        "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],\
        "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default",\
        "schedulerName":"default-scheduler","priority":0,"tolerations":[{"key":"node.kubernetes.io/not-ready",\
        "operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},"status":{"phase":"Pending","qosClass":"Burstable"}}
        """

    /// A registry with `nodes` fresh nodes of varied telemetry and an `ExtenderArgs` naming all of them.
    static func setUp(nodes: Int) -> (Extender, Data) {
        let config = ControllerConfig.defaults
        var registrySettings = config.registry
        registrySettings.maxNodes = max(registrySettings.maxNodes, nodes)
        let registry = NodeRegistry(score: config.score, registry: registrySettings)
        var names: [String] = []
        names.reserveCapacity(nodes)
        for i in 0..<nodes {
            let name = "edge-node-\(i)"
            names.append(name)
            // Deterministic spread of values so decisions differ between nodes.
            let f = Double((i * 7919) % 1000) / 1000
            let w = TelemetryWindow(node: name, agentVersion: EdgenodeVersion.current, generatedAt: 0, windowSeconds: 10,
                                    rttP50Ms: 5 + 50 * f, rttP99Ms: 10 + 150 * f, rttSamples: 1000,
                                    retransRate: 0.02 * f, retransmits: 20, segmentsOut: 1000,
                                    dropRate: 40 * f, dropRateWeighted: 40 * f, runqlatP95Ms: 8 * f, runqlatSamples: 1000,
                                    cpuUtilization: f)
            _ = try? registry.ingest(w)
        }
        var filter = config.filter
        filter[.cpu] = 0.9 // some nodes fail, so the failure maps are exercised
        let extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: filter, stalePolicy: config.registry.stalePolicy, staleAfter: registry.staleAfter))
        let list = names.map { "\"\($0)\"" }.joined(separator: ",")
        return (extender, Data("{\"Pod\":\(pod),\"Nodes\":null,\"NodeNames\":[\(list)]}".utf8))
    }

    /// The 1-minute load average from /proc/loadavg ("?" where there is none).
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }

    /// Wall-clock and thread-CPU p50/p99 in microseconds over `iterations` runs (after a short warm-up).
    static func measure(_ iterations: Int, _ body: () -> Void) -> (p50: Double, p99: Double, cpuP50: Double, cpuP99: Double) {
        for _ in 0..<min(10, iterations) { body() }
        let clock = ContinuousClock()
        var wall: [Double] = []
        var cpu: [Double] = []
        wall.reserveCapacity(iterations)
        cpu.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let c0 = threadCPUMicroseconds()
            let d = clock.measure(body)
            cpu.append(threadCPUMicroseconds() - c0)
            wall.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
        }
        wall.sort()
        cpu.sort()
        let q = ExperimentStats.quantile(sorted:_:)
        return (q(wall, 0.50), q(wall, 0.99), q(cpu, 0.50), q(cpu, 0.99))
    }

    /// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in microseconds.
    static func threadCPUMicroseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
    }
}
