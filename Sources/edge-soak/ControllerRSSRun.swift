// `--runs rss`: the controller's resident memory with 10 000 nodes (issue 4: ≤ 150 MB). A fresh
// edge-controller takes one report from each of N distinct simulated nodes, then a second round
// (every node replaced once, as in steady state), then /prioritize calls naming all of them;
// VmRSS is read from /proc after each step. The ingest rate of the first round is printed too.
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation

enum ControllerRSSRun {
    static func run(binDir: String, nodes: Int) async throws {
        let daemons = try SoakDaemons(binDir: binDir)
        defer { daemons.stop() }
        let controller = try daemons.startController(maxNodes: nodes)
        let port = try ExtenderRateRun.portOf(controller.url)
        print("rss: edge-controller, \(nodes) simulated nodes")
        print("rss:   started: \(try ProcessSample(pid: controller.pid))")

        for round in 0..<2 {
            let bodies = (0..<nodes).map { Array(IngestSoak.report(node: $0, round: round)) }
            let connections = 4
            let r = PipelinedHTTPLoad.run(port: port, connections: connections, depth: 16, duration: .seconds(120), limit: nodes) { c, n in
                PipelinedHTTPLoad.post("/v1/reports", body: bodies[(n * connections + c) % nodes], token: controller.token)
            }
            let status: ControllerStatusResult = try RPCClient(path: daemons.path("controller.sock")).call(ControllerMethod.status)
            guard r.statuses[200] == nodes, status.nodesTotal == nodes else {
                throw SoakError("rss: round \(round + 1): \(r.statuses) accepted, registry holds \(status.nodesTotal); \(r.errors.first ?? "")")
            }
            print(String(format: "rss:   after report round %d (%d accepted at %.0f reports/s, %@): %@", round + 1, nodes, r.perSecond,
                         r.stats.summary, "\(try ProcessSample(pid: controller.pid))"))
        }

        let names = (0..<nodes).map { String(format: "\"sim-%05d\"", $0) }.joined(separator: ",")
        let request = PipelinedHTTPLoad.post("/prioritize", body: Array("{\"Pod\":\(ExtenderRateRun.pod),\"Nodes\":null,\"NodeNames\":[\(names)]}".utf8))
        let calls = PipelinedHTTPLoad.run(port: port, connections: 2, depth: 1, duration: .seconds(60), limit: 50) { _, _ in request }
        guard calls.statuses[200] == 50 else { throw SoakError("rss: /prioritize with \(nodes) names: \(calls.statuses) \(calls.errors.first ?? "")") }
        print("rss:   after 50 /prioritize calls naming all \(nodes) nodes (\(calls.stats.summary)): \(try ProcessSample(pid: controller.pid))")
        let status = try String(contentsOfFile: "/proc/\(controller.pid)/status", encoding: .utf8)
        if let hwm = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            print("rss:   peak (\(hwm.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ")) VmHWM)")
        }
    }
}
