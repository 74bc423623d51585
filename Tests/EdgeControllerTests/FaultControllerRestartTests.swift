// Fault injection on the agent → controller path, with the real binaries: two agents in their
// own network namespaces push to a controller in a third (veths on 198.18.N.0/24, set up by
// the Fleet fixture).
//
// 1. The controller is killed with SIGKILL (no clean shutdown, its socket file left behind)
//    and restarted: the agents keep answering telemetry.get in well under a second throughout,
//    and their reports reach the new controller again.
// 2. One agent is cut off (its veth down) for longer than stale_after: the controller marks it
//    stale; when the link returns its reports resume and the stale mark clears.
import EdgeAPI
import EdgeRPC
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import XCTest

final class FaultControllerRestartTests: XCTestCase {
    var fleet: Fleet?

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        fleet = try Fleet(name: "fault")
    }

    override func tearDown() async throws {
        fleet?.tearDown()
        fleet = nil
    }

    /// nodes.list from the controller, or nil while it does not answer.
    func nodes() -> [NodeSummary]? { fleet?.nodeList() }

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
        let fleet = try XCTUnwrap(fleet)
        let ctl = fleet.controllerNetns
        try fleet.writeToken()
        var controller = try fleet.startController(FleetControllerSettings(staleAfter: "2s"))

        var ctlSideLinks: [String] = []
        var agentSockets: [String] = []
        for i in 1...2 {
            let node = try fleet.addNode(i)
            ctlSideLinks.append(node.controllerSideLink)
            _ = try fleet.startAgent("node-\(i)", in: node.netns, FleetAgentSettings(
                window: "5s", shaping: false, controllerURL: "http://\(node.controllerAddress):8477"))
            agentSockets.append(fleet.agentSocket("node-\(i)"))
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
        controller = try fleet.launchController()
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
