// The checks the fleet tests make through the controller's RPC socket, whatever feeds its registry
// (agent pushes in FleetTests, Prometheus in PrometheusSourceTests).
import EdgeAPI
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

extension Fleet {
    /// A pod as kube-scheduler would send it, for the extender's dry run.
    static let pod: JSONValue = .object([
        "metadata": .object(["name": .string("web-1"), "namespace": .string("default")]),
        "spec": .object(["containers": .array([.object(["name": .string("web"), "image": .string("nginx")])])]),
    ])

    var controllerRPC: RPCClient { RPCClient(path: controllerSocket, timeout: .seconds(5)) }

    /// nodes.list, or nil while the controller does not answer.
    func nodeList() -> [NodeSummary]? {
        let list: NodesListResult? = try? RPCClient(path: controllerSocket, timeout: .seconds(1)).call("nodes.list")
        return list?.nodes
    }

    /// extender.dryrun: what /filter and /prioritize would answer for these candidates.
    func dryRun(_ names: [String]) throws -> ExtenderDryRunResult {
        try controllerRPC.call("extender.dryrun", params: ExtenderDryRunParams(pod: Self.pod, nodeNames: names))
    }

    /// Asserts that every node passes the filter and `degraded` has the lowest priority, both in the
    /// dry run and through kube-scheduler's HTTP verb.
    func assertRanksLast(_ degraded: String, of names: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let dry = try dryRun(names)
        XCTAssertEqual(Set(dry.passed), Set(names), "all fresh: \(dry.failed) \(dry.failedAndUnresolvable)", file: file, line: line)
        let last = try XCTUnwrap(dry.priorities.last, file: file, line: line)
        XCTAssertEqual(last.node, degraded, "degraded node ranks last: \(dry.priorities)", file: file, line: line)
        XCTAssertLessThan(last.priority, dry.priorities[0].priority, file: file, line: line)

        let (scores, body) = try prioritize(names)
        XCTAssertEqual(scores.count, names.count, body, file: file, line: line)
        let others = names.filter { $0 != degraded }.map { scores[$0, default: -1] }
        XCTAssertLessThan(scores[degraded, default: 99], others.min() ?? -1, body, file: file, line: line)
    }

    /// Polls the dry run until `node` is filtered out (or `timeout` passes) and asserts the reason
    /// names staleness while `stillFresh` keep passing. Returns the seconds it took.
    @discardableResult
    func assertFilteredAsStale(_ node: String, stillFresh: [String], timeout: Double,
                               file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let names = [node] + stillFresh
        let start = Date()
        var result = try dryRun(names)
        func filtered() -> NodeReason? { (result.failed + result.failedAndUnresolvable).first { $0.node == node } }
        while filtered() == nil && Date().timeIntervalSince(start) < timeout {
            Thread.sleep(forTimeInterval: 0.25)
            result = try dryRun(names)
        }
        XCTAssertNotNil(filtered(), "stale node filtered: \(result)", file: file, line: line)
        XCTAssertTrue(filtered()?.reason.contains("stale") ?? false, filtered()?.reason ?? "", file: file, line: line)
        XCTAssertEqual(Set(result.passed), Set(stillFresh), "\(result)", file: file, line: line)
        return Date().timeIntervalSince(start)
    }
}
