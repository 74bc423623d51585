// Fault injection on the agent → controller path, with the real binaries: two agents in their
// own network namespaces push to a controller in a third (veths on 198.18.N.0/24, as in
// FleetTests).
//
// 1. The controller is killed with SIGKILL (no clean shutdown, its socket file left behind)
//    and restarted: the agents keep answering telemetry.get in well under a second throughout,
//    and their reports reach the new controller again.
// 2. One agent is cut off (its veth down) for longer than stale_after: the controller marks it
//    stale; when the link returns its reports resume and the stale mark clears.
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class FaultControllerRestartTests: XCTestCase {
    var dir: URL!
    var namespaces: [ScratchNetns] = []
    var daemons: [DaemonProcess] = []

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-fault-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        for d in daemons { d.stop() }
        daemons = []
        namespaces = []
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func startController(in ns: ScratchNetns) throws -> DaemonProcess {
        let controller = try DaemonProcess(try Products.path("edge-controller"), ["--config", path("controller.toml")], netns: ns.name)
        daemons.append(controller)
        return controller
    }

    /// nodes.list from the controller, or nil while it does not answer.
    func nodes() -> [NodeSummary]? {
        let list: NodesListResult? = try? RPCClient(path: path("controller.sock"), timeout: .seconds(1)).call("nodes.list")
        return list?.nodes
    }

    /// Polls every 100 ms until `condition` holds or `timeout` passes; meanwhile times one
    /// telemetry.get on every agent per poll (the agents must never stall).
    func wait(_ timeout: Double, for condition: () -> Bool, agentSockets: [String], latencies: inout [Duration],
              failures: inout [String]) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            for socket in agentSockets {
                let clock = ContinuousClock()
                let start = clock.now
                do {
                    let w: TelemetryWindow = try RPCClient(path: socket, timeout: .seconds(2)).call("telemetry.get")
                    if w.node.isEmpty { failures.append("\(socket): empty window") }
                } catch {
                    failures.append("\(socket): \(error)")
                }
                latencies.append(clock.now - start)
            }
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return condition()
    }

    func testControllerKilledAndRestartedThenAnAgentCutOffAndBack() throws {
        let ctl = try ScratchNetns(prefix: "edgefc")
        namespaces.append(ctl)
        try "fault-test-token-\(UUID().uuidString)".write(toFile: path("token"), atomically: true, encoding: .utf8)
        try """
        [server]
        listen = "0.0.0.0:8477"
        token_file = "\(path("token"))"
        [rpc]
        socket = "\(path("controller.sock"))"
        group = ""
        [registry]
        stale_after = "2s"
        """.write(toFile: path("controller.toml"), atomically: true, encoding: .utf8)
        var controller = try startController(in: ctl)
        XCTAssertTrue(controller.waitUntil { FileManager.default.fileExists(atPath: self.path("controller.sock")) }, controller.log)

        var ctlSideLinks: [String] = []
        var agentSockets: [String] = []
        for i in 1...2 {
            let ns = try ScratchNetns(prefix: "edgefn\(i)")
            namespaces.append(ns)
            let (a, b) = ("eff\(i)\(UInt16.random(in: 0...9999))", "efa\(i)\(UInt16.random(in: 0...9999))")
            try sh(["ip", "link", "add", a, "netns", ctl.name, "type", "veth", "peer", "name", b, "netns", ns.name])
            try ctl.run(["ip", "addr", "add", "198.18.\(i).1/24", "dev", a])
            try ctl.run(["ip", "link", "set", a, "up"])
            try ns.run(["ip", "addr", "add", "198.18.\(i).2/24", "dev", b])
            try ns.run(["ip", "link", "set", b, "up"])
            ctlSideLinks.append(a)
            try """
            [agent]
            node_name = "node-\(i)"
            [telemetry]
            interval = "250ms"
            window = "5s"
            [rpc]
            socket = "\(path("agent\(i).sock"))"
            group = ""
            [metrics]
            listen = ""
            [shaping]
            enabled = false
            [controller]
            url = "http://198.18.\(i).1:8477"
            token_file = "\(path("token"))"
            push_interval = "500ms"
            timeout = "400ms"
            """.write(toFile: path("agent\(i).toml"), atomically: true, encoding: .utf8)
            let agent = try DaemonProcess(try Products.path("edge-agent"), ["--config", path("agent\(i).toml")], netns: ns.name)
            daemons.append(agent)
            agentSockets.append(path("agent\(i).sock"))
            XCTAssertTrue(agent.waitUntil { FileManager.default.fileExists(atPath: self.path("agent\(i).sock")) }, agent.log)
        }

        var latencies: [Duration] = []
        var failures: [String] = []
        let bothFresh = { (self.nodes() ?? []).filter { !$0.stale }.count == 2 }
        XCTAssertTrue(wait(10, for: bothFresh, agentSockets: agentSockets, latencies: &latencies, failures: &failures),
                      "both agents report: \(nodes() ?? []) \(controller.log)")
        // Only the faults count: an agent answers -32002 until its first interval completes.
        latencies = []
        failures = []

        // 1. SIGKILL: no shutdown path runs, the socket file stays behind.
        let killedAt = Date()
        kill(controller.process.processIdentifier, SIGKILL)
        controller.process.waitUntilExit()
        XCTAssertEqual(controller.process.terminationReason, .uncaughtSignal)
        XCTAssertFalse(wait(3, for: { false }, agentSockets: agentSockets, latencies: &latencies, failures: &failures))
        for socket in agentSockets {
            let status: AgentStatus = try RPCClient(path: socket, timeout: .seconds(2)).call("agent.status")
            XCTAssertTrue(status.controller.hasPrefix("failing"), "agent sees the outage: \(status.controller)")
        }
        controller = try startController(in: ctl)
        let restartedAt = Date()
        XCTAssertTrue(wait(15, for: bothFresh, agentSockets: agentSockets, latencies: &latencies, failures: &failures),
                      "reports resume after the restart: \(nodes() ?? []) \(controller.log)")
        let resumedAfter = Date().timeIntervalSince(restartedAt)

        // 2. node-1 cut off for longer than stale_after, then back.
        try ctl.run(["ip", "link", "set", ctlSideLinks[0], "down"])
        let node1Stale = { (self.nodes() ?? []).first { $0.node == "node-1" }?.stale == true }
        XCTAssertTrue(wait(6, for: node1Stale, agentSockets: agentSockets, latencies: &latencies, failures: &failures),
                      "node-1 goes stale: \(nodes() ?? [])")
        XCTAssertEqual((nodes() ?? []).first { $0.node == "node-2" }?.stale, false, "node-2 stays fresh")
        try ctl.run(["ip", "link", "set", ctlSideLinks[0], "up"])
        let reconnectedAt = Date()
        XCTAssertTrue(wait(15, for: bothFresh, agentSockets: agentSockets, latencies: &latencies, failures: &failures),
                      "node-1's stale mark clears: \(nodes() ?? [])")
        let clearedAfter = Date().timeIntervalSince(reconnectedAt)

        XCTAssertEqual(failures, [], "telemetry.get failed during the faults")
        let worst = latencies.max() ?? .zero
        XCTAssertLessThan(worst, .seconds(1), "an agent stalled")
        let sorted = latencies.sorted()
        let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        print("fault: controller SIGKILL, \(f(restartedAt.timeIntervalSince(killedAt))) s outage, reports resumed "
              + "\(f(resumedAfter)) s after restart; node-1 cut off, stale mark cleared \(f(clearedAfter)) s after the "
              + "link returned; \(latencies.count) telemetry.get calls during it all, p99 \(p99), max \(worst)")
    }
}
