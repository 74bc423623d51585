// The controller's JSON-RPC methods through the real router (frames in, frames out).
import EdgeConfig
import EdgeController
import EdgeCore
import EdgeRPC
import XCTest

final class ControllerRPCTests: XCTestCase {
    func makeRouter() throws -> (RPCRouter, ControllerCore) {
        var config = ControllerConfig.defaults
        config.server.tokenFile = nil
        config.server.listen = ListenAddress(host: "127.0.0.1", port: 0)
        config.score = Fixtures.scoreConfig()
        config.filter[.cpu] = 0.9
        let core = try ControllerCore(config: config)
        try core.registry.ingest(Fixtures.window("edge-a"))
        try core.registry.ingest(Fixtures.window("edge-b", rtt: nil, cpu: 0.95))
        return (core.rpcRouter(logger: .init(label: "test")) { "127.0.0.1:8477" }, core)
    }

    func call(_ router: RPCRouter, _ method: String, _ params: String? = nil) async throws -> JSONValue {
        let frame = #"{"jsonrpc":"2.0","id":1,"method":"\#(method)""# + (params.map { #","params":\#($0)"# } ?? "") + "}"
        let answer = await router.handle(frame: Data(frame.utf8), peer: .unidentified)
        return try JSONDecoder().decode(JSONValue.self, from: try XCTUnwrap(answer))
    }

    func testMethodsAreReadable() async throws {
        let (router, _) = try makeRouter()
        let methods = router.methods.filter { !$0.name.hasPrefix("rpc.") }
        XCTAssertEqual(methods.map(\.name), ["controller.status", "extender.dryrun", "nodes.list", "score.get"])
        XCTAssertTrue(methods.allSatisfy { $0.access == .read })
    }

    func testStatusAndNodes() async throws {
        let (router, _) = try makeRouter()
        let status = try await call(router, "controller.status")["result"]
        XCTAssertEqual(status?["nodes_total"], .int(2))
        XCTAssertEqual(status?["authentication"], .bool(false))
        XCTAssertEqual(status?["listen"], .string("127.0.0.1:8477"))
        let nodes = try await call(router, "nodes.list")["result"]?["nodes"]?.arrayValue
        XCTAssertEqual(nodes?.map { $0["node"]?.stringValue }, ["edge-a", "edge-b"])
        XCTAssertEqual(nodes?[0]["priority"], .int(9))
        XCTAssertNil(nodes?[1]["rtt_p99_ms"], "absent signals are left out of the row")
    }

    func testScoreExplain() async throws {
        let (router, _) = try makeRouter()
        let result = try await call(router, "score.get", #"{"node":"edge-b","explain":true}"#)["result"]
        let score = try XCTUnwrap(result?["scores"]?.arrayValue?.first)
        XCTAssertEqual(score["node"], .string("edge-b"))
        let signals = try XCTUnwrap(score["signals"]?.arrayValue)
        XCTAssertEqual(signals.map { $0["signal"]?.stringValue }, ["rtt_p99", "retrans", "drop_weighted", "runqlat_p95", "cpu"])
        XCTAssertEqual(signals[0]["absent"], .bool(true))
        XCTAssertEqual(signals[4]["value"], .double(0.95))
        XCTAssertEqual(score["notes"]?.arrayValue?.first,
                       .string("rtt_p99 absent (no samples in the window): left out, other weights renormalised"))
        // Contributions add up to the raw score.
        let sum = signals.compactMap { $0["contribution"]?.doubleValue }.reduce(0, +)
        XCTAssertEqual(sum, score["raw"]?.doubleValue ?? -1, accuracy: 1e-9)

        let brief = try await call(router, "score.get", "{}")["result"]?["scores"]?.arrayValue
        XCTAssertEqual(brief?.count, 2)
        XCTAssertNil(brief?[0]["signals"])

        let missing = try await call(router, "score.get", #"{"node":"edge-z"}"#)
        XCTAssertEqual(missing["error"]?["message"], .string("no report received from node 'edge-z'"))
    }

    func testScoreExplainNamesTheSignalsWidenedToTheMinMaxFloor() async throws {
        var config = ControllerConfig.defaults
        config.server.tokenFile = nil
        config.server.listen = ListenAddress(host: "127.0.0.1", port: 0)
        config.score = Fixtures.scoreConfig(normalisation: .minmax)
        let core = try ControllerCore(config: config)
        // RTT 0.3 ms apart (floor 1 ms); CPU 0.5 apart (floor 0.1): only rtt_p99 is widened
        try core.registry.ingest(Fixtures.window("edge-a", rtt: 2.0, cpu: 0.2))
        try core.registry.ingest(Fixtures.window("edge-b", rtt: 2.3, cpu: 0.7))
        let router = core.rpcRouter(logger: .init(label: "test")) { "127.0.0.1:8477" }
        let answer = try await call(router, "score.get", #"{"node":"edge-b","explain":true}"#)
        let score = try XCTUnwrap(answer["result"]?["scores"]?.arrayValue?.first)
        let notes = score["notes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(notes.contains("candidates closer than score.minmax_floor on rtt_p99: range widened to the floor"), "\(notes)")
        let rtt = try XCTUnwrap(score["signals"]?.arrayValue?.first)
        XCTAssertEqual(rtt["lo"]?.doubleValue ?? -1, 2.0, accuracy: 1e-9)
        XCTAssertEqual(rtt["hi"]?.doubleValue ?? -1, 3.0, accuracy: 1e-9)
        XCTAssertEqual(rtt["normalised"]?.doubleValue ?? -1, 0.3, accuracy: 1e-9)
    }

    func testDryRun() async throws {
        let (router, _) = try makeRouter()
        let answer = try await call(router, "extender.dryrun", #"{"pod":\#(Fixtures.podObject),"node_names":["edge-a","edge-b","edge-q"]}"#)
        let r = try XCTUnwrap(answer["result"])
        XCTAssertEqual(r["pod"], .string("media/video-transcode-7d9f8"))
        // edge-q never reported: missing telemetry is not sickness, so it stays feasible (issue 16).
        XCTAssertEqual(r["passed"]?.arrayValue?.compactMap(\.stringValue), ["edge-a", "edge-q"])
        XCTAssertEqual(r["failed"]?.arrayValue?.count, 1)
        XCTAssertEqual(r["failed"]?.arrayValue?.first?["node"], .string("edge-b"))
        XCTAssertEqual(r["failed"]?.arrayValue?.first?["reason"], .string("edgenode: cpu above filter.max_cpu"))
        XCTAssertEqual(r["failed_and_unresolvable"]?.arrayValue?.count, 0)
        let verbatim = try XCTUnwrap(r["filter_response"]?.stringValue)
        XCTAssertTrue(verbatim.contains(#""NodeNames":["edge-a","edge-q"]"#), verbatim)

        let bad = try await call(router, "extender.dryrun", #"{"pod":"not a pod"}"#)
        XCTAssertEqual(bad["error"]?["message"], .string("pod must be a v1.Pod object"))
    }
}
