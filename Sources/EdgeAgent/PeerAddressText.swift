// Text form of the peer addresses the BPF maps hold as raw bytes (RFC 5952 for IPv6),
// in plain Swift so the agent does not need inet_ntop outside the wrapper targets.
public enum PeerAddressText {
    static let afInet: UInt32 = 2
    static let afInet6: UInt32 = 10

    /// `bytes` holds 4 (IPv4) or 16 (IPv6) address bytes, network order; IPv4 may be padded to 16.
    public static func format(family: UInt32, bytes: [UInt8]) -> String? {
        switch family {
        case afInet where bytes.count >= 4:
            return bytes[0..<4].map(String.init).joined(separator: ".")
        case afInet6 where bytes.count >= 16:
            return formatIPv6(Array(bytes[0..<16]))
        default:
            return nil
        }
    }

    static func formatIPv6(_ b: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        // IPv4-mapped (::ffff:a.b.c.d) reads best as the IPv4 address it carries
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            return "::ffff:" + b[12..<16].map(String.init).joined(separator: ".")
        }
        // longest run of two or more zero groups becomes "::" (first one on ties)
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else {
                i += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLen)...].joined(separator: ":")
        return head + "::" + tail
    }
}
