// The agent as it runs: CPU (% of one core) and RSS at the default 1 s interval under loopback
// load, then telemetry.get round-trip latency and throughput over its socket.
import ArgumentParser
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation

struct AgentBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Agent CPU and RSS, telemetry.get latency and rate.")
    @OptionGroup var options: BenchOptions
    @Option(help: "telemetry.get calls for the latency run.") var calls = 20_000

    func run() throws { try Self.measure(options, calls: calls) }

    static func measure(_ o: BenchOptions, calls: Int = 20_000) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let socket = dir.appendingPathComponent("agent.sock").path
        // the lab's launcher: the agent's warnings go to a log that a failed start prints
        let agent = try DaemonProcess(name: "edge-agent", executable: "\(o.bin)/edge-agent",
                                      config: "[rpc]\nsocket = \"\(socket)\"\ngroup = \"\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
                                      configPath: dir.appendingPathComponent("agent.toml").path,
                                      extraArguments: ["--log-level", "warning"])
        defer { agent.stop() }
        try agent.waitForFile(socket, timeout: 15)
        Thread.sleep(forTimeInterval: 2.5) // first window

        // CPU and RSS over `seconds` with traffic (so every map has entries to read)
        let load = try Load.tcp(script: o.loadScript, mode: "rr", conns: 8, seconds: o.seconds)
        let a = try ProcessSample(pid: agent.pid)
        let t0 = Date()
        load.waitUntilExit()
        let b = try ProcessSample(pid: agent.pid)
        let wall = Date().timeIntervalSince(t0)
        print("== edge-agent at the default 1 s interval, \(String(format: "%.0f", wall))s with 8 loopback rr connections")
        print(String(format: "cpu: %.3f%% of one core   rss: %.1f MB", 100 * (b.cpuSeconds - a.cpuSeconds) / wall, Double(b.rssKiB) / 1024))

        // telemetry.get latency: one persistent client, sequential calls
        let client = RPCClient(path: socket, timeout: .seconds(5))
        var lat: [Double] = []
        lat.reserveCapacity(calls)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<calls {
            let t = clock.now
            _ = try client.call(AgentMethod.telemetryGet, params: TelemetryGetParams(peers: 10))
            let d = t.duration(to: clock.now)
            lat.append(Double(d.components.attoseconds) / 1e12 + Double(d.components.seconds) * 1e6)
        }
        let total = start.duration(to: clock.now)
        let secs = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        lat.sort()
        print(String(format: "telemetry.get over the socket (%d calls, 1 client): p50 %.0f µs  p99 %.0f µs  max %.0f µs  %.0f req/s",
                     calls, ExperimentStats.quantile(sorted: lat, 0.5), ExperimentStats.quantile(sorted: lat, 0.99), lat.last ?? 0, Double(calls) / secs))
        let c = try ProcessSample(pid: agent.pid)
        print(String(format: "rss after the latency run: %.1f MB", Double(c.rssKiB) / 1024))
    }
}
