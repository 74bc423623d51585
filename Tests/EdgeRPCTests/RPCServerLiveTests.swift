import EdgeCore
@testable import EdgeRPC
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import XCTest

/// A real server on a Unix socket, real clients.
final class RPCServerLiveTests: XCTestCase {
    private var live: LiveServer!

    override func setUp() async throws {
        live = try LiveServer()
        try await live.start()
    }

    override func tearDown() async throws {
        try await live?.stop()
        live = nil
    }

    private func frame(_ client: RPCClient, _ text: String) throws -> JSONValue {
        try client.sendRaw(Data((text + "\n").utf8))
        return try JSONDecoder().decode(JSONValue.self, from: client.receiveFrame())
    }

    func testTypedCallsRoundTripOnOneConnection() throws {
        let client = live.client()
        XCTAssertEqual(try client.call("echo", params: EchoParams(text: "ab", repeatCount: 3), as: String.self), "ababab")
        XCTAssertEqual(try client.call("sum", params: SumParams(values: [1, 2, 3]), as: SumResult.self),
                       SumResult(total: 6, callerUid: getuid()))
        let methods = try client.call("rpc.methods", as: RPCMethodList.self)
        XCTAssertEqual(methods.methods.first { $0.name == "state.set" }?.access, .write)
        XCTAssertEqual(try client.callRaw("echo", params: ["text": "x"]), "x")
        XCTAssertEqual(live.server.connectedClientCount, 1, "successive calls reuse the connection")
    }

    func testOversizedFrameIsRefusedAndTheSameConnectionGoesOn() throws {
        let client = live.client()
        let big = #"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":""# + String(repeating: "x", count: 2 << 20) + #""}}"#
        let refused = try frame(client, big)
        XCTAssertEqual(refused["error"]?["code"], -32600)
        XCTAssertEqual(refused["error"]?["message"], "invalid request: frame exceeds the limit of 1048576 bytes")
        XCTAssertEqual(refused["id"], .null)
        let fine = try frame(client, #"{"jsonrpc":"2.0","id":2,"method":"echo","params":{"text":"after"}}"#)
        XCTAssertEqual(fine["result"], "after")
        XCTAssertEqual(fine["id"], 2)
        XCTAssertEqual(try client.call("echo", params: EchoParams(text: "typed"), as: String.self), "typed")
        XCTAssertEqual(live.server.connectedClientCount, 1, "one connection throughout")
    }

    func testGarbageIsAParseErrorAndTheConnectionSurvives() throws {
        let client = live.client()
        let garbage = try frame(client, "\u{1}garbage{{")
        XCTAssertEqual(garbage["error"]?["code"], -32700)
        try client.sendRaw(Data([0xFF, 0xFE, 0x7B, 0x0A]))  // invalid UTF-8
        let binary = try JSONDecoder().decode(JSONValue.self, from: client.receiveFrame())
        XCTAssertEqual(binary["error"]?["code"], -32700)
        let notObject = try frame(client, #""just a string""#)
        XCTAssertEqual(notObject["error"]?["code"], -32600)
        XCTAssertEqual(try client.call("echo", params: EchoParams(text: "ok"), as: String.self), "ok")
    }

    func testErrorCodesReachTheClient() throws {
        let client = live.client()
        let unknown = assertServerError(.methodNotFound) { try client.callRaw("no.such.method") }
        XCTAssertEqual(unknown, "method not found: 'no.such.method' (see rpc.methods)")
        let wrong = assertServerError(.invalidParams) { try client.callRaw("sum", params: ["values": "many"]) }
        XCTAssertTrue(wrong?.contains("field 'values'") ?? false, wrong ?? "")
        let missing = assertServerError(.invalidParams) { try client.callRaw("echo", params: [:]) }
        XCTAssertEqual(missing, "invalid params for 'echo': missing field 'text'")
        let thrown = assertServerError(.internalError) { try client.callRaw("fail") }
        XCTAssertTrue(thrown?.hasPrefix("internal error in 'fail':") ?? false, thrown ?? "")
        do {
            _ = try client.callRaw("no.such.method")
        } catch {
            XCTAssertEqual("\(error)",
                "edge-agent: 'no.such.method' failed: method not found: 'no.such.method' (see rpc.methods) (JSON-RPC error -32601)")
        }
        XCTAssertEqual(live.server.connectedClientCount, 1)
    }

    func testWriteMethodFromRootIsAllowed() throws {
        try requireRoot()
        XCTAssertEqual(try live.client().callRaw("state.set"), ["changed_by_uid": 0])
    }

    func testHalfLineStallDoesNotBlockOtherClients() throws {
        let stalled = live.client()
        try stalled.sendRaw(Data(#"{"jsonrpc":"2.0","id":1,"meth"#.utf8))
        let other = live.client()
        let start = ContinuousClock.now
        for i in 0..<50 {
            XCTAssertEqual(try other.call("sum", params: SumParams(values: [i, 1]), as: SumResult.self).total, i + 1)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
        // The stalled client is still served once its line completes.
        try stalled.sendRaw(Data((#"od":"echo","params":{"text":"late"}}"# + "\n").utf8))
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: stalled.receiveFrame())["result"], "late")
    }

    func testHundredConcurrentClientsTwentyCallsEach() throws {
        let path = live.path
        let errors = onThreads(100) { i in
            let client = RPCClient(path: path, timeout: .seconds(10))
            for j in 0..<20 {
                let result = try client.call("sum", params: SumParams(values: [i, j, 1000]), as: SumResult.self)
                guard result.total == i + j + 1000 else { throw RPCError.notFound("client \(i) call \(j): got \(result.total)") }
            }
        }
        XCTAssertEqual(errors.map { "\($0)" }, [])
    }

    func testBatchOverTheSocket() throws {
        let response = try frame(live.client(), """
            [{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"a"}},\
            {"jsonrpc":"2.0","method":"echo","params":{"text":"note"}},\
            {"jsonrpc":"2.0","id":2,"method":"sum","params":{"values":[2,3]}}]
            """)
        let items = try XCTUnwrap(response.arrayValue)
        XCTAssertEqual(items.map { $0["id"] }, [1, 2])
        XCTAssertEqual(items[0]["result"], "a")
        XCTAssertEqual(items[1]["result"]?["total"], 5)
        XCTAssertEqual(try frame(live.client(), "[]")["error"]?["code"], -32600)
    }

    func testPipelinedFloodIsAnsweredInOrder() throws {
        // 500 requests in one write: far past the per-connection queue, so reading pauses and resumes.
        let client = live.client()
        var flood = ""
        for id in 1...500 {
            flood += #"{"jsonrpc":"2.0","id":\#(id),"method":"sum","params":{"values":[\#(id),1]}}"# + "\n"
        }
        try client.sendRaw(Data(flood.utf8))
        for id in 1...500 {
            let answer = try JSONDecoder().decode(JSONValue.self, from: client.receiveFrame())
            XCTAssertEqual(answer["id"], .int(id))
            XCTAssertEqual(answer["result"]?["total"], .int(id + 1))
        }
    }

    func testNotificationGetsNoReply() throws {
        let client = live.client()
        try client.notify("echo", params: ["text": "nobody listens"])
        try client.notify("no.such.method")
        let next = try frame(client, #"{"jsonrpc":"2.0","id":42,"method":"echo","params":{"text":"x"}}"#)
        XCTAssertEqual(next["id"], 42, "the first line back answers the request, not the notifications")
    }

    func testTimeoutIsReportedAndTheClientRecovers() throws {
        let client = live.client(timeout: .milliseconds(200))
        do {
            _ = try client.call("sleep", params: SleepParams(milliseconds: 1500), as: Bool.self)
            XCTFail("expected a timeout")
        } catch let error as RPCClientError {
            XCTAssertEqual(error, .timedOut(daemon: "edge-agent", method: "sleep", timeout: .milliseconds(200)))
            XCTAssertEqual("\(error)", "edge-agent did not answer 'sleep' within 0.2 s")
        }
        XCTAssertEqual(try client.call("echo", params: EchoParams(text: "again"), as: String.self), "again")
    }

    func testManySequentialCallsOnOneConnectionAllAnswerInOrder() throws {
        // latency figures come from `edge-bench agent` (make bench), not from a timed unit test
        let client = live.client()
        for _ in 0..<2000 {
            XCTAssertEqual(try client.call("telemetry.get", as: TelemetryWindow.self), Fixture.telemetryWindow)
        }
    }
}
