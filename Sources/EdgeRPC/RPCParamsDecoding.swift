// Turning a request's params into the handler's parameter type, with errors that name the
// offending field the way the client spelled it (snake_case).
import EdgeCore
import Foundation

enum RPCParamsDecoding {
    /// Decodes `params` as `P`. Missing or null params decode as `{}`, so a struct whose
    /// fields are all optional needs no params at all. A `JSONValue` parameter gets the
    /// params verbatim (`.null` when absent).
    static func decode<P: Decodable>(_ type: P.Type, from params: JSONValue?, method: String) throws -> P {
        if P.self == JSONValue.self {
            return (params ?? .null) as! P
        }
        let value = params ?? .object([:])
        do {
            // The params were parsed with verbatim keys; re-encoding them verbatim lets
            // EdgeJSON's decoder apply its snake_case mapping exactly once.
            let bytes = try JSONEncoder().encode(value)
            return try EdgeJSON.decoder().decode(P.self, from: bytes)
        } catch let error as DecodingError {
            throw RPCError(code: .invalidParams, message: "invalid params for '\(method)': \(describe(error))")
        } catch {
            throw RPCError(code: .invalidParams, message: "invalid params for '\(method)': \(error)")
        }
    }

    /// Checks that a method taking no parameters got none (absent, null, `{}` or `[]`).
    static func requireNone(_ params: JSONValue?, method: String) throws {
        switch params {
        case nil, .null: return
        case .object(let members) where members.isEmpty: return
        case .array(let elements) where elements.isEmpty: return
        default:
            throw RPCError(code: .invalidParams, message: "invalid params for '\(method)': it takes no params")
        }
    }

    /// "missing field 'limits[0].rate_bps'", "field 'count': Expected to decode Int but found a string instead."
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context):
            return "\(subject(context.codingPath)) must not be null"
        case .typeMismatch(_, let context), .dataCorrupted(let context):
            return "\(subject(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }

    private static func subject(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "params" : "field '\(path(codingPath))'"
    }

    /// Renders a coding path as `a.b[2].c`, keys in snake_case as on the wire.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                if !out.isEmpty { out += "." }
                out += snakeCase(key.stringValue)
            }
        }
        return out
    }

    /// `maxRateBps` → `max_rate_bps`, `peerIP` → `peer_ip`, `IPAddress` → `ip_address`.
    static func snakeCase(_ name: String) -> String {
        let chars = Array(name)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    out += "_"
                }
            }
            out += c.lowercased()
        }
        return out
    }
}
