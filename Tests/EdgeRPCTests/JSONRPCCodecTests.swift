import EdgeCore
import EdgeRPC
import Foundation
import XCTest

final class JSONRPCCodecTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONRPCCodec.parseFrame(Data(text.utf8)).get()
    }

    private func parseError(_ text: String) -> JSONRPCErrorObject? {
        if case .failure(let e) = JSONRPCCodec.parseFrame(Data(text.utf8)) { return e }
        return nil
    }

    private func invalid(_ text: String) throws -> JSONRPCInvalidRequest? {
        do {
            _ = try JSONRPCRequest(validating: try parse(text))
            return nil
        } catch let error as JSONRPCInvalidRequest {
            return error
        }
    }

    // MARK: JSONValue

    func testJSONValueKeepsIntegersDoublesAndKeysVerbatim() throws {
        let value = try parse(#"{"big":9007199254740993,"half":0.5,"camelKey":"é\n\"q\"","snake_key":[true,null,-3]}"#)
        XCTAssertEqual(value, [
            "big": .int(9_007_199_254_740_993), "half": .double(0.5), "camelKey": "é\n\"q\"",
            "snake_key": [true, nil, -3],
        ])
        let reencoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        XCTAssertEqual(reencoded, value)
        XCTAssertEqual(value["big"]?.intValue, 9_007_199_254_740_993)
        XCTAssertEqual(value["half"]?.doubleValue, 0.5)
        XCTAssertEqual(JSONValue.object(["b": 1, "a": [1.5]]).description, #"{"a":[1.5],"b":1}"#)
    }

    // MARK: requests

    func testValidRequestNotificationAndNullID() throws {
        let request = try JSONRPCRequest(validating: try parse(#"{"jsonrpc":"2.0","id":"a","method":"m","params":{"x":1}}"#))
        XCTAssertEqual(request, JSONRPCRequest(id: "a", method: "m", params: ["x": 1]))
        XCTAssertFalse(request.isNotification)

        let note = try JSONRPCRequest(validating: try parse(#"{"jsonrpc":"2.0","method":"m","params":[1,2]}"#))
        XCTAssertTrue(note.isNotification)
        XCTAssertEqual(note.params, [1, 2])

        // "id": null is a request with a null id, not a notification.
        let nullID = try JSONRPCRequest(validating: try parse(#"{"jsonrpc":"2.0","id":null,"method":"m","params":null}"#))
        XCTAssertEqual(nullID.id, .null)
        XCTAssertNil(nullID.params)
    }

    func testInvalidRequestsNameWhatIsWrong() throws {
        XCTAssertEqual(try invalid("42")?.reason,
                       "a request must be a JSON object, got a number")
        XCTAssertEqual(try invalid(#"{"id":1,"method":"m"}"#),
                       JSONRPCInvalidRequest(id: 1, reason: #"missing "jsonrpc": "2.0""#))
        XCTAssertEqual(try invalid(#"{"jsonrpc":"1.0","id":2,"method":"m"}"#),
                       JSONRPCInvalidRequest(id: 2, reason: #""jsonrpc" must be "2.0", got "1.0""#))
        XCTAssertEqual(try invalid(#"{"jsonrpc":"2.0","id":3}"#),
                       JSONRPCInvalidRequest(id: 3, reason: #"missing "method""#))
        XCTAssertEqual(try invalid(#"{"jsonrpc":"2.0","id":4,"method":5}"#)?.reason,
                       #""method" must be a string, got a number"#)
        XCTAssertEqual(try invalid(#"{"jsonrpc":"2.0","id":5,"method":"m","params":"s"}"#)?.reason,
                       #""params" must be an object or an array, got a string"#)
        let badID = try invalid(#"{"jsonrpc":"2.0","id":true,"method":"m"}"#)
        XCTAssertEqual(badID?.id, .null)
        XCTAssertEqual(badID?.errorObject.code, .invalidRequest)
        XCTAssertEqual(try invalid(#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#)?.id, .null)
    }

    func testRequestCodableRoundTrip() throws {
        let request = JSONRPCRequest(id: 9, method: "shaping.set", params: ["rate_bps": 1000])
        let data = try JSONEncoder().encode(request)
        XCTAssertEqual(try JSONDecoder().decode(JSONRPCRequest.self, from: data), request)
        XCTAssertThrowsError(try JSONDecoder().decode(JSONRPCRequest.self, from: Data(#"{"method":"m"}"#.utf8)))
    }

    // MARK: frames

    func testMalformedJSONIsAParseError() {
        let error = parseError("{\"jsonrpc\":\"2.0\", garbage")
        XCTAssertEqual(error?.code, .parseError)
        XCTAssertTrue(error?.message.hasPrefix("parse error:") ?? false, error?.message ?? "")
        XCTAssertEqual(parseError("\u{01}\u{02}\u{ff}")?.code, .parseError)
        XCTAssertEqual(parseError(String(decoding: [0xC3, 0x28, 0x22], as: UTF8.self))?.code, .parseError)
    }

    func testDeepNestingIsRefusedBeforeParsing() throws {
        let deep = String(repeating: "[", count: 100_000)
        let error = parseError(deep)
        XCTAssertEqual(error?.code, .invalidRequest)
        XCTAssertTrue(error?.message.contains("nested deeper than 64") ?? false, error?.message ?? "")
        // Brackets inside strings (escaped quotes included) do not count.
        let inString = "{\"s\":\"" + String(repeating: "[\\\"", count: 200) + "\"}"
        XCTAssertEqual(try parse(inString)["s"]?.stringValue?.count, 400)
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(ok))
    }

    func testEncodedMessagesAreGoldenAndParseBack() throws {
        XCTAssertEqual(
            String(decoding: JSONRPCCodec.encodeSuccess(id: 7, resultJSON: Data(#"{"a":1}"#.utf8)), as: UTF8.self),
            #"{"id":7,"jsonrpc":"2.0","result":{"a":1}}"#)
        XCTAssertEqual(
            String(decoding: JSONRPCCodec.encodeError(id: "x", JSONRPCErrorObject(code: .notFound, message: "no eth9")),
                   as: UTF8.self),
            #"{"error":{"code":-32003,"message":"no eth9"},"id":"x","jsonrpc":"2.0"}"#)
        XCTAssertEqual(
            String(decoding: JSONRPCCodec.encodeRequest(id: nil, method: "m", paramsJSON: nil), as: UTF8.self),
            #"{"jsonrpc":"2.0","method":"m"}"#)
        let request = JSONRPCCodec.encodeRequest(id: .string("q\"1"), method: "a\"b", paramsJSON: Data("[1]".utf8))
        XCTAssertEqual(try JSONRPCRequest(validating: try JSONRPCCodec.parseFrame(request).get()),
                       JSONRPCRequest(id: "q\"1", method: "a\"b", params: [1]))
        // An error whose data cannot be encoded (NaN) is still sent, without the data.
        let nan = JSONRPCCodec.encodeError(id: .null, JSONRPCErrorObject(code: .internalError, message: "m", data: .double(.nan)))
        let decoded = try JSONRPCCodec.decodeResponse(nan)
        XCTAssertEqual(decoded.error, JSONRPCErrorObject(code: .internalError, message: "m"))
        XCTAssertEqual(String(decoding: JSONRPCCodec.encodeBatch([Data("1".utf8), Data("2".utf8)]), as: UTF8.self), "[1,2]")
    }

    func testQuotedEscapesEverythingJSONRequires() throws {
        let nasty = "q\"b\\s/\n\r\t\u{0}\u{1f}é😀"
        let quoted = JSONRPCCodec.quoted(nasty)
        XCTAssertEqual(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)), nasty)
        XCTAssertTrue(quoted.contains("\\u0000") && quoted.contains("\\u001f"))
    }

    func testResponseDecodingRules() throws {
        func decode(_ s: String) throws -> JSONRPCResponse { try JSONRPCCodec.decodeResponse(Data(s.utf8)) }
        XCTAssertEqual(try decode(#"{"jsonrpc":"2.0","id":1,"result":null}"#), JSONRPCResponse(id: 1, result: .null))
        XCTAssertEqual(try decode(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"p"}}"#),
                       JSONRPCResponse(id: .null, error: JSONRPCErrorObject(code: .parseError, message: "p")))
        XCTAssertThrowsError(try decode(#"{"jsonrpc":"2.0","id":1}"#))
        XCTAssertThrowsError(try decode(#"{"jsonrpc":"2.0","result":1}"#))
        XCTAssertThrowsError(try decode(#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}"#))
        XCTAssertThrowsError(try decode(#"{"id":1,"result":1}"#))
    }

    func testErrorCodeValues() {
        XCTAssertEqual([JSONRPCErrorCode.parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError,
                        .permissionDenied, .unavailable, .notFound].map(\.rawValue),
                       [-32700, -32600, -32601, -32602, -32603, -32001, -32002, -32003])
        XCTAssertEqual(JSONRPCErrorCode.methodNotFound.name, "method not found")
        XCTAssertNil(JSONRPCErrorCode(rawValue: 7).name)
    }
}
