// The namespace test bed: a controller namespace, N node namespaces and a client namespace,
// joined by veth pairs on 198.18.0.0/15 (RFC 2544 benchmarking range), with the real edge-agent
// on every node, the real edge-controller, and a probe server per node. Everything it creates
// is recorded and removed by `teardown()`, which is idempotent and also runs on SIGINT/SIGTERM.
//
//   controller ns  198.18.i.1  <-veth->  198.18.i.2      node-i ns   (agent pushes, extender)
//   client ns      198.18.100+i.1 <-veth-> 198.18.100+i.2 node-i ns  (workload and probes)
import EdgeCore
import EdgeRPC
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct TestBedOptions {
    var nodes: Int
    var bin: String
    var selfPath: String
    var experimentsDir: String
    var workDir: String
    /// Online CPUs (S4 pins the degraded node's servers and the pressure to the last one).
    var cpus: Int
}

final class TestBed {
    let options: TestBedOptions
    let tag: String
    let nodeNames: [String]
    private(set) var namespaces: [String] = []
    private(set) var daemons: [Spawned] = []
    private let lock = NSLock()
    private var tornDown = false
    let probePort: UInt16 = 6999

    var controllerNS: String { "\(tag)-ctl" }
    var clientNS: String { "\(tag)-cli" }
    func nodeNS(_ i: Int) -> String { "\(tag)-n\(i)" }
    /// The node's end of its client link (where scenarios act on the workload's traffic).
    func clientFacingDevice(_ i: Int) -> String { "\(tag)m\(i)" }
    /// The node's end of its controller link.
    func controllerFacingDevice(_ i: Int) -> String { "\(tag)n\(i)" }
    func nodeClientAddress(_ i: Int) -> String { "198.18.\(100 + i).2" }
    var controllerSocket: String { "\(options.workDir)/controller.sock" }

    init(_ options: TestBedOptions) {
        self.options = options
        tag = "ex\(getpid() % 10000)"
        nodeNames = (1...options.nodes).map { "node-\($0)" }
    }

    /// Servers are not pinned, except on a node whose CPU a scenario constrains (S4): pinning every
    /// node's servers to fixed CPUs would hand whichever mode uses more CPUs an advantage of its own.
    private var pinnedCPU: [Int: Int] = [:]
    private var probeServers: [Int: Spawned] = [:]

    /// The CPU servers on node `i` are pinned to (nil = not pinned).
    func serverCPU(node i: Int) -> Int? { lock.lock(); defer { lock.unlock() }; return pinnedCPU[i] }

    /// Pins node `i`'s probe server (all threads) and its future replicas to `cpu`.
    func pin(node i: Int, cpu: Int) throws {
        lock.lock(); pinnedCPU[i] = cpu; let probe = probeServers[i]; lock.unlock()
        if let probe { try runCommand(["taskset", "-a", "-p", "-c", String(cpu), String(probe.pid)]) }
    }

    /// Undoes `pin`: the probe server may run on every CPU again.
    func unpin(node i: Int) {
        lock.lock(); pinnedCPU[i] = nil; let probe = probeServers[i]; lock.unlock()
        if let probe { _ = try? runCommand(["taskset", "-a", "-p", "-c", "0-\(options.cpus - 1)", String(probe.pid)], check: false) }
    }

    /// Records a process so that teardown stops it (stopping it earlier is fine).
    func track(_ s: Spawned) { lock.lock(); daemons.append(s); lock.unlock() }

    private func addNamespace(_ name: String) throws {
        try runCommand(["ip", "netns", "add", name])
        lock.lock(); namespaces.append(name); lock.unlock()
        try runCommand(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    private func vethPair(_ a: String, in nsA: String, addrA: String, _ b: String, in nsB: String, addrB: String) throws {
        try runCommand(["ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", "name", b, "netns", nsB])
        for (dev, ns, addr) in [(a, nsA, addrA), (b, nsB, addrB)] {
            try runCommand(["ip", "-n", ns, "addr", "add", addr, "dev", dev])
            // one wire packet per skb: S2's per-packet loss and S3's tbf see packets, not 64 KiB GSO bursts
            try runCommand(["ip", "-n", ns, "link", "set", dev, "gso_max_segs", "1"])
            try runCommand(["ip", "-n", ns, "link", "set", dev, "up"])
        }
    }

    private func fill(_ template: String, _ values: [String: String]) throws -> String {
        var text = try String(contentsOfFile: "\(options.experimentsDir)/\(template)", encoding: .utf8)
        for (k, v) in values { text = text.replacingOccurrences(of: "@\(k)@", with: v) }
        if let r = text.range(of: #"@[A-Z_]+@"#, options: .regularExpression) {
            throw CommandFailure(description: "\(template): placeholder \(text[r]) has no value")
        }
        return text
    }

    /// `taskset -c CPU` prefix when pinned.
    func pinned(_ cpu: Int?, _ args: [String]) -> [String] {
        cpu.map { ["taskset", "-c", String($0)] + args } ?? args
    }

    /// Starts a workload server on node `i` listening on `port`; waits until it listens.
    func startServer(node i: Int, port: UInt16, label: String) throws -> Spawned {
        let s = try Spawned(name: "\(label) on node-\(i):\(port)",
                            pinned(serverCPU(node: i), ["ip", "netns", "exec", nodeNS(i), options.selfPath, "serve", "--port", String(port)]),
                            logPath: "\(options.workDir)/server-n\(i)-\(port).log")
        guard s.waitUntil(timeout: 15, { s.log.contains("listening") }) else {
            s.stop()
            throw CommandFailure(description: "\(s.name) did not start: \(s.log)")
        }
        return s
    }

    func setUp(log: (String) -> Void) throws {
        try FileManager.default.createDirectory(atPath: options.workDir, withIntermediateDirectories: true)
        let token = "\(options.workDir)/token"
        try "experiment-\(UUID().uuidString)".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o600)

        try addNamespace(controllerNS)
        try addNamespace(clientNS)
        for i in 1...options.nodes {
            try addNamespace(nodeNS(i))
            try vethPair("\(tag)c\(i)", in: controllerNS, addrA: "198.18.\(i).1/24",
                         controllerFacingDevice(i), in: nodeNS(i), addrB: "198.18.\(i).2/24")
            try vethPair("\(tag)k\(i)", in: clientNS, addrA: "198.18.\(100 + i).1/24",
                         clientFacingDevice(i), in: nodeNS(i), addrB: "\(nodeClientAddress(i))/24")
        }
        log("namespaces: \(namespaces.joined(separator: " "))")

        let ctlConf = "\(options.workDir)/controller.toml"
        try fill("controller.toml", ["TOKEN_FILE": token, "SOCKET": controllerSocket]).write(toFile: ctlConf, atomically: true, encoding: .utf8)
        let controller = try Spawned(name: "edge-controller", ["ip", "netns", "exec", controllerNS, "\(options.bin)/edge-controller", "--config", ctlConf],
                                     logPath: "\(options.workDir)/controller.log")
        track(controller)
        guard controller.waitUntil(timeout: 30, { FileManager.default.fileExists(atPath: controllerSocket) }) else {
            throw CommandFailure(description: "edge-controller did not start: \(controller.log)")
        }

        for i in 1...options.nodes {
            let sock = "\(options.workDir)/agent\(i).sock"
            let conf = "\(options.workDir)/agent\(i).toml"
            try FileManager.default.createDirectory(atPath: "\(options.workDir)/state\(i)", withIntermediateDirectories: true)
            try fill("agent.toml", ["NODE": nodeNames[i - 1], "STATE_DIR": "\(options.workDir)/state\(i)", "SOCKET": sock,
                                    "CONTROLLER_URL": "http://198.18.\(i).1:8477", "TOKEN_FILE": token])
                .write(toFile: conf, atomically: true, encoding: .utf8)
            let agent = try Spawned(name: "edge-agent node-\(i)", ["ip", "netns", "exec", nodeNS(i), "\(options.bin)/edge-agent", "--config", conf],
                                    logPath: "\(options.workDir)/agent\(i).log")
            track(agent)
            guard agent.waitUntil(timeout: 60, { FileManager.default.fileExists(atPath: sock) }) else {
                throw CommandFailure(description: "edge-agent node-\(i) did not start: \(agent.log)")
            }
            let probe = try startServer(node: i, port: probePort, label: "probe server")
            track(probe)
            lock.lock(); probeServers[i] = probe; lock.unlock()
        }

        let rpc = RPCClient(path: controllerSocket, timeout: .seconds(5), daemonName: "edge-controller", accessGroup: "")
        let deadline = monotonicNow() + 30
        while true {
            let nodes: NodesListResult = try rpc.call("nodes.list")
            let fresh = Set(nodes.nodes.filter { !$0.stale }.map(\.node))
            if fresh.isSuperset(of: nodeNames) { break }
            if monotonicNow() > deadline {
                throw CommandFailure(description: "agents did not all report to the controller within 30 s (fresh: \(fresh.sorted()))")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        log("test bed up: \(options.nodes) agents reporting, controller in \(controllerNS)")
    }

    /// Stops every process and deletes every namespace this bed created. Safe to call twice.
    func teardown() {
        lock.lock()
        if tornDown { lock.unlock(); return }
        tornDown = true
        let ds = daemons, ns = namespaces
        lock.unlock()
        for d in ds.reversed() { d.stop() }
        for n in ns.reversed() { _ = try? runCommand(["ip", "netns", "delete", n], check: false) }
    }
}
