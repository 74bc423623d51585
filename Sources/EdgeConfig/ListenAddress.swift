// "host:port" listen addresses from config files, checked up front so that a typo is reported with
// its key at start-up instead of as a bind() failure later. IPv6 literals go in brackets: "[::1]:9464".
import Foundation

/// A validated host and port to listen on.
public struct ListenAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// IPv4 dotted quad, IPv6 literal (without brackets) or host name.
    public var host: String
    /// TCP port; 0 asks the kernel for any free port (useful in tests).
    public var port: Int

    /// The address is not "host:port".
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var input: String
        public var reason: String
        public var description: String { "invalid listen address \"\(input)\": \(reason)" }
    }

    /// An address from parts already known to be valid (no checks).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:80", "[::]:8477" or "localhost:9464".
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> Error { Error(input: text, reason: reason) }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing \"]\" after the IPv6 address") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let afterClose = text[text.index(after: close)...]
            guard afterClose.hasPrefix(":") else { throw fail("expected \":port\" after \"]\"") }
            portPart = afterClose.dropFirst()
            guard IPAddressText.isIPv6(hostPart) else { throw fail("\"\(hostPart)\" is not an IPv6 address") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail("expected host:port, e.g. \"127.0.0.1:9464\"") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw fail("an IPv6 address must be written in brackets, e.g. \"[::1]:9464\"")
            }
            guard !hostPart.isEmpty else {
                throw fail("missing host (use 0.0.0.0 or [::] for every address)")
            }
            if hostPart.allSatisfy({ $0 == "." || ($0.isASCII && $0.isNumber) }) {
                guard IPAddressText.isIPv4(hostPart) else { throw fail("\"\(hostPart)\" is not an IPv4 address") }
            } else {
                guard IPAddressText.isHostName(hostPart) else { throw fail("\"\(hostPart)\" is not a valid host name") }
            }
        }
        guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portPart), port <= 65535
        else {
            throw fail("port must be a number from 0 to 65535, got \"\(portPart)\"")
        }
        self.host = String(hostPart)
        self.port = port
    }

    /// True when `host` is an IPv6 literal.
    public var isIPv6: Bool { IPAddressText.isIPv6(Substring(host)) }

    /// The config form: "host:port", with brackets around an IPv6 host.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Syntax checks of address text (no name resolution).
public enum IPAddressText {
    /// Dotted quad with four decimal parts 0–255 and no leading zeros (which some parsers read as octal).
    public static func isIPv4<S: StringProtocol>(_ text: S) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy { $0.isASCII && $0.isNumber }
                && !(p.count > 1 && p.hasPrefix("0")) && Int(p)! <= 255
        }
    }

    /// RFC 4291 text form: eight groups of 1–4 hex digits, one "::" for a run of zero groups, an
    /// optional trailing dotted quad, and an optional "%zone".
    public static func isIPv6<S: StringProtocol>(_ text: S) -> Bool {
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") {
            let zone = address[address.index(after: percent)...]
            guard !zone.isEmpty, zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
            else { return false }
            address = address[..<percent]
        }
        guard address.contains(":") else { return false }
        let halves = address.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ s: String) -> [Substring] {
            s.isEmpty ? [] : s.split(separator: ":", omittingEmptySubsequences: false)
        }
        var all = groups(halves[0]) + (halves.count == 2 ? groups(halves[1]) : [])
        var count = all.count
        // A trailing IPv4 part stands for two groups (and must really be at the end).
        if let last = all.last, last.contains(".") {
            guard !address.hasSuffix(":"), isIPv4(last) else { return false }
            all.removeLast()
            count += 1
        }
        guard all.allSatisfy({ g in !g.isEmpty && g.count <= 4 && g.allSatisfy { $0.isHexDigit } }) else { return false }
        return halves.count == 2 ? count <= 7 : count == 8
    }

    /// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, each at most
    /// 63 characters, 253 in all.
    public static func isHostName<S: StringProtocol>(_ text: S) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
