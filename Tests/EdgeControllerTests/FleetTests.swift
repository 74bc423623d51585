// Three real agents in three network namespaces push to a real controller in a fourth; one
// namespace is degraded (tbf queue drops on its loopback) and must rank last through the
// extender; a stopped agent must go stale and be filtered with a reason.
//
// Addresses are 198.18.N.0/24 (RFC 2544 benchmarking range) on veth pairs inside namespaces this
// test creates; nothing leaves the machine.
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class FleetTests: XCTestCase {
    var fleet: Fleet?

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        fleet = try Fleet(name: "fleet")
    }

    override func tearDown() async throws {
        fleet?.tearDown()
        fleet = nil
    }

    func testDegradedNodeRanksLastAndAStoppedAgentIsFilteredAsStale() throws {
        let fleet = try XCTUnwrap(fleet)
        try fleet.writeToken()
        let controller = try fleet.startController(FleetControllerSettings(staleAfter: "3s"))

        var agents: [DaemonProcess] = []
        var nodes: [FleetNode] = []
        for i in 1...3 {
            let node = try fleet.addNode(i)
            nodes.append(node)
            agents.append(try fleet.startAgent("node-\(i)", in: node.netns, FleetAgentSettings(
                window: "6s", controllerURL: "http://\(node.controllerAddress):8477")))
        }

        // same load everywhere; node-3's loopback is a 20 Mbit/s tbf with a short queue
        try fleet.loadWithOneDegraded(nodes, degraded: 2)
        Thread.sleep(forTimeInterval: 1.5) // a few more pushes carry the loaded windows

        let names = ["node-1", "node-2", "node-3"]
        XCTAssertEqual(Set((fleet.nodeList() ?? []).map(\.node)), Set(names), controller.log)
        try fleet.assertRanksLast("node-3", of: names)

        // stop node-2's agent: after stale_after it is filtered, with the reason
        agents[1].stop()
        try fleet.assertFilteredAsStale("node-2", stillFresh: ["node-1", "node-3"], timeout: 6)
    }
}
