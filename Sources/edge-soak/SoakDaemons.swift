// The daemons under load: the real edge-agent and edge-controller binaries, started with
// configs written to a scratch directory. The agent runs in a network namespace made for the
// run (its telemetry and any shaping stay there); the controller listens on loopback.
import EdgeAPI
import EdgeRPC
import Foundation

final class SoakDaemons: @unchecked Sendable {
    let dir: URL
    let binDir: String
    private let lock = NSLock()
    private var processes: [Process] = []
    private var netns: String?
    private var teardown = 0

    init(binDir: String) throws {
        self.binDir = binDir
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-soak-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        teardown = RunGuard.register { [self] in tearDown() }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func start(_ arguments: [String], log: String) throws -> Process {
        let p = try startLogged(arguments, logPath: path(log))
        lock.withLock { processes.append(p) }
        return p
    }

    func waitFor(_ file: String, _ process: Process, log: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: file) {
            guard process.isRunning, Date() < deadline else {
                throw SoakError("daemon did not open \(file): \((try? String(contentsOfFile: path(log), encoding: .utf8)) ?? "")")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Starts edge-agent in a fresh namespace; returns its socket and pid.
    func startAgent(maxClients: Int) throws -> (socket: String, pid: Int32) {
        let name = "edgesoak-\(UInt32.random(in: 0...UInt32.max))"
        lock.withLock { netns = name }  // before it exists: an interrupt now still deletes it
        try runCommand(["ip", "netns", "add", name])
        try """
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
        """.write(toFile: path("agent.toml"), atomically: true, encoding: .utf8)
        // `ip netns exec` execs the agent in place, so the pid is the agent's own.
        let p = try start(["ip", "netns", "exec", name, "\(binDir)/edge-agent", "--config", path("agent.toml")], log: "agent.log")
        try waitFor(path("agent.sock"), p, log: "agent.log")
        // telemetry.get answers -32002 until the first interval completes; load starts after that.
        let deadline = Date().addingTimeInterval(15)
        while (try? RPCClient(path: path("agent.sock")).call(AgentMethod.telemetryGet, params: TelemetryGetParams())) == nil {
            guard Date() < deadline else { throw SoakError("agent's telemetry.get never answered within 15 s") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (path("agent.sock"), p.processIdentifier)
    }

    /// Starts edge-controller on 127.0.0.1 (a free port); returns its base URL, token and pid.
    func startController(maxNodes: Int) throws -> (url: String, token: String, pid: Int32) {
        let token = "soak-\(UUID().uuidString)"
        try token.write(toFile: path("token"), atomically: true, encoding: .utf8)
        try """
        [server]
        listen = "127.0.0.1:0"
        token_file = "\(path("token"))"
        [rpc]
        socket = "\(path("controller.sock"))"
        group = ""
        [registry]
        max_nodes = \(maxNodes)
        stale_after = "60s"
        """.write(toFile: path("controller.toml"), atomically: true, encoding: .utf8)
        let p = try start(["\(binDir)/edge-controller", "--config", path("controller.toml")], log: "controller.log")
        try waitFor(path("controller.sock"), p, log: "controller.log")
        let status: ControllerStatusResult = try RPCClient(path: path("controller.sock")).call(ControllerMethod.status)
        return ("http://\(status.listen)", token, p.processIdentifier)
    }

    /// Stops the daemons, deletes the namespace and the scratch directory (once).
    func stop() { RunGuard.release(teardown) }

    private func tearDown() {
        let (started, ns) = lock.withLock { (processes, netns) }
        started.reversed().forEach { stopProcess($0) }
        if let ns { try? runCommand(["ip", "netns", "delete", ns]) }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Starts `arguments` through /usr/bin/env with stdout and stderr in `logPath`, outside any
/// systemd notify socket of ours (NOTIFY_SOCKET removed), `environment` added on top.
/// Shared by the soak daemons and the abuse bed.
func startLogged(_ arguments: [String], logPath: String, environment: [String: String] = [:]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    FileManager.default.createFile(atPath: logPath, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    p.standardOutput = handle
    p.standardError = handle
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "NOTIFY_SOCKET")
    for (k, v) in environment { env[k] = v }
    p.environment = env
    try p.run()
    return p
}
