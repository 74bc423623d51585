// The extender's response bodies written straight to bytes.
//
// JSONEncoder spent most of a /prioritize call boxing thousands of small values; these bodies
// have a fixed shape, so they are written directly. The output is byte-for-byte what the
// `ExtenderJSON.encoder()` (sorted keys, slashes unescaped) produced before: keys in UTF-8
// byte order, the same string escapes, integral numbers without a fraction. The golden tests
// and ExtenderResponseWriterTests hold it to that.
import EdgeJansson

package struct ExtenderResponseWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: - whole bodies

    /// `HostPriorityList`: `[{"Host":…,"Score":…},…]` in request order.
    package static func hostPriorityList(hosts: [String], scores: [Int64]) -> [UInt8] {
        precondition(hosts.count == scores.count, "one score per host")
        var w = ExtenderResponseWriter(capacity: 2 + hosts.count * 40)
        w.ascii("[")
        for i in hosts.indices {
            if i > 0 { w.ascii(",") }
            w.ascii("{\"Host\":")
            w.string(hosts[i])
            w.ascii(",\"Score\":")
            w.integer(scores[i])
            w.ascii("}")
        }
        w.ascii("]")
        return w.bytes
    }

    /// `ExtenderFilterResult` with every key written (absent pointers as `null`), like Go and the
    /// Codable type. `nodeList` is the request's `v1.NodeList` with `items` replaced by `keptItems`.
    package static func filterResult(nodeNames: [String]?, failed: [String: String], unresolvable: [String: String],
                             nodeList: JanssonValue?, keptItems: [JanssonValue], error: String) -> [UInt8] {
        var w = ExtenderResponseWriter(capacity: 128 + (nodeNames?.count ?? 0) * 24 + (failed.count + unresolvable.count) * 80)
        w.ascii("{\"Error\":")
        w.string(error)
        w.ascii(",\"FailedAndUnresolvableNodes\":")
        w.stringMap(unresolvable)
        w.ascii(",\"FailedNodes\":")
        w.stringMap(failed)
        w.ascii(",\"NodeNames\":")
        if let nodeNames {
            w.ascii("[")
            for (i, name) in nodeNames.enumerated() {
                if i > 0 { w.ascii(",") }
                w.string(name)
            }
            w.ascii("]")
        } else {
            w.ascii("null")
        }
        w.ascii(",\"Nodes\":")
        if let nodeList {
            var members = nodeList.members.filter { $0.key != "items" }.map { ($0.key, Member.value($0.value)) }
            members.append(("items", .items(keptItems)))
            w.object(members)
        } else {
            w.ascii("null")
        }
        w.ascii("}")
        return w.bytes
    }

    /// A failed `/filter`: the whole call failed with `message`.
    static func filterError(_ message: String) -> [UInt8] {
        filterResult(nodeNames: nil, failed: [:], unresolvable: [:], nodeList: nil, keptItems: [], error: message)
    }

    /// A failed `/prioritize`: `{"Error": message}` (kube-scheduler ignores the body; people read it).
    static func prioritizeError(_ message: String) -> [UInt8] {
        var w = ExtenderResponseWriter(capacity: 16 + message.utf8.count)
        w.ascii("{\"Error\":")
        w.string(message)
        w.ascii("}")
        return w.bytes
    }

    // MARK: - values

    /// An object member to write: a request value copied as is, or the filtered items.
    private enum Member {
        case value(JanssonValue)
        case items([JanssonValue])
    }

    private mutating func object(_ members: [(String, Member)]) {
        ascii("{")
        for (i, (key, member)) in members.sorted(by: { Self.precedes($0.0, $1.0) }).enumerated() {
            if i > 0 { ascii(",") }
            string(key)
            ascii(":")
            switch member {
            case let .value(v): value(v)
            case let .items(items): array(items)
            }
        }
        ascii("}")
    }

    private mutating func array(_ elements: [JanssonValue]) {
        ascii("[")
        for (i, e) in elements.enumerated() {
            if i > 0 { ascii(",") }
            value(e)
        }
        ascii("]")
    }

    /// A request value, re-serialised the way the Codable `JSONValue` path wrote it.
    mutating func value(_ v: JanssonValue) {
        switch v.kind {
        case .object: object(v.members.map { ($0.key, .value($0.value)) })
        case .array: array(v.elements)
        case .string: string(v.stringValue!)
        case .integer: integer(v.integerValue!)
        case .real: real(v.realValue!)
        case .true: ascii("true")
        case .false: ascii("false")
        case .null: ascii("null")
        }
    }

    /// `{"k":"v",…}` with keys in UTF-8 byte order (what JSONEncoder's `.sortedKeys` gives, and Go).
    private mutating func stringMap(_ map: [String: String]) {
        ascii("{")
        for (i, key) in map.keys.sorted(by: Self.precedes).enumerated() {
            if i > 0 { ascii(",") }
            string(key)
            ascii(":")
            string(map[key]!)
        }
        ascii("}")
    }

    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    // MARK: - scalars

    private mutating func ascii(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A quoted string with JSON's mandatory escapes only: `"` `\` and C0 controls (short forms
    /// where JSON has them, `\u00xx` in lowercase hex otherwise). `/`, DEL and non-ASCII are
    /// written as they are, as JSONEncoder does with `.withoutEscapingSlashes`.
    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var clean = 0 // start of the run of bytes that need no escape
            for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<i]))
                escape(b)
                clean = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ b: UInt8) {
        switch b {
        case UInt8(ascii: "\""): ascii("\\\"")
        case UInt8(ascii: "\\"): ascii("\\\\")
        case 0x08: ascii("\\b")
        case 0x09: ascii("\\t")
        case 0x0A: ascii("\\n")
        case 0x0C: ascii("\\f")
        case 0x0D: ascii("\\r")
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            ascii("\\u00")
            bytes.append(hex[Int(b >> 4)])
            bytes.append(hex[Int(b & 0xF)])
        }
    }

    /// Decimal digits, no allocation.
    mutating func integer(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                n += 1
            } while magnitude > 0
            bytes.append(contentsOf: d[(20 - n)...])
        }
    }

    /// A non-integer number as `JSONValue` → JSONEncoder wrote it: integral values that fit Int
    /// became `.int` when decoded, so they are plain integers; others use Swift's shortest
    /// round-trip text, without a trailing ".0".
    mutating func real(_ v: Double) {
        if let i = Int64(exactly: v) {
            integer(i)
            return
        }
        var text = v.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }
}
