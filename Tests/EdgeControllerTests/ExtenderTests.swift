import EdgeAPI
import EdgeConfig
import EdgeController
import EdgeControllerLab
import EdgeCore
import XCTest

final class ExtenderTests: XCTestCase {
    let t0 = ContinuousClock.now

    /// edge-a healthy, edge-b over the CPU limit, edge-s stale, edge-x never reported.
    func makeExtender(policy: StalePolicy = .filter) throws -> Extender {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 15, policy: policy))
        try reg.ingest(Fixtures.window("edge-s"), now: t0)
        try reg.ingest(Fixtures.window("edge-a"), now: t0 + .seconds(20))
        try reg.ingest(Fixtures.window("edge-b", rtt: 150, cpu: 0.97), now: t0 + .seconds(20))
        var filter = ControllerConfig.defaults.filter
        filter[.cpu] = 0.9
        return Extender(registry: reg, policy: ExtenderPolicy(filter: filter, stalePolicy: policy, staleAfter: reg.staleAfter))
    }

    var now: ContinuousClock.Instant { t0 + .seconds(21) }

    func testFilterWithNodeNamesGolden() throws {
        let ext = try makeExtender()
        let reply = ext.handleFilter(body: Fixtures.argsWithNames(["edge-a", "edge-b", "edge-s", "edge-x"]), now: now)
        XCTAssertEqual(reply.status, 200)
        // edge-x never reported: missing telemetry is not sickness, it passes.
        let expected = #"{"Error":"","FailedAndUnresolvableNodes":{"edge-s":"edgenode: telemetry stale (no report within registry.stale_after)"},"FailedNodes":{"edge-b":"edgenode: cpu above filter.max_cpu"},"NodeNames":["edge-a","edge-x"],"Nodes":null}"#
        XCTAssertEqual(String(decoding: reply.body, as: UTF8.self), expected)
    }

    func testPrioritizeGolden() throws {
        let ext = try makeExtender()
        let reply = ext.handlePrioritize(body: Fixtures.argsWithNames(["edge-a", "edge-b", "edge-s", "edge-x"]), now: now)
        XCTAssertEqual(reply.status, 200)
        // edge-a: badness 0.13 → 9. edge-b: rtt 150 → 0.75, cpu 0.97:
        // 0.3·0.75 + 0.2·0.1 + 0.2·0.1 + 0.15·0.1 + 0.15·0.97 = 0.4255 → round(5.745) = 6. Stale/unknown: 0.
        let expected = #"[{"Host":"edge-a","Score":9},{"Host":"edge-b","Score":6},{"Host":"edge-s","Score":0},{"Host":"edge-x","Score":0}]"#
        XCTAssertEqual(String(decoding: reply.body, as: UTF8.self), expected)
    }

    func testFilterWithFullNodeObjectsReturnsPassingObjectsUnchanged() throws {
        let ext = try makeExtender()
        let body = Fixtures.argsWithNodes([("edge-a", "192.168.10.11"), ("edge-b", "192.168.10.12"), ("edge-x", "192.168.10.19")])
        let reply = ext.handleFilter(body: body, now: now)
        XCTAssertEqual(reply.status, 200)
        let result = try JSONDecoder().decode(JSONValue.self, from: reply.body)
        XCTAssertEqual(result["NodeNames"], .null)
        XCTAssertEqual(result["Error"], .string(""))
        XCTAssertEqual(result["FailedNodes"]?["edge-b"], .string("edgenode: cpu above filter.max_cpu"))
        XCTAssertNil(result["FailedAndUnresolvableNodes"]?["edge-x"], "never reported: feasible")
        // The NodeList keeps its own fields and carries the passing v1.Node exactly as it was sent.
        let request = try JSONDecoder().decode(JSONValue.self, from: body)
        XCTAssertEqual(result["Nodes"]?["kind"], .string("NodeList"))
        XCTAssertEqual(result["Nodes"]?["metadata"], request["Nodes"]?["metadata"])
        let items = try XCTUnwrap(result["Nodes"]?["items"]?.arrayValue)
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(items[0], request["Nodes"]?["items"]?.arrayValue?[0])
        XCTAssertEqual(items[1], request["Nodes"]?["items"]?.arrayValue?[2])
        XCTAssertEqual(items[0]["status"]?["daemonEndpoints"]?["kubeletEndpoint"]?["Port"], .int(10250))
    }

    func testPrioritizeWithFullNodeObjects() throws {
        let ext = try makeExtender()
        let body = Fixtures.argsWithNodes([("edge-b", "192.168.10.12"), ("edge-a", "192.168.10.11")])
        let list = try JSONDecoder().decode([HostPriority].self, from: ext.handlePrioritize(body: body, now: now).body)
        XCTAssertEqual(list, [HostPriority(host: "edge-b", score: 6), HostPriority(host: "edge-a", score: 9)])
    }

    func testStalePolicyLowestKeepsStaleAndUnknownNodes() throws {
        let ext = try makeExtender(policy: .lowest)
        let r = try ext.filter(Extender.decodeArgs(Fixtures.argsWithNames(["edge-a", "edge-s", "edge-x"])), now: now)
        XCTAssertEqual(r.nodeNames, ["edge-a", "edge-s", "edge-x"])
        XCTAssertEqual(r.failedAndUnresolvableNodes, [:])
        let p = try ext.prioritize(Extender.decodeArgs(Fixtures.argsWithNames(["edge-a", "edge-s", "edge-x"])), now: now)
        XCTAssertEqual(p.map(\.score), [9, 0, 0])
    }

    func testEmptyAndNullShapes() throws {
        let ext = try makeExtender()
        // NodeNames: [] → empty list back, not null.
        XCTAssertEqual(String(decoding: ext.handleFilter(body: Fixtures.argsWithNames([]), now: now).body, as: UTF8.self),
                       #"{"Error":"","FailedAndUnresolvableNodes":{},"FailedNodes":{},"NodeNames":[],"Nodes":null}"#)
        // NodeList with items: null (Go's encoding of an empty slice) is an empty list.
        let nullItems = Data(#"{"Pod":null,"Nodes":{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":null},"NodeNames":null}"#.utf8)
        let r = ext.handleFilter(body: nullItems, now: now)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: r.body)["Nodes"]?["items"], .array([]))
        XCTAssertEqual(String(decoding: ext.handlePrioritize(body: Fixtures.argsWithNames([]), now: now).body, as: UTF8.self), "[]")
    }

    func testBadRequestsAreClientErrorsWithReasons() throws {
        let ext = try makeExtender()
        let neither = ext.handleFilter(body: Fixtures.argsWithNames(nil), now: now)
        XCTAssertEqual(neither.status, 400)
        let r = try JSONDecoder().decode(ExtenderFilterResult.self, from: neither.body)
        XCTAssertEqual(r.error, "edgenode: ExtenderArgs has neither Nodes nor NodeNames")
        XCTAssertNil(r.nodeNames)

        let garbage = ext.handlePrioritize(body: Data("{\"NodeNames\": [1, 2]}".utf8), now: now)
        XCTAssertEqual(garbage.status, 400)
        let msg = try JSONDecoder().decode([String: String].self, from: garbage.body)["Error"] ?? ""
        XCTAssertTrue(msg.contains("NodeNames[0]"), msg)

        let noName = ext.handleFilter(body: Data(#"{"Nodes":{"items":[{"metadata":{}}]}}"#.utf8), now: now)
        XCTAssertEqual(noName.status, 400)
        XCTAssertTrue(String(decoding: noName.body, as: UTF8.self).contains("Nodes.items[0] has no metadata.name"))

        XCTAssertEqual(ext.handleFilter(body: Data("not json".utf8), now: now).status, 400)
    }

    func testFilterThresholdReasonsNameEverySignalOver() throws {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig())
        try reg.ingest(Fixtures.window("hot", rtt: 180, retrans: 0.08, dropW: 40, cpu: 0.95), now: t0)
        try reg.ingest(Fixtures.window("quiet", rtt: nil, retrans: nil, cpu: nil), now: t0)
        var filter = ControllerConfig.defaults.filter
        filter[.rttP99] = 100
        filter[.retransRate] = 0.02
        filter[.dropRate] = 30
        filter[.cpu] = 0.9
        let ext = Extender(registry: reg, policy: ExtenderPolicy(filter: filter, stalePolicy: .filter, staleAfter: .seconds(15)))
        let r = try ext.filter(ExtenderArgs(pod: nil, nodes: nil, nodeNames: ["hot", "quiet"]), now: t0)
        XCTAssertEqual(r.failedNodes["hot"], "edgenode: rtt_p99 above filter.max_rtt_p99_ms; retrans_rate above filter.max_retrans_rate; "
                       + "drop_rate above filter.max_drop_rate; cpu above filter.max_cpu")
        XCTAssertEqual(r.nodeNames, ["quiet"], "absent signals cannot exceed a limit")
    }

    func testDryRunMatchesHTTPAnswers() throws {
        let ext = try makeExtender()
        let pod = try JSONDecoder().decode(JSONValue.self, from: Data(Fixtures.podObject.utf8))
        let r = try ext.dryRun(ExtenderDryRunParams(pod: pod, nodeNames: nil), now: now)
        XCTAssertEqual(r.pod, "media/video-transcode-7d9f8")
        XCTAssertEqual(r.candidates, ["edge-a", "edge-b", "edge-s"]) // every known node
        XCTAssertEqual(r.passed, ["edge-a"])
        XCTAssertEqual(r.failed, [NodeReason(node: "edge-b", reason: "edgenode: cpu above filter.max_cpu")])
        XCTAssertEqual(r.failedAndUnresolvable.map(\.node), ["edge-s"])
        XCTAssertEqual(r.priorities, [NodePriority(node: "edge-a", priority: 9), NodePriority(node: "edge-b", priority: 6),
                                      NodePriority(node: "edge-s", priority: 0)])
        let http = ext.handlePrioritize(body: Fixtures.argsWithNames(["edge-a", "edge-b", "edge-s"]), now: now)
        XCTAssertEqual(r.prioritizeResponse, String(decoding: http.body, as: UTF8.self))
    }
}
