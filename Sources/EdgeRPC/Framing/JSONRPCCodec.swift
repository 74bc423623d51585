// Turning frames into JSON values and messages into frames, for both ends of the local RPC.
//
// Envelopes and JSONValue go through plain JSON coders (keys verbatim); typed params and
// results go through EdgeJSON (snake_case) and are spliced into the envelope as bytes, so
// a result is encoded once and never re-parsed on the server.
import EdgeCore
import Foundation

/// Encoding and decoding of JSON-RPC 2.0 frames (one message or batch per line).
public enum JSONRPCCodec {
    /// The value of every message's "jsonrpc" member.
    public static let version = "2.0"
    /// Default bound on one frame (a line without its terminator): 1 MiB.
    public static let defaultMaxFrameBytes = 1_048_576
    /// Deepest array/object nesting accepted in a frame. Parsing is recursive, and a frame of
    /// a million "[" must not exhaust a thread's stack.
    public static let maxNestingDepth = 64

    // MARK: Decoding

    /// Parses one frame into a JSON value.
    /// - Returns: the value, or the error object to answer with: -32700 for malformed JSON,
    ///   -32600 for nesting deeper than `maxNestingDepth`.
    public static func parseFrame(_ frame: Data) -> Result<JSONValue, JSONRPCErrorObject> {
        if let depth = nestingDepthExceeding(maxNestingDepth, in: frame) {
            return .failure(JSONRPCErrorObject(
                code: .invalidRequest,
                message: "invalid request: JSON nested deeper than \(maxNestingDepth) levels (reached \(depth))"))
        }
        do {
            return .success(try JSONDecoder().decode(JSONValue.self, from: frame))
        } catch {
            return .failure(JSONRPCErrorObject(code: .parseError, message: "parse error: \(describe(error))"))
        }
    }

    /// Returns the nesting depth reached once it exceeds `limit`, or nil if the frame stays
    /// within it. Brackets inside strings are skipped (escapes honoured); nothing else is checked.
    public static func nestingDepthExceeding(_ limit: Int, in frame: Data) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in frame {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return depth }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            default:
                break
            }
        }
        return nil
    }

    /// Decodes a response frame (client side).
    public static func decodeResponse(_ frame: Data) throws -> JSONRPCResponse {
        try JSONDecoder().decode(JSONRPCResponse.self, from: frame)
    }

    // MARK: Encoding

    /// A request (or, with `id` nil, a notification) whose params are already JSON bytes.
    public static func encodeRequest(id: JSONRPCID?, method: String, paramsJSON: Data?) -> Data {
        var out = Data()
        out.reserveCapacity(64 + method.utf8.count + (paramsJSON?.count ?? 0))
        out.append(contentsOf: "{".utf8)
        if let id {
            out.append(contentsOf: "\"id\":\(id.jsonText),".utf8)
        }
        out.append(contentsOf: "\"jsonrpc\":\"2.0\",\"method\":\(quoted(method))".utf8)
        if let paramsJSON {
            out.append(contentsOf: ",\"params\":".utf8)
            out.append(paramsJSON)
        }
        out.append(contentsOf: "}".utf8)
        return out
    }

    /// A success response whose result is already JSON bytes.
    public static func encodeSuccess(id: JSONRPCID, resultJSON: Data) -> Data {
        var out = Data()
        out.reserveCapacity(40 + resultJSON.count)
        out.append(contentsOf: "{\"id\":\(id.jsonText),\"jsonrpc\":\"2.0\",\"result\":".utf8)
        out.append(resultJSON)
        out.append(contentsOf: "}".utf8)
        return out
    }

    /// An error response. Never fails: if `error.data` cannot be encoded (a NaN, say),
    /// the response is sent without it.
    public static func encodeError(id: JSONRPCID, _ error: JSONRPCErrorObject) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(JSONRPCResponse(id: id, error: error)) {
            return data
        }
        var stripped = error
        stripped.data = nil
        return encodeSuccessless(id: id, stripped)
    }

    /// Joins already-encoded responses into a batch response.
    public static func encodeBatch(_ responses: [Data]) -> Data {
        var out = Data("[".utf8)
        for (index, response) in responses.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(response)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// `s` as a JSON string literal (RFC 8259 escaping: quote, backslash, control characters).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// A short rendering of a value for error messages (long values are cut).
    public static func brief(_ value: JSONValue, limit: Int = 40) -> String {
        let text = value.description
        return text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    /// A readable one-line description of a JSON decoding failure.
    public static func describe(_ error: any Error) -> String {
        guard let decodingError = error as? DecodingError else { return String(describing: error) }
        switch decodingError {
        case .dataCorrupted(let context):
            return context.underlyingErrorDescription ?? context.debugDescription
        case .keyNotFound(let key, _):
            return "missing \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.debugDescription
        @unknown default:
            return String(describing: error)
        }
    }

    private static func encodeSuccessless(id: JSONRPCID, _ error: JSONRPCErrorObject) -> Data {
        Data(("{\"error\":{\"code\":\(error.code.rawValue),\"message\":\(quoted(error.message))},"
            + "\"id\":\(id.jsonText),\"jsonrpc\":\"2.0\"}").utf8)
    }
}

extension DecodingError.Context {
    /// The underlying parser error's text when there is one (it names line and column).
    fileprivate var underlyingErrorDescription: String? {
        guard let underlyingError else { return nil }
        let text = (underlyingError as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return text.map { "\(debugDescription) \($0)" }
    }
}
