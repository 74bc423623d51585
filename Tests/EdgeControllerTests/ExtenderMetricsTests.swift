// The extender's decision metrics: filtered nodes counted under bounded reason kinds (the
// reasons themselves carry figures), and each /prioritize answer counted under the node ranked first.
import EdgeConfig
@testable import EdgeController
import Foundation
import XCTest

final class ExtenderMetricsTests: XCTestCase {
    func testFilterReasonsMapToBoundedKinds() {
        XCTAssertEqual(ExtenderPolicy.reasonKinds("edgenode: no telemetry received from this node"), ["no_telemetry"])
        XCTAssertEqual(ExtenderPolicy.reasonKinds("edgenode: telemetry stale (last report 12s ago, stale_after 10s)"), ["stale"])
        XCTAssertEqual(ExtenderPolicy.reasonKinds("edgenode: rtt_p99 80 ms > max 50 ms; cpu 0.97 > max 0.9"), ["rtt_p99", "cpu"])
        XCTAssertEqual(ExtenderPolicy.reasonKinds("edgenode: drop_rate 12/s > max 5/s; retrans_rate 0.1 > max 0.05"), ["drop_rate", "retrans_rate"])
        XCTAssertEqual(ExtenderPolicy.reasonKinds("something new"), ["other"])
    }

    func testDecisionsAreCountedOnlyForAnsweredCalls() {
        let m = ControllerMetrics()
        m.recordDecision(ExtenderReply(status: 200, body: Data(), filteredReasons: ["edgenode: no telemetry received from this node",
                                                                                     "edgenode: rtt_p99 80 ms > max 50 ms; cpu 0.97 > max 0.9"]))
        m.recordDecision(ExtenderReply(status: 200, body: Data(), placedOn: "edge-2"))
        m.recordDecision(ExtenderReply(status: 400, body: Data(), placedOn: "edge-9"))
        let text = String(decoding: m.render(nodes: []), as: UTF8.self)
        XCTAssertTrue(text.contains(#"edgenode_extender_filtered_nodes_total{reason="no_telemetry"} 1"#), text)
        XCTAssertTrue(text.contains(#"edgenode_extender_filtered_nodes_total{reason="rtt_p99"} 1"#), text)
        XCTAssertTrue(text.contains(#"edgenode_extender_filtered_nodes_total{reason="cpu"} 1"#), text)
        XCTAssertTrue(text.contains(#"edgenode_placement_decisions_total{node="edge-2"} 1"#), text)
        XCTAssertFalse(text.contains("edge-9"), "a failed call placed nothing")
    }

    func testPrioritizeNamesTheBestNodeAndFilterItsReasons() throws {
        let t0 = ContinuousClock.now
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 15))
        try reg.ingest(Fixtures.window("edge-s"), now: t0 - .seconds(20)) // stale by now
        try reg.ingest(Fixtures.window("edge-a"), now: t0)
        try reg.ingest(Fixtures.window("edge-b", rtt: 150, cpu: 0.97), now: t0)
        var filter = ControllerConfig.defaults.filter
        filter[.cpu] = 0.9
        let ext = Extender(registry: reg, policy: ExtenderPolicy(filter: filter, stalePolicy: .filter, staleAfter: reg.staleAfter))
        let now = t0 + .seconds(1)
        let p = ext.handlePrioritize(body: Fixtures.argsWithNames(["edge-b", "edge-a"]), now: now)
        XCTAssertEqual(p.status, 200)
        XCTAssertEqual(p.placedOn, "edge-a", String(decoding: p.body, as: UTF8.self))
        // edge-x never reported: it passes (missing telemetry is not sickness); edge-s is stale
        let f = ext.handleFilter(body: Fixtures.argsWithNames(["edge-a", "edge-b", "edge-x", "edge-s"]), now: now)
        XCTAssertEqual(Set(f.filteredReasons.flatMap(ExtenderPolicy.reasonKinds)), ["cpu", "stale"])
    }
}
