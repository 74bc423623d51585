// The namespace test bed: a controller namespace, N node namespaces and a client namespace,
// joined by veth pairs on 198.18.0.0/15 (RFC 2544 benchmarking range), with the real edge-agent
// on every node, the real edge-controller, and a probe server per node. Everything it creates
// is recorded and removed by `teardown()`, which is idempotent and also runs on SIGINT/SIGTERM.
//
//   controller ns  198.18.i.1  <-veth->  198.18.i.2      node-i ns   (agent pushes, extender)
//   client ns      198.18.100+i.1 <-veth-> 198.18.100+i.2 node-i ns  (workload and probes)
//
// With `vm` set, the nodes are VMs made by packaging/vm/experiment-vms.sh instead: one link per
// VM on a bridge in the namespace `vm.netns`, where the controller and the client run; the
// runner reaches each VM over SSH (`NodeHost`) and neither creates nor deletes that namespace.
import EdgeAPI
import EdgeCore
import EdgeLab
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
    /// A bed of VMs instead of namespaces (nil: namespaces).
    var vm: VMBedOptions? = nil
    /// CPUs each namespace node's cgroup may use (CFS quota); 0 = no node cgroups (one shared kernel
    /// view: agents see the host, S4 pins to a CPU instead). Ignored on a VM bed.
    var nodeCPUs: Double = 0
}

/// The VM bed made by packaging/vm/experiment-vms.sh.
struct VMBedOptions {
    /// The namespace holding the bridge, the VMs' qemu processes, the controller and the client.
    var netns: String
    /// The controller's address on the bridge (agents push to it).
    var controllerAddress: String
    var nodes: [VMNodeAccess]
    /// The VMs' NIC on the bridge (scenarios act on it).
    var device: String
    /// Where edge-agent is installed in the VMs (from the .deb).
    var agentBin: String
}

final class TestBed {
    let options: TestBedOptions
    let tag: String
    let nodeNames: [String]
    private(set) var namespaces: [ScratchNetns] = []
    private(set) var daemons: [DaemonProcess] = []
    /// The bed's edge-controller (the MTTR measurement stops it).
    private(set) var controller: DaemonProcess?
    private let lock = NSLock()
    private var tornDown = false
    let probePort: UInt16 = 6999

    var controllerNS: String { options.vm?.netns ?? "\(tag)-ctl" }
    var clientNS: String { options.vm?.netns ?? "\(tag)-cli" }
    func nodeNS(_ i: Int) -> String { "\(tag)-n\(i)" }
    /// Where commands for node `i` run.
    func host(_ i: Int) -> NodeHost { options.vm.map { .vm($0.nodes[i - 1]) } ?? .namespace(nodeNS(i)) }
    /// The node's end of its client link (where scenarios act on the workload's traffic).
    func clientFacingDevice(_ i: Int) -> String { options.vm?.device ?? "\(tag)m\(i)" }
    /// The node's end of its controller link (the same NIC on a VM).
    func controllerFacingDevice(_ i: Int) -> String { options.vm?.device ?? "\(tag)n\(i)" }
    func nodeClientAddress(_ i: Int) -> String { options.vm.map { $0.nodes[i - 1].address } ?? "198.18.\(100 + i).2" }
    /// The controller's address as node `i` sees it.
    func controllerAddress(fromNode i: Int) -> String { options.vm?.controllerAddress ?? "198.18.\(i).1" }
    var controllerSocket: String { "\(options.workDir)/controller.sock" }

    init(_ options: TestBedOptions) {
        self.options = options
        tag = "ex\(getpid() % 10000)"
        nodeNames = (1...options.nodes).map { "node-\($0)" }
    }

    /// Servers are not pinned, except on a node whose CPU a scenario constrains (S4): pinning every
    /// node's servers to fixed CPUs would hand whichever mode uses more CPUs an advantage of its own.
    private var pinnedCPU: [Int: Int] = [:]
    private var probeServers: [Int: DaemonProcess] = [:]
    /// Each namespace node's cgroup (empty: none, see `TestBedOptions.nodeCPUs`).
    private(set) var cgroups: [Int: NodeCgroup] = [:]

    /// Makes one cgroup per node with the CPU allowance (namespace bed with nodeCPUs > 0 only).
    /// Recorded one by one, so that teardown removes what a failure left.
    func createNodeCgroups() throws {
        guard options.vm == nil, options.nodeCPUs > 0 else { return }
        let mounts = CgroupMount.parse(mountinfo: try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))
        for i in 1...options.nodes {
            let cg = try NodeCgroup.create(name: "edgeexp-\(tag)-n\(i)", cpus: options.nodeCPUs, mounts: mounts)
            lock.lock(); cgroups[i] = cg; lock.unlock()
        }
    }

    /// Removes every node cgroup (their processes must have been stopped). Safe to call twice.
    func removeNodeCgroups() {
        lock.lock(); let cgs = cgroups; cgroups = [:]; lock.unlock()
        for (_, cg) in cgs.sorted(by: { $0.key < $1.key }) { cg.remove() }
    }

    /// `argv` inside node `i`'s cgroup (unchanged without one). The cgroup is joined before `ip netns
    /// exec`, which remounts /sys for the namespace and so hides /sys/fs/cgroup from what it runs.
    func inNodeCgroup(_ i: Int, _ argv: [String]) -> [String] {
        lock.lock(); let cg = cgroups[i]; lock.unlock()
        return cg.map { $0.wrap(argv) } ?? argv
    }

    /// The kernel's retransmission and drop counters in node `i`'s namespace (or VM).
    func netCounters(node i: Int) throws -> NodeNetCounters {
        try NodeNetCounters.parse(try sh(host(i).command(NodeNetCounters.command)).stdout)
    }

    /// The CPU servers on node `i` are pinned to (nil = not pinned).
    func serverCPU(node i: Int) -> Int? { lock.lock(); defer { lock.unlock() }; return pinnedCPU[i] }

    /// Pins node `i`'s probe server (all threads) and its future replicas to `cpu`.
    func pin(node i: Int, cpu: Int) throws {
        lock.lock(); pinnedCPU[i] = cpu; let probe = probeServers[i]; lock.unlock()
        if let probe { try sh(["taskset", "-a", "-p", "-c", String(cpu), String(probe.pid)]) }
    }

    /// Undoes `pin`: the probe server may run on every CPU again.
    func unpin(node i: Int) {
        lock.lock(); pinnedCPU[i] = nil; let probe = probeServers[i]; lock.unlock()
        if let probe { _ = try? sh(["taskset", "-a", "-p", "-c", "0-\(options.cpus - 1)", String(probe.pid)], check: false) }
    }

    /// Records a process so that teardown stops it (stopping it earlier is fine).
    func track(_ s: DaemonProcess) { lock.lock(); daemons.append(s); lock.unlock() }

    private func addNamespace(_ name: String) throws {
        let ns = try ScratchNetns(named: name)
        lock.lock(); namespaces.append(ns); lock.unlock()
    }

    private func vethPair(_ a: String, in nsA: String, addrA: String, _ b: String, in nsB: String, addrB: String) throws {
        // one wire packet per skb: S2's per-packet loss and S3's tbf see packets, not 64 KiB GSO bursts
        try Veth.add(VethEnd(a, in: nsA, address: addrA), VethEnd(b, in: nsB, address: addrB), linkOptions: ["gso_max_segs", "1"])
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
    func startServer(node i: Int, port: UInt16, label: String) throws -> DaemonProcess {
        let h = host(i)
        let s = try DaemonProcess(name: "\(label) on node-\(i):\(port)",
                            inNodeCgroup(i, h.daemon(pinned(serverCPU(node: i), [options.selfPath, "serve", "--port", String(port)]))),
                            logPath: "\(options.workDir)/server-n\(i)-\(port).log", ownGroup: h.isVM, stdinPipe: h.isVM, stopGrace: 5)
        guard s.waitUntil(timeout: 15, { s.log.contains("listening") }) else {
            s.stop()
            throw CommandFailure(description: "\(s.name) did not start: \(s.log)")
        }
        return s
    }

    /// CPU seconds of a process started on node `i` (nil when it cannot be read).
    func cpuSeconds(_ s: DaemonProcess, node i: Int) -> Double? {
        let h = host(i)
        guard h.isVM else { return processCPUSeconds(pid: s.pid) }
        guard let pid = NodeHost.remotePID(inLog: s.log),
              let r = try? sh(h.command(["cat", "/proc/\(pid)/stat"]), check: true) else { return nil }
        return procStatCPUSeconds(r.stdout)
    }

    /// Writes `text` to `path` on node `i` (a local file for a namespace node).
    private func writeFile(node i: Int, path: String, _ text: String, mode: String = "0644") throws {
        guard host(i).isVM else {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let dir = (path as NSString).deletingLastPathComponent
        let b64 = Data(text.utf8).base64EncodedString()
        try sh(host(i).command(["sh", "-c", "mkdir -p '\(dir)' && echo \(b64) | base64 -d > '\(path)' && chmod \(mode) '\(path)'"]))
    }

    func setUp(log: (String) -> Void) throws {
        try FileManager.default.createDirectory(atPath: options.workDir, withIntermediateDirectories: true)
        let token = "\(options.workDir)/token"
        try "experiment-\(UUID().uuidString)".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o600)

        if let vm = options.vm {
            guard vm.nodes.count == options.nodes else {
                throw CommandFailure(description: "\(options.nodes) nodes asked, \(vm.nodes.count) VMs given")
            }
            log("VM bed in \(vm.netns): " + vm.nodes.enumerated().map { "node-\($0.offset + 1)=\($0.element.address)" }.joined(separator: " "))
        } else {
            try addNamespace(controllerNS)
            try addNamespace(clientNS)
            for i in 1...options.nodes {
                try addNamespace(nodeNS(i))
                try vethPair("\(tag)c\(i)", in: controllerNS, addrA: "198.18.\(i).1/24",
                             controllerFacingDevice(i), in: nodeNS(i), addrB: "198.18.\(i).2/24")
                try vethPair("\(tag)k\(i)", in: clientNS, addrA: "198.18.\(100 + i).1/24",
                             clientFacingDevice(i), in: nodeNS(i), addrB: "\(nodeClientAddress(i))/24")
            }
            log("namespaces: \(namespaces.map(\.name).joined(separator: " "))")
            try createNodeCgroups()
            if !cgroups.isEmpty {
                log("node cgroups (\(options.nodeCPUs) CPUs each): " + cgroups.sorted { $0.key < $1.key }.map { $0.value.directories.joined(separator: "+") }.joined(separator: " "))
            }
        }

        let controller = try DaemonProcess(name: "edge-controller", executable: "\(options.bin)/edge-controller",
                                           config: try fill("controller.toml", ["TOKEN_FILE": token, "SOCKET": controllerSocket]),
                                           configPath: "\(options.workDir)/controller.toml", netns: controllerNS,
                                           logPath: "\(options.workDir)/controller.log", stopGrace: 5)
        track(controller)
        self.controller = controller
        try controller.waitForFile(controllerSocket, timeout: 30)

        for i in 1...options.nodes {
            let h = host(i)
            let sock = "\(options.workDir)/agent\(i).sock"
            let conf = "\(options.workDir)/agent\(i).toml"
            if h.isVM {
                try sh(h.command(["mkdir", "-p", "\(options.workDir)/state\(i)"]))
                try writeFile(node: i, path: token, try String(contentsOfFile: token, encoding: .utf8), mode: "0600")
            } else {
                try FileManager.default.createDirectory(atPath: "\(options.workDir)/state\(i)", withIntermediateDirectories: true)
            }
            try writeFile(node: i, path: conf, try fill("agent.toml", [
                "NODE": nodeNames[i - 1], "STATE_DIR": "\(options.workDir)/state\(i)", "SOCKET": sock,
                "CONTROLLER_URL": "http://\(controllerAddress(fromNode: i)):8477", "TOKEN_FILE": token,
                "CGROUP": cgroups[i]?.v2Dir ?? ""]))
            let agentBin = options.vm?.agentBin ?? options.bin
            // `ip netns exec` hides /sys/fs/cgroup (it mounts a fresh sysfs): an agent scoped to a
            // cgroup joins the node's network namespace only, with nsenter, and sees the host's mounts
            let agentArgs = ["\(agentBin)/edge-agent", "--config", conf]
            let agentCommand = !h.isVM && cgroups[i] != nil ? ["nsenter", "--net=/run/netns/\(nodeNS(i))"] + agentArgs : h.daemon(agentArgs)
            let agent = try DaemonProcess(name: "edge-agent node-\(i)", agentCommand,
                                    logPath: "\(options.workDir)/agent\(i).log", ownGroup: h.isVM, stdinPipe: h.isVM, stopGrace: 5)
            track(agent)
            let listening: () -> Bool = h.isVM
                ? { (try? sh(h.command(["test", "-S", sock]), check: true)) != nil }
                : { FileManager.default.fileExists(atPath: sock) }
            guard agent.waitUntil(timeout: 60, listening) else {
                throw CommandFailure(description: "edge-agent node-\(i) did not start: \(agent.log)")
            }
            let probe = try startServer(node: i, port: probePort, label: "probe server")
            track(probe)
            lock.lock(); probeServers[i] = probe; lock.unlock()
        }

        let rpc = RPCClient(path: controllerSocket, timeout: .seconds(5), daemonName: "edge-controller", accessGroup: "")
        let deadline = monotonicNow() + 30
        while true {
            let nodes = try rpc.call(ControllerMethod.nodesList)
            let fresh = Set(nodes.nodes.filter { !$0.stale }.map(\.node))
            if fresh.isSuperset(of: nodeNames) { break }
            if monotonicNow() > deadline {
                throw CommandFailure(description: "agents did not all report to the controller within 30 s (fresh: \(fresh.sorted()))")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        log("test bed up: \(options.nodes) agents reporting, controller in \(controllerNS)")
    }

    /// Stops every process and deletes every cgroup and namespace this bed created. Safe to call twice.
    func teardown() {
        lock.lock()
        if tornDown { lock.unlock(); return }
        tornDown = true
        let ds = daemons, ns = namespaces
        lock.unlock()
        for d in ds.reversed() { d.stop() }
        removeNodeCgroups()
        for n in ns.reversed() { n.delete() }
    }
}
