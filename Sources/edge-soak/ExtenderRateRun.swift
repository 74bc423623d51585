// `--runs extender-rate`: /prioritize requests per second at 100 candidates against the real
// edge-controller over loopback HTTP (issue 4: ≥ 5 000 req/s on 2 cores), with the lean
// pipelined client. Client and server share the machine's cores, so each configuration also
// reports both processes' CPU per request and the server-side latency from the controller's own
// histogram; "server-only capacity" is what the controller's CPU per request allows on 2 cores.
import EdgeCore
import Foundation

enum ExtenderRateRun {
    /// Connections × requests in flight per connection, from one request at a time upwards.
    static let shapes: [(connections: Int, depth: Int)] = [(1, 1), (2, 1), (2, 8), (4, 16)]

    static func run(binDir: String, nodes: Int, seconds: Int) async throws {
        let daemons = try SoakDaemons(binDir: binDir)
        defer { daemons.stop() }
        let controller = try daemons.startController(maxNodes: max(nodes, 100))
        let port = try portOf(controller.url)

        // The candidates report once (stale_after is 60 s, longer than the run).
        let reports = (0..<nodes).map { IngestSoak.report(node: $0, round: 0) }
        let ingest = PipelinedHTTPLoad.run(port: port, connections: 1, depth: 16, duration: .seconds(30), limit: nodes) { _, n in
            PipelinedHTTPLoad.post("/v1/reports", body: Array(reports[n]), token: controller.token)
        }
        guard ingest.statuses[200] == nodes else {
            throw SoakError("extender-rate: reports not all accepted: \(ingest.statuses) \(ingest.errors.first ?? "")")
        }

        let names = (0..<nodes).map { String(format: "\"sim-%05d\"", $0) }.joined(separator: ",")
        let request = PipelinedHTTPLoad.post("/prioritize", body: Array("{\"Pod\":\(pod),\"Nodes\":null,\"NodeNames\":[\(names)]}".utf8))
        print("extender-rate: POST /prioritize, \(nodes) candidate nodes (NodeNames), \(request.count) request bytes, "
              + "\(seconds) s per shape, client and controller on the same \(ProcessInfo.processInfo.activeProcessorCount) cores")
        for shape in shapes {
            let bucketsBefore = try await ControllerProbe.latencyBuckets(url: controller.url, verb: "prioritize")
            let cpuBefore = try ControllerProbe.cpuSeconds(pid: controller.pid)
            let r = PipelinedHTTPLoad.run(port: port, connections: shape.connections, depth: shape.depth,
                                          duration: .seconds(seconds)) { _, _ in request }
            let serverCPU = try ControllerProbe.cpuSeconds(pid: controller.pid) - cpuBefore
            let bucketsAfter = try await ControllerProbe.latencyBuckets(url: controller.url, verb: "prioritize")
            let n = Double(max(r.stats.count, 1))
            let serverUs = serverCPU / n * 1e6
            let server99 = ControllerProbe.quantileBound(before: bucketsBefore, after: bucketsAfter, 0.99)
            let server50 = ControllerProbe.quantileBound(before: bucketsBefore, after: bucketsAfter, 0.50)
            print(String(format: "  %d conn × %2d in flight: %7.0f req/s (%d requests, statuses %@); client-observed %@",
                         shape.connections, shape.depth, r.perSecond, r.stats.count, "\(r.statuses.sorted { $0.key < $1.key })",
                         r.stats.summary))
            print(String(format: "      server-side p50 %@, p99 %@ (controller histogram); controller CPU %.2f cores = %.0f µs/request, "
                         + "client CPU %.2f cores = %.0f µs/request; server-only capacity on 2 cores ≈ %.0f req/s",
                         server50.map { ControllerProbe.describe($0.bound) } ?? "?", server99.map { ControllerProbe.describe($0.bound) } ?? "?",
                         serverCPU / r.seconds, serverUs, r.clientCPUSeconds / r.seconds, r.clientCPUSeconds / n * 1e6,
                         serverUs > 0 ? 2e6 / serverUs : 0))
            if let e = r.errors.first { print("      \(r.errors.count) errors, first: \(e)") }
        }
    }

    /// The port of an `http://host:port` URL.
    static func portOf(_ url: String) throws -> Int {
        guard let p = url.split(separator: ":").last.flatMap({ Int($0) }) else { throw SoakError("no port in \(url)") }
        return p
    }

    /// A v1.Pod as kube-scheduler sends it (every extender request carries one besides the names).
    static let pod = """
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"rate-pod-7d9f8","generateName":"rate-pod-","namespace":"default",\
        "uid":"b2f5e4a1-3c6d-4e8f-9a0b-1c2d3e4f5a6b","resourceVersion":"90211","creationTimestamp":"2025-01-12T08:00:00Z",\
        "labels":{"app":"rate"}},"spec":{"containers":[{"name":"app","image":"registry.example.com/app:1",\
        "resources":{"requests":{"cpu":"500m","memory":"256Mi"}}}],"schedulerName":"default-scheduler","priority":0},\
        "status":{"phase":"Pending","qosClass":"Burstable"}}
        """
}
