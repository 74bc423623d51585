// Server-side cost of an extender call: decode → decide → encode, for growing candidate lists.
// Measured on the same code the HTTP routes run (`Extender.handleFilter/handlePrioritize`),
// without the network, so the figures isolate what the controller itself adds.
import EdgeCore
import Foundation

public enum ExtenderBenchmark {
    /// Runs the benchmark and returns printable lines: p50/p99 per verb and node count, and the
    /// JSON-decode-alone cost of the same bodies.
    public static func run(nodeCounts: [Int] = [100, 1000, 5000], iterations: Int = 200) -> String {
        precondition(iterations > 0, "iterations must be > 0")
        var lines = ["extender handler latency (decode → decide → encode), NodeNames bodies, \(iterations) iterations"]
        lines.append(row("nodes", "step", "p50 µs", "p99 µs", "body KiB"))
        for n in nodeCounts where n > 0 {
            let (extender, body) = setUp(nodes: n)
            let kib = String(format: "%.1f", Double(body.count) / 1024)
            let filter = measure(iterations) { _ = extender.handleFilter(body: body) }
            let prioritize = measure(iterations) { _ = extender.handlePrioritize(body: body) }
            let decode = measure(iterations) { _ = try? Extender.decodeArgs(body) }
            for (step, q) in [("filter", filter), ("prioritize", prioritize), ("decode-only", decode)] {
                lines.append(row(String(n), step, String(format: "%.1f", q.p50), String(format: "%.1f", q.p99), kib))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One table row: two left-aligned columns, three right-aligned.
    static func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
        func left(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        func right(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        return left(a, 7) + " " + left(b, 11) + " " + right(c, 10) + " " + right(d, 10) + " " + right(e, 10)
    }

    /// A registry with `nodes` fresh nodes of varied telemetry and an `ExtenderArgs` naming all of them.
    static func setUp(nodes: Int) -> (Extender, Data) {
        let config = ControllerConfig.defaults
        let registry = NodeRegistry(score: config.score, registry: config.registry)
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
        filter.maxCPU = 0.9 // some nodes fail, so the failure maps are exercised
        let extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: filter, stalePolicy: config.registry.stalePolicy, staleAfter: registry.staleAfter))
        let pod: JSONValue = ["kind": "Pod", "apiVersion": "v1",
                              "metadata": ["name": "bench-pod", "namespace": "default"],
                              "spec": ["containers": [["name": "app", "image": "registry.example.com/app:1"]]]]
        var object: [String: JSONValue] = ["Nodes": .null, "NodeNames": .array(names.map { .string($0) })]
        object["Pod"] = pod
        let body = (try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()
        return (extender, body)
    }

    /// p50 and p99 in microseconds over `iterations` runs (after a short warm-up).
    static func measure(_ iterations: Int, _ body: () -> Void) -> (p50: Double, p99: Double) {
        for _ in 0..<min(10, iterations) { body() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let d = clock.measure(body)
            samples.append(d.seconds * 1e6)
        }
        samples.sort()
        func q(_ p: Double) -> Double { samples[min(samples.count - 1, Int((p * Double(samples.count)).rounded(.up)) - 1)] }
        return (q(0.50), q(0.99))
    }
}
