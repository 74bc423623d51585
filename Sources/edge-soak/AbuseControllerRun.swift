// `--runs abuse-controller` (`make abuse`, root): issue 13's attacks on the release controller,
// replayed with figures. The controller runs as systemd would start it without LimitNOFILE (soft
// limit 1 024) and with a watchdog (WATCHDOG_USEC = 2 s, pings every second to our notify socket):
//   1. fd flood: N idle unauthenticated TCP connections held open; /healthz, an authenticated
//      report and the RPC socket must still answer;
//   2. huge extender bodies: K concurrent /prioritize bodies of 5 000 full v1.Node objects each;
//   3. token-holder memory: M nodes, each report at the bounds (max peers, max drop reasons,
//      253-byte node name, 128-byte agent version), then a report over the bounds (refused);
//   4. 401 flood: unauthenticated reports; journal lines written for them.
// Printed for each: the longest watchdog gap, /healthz latency under attack, RSS and descriptors.
import EdgeCore
import EdgeRPC
import Foundation

enum AbuseControllerRun {
    struct Settings {
        var connections = 1100
        var hugeBodies = 6
        var nodes = 20_000
        var unauthorized = 20_000
    }

    static func run(binDir: String, settings s: Settings) async throws {
        let daemons = try SoakDaemons(binDir: binDir)
        defer { daemons.stop() }
        let token = "abuse-\(UUID().uuidString)"
        try token.write(toFile: daemons.path("token"), atomically: true, encoding: .utf8)
        try """
        [server]
        listen = "127.0.0.1:0"
        token_file = "\(daemons.path("token"))"
        [rpc]
        socket = "\(daemons.path("controller.sock"))"
        group = ""
        [registry]
        max_nodes = \(max(s.nodes, 1))
        stale_after = "600s"
        """.write(toFile: daemons.path("controller.toml"), atomically: true, encoding: .utf8)
        let watchdog = try WatchdogListener(path: daemons.path("notify.sock"))
        let p = try daemons.start(["NOTIFY_SOCKET=\(watchdog.path)", "WATCHDOG_USEC=2000000", "prlimit", "--nofile=1024:16384", "--",
                                   "\(binDir)/edge-controller", "--config", daemons.path("controller.toml")], log: "controller.log")
        try daemons.waitFor(daemons.path("controller.sock"), p, log: "controller.log")
        let rpc = RPCClient(path: daemons.path("controller.sock"))
        let status: ControllerStatusResult = try rpc.call(ControllerMethod.status)
        let port = try ExtenderRateRun.portOf("http://\(status.listen)")
        let pid = p.processIdentifier
        print("abuse-controller: release edge-controller pid \(pid) on \(status.listen), soft RLIMIT_NOFILE 1024 at exec, watchdog 2 s")
        print("abuse-controller:   started: \(try ProcessSample(pid: pid))")

        try fdFlood(port: port, pid: pid, token: token, rpc: rpc, watchdog: watchdog, count: s.connections)
        try hugeBodies(port: port, pid: pid, watchdog: watchdog, count: s.hugeBodies)
        try memory(port: port, pid: pid, token: token, rpc: rpc, watchdog: watchdog, nodes: s.nodes)
        try unauthorizedFlood(port: port, pid: pid, watchdog: watchdog, count: s.unauthorized, log: daemons.path("controller.log"))
        print("abuse-controller:   peak RSS \(peak(pid)); still running: \(p.isRunning)")
    }

    static func peak(_ pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ") ?? "?"
    }

    static func fdFlood(port: Int, pid: Int32, token: String, rpc: RPCClient, watchdog: WatchdogListener, count: Int) throws {
        var lim = rlimit(rlim_cur: rlim_t(count + 1024), rlim_max: rlim_t(count + 1024))
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lim)
        let since = ContinuousClock.now
        var held: [Int32] = [], failures: [Int32: Int] = [:]
        for _ in 0..<count {
            var err: Int32 = 0
            if let fd = AbuseSocket.connect(port: port, error: &err) { held.append(fd) } else { failures[err, default: 0] += 1 }
        }
        Thread.sleep(forTimeInterval: 1)
        let probe = HealthProber(port: port)
        let report = AbuseSocket.exchange(port: port, PipelinedHTTPLoad.post("/v1/reports", body: Array(IngestSoak.report(node: 0, round: 0)), token: token))
        let rpcOK = (try? rpc.call(ControllerMethod.status) as ControllerStatusResult) != nil
        Thread.sleep(forTimeInterval: 3)
        let during = try ProcessSample(pid: pid)
        let health = probe.finish()
        held.forEach { close($0) }
        print("abuse-controller: fd flood: \(held.count) idle unauthenticated connections held (\(failures.isEmpty ? "none refused" : "refused: \(failures)"))")
        print("abuse-controller:   during: \(during); \(health); authenticated report -> \(report.map(String.init) ?? "no answer"); "
              + "RPC controller.status \(rpcOK ? "answered" : "FAILED"); longest watchdog gap \(String(format: "%.2f", watchdog.longestGap(since: since))) s")
        Thread.sleep(forTimeInterval: 1)
    }

    static func hugeBodies(port: Int, pid: Int32, watchdog: WatchdogListener, count: Int) throws {
        let nodes = (0..<5000).map(fullNode).joined(separator: ",")
        let body = Array(#"{"Pod":{"metadata":{"name":"web-1","namespace":"default"}},"Nodes":{"items":[\#(nodes)]},"NodeNames":null}"#.utf8)
        let request = PipelinedHTTPLoad.post("/prioritize", body: body)
        let before = try ProcessSample(pid: pid)
        let since = ContinuousClock.now
        let probe = HealthProber(port: port)
        let lock = NSLock()
        var statuses: [String: Int] = [:]
        var maxRSS = before.rssKiB
        let group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            Thread.detachNewThread {
                let status = AbuseSocket.exchange(port: port, request, timeout: 120)
                lock.withLock { statuses[status.map(String.init) ?? "no answer", default: 0] += 1 }
                group.leave()
            }
        }
        while group.wait(timeout: .now() + 0.2) == .timedOut {
            if let s = try? ProcessSample(pid: pid) { maxRSS = max(maxRSS, s.rssKiB) }
        }
        let health = probe.finish()
        print("abuse-controller: \(count) concurrent /prioritize bodies of \(body.count) bytes (5 000 full v1.Node): answers \(statuses)")
        print(String(format: "abuse-controller:   RSS %.1f MiB before, %.1f MiB highest sampled (+%.1f MiB); %@; longest watchdog gap %.2f s",
                     Double(before.rssKiB) / 1024, Double(maxRSS) / 1024, Double(maxRSS - before.rssKiB) / 1024, health,
                     watchdog.longestGap(since: since)))
    }

    static func memory(port: Int, pid: Int32, token: String, rpc: RPCClient, watchdog: WatchdogListener, nodes: Int) throws {
        let limits = ControllerConfig.defaults.registry
        let placeholder = "node-placeholder"
        let w = TelemetryWindow(
            node: placeholder, agentVersion: String(repeating: "v", count: 128), generatedAt: Date().timeIntervalSince1970,
            windowSeconds: 30, rttP50Ms: 5, rttP99Ms: 20, rttSamples: 1000, retransRate: 0.001, retransmits: 1, segmentsOut: 1000,
            dropRate: 1, dropRateWeighted: 1,
            drops: (0..<limits.maxDropReasons).map { DropReasonStat(reason: String(format: "R%063d", $0), count: 1, ratePerSecond: 1, weight: 1) },
            runqlatP95Ms: 1, runqlatSamples: 100, cpuUtilization: 0.5,
            peers: (0..<limits.maxPeers).map { PeerRTT(address: "fd00:1234:5678:9abc:def0:\($0 / 256):\($0 % 256):1", rttP50Ms: 5, rttP99Ms: 20, samples: 100) })
        let text = String(decoding: try EdgeJSON.encoder().encode(w), as: UTF8.self)
        let parts = text.components(separatedBy: "\"\(placeholder)\"")
        guard parts.count == 2 else { throw SoakError("memory: placeholder not found once in the report") }
        let (head, tail) = (Array(parts[0].utf8), Array(parts[1].utf8))
        func name(_ i: Int) -> String { String(format: "n%05d-", i) + String(repeating: "a", count: 253 - 7) }
        let before = try ProcessSample(pid: pid)
        let since = ContinuousClock.now
        let probe = HealthProber(port: port)
        let r = PipelinedHTTPLoad.run(port: port, connections: 4, depth: 4, duration: .seconds(600), limit: nodes) { c, n in
            PipelinedHTTPLoad.post("/v1/reports", body: head + Array("\"\(name(n * 4 + c))\"".utf8) + tail, token: token)
        }
        let health = probe.finish()
        let after = try ProcessSample(pid: pid)
        let held: ControllerStatusResult = try rpc.call(ControllerMethod.status)
        var over = w
        over.node = "over-the-bounds"
        over.peers = (0..<13_000).map { PeerRTT(address: "10.\($0 / 65536).\($0 / 256 % 256).\($0 % 256)", rttP50Ms: 1, rttP99Ms: 2, samples: 1) }
        over.drops = []
        let refused = AbuseSocket.exchange(port: port, PipelinedHTTPLoad.post("/v1/reports", body: Array(try EdgeJSON.encoder().encode(over)), token: token))
        print("abuse-controller: token holder: \(nodes) nodes at the bounds (\(limits.maxPeers) peers, \(limits.maxDropReasons) drop reasons, "
              + "253-byte names), \(head.count + tail.count + 255) bytes per report: \(r.statuses) at \(Int(r.perSecond)) reports/s, registry holds \(held.nodesTotal)")
        print(String(format: "abuse-controller:   RSS %.1f MiB before, %.1f MiB after (+%.2f KiB per node); %@; longest watchdog gap %.2f s; "
                     + "a 13 000-peer report -> %@", Double(before.rssKiB) / 1024, Double(after.rssKiB) / 1024,
                     Double(after.rssKiB - before.rssKiB) / Double(max(nodes, 1)), health, watchdog.longestGap(since: since),
                     refused.map(String.init) ?? "no answer"))
    }

    static func unauthorizedFlood(port: Int, pid: Int32, watchdog: WatchdogListener, count: Int, log: String) throws {
        func lines() -> Int {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("rejected report") }.count
        }
        let before = lines()
        let since = ContinuousClock.now
        let probe = HealthProber(port: port)
        let body = Array(IngestSoak.report(node: 1, round: 0))
        let r = PipelinedHTTPLoad.run(port: port, connections: 8, depth: 8, duration: .seconds(300), limit: count) { _, _ in
            PipelinedHTTPLoad.post("/v1/reports", body: body, token: "wrong-token")
        }
        let health = probe.finish()
        print("abuse-controller: 401 flood: \(r.stats.count) unauthenticated reports at \(Int(r.perSecond))/s: \(r.statuses); "
              + "\(lines() - before) \"rejected report\" journal lines; \(health); longest watchdog gap "
              + String(format: "%.2f s; %@", watchdog.longestGap(since: since), "\(try ProcessSample(pid: pid))"))
    }

    /// A full `v1.Node` (50 images, kubelet's nodeStatusMaxImages): 12.5 KB.
    static func fullNode(_ i: Int) -> String {
        let name = String(format: "edge-node-%05d.example.internal", i)
        let images = (0..<50).map { j in
            #"{"names":["registry.example.com/team\#(j)/service-\#(j)@sha256:\#(String(repeating: "a", count: 64))","registry.example.com/team\#(j)/service-\#(j):v1.\#(j).0"],"sizeBytes":123456789}"#
        }.joined(separator: ",")
        let conditions = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map {
            #"{"type":"\#($0)","status":"False","lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"KubeletHasSufficient\#($0)","message":"kubelet has sufficient \#($0.lowercased()) available"}"#
        }.joined(separator: ",")
        return #"{"metadata":{"name":"\#(name)","uid":"3f0c6a2e-1b7d-4c55-9a1e-0123456789ab","resourceVersion":"123456789","labels":{"kubernetes.io/hostname":"\#(name)","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","topology.kubernetes.io/zone":"eu-west-1a","node.kubernetes.io/instance-type":"m5.2xlarge"}},"status":{"capacity":{"cpu":"8","memory":"32408432Ki","pods":"110"},"allocatable":{"cpu":"7910m","memory":"31391600Ki","pods":"110"},"conditions":[\#(conditions)],"addresses":[{"type":"InternalIP","address":"10.0.12.34"},{"type":"Hostname","address":"\#(name)"}],"nodeInfo":{"kernelVersion":"6.1.0-28-cloud-amd64","osImage":"Debian GNU/Linux 12 (bookworm)","containerRuntimeVersion":"containerd://1.7.24","kubeletVersion":"v1.35.0"},"images":[\#(images)]}}"#
    }
}
