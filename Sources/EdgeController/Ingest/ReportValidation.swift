// Checks a pushed report before it may touch the registry: a bad report gets a 400 naming the field.
import EdgeTelemetry
import Foundation

/// A report that decoded but cannot be used.
public struct ReportValidationError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

/// Per-report bounds. Together with `registry.max_nodes` they bound the controller's memory: a
/// report is decoded (at most `HTTPLimits.maxReportBytes`), checked against these, and only its
/// aggregate fields are kept (see `NodeRegistry.ingest`).
public struct ReportLimits: Sendable, Equatable {
    /// Most `peers` entries (registry.max_peers). The agent's telemetry.max_peers defaults to 256.
    public var maxPeers: Int
    /// Most `drops` entries (registry.max_drop_reasons). Linux 6.x defines about 120 drop reasons.
    public var maxDropReasons: Int

    public static let defaults = ReportLimits(maxPeers: 1024, maxDropReasons: 256)

    public init(maxPeers: Int, maxDropReasons: Int) {
        self.maxPeers = maxPeers
        self.maxDropReasons = maxDropReasons
    }
}

public enum ReportValidation {
    /// Node names become Prometheus label values and extender map keys: they follow the Kubernetes
    /// node-name rule (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', each
    /// dot-separated label starting and ending with a letter or digit, at most 253 bytes).
    public static let maxNodeNameLength = 253
    /// Longest `agent_version`.
    public static let maxAgentVersionLength = 128
    /// Longest peer address text (an IPv6 address with a zone fits in INET6_ADDRSTRLEN + IFNAMSIZ).
    public static let maxPeerAddressLength = 64
    /// Longest drop reason name (the kernel's longest is under 40 bytes).
    public static let maxDropReasonLength = 64

    /// Throws the first problem found.
    public static func validate(_ w: TelemetryWindow, limits: ReportLimits = .defaults) throws {
        try validateNodeName(w.node)
        guard w.agentVersion.utf8.count <= maxAgentVersionLength else {
            throw ReportValidationError(field: "agent_version", reason: "longer than \(maxAgentVersionLength) bytes")
        }
        guard w.peers.count <= limits.maxPeers else {
            throw ReportValidationError(field: "peers", reason: "\(w.peers.count) entries, more than registry.max_peers = \(limits.maxPeers)")
        }
        guard w.drops.count <= limits.maxDropReasons else {
            throw ReportValidationError(field: "drops",
                                        reason: "\(w.drops.count) entries, more than registry.max_drop_reasons = \(limits.maxDropReasons)")
        }
        try finite("generated_at", w.generatedAt)
        for signal in TelemetrySignal.catalogue {
            switch signal.validity {
            case .nonNegative: try nonNegative(signal.name, signal.value(in: w))
            case .fraction: try fraction(signal.name, signal.value(in: w))
            case .any: break
            }
        }
        for (i, d) in w.drops.enumerated() {
            guard !d.reason.isEmpty, d.reason.utf8.count <= maxDropReasonLength,
                  d.reason.utf8.allSatisfy({ isUpper($0) || isDigit($0) || $0 == 0x5f }) else {
                throw ReportValidationError(field: "drops[\(i)].reason",
                                            reason: "expected 1–\(maxDropReasonLength) characters of [A-Z0-9_] (a kernel drop reason name)")
            }
            try nonNegative("drops[\(i)].rate_per_second", d.ratePerSecond)
            try nonNegative("drops[\(i)].weight", d.weight)
        }
        for (i, p) in w.peers.enumerated() {
            guard !p.address.isEmpty, p.address.utf8.count <= maxPeerAddressLength,
                  p.address.utf8.allSatisfy({ isHex($0) || $0 == 0x2e || $0 == 0x3a || $0 == 0x25 }) else {
                throw ReportValidationError(field: "peers[\(i)].address",
                                            reason: "expected an IPv4 or IPv6 address of at most \(maxPeerAddressLength) characters")
            }
            try nonNegative("peers[\(i)].rtt_p50_ms", p.rttP50Ms)
            try nonNegative("peers[\(i)].rtt_p99_ms", p.rttP99Ms)
        }
    }

    /// The Kubernetes node-name rule (DNS-1123 subdomain), with the reason when `name` breaks it.
    public static func validateNodeName(_ name: String) throws {
        func refuse(_ why: String) -> ReportValidationError {
            ReportValidationError(field: "node", reason: "\"\(printable(name))\" is not a Kubernetes node name (DNS-1123 subdomain): \(why)")
        }
        guard !name.isEmpty else { throw ReportValidationError(field: "node", reason: "empty") }
        guard name.utf8.count <= maxNodeNameLength else {
            throw ReportValidationError(field: "node", reason: "longer than \(maxNodeNameLength) bytes")
        }
        guard name.utf8.allSatisfy({ isLower($0) || isUpper($0) || isDigit($0) || $0 == 0x2d || $0 == 0x2e || $0 == 0x5f }) else {
            throw ReportValidationError(field: "node", reason: "\"\(printable(name))\" has characters outside [A-Za-z0-9._-]")
        }
        for label in name.utf8.split(separator: 0x2e, omittingEmptySubsequences: false) {
            guard let first = label.first, let last = label.last else { throw refuse("empty label (leading, trailing or double dot)") }
            guard label.allSatisfy({ isLower($0) || isDigit($0) || $0 == 0x2d }) else {
                throw refuse("only a-z, 0-9, '-' and '.' are allowed (no upper case, no '_')")
            }
            guard first != 0x2d, last != 0x2d else { throw refuse("a label starts or ends with '-'") }
        }
    }

    /// `s` with anything outside printable ASCII escaped, for error texts.
    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.prefix(80).flatMap { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? String($0) : $0.escaped(asASCII: true) })
    }

    private static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7a }
    private static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5a }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) }

    private static func finite(_ field: String, _ v: Double) throws {
        guard v.isFinite else { throw ReportValidationError(field: field, reason: "not a finite number") }
    }

    private static func nonNegative(_ field: String, _ v: Double?) throws {
        guard let v else { return }
        guard v.isFinite, v >= 0 else {
            throw ReportValidationError(field: field, reason: "must be a finite number ≥ 0, got \(v)")
        }
    }

    /// A ratio: in [0, 1].
    private static func fraction(_ field: String, _ v: Double?) throws {
        guard let v else { return }
        guard v.isFinite, v >= 0, v <= 1 else {
            throw ReportValidationError(field: field, reason: "must be in [0, 1], got \(v)")
        }
    }
}

/// Human-readable text for a `DecodingError`, naming the JSON path (e.g. `peers[2].samples`).
/// `snakeCase`: the body was decoded with EdgeJSON, whose coding keys are the camelCase Swift names;
/// they are shown as the snake_case names the sender actually wrote.
public func describeDecodingError(_ error: Error, snakeCase: Bool = false) -> String {
    func name(_ k: CodingKey) -> String {
        guard snakeCase else { return k.stringValue }
        var out = ""
        for ch in k.stringValue {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
    func path(_ keys: [CodingKey]) -> String {
        var s = ""
        for k in keys {
            if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? name(k) : "." + name(k) }
        }
        return s.isEmpty ? "<top level>" : s
    }
    guard let e = error as? DecodingError else { return "\(error)" }
    switch e {
    case let .keyNotFound(key, ctx):
        let at = ctx.codingPath.isEmpty ? "" : " in \(path(ctx.codingPath))"
        return "missing field \"\(name(key))\"\(at)"
    case let .typeMismatch(type, ctx):
        return "\(path(ctx.codingPath)): expected \(type)"
    case let .valueNotFound(type, ctx):
        return "\(path(ctx.codingPath)): null where \(type) is required"
    case let .dataCorrupted(ctx):
        let under = (ctx.underlyingError as NSError?).map { " (\($0.localizedDescription))" } ?? ""
        return "\(path(ctx.codingPath)): \(ctx.debugDescription)\(under)"
    @unknown default:
        return "\(e)"
    }
}
