// Checks a pushed report before it may touch the registry: a bad report gets a 400 naming the field.
import EdgeCore
import Foundation

/// A report that decoded but cannot be used.
public struct ReportValidationError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

public enum ReportValidation {
    /// Node names become Prometheus label values and extender map keys; keep them to what a
    /// Kubernetes node name or a host name can be.
    public static let maxNodeNameLength = 253

    /// Throws the first problem found.
    public static func validate(_ w: TelemetryWindow) throws {
        guard !w.node.isEmpty else { throw ReportValidationError(field: "node", reason: "empty") }
        guard w.node.utf8.count <= maxNodeNameLength else {
            throw ReportValidationError(field: "node", reason: "longer than \(maxNodeNameLength) bytes")
        }
        guard w.node.utf8.allSatisfy(isNameByte) else {
            throw ReportValidationError(field: "node", reason: "\"\(w.node)\" has characters outside [A-Za-z0-9._-]")
        }
        guard w.agentVersion.utf8.count <= 128 else {
            throw ReportValidationError(field: "agent_version", reason: "longer than 128 bytes")
        }
        try finite("generated_at", w.generatedAt)
        try nonNegative("window_seconds", w.windowSeconds)
        try nonNegative("rtt_p50_ms", w.rttP50Ms)
        try nonNegative("rtt_p99_ms", w.rttP99Ms)
        try nonNegative("retrans_rate", w.retransRate)
        try nonNegative("drop_rate", w.dropRate)
        try nonNegative("drop_rate_weighted", w.dropRateWeighted)
        try nonNegative("runqlat_p95_ms", w.runqlatP95Ms)
        try nonNegative("cpu_utilization", w.cpuUtilization)
        if let cpu = w.cpuUtilization, cpu > 1 {
            throw ReportValidationError(field: "cpu_utilization", reason: "must be in [0, 1], got \(cpu)")
        }
        for (i, d) in w.drops.enumerated() {
            try nonNegative("drops[\(i)].rate_per_second", d.ratePerSecond)
            try finite("drops[\(i)].weight", d.weight)
        }
        for (i, p) in w.peers.enumerated() {
            try nonNegative("peers[\(i)].rtt_p50_ms", p.rttP50Ms)
            try nonNegative("peers[\(i)].rtt_p99_ms", p.rttP99Ms)
        }
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e || b == 0x5f
    }

    private static func finite(_ field: String, _ v: Double) throws {
        guard v.isFinite else { throw ReportValidationError(field: field, reason: "not a finite number") }
    }

    private static func nonNegative(_ field: String, _ v: Double?) throws {
        guard let v else { return }
        guard v.isFinite, v >= 0 else {
            throw ReportValidationError(field: field, reason: "must be a finite number ≥ 0, got \(v)")
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
