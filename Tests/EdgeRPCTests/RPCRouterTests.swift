import EdgeCore
@testable import EdgeRPC
import Foundation
import XCTest

/// The dispatch rules, exercised in process (no socket).
final class RPCRouterTests: XCTestCase {
    struct Limit: Codable, Sendable { var rateBps: Int; var burstBytes: Int? }
    struct SetParams: Codable, Sendable { var device: String; var limit: Limit }
    struct Filter: Codable, Sendable { var peerAddress: String?; var maxPeers: Int? }
    struct Answer: Codable, Sendable, Equatable { var receivedDevice: String; var rateBps: Int }

    private let root = RPCPeer(pid: 1, uid: 0, gid: 0, canWrite: true)
    private let nobody = RPCPeer(pid: 2, uid: 65534, gid: 65534, canWrite: false)

    private func makeRouter() -> RPCRouter {
        var router = RPCRouter(logger: Fixture.logger)
        router.register("shaping.set", access: .write, summary: "Set a rate.") { (p: SetParams, _) in
            Answer(receivedDevice: p.device, rateBps: p.limit.rateBps)
        }
        router.register("peers.list", access: .read, summary: "List peers.") { (f: Filter, _) -> [String] in
            [f.peerAddress ?? "all", String(f.maxPeers ?? -1)]
        }
        router.register("status", access: .read, summary: "Status.") { peer in ["uid": Int(peer.uid)] }
        router.register("device.get", access: .read, summary: "One device.") { (_: JSONValue, _) -> Int in
            throw RPCError(code: .notFound, message: "no device eth9", data: ["device": "eth9"])
        }
        router.register("broken", access: .read, summary: "Fails.") { _ -> Int in
            throw CocoaError(.fileReadNoPermission)
        }
        router.register("raw", access: .read, summary: "Echo raw.") { (p: JSONValue, _) in p }
        return router
    }

    private func call(_ router: RPCRouter, _ frame: String, peer: RPCPeer? = nil) async throws -> JSONValue? {
        guard let response = await router.handle(frame: Data(frame.utf8), peer: peer ?? root) else { return nil }
        return try JSONDecoder().decode(JSONValue.self, from: response)
    }

    private func errorCode(_ response: JSONValue?) -> Int? { response?["error"]?["code"]?.intValue }
    private func errorMessage(_ response: JSONValue?) -> String { response?["error"]?["message"]?.stringValue ?? "" }

    func testTypedParamsAndResultsUseSnakeCase() async throws {
        let response = try await call(makeRouter(),
            #"{"jsonrpc":"2.0","id":1,"method":"shaping.set","params":{"device":"eth0","limit":{"rate_bps":5000}}}"#)
        XCTAssertEqual(response, ["jsonrpc": "2.0", "id": 1, "result": ["received_device": "eth0", "rate_bps": 5000]])
    }

    func testMissingOrNullParamsDecodeAsEmptyObject() async throws {
        let router = makeRouter()
        let absent = try await call(router, #"{"jsonrpc":"2.0","id":1,"method":"peers.list"}"#)
        XCTAssertEqual(absent?["result"], ["all", "-1"])
        let null = try await call(router, #"{"jsonrpc":"2.0","id":2,"method":"peers.list","params":null}"#)
        XCTAssertEqual(null?["result"], ["all", "-1"])
        let given = try await call(router, #"{"jsonrpc":"2.0","id":3,"method":"peers.list","params":{"peer_address":"10.0.0.1"}}"#)
        XCTAssertEqual(given?["result"], ["10.0.0.1", "-1"])
    }

    func testInvalidParamsNameTheFieldPath() async throws {
        let router = makeRouter()
        let missing = try await call(router, #"{"jsonrpc":"2.0","id":1,"method":"shaping.set","params":{"device":"eth0","limit":{}}}"#)
        XCTAssertEqual(errorCode(missing), -32602)
        XCTAssertEqual(errorMessage(missing), "invalid params for 'shaping.set': missing field 'limit.rate_bps'")
        let wrongType = try await call(router, #"{"jsonrpc":"2.0","id":2,"method":"shaping.set","params":{"device":"eth0","limit":{"rate_bps":"fast"}}}"#)
        XCTAssertEqual(errorCode(wrongType), -32602)
        XCTAssertTrue(errorMessage(wrongType).contains("field 'limit.rate_bps'"), errorMessage(wrongType))
        let positional = try await call(router, #"{"jsonrpc":"2.0","id":3,"method":"shaping.set","params":[1]}"#)
        XCTAssertEqual(errorCode(positional), -32602)
        XCTAssertTrue(errorMessage(positional).contains("params"), errorMessage(positional))
        let noParams = try await call(router, #"{"jsonrpc":"2.0","id":4,"method":"status","params":{"x":1}}"#)
        XCTAssertEqual(errorMessage(noParams), "invalid params for 'status': it takes no params")
        let emptyOK = try await call(router, #"{"jsonrpc":"2.0","id":5,"method":"status","params":{}}"#)
        XCTAssertEqual(emptyOK?["result"], ["uid": 0])
    }

    func testWriteMethodsNeedAWriter() async throws {
        let router = makeRouter()
        let frame = #"{"jsonrpc":"2.0","id":1,"method":"shaping.set","params":{"device":"eth0","limit":{"rate_bps":1}}}"#
        let denied = try await call(router, frame, peer: nobody)
        XCTAssertEqual(errorCode(denied), -32001)
        XCTAssertTrue(errorMessage(denied).contains("root or the admin group (rpc.admin_group)"))
        let allowed = try await call(router, frame, peer: root)
        XCTAssertNotNil(allowed?["result"])
        // Reads stay open to unprivileged peers.
        let read = try await call(router, #"{"jsonrpc":"2.0","id":2,"method":"status"}"#, peer: nobody)
        XCTAssertEqual(read?["result"], ["uid": 65534])
    }

    func testHandlerErrorsMapToCodes() async throws {
        let router = makeRouter()
        let notFound = try await call(router, #"{"jsonrpc":"2.0","id":1,"method":"device.get"}"#)
        XCTAssertEqual(notFound?["error"], ["code": -32003, "message": "no device eth9", "data": ["device": "eth9"]])
        let internalFailure = try await call(router, #"{"jsonrpc":"2.0","id":2,"method":"broken"}"#)
        XCTAssertEqual(errorCode(internalFailure), -32603)
        XCTAssertTrue(errorMessage(internalFailure).hasPrefix("internal error in 'broken':"), errorMessage(internalFailure))
        let unknown = try await call(router, #"{"jsonrpc":"2.0","id":"u","method":"nope"}"#)
        XCTAssertEqual(errorCode(unknown), -32601)
        XCTAssertEqual(unknown?["id"], "u")
    }

    func testRawJSONValueParamsAndResultsKeepTheirKeys() async throws {
        let response = try await call(makeRouter(), #"{"jsonrpc":"2.0","id":1,"method":"raw","params":{"camelCase":{"snake_case":1}}}"#)
        XCTAssertEqual(response?["result"], ["camelCase": ["snake_case": 1]])
    }

    func testNotificationsAreNeverAnswered() async throws {
        let router = makeRouter()
        let ok = try await call(router, #"{"jsonrpc":"2.0","method":"status"}"#)
        XCTAssertNil(ok)
        let failing = try await call(router, #"{"jsonrpc":"2.0","method":"nope"}"#)
        XCTAssertNil(failing)
        let batchOfNotifications = try await call(router, #"[{"jsonrpc":"2.0","method":"status"},{"jsonrpc":"2.0","method":"x"}]"#)
        XCTAssertNil(batchOfNotifications)
    }

    func testBatchAnswersEachRequestInOrder() async throws {
        let response = try await call(makeRouter(), """
            [{"jsonrpc":"2.0","id":1,"method":"status"},
             {"jsonrpc":"2.0","method":"status"},
             {"jsonrpc":"2.0","id":2,"method":"nope"},
             7,
             {"jsonrpc":"2.0","id":3,"method":"peers.list","params":{"max_peers":2}}]
            """)
        let items = try XCTUnwrap(response?.arrayValue)
        XCTAssertEqual(items.count, 4)
        XCTAssertEqual(items[0]["result"], ["uid": 0])
        XCTAssertEqual(errorCode(items[1]), -32601)
        XCTAssertEqual(errorCode(items[2]), -32600)
        XCTAssertEqual(items[2]["id"], .null)
        XCTAssertEqual(items[3]["result"], ["all", "2"])
        let empty = try await call(makeRouter(), "[]")
        XCTAssertEqual(errorCode(empty), -32600)
        XCTAssertEqual(errorMessage(empty), "invalid request: empty batch")
    }

    /// Issue 13 finding 3: 18,000 requests in one batch held the agent for 36 s. A batch over
    /// the limit is refused whole, before any of it runs; one at the limit is answered.
    func testOversizedBatchIsRefusedWholeAndUnrun() async throws {
        var router = makeRouter()
        router.maxBatchRequests = 64
        let one = #"{"jsonrpc":"2.0","id":1,"method":"status"}"#
        let huge = "[" + Array(repeating: one, count: 18_000).joined(separator: ",") + "]"
        let refused = try await call(router, huge)
        XCTAssertEqual(errorCode(refused), -32600)
        XCTAssertEqual(refused?["id"], .null)
        XCTAssertEqual(errorMessage(refused),
                       "invalid request: a batch of 18000 requests exceeds the limit of 64 (rpc.max_batch); nothing was run")
        let atLimit = try await call(router, "[" + Array(repeating: one, count: 64).joined(separator: ",") + "]")
        XCTAssertEqual(try XCTUnwrap(atLimit?.arrayValue).count, 64)
    }

    func testRPCMethodsListsEverythingSorted() async throws {
        let response = try await call(makeRouter(), #"{"jsonrpc":"2.0","id":1,"method":"rpc.methods"}"#)
        let list = try JSONDecoder().decode(RPCMethodList.self, from: JSONEncoder().encode(response?["result"]))
        XCTAssertEqual(list.methods.map(\.name),
                       ["broken", "device.get", "peers.list", "raw", "rpc.methods", "shaping.set", "status"])
        XCTAssertEqual(list.methods.first { $0.name == "shaping.set" },
                       RPCMethodInfo(name: "shaping.set", access: .write, summary: "Set a rate."))
    }

    func testSnakeCaseOfCodingKeys() {
        XCTAssertEqual(RPCParamsDecoding.snakeCase("maxRateBps"), "max_rate_bps")
        XCTAssertEqual(RPCParamsDecoding.snakeCase("peerIP"), "peer_ip")
        XCTAssertEqual(RPCParamsDecoding.snakeCase("IPAddress"), "ip_address")
        XCTAssertEqual(RPCParamsDecoding.snakeCase("rttP99Ms"), "rtt_p99_ms")
        XCTAssertEqual(RPCParamsDecoding.snakeCase("device"), "device")
    }
}
