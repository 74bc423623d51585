// A JSON document parsed by jansson: strict RFC 8259 (no trailing commas, no leading zeros, no
// raw control characters, UTF-8 validated everywhere), duplicate keys refused, integers kept as
// int64. The tree is read through `JanssonValue`; nothing of jansson's C API leaves this module.
internal import CJansson
import Foundation

/// Owns one parsed jansson tree and frees it when the last `JanssonValue` into it is gone.
///
/// Not `Sendable`: jansson's reads are thread-safe, but a document belongs to the request that
/// parsed it and is never shared, which keeps that question out of the callers' way.
public final class JanssonDocument {
    /// The tree's root (one strong reference held by the document).
    let rootPointer: UnsafeMutablePointer<json_t>

    /// Parses `bytes`. Any JSON value is accepted at the top level; callers check `root.kind`.
    ///
    /// Refused with a `JanssonParseError`: anything that is not RFC 8259 JSON, invalid UTF-8
    /// anywhere, a key twice in one object (which value was meant is ambiguous), integers outside
    /// int64, reals outside Double, nesting deeper than jansson's limit (2048). `\u0000` inside
    /// strings is accepted (JSON allows it; `stringValue` keeps it).
    public convenience init(parsing bytes: UnsafeRawBufferPointer) throws {
        self.init(adopting: try Self.parse(bytes))
    }

    /// Parses the bytes of `data` (see `init(parsing:)` for what is refused). Never copies them.
    public convenience init(parsing data: Data) throws {
        self.init(adopting: try data.withUnsafeBytes { try Self.parse($0) })
    }

    private init(adopting root: UnsafeMutablePointer<json_t>) {
        rootPointer = root
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<json_t> {
        var error = json_error_t()
        let flags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
        // An empty buffer may have no base address; jansson still wants a pointer (it reads 0 bytes).
        let parsed = withUnsafeBytes(of: UInt8(0)) { empty in
            json_loadb((bytes.baseAddress ?? empty.baseAddress!).assumingMemoryBound(to: CChar.self),
                       bytes.count, flags, &error)
        }
        guard let parsed else { throw JanssonParseError(error) }
        return parsed
    }

    deinit {
        json_decref(rootPointer)
    }

    /// The top-level value.
    public var root: JanssonValue { JanssonValue(document: self, pointer: rootPointer) }
}

extension JanssonParseError {
    /// Copies jansson's fixed-size error record into Swift values.
    init(_ e: json_error_t) {
        let text = withUnsafeBytes(of: e.text) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        self.init(text: text, line: Int(e.line), column: Int(e.column), position: Int(e.position))
    }
}
