// 10 000 simulated nodes pushing reports to one controller: each request is one node's report
// (nodes taken in turn, so every node is refreshed again and again), over a pool of keep-alive
// connections. Reported: reports/s, latency, and the controller's RSS and descriptors.
import AsyncHTTPClient
import EdgeCore
import EdgeLab
import EdgeTelemetry
import Foundation

enum IngestSoak {
    /// One node's report, with signals that differ a little from node to node.
    static func report(node: Int, round: Int) -> Data {
        try! EdgeJSON.encoder().encode(window(node: node, round: round))
    }

    static func window(node: Int, round: Int) -> TelemetryWindow {
        let jitter = Double((node * 7 + round) % 100) / 100
        let w = TelemetryWindow(
            node: String(format: "sim-%05d", node), agentVersion: "soak", generatedAt: Date().timeIntervalSince1970,
            windowSeconds: 30, rttP50Ms: 5 + jitter, rttP99Ms: 20 + 10 * jitter, rttSamples: 1000,
            retransRate: 0.001 * jitter, retransmits: UInt64(jitter * 10), segmentsOut: 10_000,
            dropRate: jitter, dropRateWeighted: jitter,
            drops: [DropReasonStat(reason: "NO_SOCKET", count: UInt64(jitter * 30), ratePerSecond: jitter, weight: 1)],
            runqlatP95Ms: 1 + jitter, runqlatSamples: 5000, cpuUtilization: 0.2 + 0.5 * jitter,
            peers: [PeerRTT(address: "10.0.\(node / 256 % 256).\(node % 256)", rttP50Ms: 5, rttP99Ms: 20, samples: 100)])
        return w
    }

    static func run(url: String, token: String, pid: Int32, nodes: Int, seconds: Int, workers: Int) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: workers)))
        do {
            try await load(client: client, url: url, token: token, pid: pid, nodes: nodes, seconds: seconds, workers: workers)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private static func load(client: HTTPClient, url: String, token: String, pid: Int32, nodes: Int, seconds: Int, workers: Int) async throws {
        let before = try ProcessSample(pid: pid)
        let target = "\(url)/v1/reports"
        // Bodies made up front: the run measures the controller, not JSON encoding here.
        let bodies = (0..<nodes).map { report(node: $0, round: 0) }
        let result = await HTTPLoad.run(client: client, workers: workers, duration: .seconds(seconds)) { w, n in
            HTTPLoad.post(target, body: bodies[(n * workers + w) % nodes], token: token)
        }
        let after = try ProcessSample(pid: pid)
        print("ingest: \(nodes) simulated nodes, \(workers) connections, \(seconds) s: \(result.stats.count) reports "
              + "(\(result.ok) accepted), \(String(format: "%.0f", result.perSecond)) reports/s, \(result.stats.summary); "
              + "statuses \(result.statuses.sorted { $0.key < $1.key })")
        print("ingest: controller before \(before), after \(after)")
        if let e = result.errors.first { print("ingest: \(result.errors.count) transport errors, first: \(e)") }
    }
}
