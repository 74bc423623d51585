// Swift conveniences over the EDT maps' C types (bpf/edt.h, imported through EdgeBPF): how a
// prefix, a selector text and a mark mask are put into them. The layouts themselves are the C
// compiler's; nothing here mirrors an offset.
import EdgeBPF

extension edt_class {
    package init(rateBytesPerSecond: UInt64, horizonNs: UInt64, ecn: Bool) {
        self.init()
        rate = rateBytesPerSecond
        horizon_ns = horizonNs
        flags = ecn ? UInt32(EDT_F_ECN) : 0
    }

    var ecn: Bool { flags & UInt32(EDT_F_ECN) != 0 }
}

extension edt_prefix_key {
    /// IPv4 prefixes as IPv4-mapped IPv6 (one trie serves both families).
    init(_ prefix: IPPrefix) {
        self.init()
        prefixlen = UInt32(prefix.trieLength)
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: prefix.mappedAddress) }
    }

    var prefix: IPPrefix? {
        var a = addr
        return IPPrefix(mappedAddress: withUnsafeBytes(of: &a) { Array($0) }, trieLength: Int(prefixlen))
    }
}

/// The `edt_prefixes` value: class id, plus `EDT_PREFIX_IPV6_ONLY` for an IPv6 selector.
enum EDTPrefixValue {
    static func encode(classId: UInt32, _ prefix: IPPrefix) -> UInt32 {
        prefix.isIPv4 ? classId : classId | EDT_PREFIX_IPV6_ONLY
    }

    static func classId(_ raw: UInt32) -> UInt32 { raw & ~EDT_PREFIX_IPV6_ONLY }
}

extension edt_class_meta {
    /// Longest selector text (the C array keeps a terminating NUL).
    static let maxTextBytes = Int(EDT_SELECTOR_LEN) - 1

    /// The selector text, NUL-padded; nil when longer than `maxTextBytes`.
    init?(text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count <= Self.maxTextBytes else { return nil }
        self.init()
        withUnsafeMutableBytes(of: &selector) { $0.copyBytes(from: utf8) }
    }

    var text: String {
        var s = selector
        return withUnsafeBytes(of: &s) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

extension edt_config {
    /// The bits of skb->mark that carry class ids, and the mask's lowest set bit.
    package init(markMask: UInt32) {
        self.init()
        mark_mask = markMask
        mark_shift = markMask == 0 ? 0 : UInt32(markMask.trailingZeroBitCount)
    }

    /// bpf/edt.h EDT_DEFAULT_MARK_MASK: bits 21-31.
    package static let defaultMarkMask: UInt32 = EDT_DEFAULT_MARK_MASK
}
