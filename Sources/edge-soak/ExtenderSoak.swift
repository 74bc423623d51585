// kube-scheduler-like extender load: /prioritize (and every tenth request /filter) with 100
// candidate nodes, back to back for a bounded time, while those nodes keep reporting. Every
// 10 s the controller's RSS and descriptors are sampled, to show growth (or its absence).
import AsyncHTTPClient
import EdgeCore
import EdgeLab
import Foundation

enum ExtenderSoak {
    static func run(url: String, token: String, pid: Int32, nodes: Int, seconds: Int, workers: Int) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: workers + 2)))
        do {
            try await load(client: client, url: url, token: token, pid: pid, nodes: nodes, seconds: seconds, workers: workers)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private static func load(client: HTTPClient, url: String, token: String, pid: Int32, nodes: Int, seconds: Int, workers: Int) async throws {
        let names = (0..<nodes).map { String(format: "sim-%05d", $0) }
        let pod = #"{"metadata":{"name":"soak-pod","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
        let args = Data("{\"Pod\":\(pod),\"Nodes\":null,\"NodeNames\":[\(names.map { "\"\($0)\"" }.joined(separator: ","))]}".utf8)

        // The candidates report first, then keep reporting every 5 s (they would go stale otherwise).
        let push = { @Sendable (round: Int) async in
            for i in 0..<nodes {
                _ = try? await client.execute(HTTPLoad.post("\(url)/v1/reports", body: IngestSoak.report(node: i, round: round),
                                                            token: token), timeout: .seconds(10))
            }
        }
        await push(0)
        let reporter = Task {
            var round = 1
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                await push(round)
                round += 1
            }
        }
        let sampler = Task { () -> [String] in
            var lines: [String] = []
            var t = 0
            while !Task.isCancelled {
                if let s = try? ProcessSample(pid: pid) { lines.append("t=\(t)s \(s)") }
                try? await Task.sleep(for: .seconds(10))
                t += 10
            }
            return lines
        }
        let before = try ProcessSample(pid: pid)
        let result = await HTTPLoad.run(client: client, workers: workers, duration: .seconds(seconds)) { w, n in
            let verb = (n % 10 == 9) ? "filter" : "prioritize"
            return HTTPLoad.post("\(url)/\(verb)", body: args, token: nil)
        }
        reporter.cancel()
        sampler.cancel()
        let samples = await sampler.value
        _ = await reporter.result
        let after = try ProcessSample(pid: pid)
        print("extender: \(nodes) nodes, \(workers) concurrent requests, \(seconds) s: \(result.stats.count) requests "
              + "(\(result.ok) ok), \(String(format: "%.0f", result.perSecond)) req/s, \(result.stats.summary); "
              + "statuses \(result.statuses.sorted { $0.key < $1.key })")
        print("extender: controller before \(before), after \(after)")
        print("extender: samples every 10 s: \(samples.joined(separator: "; "))")
        if let e = result.errors.first { print("extender: \(result.errors.count) transport errors, first: \(e)") }
    }
}
