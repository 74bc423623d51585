// The JSON-RPC 2.0 request id: the client's handle to match a response to its request.
import EdgeCore
import Foundation

/// A JSON-RPC id: an integer, a string or null. (A request *without* an id is a
/// notification; that is modelled as `JSONRPCID?` being nil, not as `.null`.)
public enum JSONRPCID: Sendable, Hashable {
    case int(Int)
    case string(String)
    /// An explicit `"id": null`. Servers answer errors with it when the request's id
    /// could not be read.
    case null

    /// The id held by `value`, or nil when `value` cannot be an id
    /// (booleans, fractional numbers, arrays, objects).
    public init?(_ value: JSONValue) {
        switch value {
        case .int(let i): self = .int(i)
        case .string(let s): self = .string(s)
        case .null: self = .null
        default: return nil
        }
    }

    /// The id as a JSON value.
    public var jsonValue: JSONValue {
        switch self {
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .null: return .null
        }
    }

    /// The id as JSON text, ready to be spliced into a message.
    public var jsonText: String {
        switch self {
        case .int(let i): return String(i)
        case .string(let s): return JSONRPCCodec.quoted(s)
        case .null: return "null"
        }
    }
}

extension JSONRPCID: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "a JSON-RPC id must be an integer, a string or null")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .null: try c.encodeNil()
        }
    }
}

extension JSONRPCID: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONRPCID: CustomStringConvertible {
    public var description: String { jsonText }
}
