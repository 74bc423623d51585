import CEdgeShim

/// A traffic-control handle `major:minor` (qdisc handles are `major:0`, classes `major:minor`).
/// Printed and parsed in tc's hex notation: `1:`, `1:a`, `ffff:fff1`, `root`.
public struct TCHandle: Hashable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(major: UInt16, minor: UInt16) {
        rawValue = edge_nl_tc_h_make(UInt32(major) << 16, UInt32(minor))
    }

    public var major: UInt16 { UInt16(edge_nl_tc_h_maj(rawValue) >> 16) }
    public var minor: UInt16 { UInt16(edge_nl_tc_h_min(rawValue)) }

    /// TC_H_ROOT: the parent of a device's root qdisc.
    public static let root = TCHandle(rawValue: 0xFFFF_FFFF)
    /// TC_H_UNSPEC: "let the kernel choose" for handles, "none" for parents.
    public static let unspecified = TCHandle(rawValue: 0)
    /// TC_H_CLSACT (== TC_H_INGRESS): the parent of a clsact qdisc.
    public static let clsactParent = TCHandle(rawValue: 0xFFFF_FFF1)
    /// The handle a clsact qdisc always has.
    public static let clsactHandle = TCHandle(major: 0xFFFF, minor: 0)
    /// clsact's ingress hook (ffff:fff2), parent of ingress filters.
    public static let ingressHook = TCHandle(major: 0xFFFF, minor: 0xFFF2)
    /// clsact's egress hook (ffff:fff3), parent of egress filters.
    public static let egressHook = TCHandle(major: 0xFFFF, minor: 0xFFF3)

    /// `major:` for a qdisc handle.
    public static func qdisc(_ major: UInt16) -> TCHandle { TCHandle(major: major, minor: 0) }

    public var description: String {
        if self == .root { return "root" }
        if minor == 0 { return String(major, radix: 16) + ":" }
        return String(major, radix: 16) + ":" + String(minor, radix: 16)
    }

    /// Parses `1:`, `1:0`, `ffff:fff1`, `root` (what `tc -j` prints).
    public init(parsing text: String) throws {
        if text == "root" { self = .root; return }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = UInt16(parts[0], radix: 16),
              let minor = parts[1].isEmpty ? 0 : UInt16(parts[1], radix: 16) else {
            throw NetlinkRequestError("invalid tc handle '\(text)' (expected hex major:minor, e.g. 1: or ffff:fff1)")
        }
        self.init(major: major, minor: minor)
    }
}
