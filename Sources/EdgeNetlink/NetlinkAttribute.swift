import CEdgeShim

/// One netlink attribute (TLV) copied out of a received message. Readers check the payload
/// length before decoding, so a short attribute is an error, never an out-of-bounds read.
public struct NetlinkAttribute: Equatable, Sendable {
    /// Attribute type with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off.
    public var type: UInt16
    public var payload: [UInt8]

    public init(type: UInt16, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    /// Splits an attribute stream (message tail or a nest's payload) into attributes.
    /// Throws when the stream is not well formed; unknown types are kept (callers skip them).
    public static func parse(_ bytes: [UInt8], context: String) throws -> [NetlinkAttribute] {
        try bytes.withUnsafeBytes { raw -> [NetlinkAttribute] in
            guard let base = raw.baseAddress else { return [] }
            var result: [NetlinkAttribute] = []
            var cursor = 0
            var type: UInt16 = 0
            var payload: UnsafeRawPointer?
            var payloadLength: UInt16 = 0
            while true {
                let rc = edge_nl_attr_next(base, raw.count, &cursor, &type, &payload, &payloadLength)
                if rc == 0 { return result }
                guard rc == 1, let payload else {
                    throw NetlinkParseError(context, "attribute at byte \(cursor) has a bad length")
                }
                let bytes = [UInt8](UnsafeRawBufferPointer(start: payload, count: Int(payloadLength)))
                result.append(NetlinkAttribute(type: type, payload: bytes))
            }
        }
    }

    private func fixed<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        guard payload.count >= MemoryLayout<T>.size else {
            throw NetlinkParseError(what, "attribute \(type) holds \(payload.count) bytes, needs \(MemoryLayout<T>.size)")
        }
        return payload.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    /// Host-order integers (netlink uses host byte order unless NLA_F_NET_BYTEORDER).
    public func u8(_ what: String) throws -> UInt8 { try fixed(UInt8.self, what) }
    public func u16(_ what: String) throws -> UInt16 { try fixed(UInt16.self, what) }
    public func u32(_ what: String) throws -> UInt32 { try fixed(UInt32.self, what) }
    public func u64(_ what: String) throws -> UInt64 { try fixed(UInt64.self, what) }

    /// A NUL-terminated (or unterminated) string attribute.
    public func string() -> String {
        let end = payload.firstIndex(of: 0) ?? payload.count
        return String(decoding: payload[..<end], as: UTF8.self)
    }

    /// The attributes of a nested attribute.
    public func nested(_ what: String) throws -> [NetlinkAttribute] {
        try NetlinkAttribute.parse(payload, context: what)
    }

    /// A C struct stored in the payload; the payload must be at least the struct's size
    /// (the kernel may append fields in newer versions, which are ignored).
    public func value<T>(_: T.Type, _ what: String) throws -> T {
        guard payload.count >= MemoryLayout<T>.size else {
            throw NetlinkParseError(what, "attribute \(type) holds \(payload.count) bytes, needs \(MemoryLayout<T>.size)")
        }
        return payload.withUnsafeBytes { raw in
            // Copy into aligned storage first: payloads are only 4-byte aligned.
            var out = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
            out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<MemoryLayout<T>.size])) }
            return out.withUnsafeBytes { $0.load(as: T.self) }
        }
    }
}

extension Array where Element == NetlinkAttribute {
    /// The attribute of a type, if present. The kernel sends each at most once; should one
    /// repeat, the last wins, as in a libmnl attribute table.
    public func attribute(_ type: UInt16) -> NetlinkAttribute? { last { $0.type == type } }
}
