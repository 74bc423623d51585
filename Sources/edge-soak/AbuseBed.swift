// The abuse-agent run's bed: a namespace with a veth pair (4 TX queues), the release agent in
// it with shaping on veth0, its metrics listener (/healthz) on the namespace's loopback, systemd's
// notify socket stood in for by a listener that timestamps WATCHDOG=1, and the attacker script
// run as nobody. Everything it makes is torn down by `stop()` or, on SIGTERM/SIGINT or an
// overrun, by RunGuard.
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation

final class AbuseBed: @unchecked Sendable {
    let dir: URL
    let netns = "edgeabuse-\(UInt32.random(in: 0...UInt32.max))"
    let pinPath = "/sys/fs/bpf/edgeabuse-\(UInt32.random(in: 0...UInt32.max))"
    /// The agent's /healthz, inside `netns`.
    let metricsPort = 9464
    private(set) var pid: Int32 = 0
    private(set) var watchdog: NotifySocket!
    private let lock = NSLock()
    private var agent: DaemonProcess?
    /// Attackers, stopped by an interrupt too.
    private var attackers: [Process] = []
    private var teardown = 0
    var socket: String { path("agent.sock") }
    var script: String { path("attack.py") }
    /// A setuid-root copy of sleep(1), exec'd by the exec-race attacker after it connected.
    var setuidSleep: String { path("suid-sleep") }

    init(binDir: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-abuse-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        teardown = RunGuard.register { [self] in tearDown() }
        try AbuseScript.text.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: "/usr/bin/sleep", toPath: setuidSleep)
        guard chown(setuidSleep, 0, 0) == 0, chmod(setuidSleep, 0o4755) == 0 else { throw SoakError("cannot make \(setuidSleep) setuid root") }
        try Netns.add(netns)
        try Veth.add(VethEnd("veth0", in: netns, address: "10.98.0.2/24"), VethEnd("veth1", in: netns), queues: 4)
        watchdog = try NotifySocket(path: path("notify.sock"))
        watchdog.listenInBackground()
        let agent = try DaemonProcess(name: "edge-agent", executable: "\(binDir)/edge-agent", config: """
        [agent]
        node_name = "abuse-agent"
        state_dir = "\(path("state"))"
        [telemetry]
        interval = "1s"
        [rpc]
        socket = "\(socket)"
        group = ""
        idle_timeout = "10s"
        [metrics]
        listen = "127.0.0.1:\(metricsPort)"
        [shaping]
        enabled = true
        device = "veth0"
        pin_path = "\(pinPath)"
        """, configPath: path("agent.toml"), netns: netns, logPath: path("agent.log"),
           environment: ["NOTIFY_SOCKET": watchdog.path, "WATCHDOG_USEC": "30000000"])
        lock.withLock { self.agent = agent }
        pid = agent.pid  // `ip netns exec` execs the agent in place
        let deadline = Date().addingTimeInterval(30)
        while (try? RPCClient(path: socket).call(AgentMethod.telemetryGet, params: TelemetryGetParams())) == nil {
            guard agent.isRunning, Date() < deadline else {
                throw SoakError("agent did not answer telemetry.get: \(agent.log)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard chmod(socket, 0o666) == 0 else { throw SoakError("chmod \(socket) failed") }  // stands in for the group
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs the attacker script as nobody in `mode`; `prefix` goes between setpriv and python.
    func attack(_ prefix: [String] = [], mode: String, _ seconds: Double = 0, extra: [String] = []) throws -> [String: JSONValue] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups"] + prefix
            + ["/usr/bin/python3", script, mode, socket, String(seconds)] + extra
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        lock.withLock { attackers.append(p) }  // an interrupt stops the attacker too
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard let result = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
            throw SoakError("attack \(mode) printed no result: \(String(decoding: data, as: UTF8.self)) "
                + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return result
    }

    /// Sets classes as root, 64 per batch, until `total` exist (root's prober holds one);
    /// returns how many it set and how long that took.
    func fillClasses(to total: Int) throws -> (set: Int, took: Duration) {
        let client = RPCClient(path: socket, timeout: .seconds(120))
        let existing = try client.call(AgentMethod.shapingList)
        let count = total - existing.classes.count
        let t = ContinuousClock.now
        for start in stride(from: 0, to: count, by: 64) {
            let items = (start..<min(start + 64, count)).map { i in
                #"{"jsonrpc":"2.0","id":\#(i),"method":"shaping.set","params":{"selector":"10.77.\#(i / 256).\#(i % 256)","rate":"\#(i + 1)mbit"}}"#
            }
            try client.sendRaw(Data(("[" + items.joined(separator: ",") + "]\n").utf8))
            let answers = try JSONDecoder().decode([JSONValue].self, from: client.receiveFrame())
            if let bad = answers.first(where: { $0["error"] != nil }) { throw SoakError("shaping.set failed: \(bad)") }
        }
        return (count, ContinuousClock.now - t)
    }

    /// Stops the agent and the attackers, removes pins, the namespace and the scratch directory (once).
    func stop() { RunGuard.release(teardown) }

    private func tearDown() {
        let (agent, attackers) = lock.withLock { (self.agent, self.attackers) }
        attackers.reversed().forEach { stopProcess($0) }
        agent?.stop()
        // What the agent pinned and recorded goes with the run.
        for name in ["edt_prefixes", "edt_cgroups", "edt_classes", "edt_class_meta", "edt_egress_prog"] {
            unlink(pinPath + "/" + name)
        }
        rmdir(pinPath)
        Netns.delete(netns)
        try? FileManager.default.removeItem(at: dir)
    }
}
