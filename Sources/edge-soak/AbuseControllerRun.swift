// `--runs abuse-controller` (`make abuse`, root): issue 13's attacks on the release controller,
// replayed with figures. The controller runs as systemd would start it without LimitNOFILE (soft
// limit 1 024) and with a watchdog (WATCHDOG_USEC = 2 s, pings every second to our notify socket):
//   1. idle connection flood: N unauthenticated TCP connections held open;
//   2. slow headers: 500 connections each sending a request head one line a second;
//   3. huge extender bodies: K concurrent /prioritize bodies of 5 000 full v1.Node objects each;
//   4. token-holder memory: M nodes, each report at the bounds (max peers, max drop reasons,
//      253-byte node name, 128-byte agent version), then reports over the bounds (refused);
//   5. 401 flood: unauthenticated reports; journal lines written for them.
// Meanwhile /healthz, /readyz and an authenticated report (ingest) are sent every 200 ms on fresh
// connections and controller.status every second; each attack prints one row (AbuseMonitor).
import EdgeAPI
import EdgeConfig
import EdgeCore
import EdgeLab
import EdgeRPC
import EdgeTelemetry
import Foundation

enum AbuseControllerRun {
    struct Settings {
        var connections = 1100
        var hugeBodies = 6
        var nodes = 20_000
        var unauthorized = 20_000
    }

    static func run(binDir: String, settings s: Settings) throws {
        RunGuard.phase("abuse-controller: starting the controller")
        let daemons = try SoakDaemons(binDir: binDir)
        defer { daemons.stop() }
        let token = "abuse-\(UUID().uuidString)"
        try token.write(toFile: daemons.path("token"), atomically: true, encoding: .utf8)
        let watchdog = try NotifySocket(path: daemons.path("notify.sock"))
        watchdog.listenInBackground()
        let p = try daemons.launch("\(binDir)/edge-controller", as: "controller", config: """
        [server]
        listen = "127.0.0.1:0"
        token_file = "\(daemons.path("token"))"
        idle_timeout = "10s"
        [rpc]
        socket = "\(daemons.path("controller.sock"))"
        group = ""
        [registry]
        max_nodes = \(s.nodes + 16)
        stale_after = "600s"
        """, socket: daemons.path("controller.sock"), wrapper: ["prlimit", "--nofile=1024:16384", "--"],
            environment: ["NOTIFY_SOCKET": watchdog.path, "WATCHDOG_USEC": "2000000"])
        let socket = daemons.path("controller.sock")
        let status = try SoakDaemons.boundStatus(socket: socket)
        let port = try ExtenderRateRun.portOf("http://\(status.listen)")
        let pid = p.pid
        print("abuse-controller: release edge-controller pid \(pid) on \(status.listen), soft RLIMIT_NOFILE 1024 at exec, "
              + "watchdog 2 s (a WATCHDOG=1 per second), server.idle_timeout 10 s (default 120 s)")

        let m = AbuseMonitor(run: "abuse-controller", pid: pid, watchdog: watchdog)
        defer { m.stop() }
        m.probe("/healthz", every: 0.2) { httpGetOK(port: port, "/healthz") }
        m.probe("/readyz", every: 0.2) { httpGetOK(port: port, "/readyz") }
        let probeReport = PipelinedHTTPLoad.post("/v1/reports", body: Array(IngestSoak.report(node: 99_999, round: 0)), token: token)
        m.probe("ingest", every: 0.2) { AbuseSocket.exchange(port: port, probeReport) == 200 }
        m.probe("RPC controller.status", every: 1) {
            (try? RPCClient(path: socket, timeout: .seconds(30)).call(ControllerMethod.status) as ControllerStatusResult) != nil
        }

        try m.attack("idle", finding: "-") {
            Thread.sleep(forTimeInterval: 3)
            return "no attack (baseline)"
        }
        try m.attack("idle TCP connection flood", finding: "#5") { fdFlood(port: port, count: s.connections) }
        try m.attack("slow headers (slow-loris)", finding: "#5") { slowHeaders(port: port, count: 500, seconds: 15) }
        try m.attack("\(s.hugeBodies) concurrent 5 000-node /prioritize bodies", finding: "#6") { hugeBodies(port: port, count: s.hugeBodies) }
        try m.attack("token holder at the bounds", finding: "#10") {
            try memory(port: port, token: token, socket: socket, nodes: s.nodes)
        }
        try m.attack("401 flood", finding: "#13") {
            unauthorizedFlood(port: port, count: s.unauthorized, log: daemons.path("controller.log"))
        }
        print("abuse-controller: peak RSS (VmHWM) \(peak(pid)); still running: \(p.isRunning)")
    }

    static func peak(_ pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " ") ?? "?"
    }

    /// `count` idle unauthenticated connections held for 5 s.
    static func fdFlood(port: Int, count: Int) -> String {
        var lim = rlimit(rlim_cur: rlim_t(count + 1024), rlim_max: rlim_t(count + 1024))
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lim)
        var held: [DeadlineSocket] = [], failures: [Int32: Int] = [:]
        for _ in 0..<count {
            var err: Int32 = 0
            if let socket = AbuseSocket.connect(port: port, error: &err) { held.append(socket) } else { failures[err, default: 0] += 1 }
        }
        Thread.sleep(forTimeInterval: 5)
        let heldCount = held.count
        held.removeAll()  // closes them
        return "\(heldCount) idle unauthenticated connections held 5 s (\(failures.isEmpty ? "none refused" : "refused, by errno: \(failures)"))"
    }

    /// `count` connections that send a request head one header line per second and never finish it.
    static func slowHeaders(port: Int, count: Int, seconds: Int) -> String {
        var open: [DeadlineSocket] = [], failed = 0
        for _ in 0..<count {
            var err: Int32 = 0
            guard let socket = AbuseSocket.connect(port: port, error: &err) else { failed += 1; continue }
            let head = Array("POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8)
            _ = send(socket.fd, head, head.count, Int32(MSG_NOSIGNAL))  // the deadline socket never blocks
            open.append(socket)
        }
        var closed = 0
        let line = Array("X-Slow: 1\r\n".utf8)
        for _ in 0..<seconds {
            Thread.sleep(forTimeInterval: 1)
            open = open.filter { socket in
                var b: UInt8 = 0
                let r = recv(socket.fd, &b, 1, 0)  // 0: closed; > 0: an error answer (408/400), closing
                if r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || send(socket.fd, line, line.count, Int32(MSG_NOSIGNAL)) < 0 {
                    closed += 1  // dropped from `open`: closed
                    return false
                }
                return true
            }
        }
        let stillOpen = open.count
        open.removeAll()  // closes them
        return "\(count) connections sending one header line a second for \(seconds) s: \(failed) failed to connect, "
            + "\(closed) closed by the server, \(stillOpen) still open at the end"
    }

    static func hugeBodies(port: Int, count: Int) -> String {
        let nodes = (0..<5000).map(fullNode).joined(separator: ",")
        let body = Array(#"{"Pod":{"metadata":{"name":"web-1","namespace":"default"}},"Nodes":{"items":[\#(nodes)]},"NodeNames":null}"#.utf8)
        let request = PipelinedHTTPLoad.post("/prioritize", body: body)
        let lock = NSLock()
        var statuses: [String: Int] = [:]
        let group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            Thread.detachNewThread {
                let status = AbuseSocket.exchange(port: port, request, timeout: 120)
                lock.withLock { statuses[status.map(String.init) ?? "no answer", default: 0] += 1 }
                group.leave()
            }
        }
        group.wait()
        return "\(count) concurrent bodies of \(body.count) bytes (5 000 full v1.Node): answers \(statuses.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", "))"
    }

    static func memory(port: Int, token: String, socket: String, nodes: Int) throws -> String {
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
        let r = PipelinedHTTPLoad.run(port: port, connections: 4, depth: 4, duration: .seconds(600), limit: nodes) { c, n in
            PipelinedHTTPLoad.post("/v1/reports", body: head + Array("\"\(name(n * 4 + c))\"".utf8) + tail, token: token)
        }
        let held: ControllerStatusResult = try RPCClient(path: socket).call(ControllerMethod.status)
        // Over the bounds and out of range: each must be refused.
        func submit(_ edit: (inout TelemetryWindow) -> Void) throws -> String {
            var x = IngestSoak.window(node: 2, round: 0)
            edit(&x)
            return AbuseSocket.exchange(port: port, PipelinedHTTPLoad.post("/v1/reports", body: Array(try EdgeJSON.encoder().encode(x)), token: token))
                .map(String.init) ?? "no answer"
        }
        let peers13k = try submit { $0.peers = (0..<13_000).map { PeerRTT(address: "10.\($0 / 65536).\($0 / 256 % 256).\($0 % 256)", rttP50Ms: 1, rttP99Ms: 2, samples: 1) } }
        let retrans = try submit { $0.retransRate = 2 }
        let dots = try submit { $0.node = ".." }
        return "\(r.stats.count) reports of \(nodes) nodes at the bounds (\(limits.maxPeers) peers, \(limits.maxDropReasons) drop reasons, "
            + "253-byte names; \(head.count + tail.count + 255) bytes each) at \(Int(r.perSecond))/s: \(r.statuses); registry holds \(held.nodesTotal) nodes; "
            + "refused as they must be: 13 000 peers -> \(peers13k), retrans_rate 2 -> \(retrans), node \"..\" -> \(dots)"
    }

    static func unauthorizedFlood(port: Int, count: Int, log: String) -> String {
        func lines() -> Int {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("rejected report") }.count
        }
        let before = lines()
        let body = Array(IngestSoak.report(node: 1, round: 0))
        let r = PipelinedHTTPLoad.run(port: port, connections: 8, depth: 8, duration: .seconds(300), limit: count) { _, _ in
            PipelinedHTTPLoad.post("/v1/reports", body: body, token: "wrong-token")
        }
        return "\(r.stats.count) unauthenticated reports at \(Int(r.perSecond))/s: \(r.statuses); "
            + "\(lines() - before) \"rejected report\" journal lines"
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
