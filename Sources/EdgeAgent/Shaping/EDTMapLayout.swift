// Byte layouts of the EDT maps, mirroring bpf/edt.h field by field (little-endian hosts:
// x86_64 and arm64). EDTDatapath checks the map sizes against these at load, so a change to
// edt.h that is not mirrored here fails loudly instead of corrupting classes.

/// `struct edt_class`.
struct EDTClassRecord: Equatable, Sendable {
    static let size = 64
    static let flagECN: UInt32 = 1

    var rateBytesPerSecond: UInt64
    var horizonNs: UInt64
    var tLast: UInt64 = 0
    var bytes: UInt64 = 0
    var packets: UInt64 = 0
    var drops: UInt64 = 0
    var ecnMarks: UInt64 = 0
    var flags: UInt32 = 0

    var ecn: Bool { flags & Self.flagECN != 0 }

    init(rateBytesPerSecond: UInt64, horizonNs: UInt64, ecn: Bool) {
        self.rateBytesPerSecond = rateBytesPerSecond
        self.horizonNs = horizonNs
        flags = ecn ? Self.flagECN : 0
    }

    init(bytes raw: [UInt8]) {
        precondition(raw.count >= Self.size)
        func u64(_ offset: Int) -> UInt64 { LittleEndianBytes.u64(raw, offset) }
        rateBytesPerSecond = u64(0)
        horizonNs = u64(8)
        tLast = u64(16)
        bytes = u64(24)
        packets = u64(32)
        drops = u64(40)
        ecnMarks = u64(48)
        flags = LittleEndianBytes.u32(raw, 56)
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        for v in [rateBytesPerSecond, horizonNs, tLast, bytes, packets, drops, ecnMarks] {
            LittleEndianBytes.append(v, to: &out)
        }
        LittleEndianBytes.append(flags, to: &out)
        LittleEndianBytes.append(UInt32(0), to: &out)
        return out
    }
}

/// `struct edt_prefix_key`: prefix length then 16 address bytes (IPv4 mapped into IPv6).
enum EDTPrefixKey {
    static let size = 20

    static func encode(_ prefix: IPPrefix) -> [UInt8] {
        var out: [UInt8] = []
        LittleEndianBytes.append(UInt32(prefix.trieLength), to: &out)
        return out + prefix.mappedAddress
    }

    static func decode(_ raw: [UInt8]) -> IPPrefix? {
        guard raw.count >= size else { return nil }
        return IPPrefix(mappedAddress: Array(raw[4..<20]), trieLength: Int(LittleEndianBytes.u32(raw, 0)))
    }
}

/// The `edt_prefixes` value: class id, plus `EDT_PREFIX_IPV6_ONLY` for an IPv6 selector.
enum EDTPrefixValue {
    static let ipv6Only: UInt32 = 0x8000_0000

    static func encode(classId: UInt32, _ prefix: IPPrefix) -> UInt32 {
        prefix.isIPv4 ? classId : classId | ipv6Only
    }

    static func classId(_ raw: UInt32) -> UInt32 { raw & ~ipv6Only }
}

/// `struct edt_class_meta`: the selector text, NUL-padded.
enum EDTClassMeta {
    static let size = 120

    static func encode(_ selector: String) -> [UInt8]? {
        let utf8 = Array(selector.utf8)
        guard utf8.count < size else { return nil }
        return utf8 + [UInt8](repeating: 0, count: size - utf8.count)
    }

    static func decode(_ raw: [UInt8]) -> String {
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// `struct edt_config`: the mark mask and its lowest set bit.
enum EDTMarkConfig {
    static let size = 8
    /// bpf/edt.h EDT_DEFAULT_MARK_MASK: bits 21-31.
    static let defaultMask: UInt32 = 0xFFE0_0000

    static func encode(mask: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        LittleEndianBytes.append(mask, to: &out)
        LittleEndianBytes.append(mask == 0 ? UInt32(0) : UInt32(mask.trailingZeroBitCount), to: &out)
        return out
    }
}

enum LittleEndianBytes {
    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    static func u64(_ raw: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(raw[offset + $1]) << (8 * UInt64($1)) }
    }

    static func u32(_ raw: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[offset + $1]) << (8 * UInt32($1)) }
    }
}
