// edge-soak: load and soak runs against the real daemons (`make soak`, root, not in CI).
// It starts edge-agent (in a namespace of its own) and edge-controller (on loopback) from
// --bin-dir, drives them, prints figures line by line and stops them again; on SIGTERM, SIGINT
// or past --max-seconds it stops them too, removes its namespaces and exits non-zero (RunGuard).
import ArgumentParser
import Foundation

@main
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-soak",
        abstract: "Load and soak runs against edge-agent and edge-controller, with figures.")

    @Option(help: "Directory holding edge-agent and edge-controller.")
    var binDir: String = ".build/release"

    @Option(help: "Which runs: rpc, ingest, extender, extender-rate, rss (comma separated) or all; abuse-agent and abuse-controller (make abuse) only by name.")
    var runs: String = "all"

    @Option(help: "Concurrent clients on the agent socket.")
    var rpcClients: Int = 1000

    @Option(help: "telemetry.get calls per RPC client.")
    var rpcCalls: Int = 10

    @Option(help: "Simulated nodes pushing reports.")
    var ingestNodes: Int = 10_000

    @Option(help: "Seconds of report ingest load.")
    var ingestSeconds: Int = 20

    @Option(help: "Concurrent connections pushing reports.")
    var ingestConnections: Int = 32

    @Option(help: "Candidate nodes per extender request.")
    var extenderNodes: Int = 100

    @Option(help: "Seconds of extender load (SOAK_SECONDS in make soak; 600 for ten minutes).")
    var extenderSeconds: Int = 60

    @Option(help: "Concurrent extender requests.")
    var extenderConcurrency: Int = 8

    @Option(help: "Seconds per connection shape in the extender-rate run.")
    var rateSeconds: Int = 10

    @Option(help: "Simulated nodes in the rss run.")
    var rssNodes: Int = 10_000

    @Option(help: "Seconds of each flood in the abuse-agent run.")
    var abuseSeconds: Int = 10

    @Option(help: "abuse-controller: idle unauthenticated TCP connections held open.")
    var abuseConnections: Int = 1100

    @Option(help: "abuse-controller: concurrent /prioritize bodies of 5 000 full v1.Node objects.")
    var abuseHugeBodies: Int = 6

    @Option(help: "abuse-controller: nodes reporting at the per-report bounds (default: registry.max_nodes).")
    var abuseNodes: Int = 20_000

    @Option(help: "abuse-controller: unauthenticated reports in the 401 flood.")
    var abuseUnauthorized: Int = 20_000

    @Option(help: "Bound on the whole invocation, in seconds: past it the run stops what it started and exits 124 naming the phase it was in.")
    var maxSeconds: Int = 3600

    func validate() throws {
        let selected = Set(runs.split(separator: ",").map(String.init))
        guard selected.isSubset(of: ["all", "rpc", "ingest", "extender", "extender-rate", "rss", "abuse-agent", "abuse-controller"]),
              !selected.isEmpty else {
            throw ValidationError("--runs: expected rpc, ingest, extender, extender-rate, rss, abuse-agent, abuse-controller or all, got \(runs)")
        }
        for (name, value) in [("--rpc-clients", rpcClients), ("--rpc-calls", rpcCalls), ("--ingest-nodes", ingestNodes),
                              ("--ingest-seconds", ingestSeconds), ("--ingest-connections", ingestConnections),
                              ("--extender-nodes", extenderNodes), ("--extender-seconds", extenderSeconds),
                              ("--extender-concurrency", extenderConcurrency), ("--rate-seconds", rateSeconds),
                              ("--rss-nodes", rssNodes), ("--abuse-seconds", abuseSeconds), ("--abuse-connections", abuseConnections),
                              ("--abuse-huge-bodies", abuseHugeBodies), ("--abuse-nodes", abuseNodes),
                              ("--abuse-unauthorized", abuseUnauthorized), ("--max-seconds", maxSeconds)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
    }

    func run() async throws {
        RunGuard.install(maxSeconds: maxSeconds)
        let selected = Set(runs.split(separator: ",").map(String.init))
        func wants(_ run: String) -> Bool { selected.contains("all") || selected.contains(run) }
        let daemons = try SoakDaemons(binDir: binDir)
        defer { daemons.stop() }
        if wants("rpc") {
            RunGuard.phase("rpc")
            let agent = try daemons.startAgent(maxClients: rpcClients + 64)
            try RPCSoak.run(socket: agent.socket, pid: agent.pid, clients: rpcClients, calls: rpcCalls)
        }
        if wants("ingest") || wants("extender") {
            let controller = try daemons.startController(maxNodes: max(ingestNodes, extenderNodes))
            if wants("ingest") {
                RunGuard.phase("ingest")
                try await IngestSoak.run(url: controller.url, token: controller.token, pid: controller.pid,
                                         nodes: ingestNodes, seconds: ingestSeconds, workers: ingestConnections)
            }
            if wants("extender") {
                RunGuard.phase("extender")
                try await ExtenderSoak.run(url: controller.url, token: controller.token, pid: controller.pid,
                                           nodes: extenderNodes, seconds: extenderSeconds, workers: extenderConcurrency)
            }
        }
        // These two start controllers of their own: they measure from a fresh process.
        if wants("extender-rate") {
            RunGuard.phase("extender-rate")
            try await ExtenderRateRun.run(binDir: binDir, nodes: extenderNodes, seconds: rateSeconds)
        }
        if wants("rss") {
            RunGuard.phase("rss")
            try await ControllerRSSRun.run(binDir: binDir, nodes: rssNodes)
        }
        // Not part of "all": it attacks (make abuse), it does not measure capacity.
        defer { AbuseMonitor.printTable() }
        if selected.contains("abuse-agent") {
            try AgentAbuseRun.run(binDir: binDir, seconds: abuseSeconds)
        }
        if selected.contains("abuse-controller") {
            try AbuseControllerRun.run(binDir: binDir, settings: .init(
                connections: abuseConnections, hugeBodies: abuseHugeBodies, nodes: abuseNodes, unauthorized: abuseUnauthorized))
        }
    }
}
