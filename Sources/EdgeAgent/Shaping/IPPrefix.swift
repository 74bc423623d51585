// Source-address selectors: an IPv4 or IPv6 address or CIDR, parsed in plain Swift (the agent
// keeps C out of its own code) and stored the way the EDT trie wants it, IPv4 as ::ffff:a.b.c.d.
//
// One selector has one spelling (issue 13, finding 7: `10.77.0.1/32` and `::ffff:10.77.0.1/128`
// were two classes on one trie key, and deleting one emptied the other's key):
// - an IPv4-mapped IPv6 prefix of /96 or longer IS the IPv4 prefix (::ffff:10.77.0.1/128 is
//   10.77.0.1/32) and is listed that way;
// - host bits must be zero (the error suggests the masked prefix);
// - ambiguous spellings are refused: leading zeros in a dotted quad (inet_aton reads 010 as
//   octal 8) and a dotted quad anywhere but the last 32 bits of an IPv6 address (`1.2.3.4::`);
// - an IPv6 prefix never matches IPv4 packets, ::/0 included (EDT_PREFIX_IPV6_ONLY in edt.h).

/// An address prefix, e.g. 10.1.0.0/16 or fd00::/64. A bare address is a /32 or /128.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    /// 16 bytes; IPv4 addresses are IPv4-mapped (::ffff:a.b.c.d).
    public let mappedAddress: [UInt8]
    /// Prefix length in the family's own bits (0…32 for IPv4, 0…128 for IPv6).
    public let length: Int
    public let isIPv4: Bool

    /// Bits the LPM trie compares: IPv4 prefixes count the 96 mapped bits too.
    var trieLength: Int { isIPv4 ? 96 + length : length }

    /// Parses "a.b.c.d", "a.b.c.d/n", "x::y", "x::/n". Host bits must be zero.
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> ShapingError { .invalidSelector(text, reason) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addressText = parts.first, !addressText.isEmpty else {
            throw fail("expected an address or address/prefix-length")
        }
        if addressText.contains("%") { throw fail("zone ids (%iface) are not allowed") }
        if let ambiguity = Self.ambiguity(addressText) { throw fail(ambiguity) }
        let v4 = Self.parseIPv4(addressText)
        let v6 = v4 == nil ? Self.parseIPv6(addressText) : nil
        guard v4 != nil || v6 != nil else { throw fail("\"\(addressText)\" is not an IPv4 or IPv6 address") }
        let bits = v4 != nil ? 32 : 128
        var length = bits
        if parts.count == 2 {
            guard let n = Int(parts[1]), parts[1].allSatisfy(\.isNumber), (0...bits).contains(n) else {
                throw fail("prefix length \"\(parts[1])\" must be 0…\(bits)")
            }
            length = n
        }
        var address = v4 ?? v6!
        var isIPv4 = v4 != nil
        if !isIPv4, length >= 96, Self.isIPv4Mapped(address) {
            address = Array(address[12..<16])
            length -= 96
            isIPv4 = true
        }
        let bits4 = isIPv4 ? 32 : 128
        if let firstSet = (length..<bits4).first(where: { address[$0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }) {
            let masked = Self.masked(address, length: length)
            let suggestion = IPPrefix(raw: masked, length: length, isIPv4: isIPv4)
            throw fail("host bits are set (bit \(firstSet)); did you mean \(suggestion)?")
        }
        self.init(raw: address, length: length, isIPv4: isIPv4)
    }

    /// The EDT trie key as text: two selectors are the same class exactly when their keys are equal.
    public var trieKey: String {
        mappedAddress.map { String($0, radix: 16) }.joined(separator: ".") + "/\(trieLength)"
    }

    static func isIPv4Mapped(_ a: [UInt8]) -> Bool {
        a.count == 16 && a[0..<10].allSatisfy { $0 == 0 } && a[10] == 0xFF && a[11] == 0xFF
    }

    /// Why `text` is a spelling we refuse although a lenient parser would read it, or nil.
    static func ambiguity<S: StringProtocol>(_ text: S) -> String? {
        let dotted = text.split(separator: ":", omittingEmptySubsequences: false)
        for (i, part) in dotted.enumerated() where part.contains(".") {
            if dotted.count > 1 && i != dotted.count - 1 {
                return "a dotted IPv4 part may only end an IPv6 address (\"\(text)\")"
            }
            for octet in part.split(separator: ".", omittingEmptySubsequences: false) where octet.count > 1 && octet.first == "0" {
                return "\"\(octet)\" has a leading zero (ambiguous: inet_aton reads it as octal); write it without"
            }
        }
        return nil
    }

    /// From a trie key (prefix length counted in 128 bits).
    init?(mappedAddress: [UInt8], trieLength: Int) {
        guard mappedAddress.count == 16, (0...128).contains(trieLength) else { return nil }
        let mapped = mappedAddress[0..<10].allSatisfy { $0 == 0 } && mappedAddress[10] == 0xFF && mappedAddress[11] == 0xFF
        if mapped && trieLength >= 96 {
            self.init(raw: Array(mappedAddress[12..<16]), length: trieLength - 96, isIPv4: true)
        } else {
            self.init(raw: mappedAddress, length: trieLength, isIPv4: false)
        }
    }

    private init(raw: [UInt8], length: Int, isIPv4: Bool) {
        self.mappedAddress = isIPv4 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + raw : raw
        self.length = length
        self.isIPv4 = isIPv4
    }

    /// "10.1.0.0/16", "10.0.0.5/32", "fd00::/64".
    public var description: String {
        let address = isIPv4
            ? mappedAddress[12..<16].map(String.init).joined(separator: ".")
            : PeerAddressText.formatIPv6(mappedAddress)
        return "\(address)/\(length)"
    }

    private static func masked(_ address: [UInt8], length: Int) -> [UInt8] {
        address.enumerated().map { i, byte in
            let keep = max(0, min(8, length - i * 8))
            return keep == 8 ? byte : byte & ~(UInt8(0xFF) >> UInt8(keep))
        }
    }

    static func parseIPv4<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let v = UInt8(part) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if i == items.count - 1, item.contains("."), let v4 = parseIPv4(item) {
                    out += v4
                } else {
                    guard (1...4).contains(item.count), item.allSatisfy(\.isHexDigit), let v = UInt16(item, radix: 16) else {
                        return nil
                    }
                    out += [UInt8(v >> 8), UInt8(v & 0xFF)]
                }
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
