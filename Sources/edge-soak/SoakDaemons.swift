// The daemons under load: the real edge-agent and edge-controller binaries, started with
// configs written to a scratch directory. The agent runs in a network namespace made for the
// run (its telemetry and any shaping stay there); the controller listens on loopback.
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation

final class SoakDaemons: @unchecked Sendable {
    let dir: URL
    let binDir: String
    private let lock = NSLock()
    private var processes: [DaemonProcess] = []
    private var netns: String?
    private var teardown = 0

    init(binDir: String) throws {
        self.binDir = binDir
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-soak-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        teardown = RunGuard.register { [self] in tearDown() }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Writes `config` to `<file>.toml`, starts `executable` on it (`wrapper` in front, output in
    /// `<file>.log`) and waits for `socket`; stopped at teardown.
    func launch(_ executable: String, as file: String, config: String, socket: String, netns: String? = nil,
                wrapper: [String] = [], environment: [String: String] = [:]) throws -> DaemonProcess {
        let p = try DaemonProcess(name: (executable as NSString).lastPathComponent, executable: executable, config: config,
                                  configPath: path("\(file).toml"), wrapper: wrapper, netns: netns,
                                  logPath: path("\(file).log"), environment: environment)
        lock.withLock { processes.append(p) }
        try p.waitForFile(socket, timeout: 30)
        return p
    }

    /// Starts edge-agent in a fresh namespace; returns its socket and pid.
    func startAgent(maxClients: Int) throws -> (socket: String, pid: Int32) {
        let name = "edgesoak-\(UInt32.random(in: 0...UInt32.max))"
        lock.withLock { netns = name }  // before it exists: an interrupt now still deletes it
        try Netns.add(name)
        let p = try launch("\(binDir)/edge-agent", as: "agent", config: """
        [agent]
        node_name = "soak-agent"
        [telemetry]
        interval = "1s"
        [rpc]
        socket = "\(path("agent.sock"))"
        group = ""
        max_clients = \(maxClients)
        [metrics]
        listen = ""
        [shaping]
        enabled = false
        """, socket: path("agent.sock"), netns: name)
        // telemetry.get answers -32002 until the first interval completes; load starts after that.
        let deadline = Date().addingTimeInterval(15)
        while (try? RPCClient(path: path("agent.sock")).call(AgentMethod.telemetryGet, params: TelemetryGetParams())) == nil {
            guard Date() < deadline else { throw SoakError("agent's telemetry.get never answered within 15 s") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (path("agent.sock"), p.pid)
    }

    /// Starts edge-controller on 127.0.0.1 (a free port); returns its base URL, token and pid.
    func startController(maxNodes: Int) throws -> (url: String, token: String, pid: Int32) {
        let token = "soak-\(UUID().uuidString)"
        try token.write(toFile: path("token"), atomically: true, encoding: .utf8)
        let p = try launch("\(binDir)/edge-controller", as: "controller", config: """
        [server]
        listen = "127.0.0.1:0"
        token_file = "\(path("token"))"
        [rpc]
        socket = "\(path("controller.sock"))"
        group = ""
        [registry]
        max_nodes = \(maxNodes)
        stale_after = "60s"
        """, socket: path("controller.sock"))
        let status = try Self.boundStatus(socket: path("controller.sock"))
        return ("http://\(status.listen)", token, p.pid)
    }

    /// The controller's status once its HTTP listener is bound. The RPC socket comes up first, and
    /// until the listener binds `listen` is still the configured "127.0.0.1:0" (seen: the rss run
    /// then failed in round 1 with "connect 127.0.0.1:0" on most starts).
    static func boundStatus(socket: String, timeout: Double = 15) throws -> ControllerStatusResult {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let status: ControllerStatusResult = try RPCClient(path: socket).call(ControllerMethod.status)
            if !status.listen.hasSuffix(":0") { return status }
            guard Date() < deadline else {
                throw SoakError("edge-controller's HTTP listener did not bind within \(Int(timeout)) s (listen \(status.listen))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Stops the daemons, deletes the namespace and the scratch directory (once).
    func stop() { RunGuard.release(teardown) }

    private func tearDown() {
        let (started, ns) = lock.withLock { (processes, netns) }
        started.reversed().forEach { $0.stop() }
        if let ns { Netns.delete(ns) }
        try? FileManager.default.removeItem(at: dir)
    }
}
