// What `edge-agent --doctor` finds on a node and `edgectl doctor` prints: one line per thing
// edgenode needs, each OK, DEGRADED or MISSING, what depends on it and how to get it.
// Encoded with EdgeJSON (snake_case: needed_by).
import Foundation

public enum DoctorStatus: String, Codable, Sendable, Comparable {
    case ok = "OK"
    case degraded = "DEGRADED"
    case missing = "MISSING"

    private var rank: Int { self == .ok ? 0 : self == .degraded ? 1 : 2 }
    public static func < (a: DoctorStatus, b: DoctorStatus) -> Bool { a.rank < b.rank }

    /// The exit status scripts see: 0 everything OK, 1 something degraded, 2 something missing.
    public var exitCode: Int32 { Int32(rank) }
}

public struct DoctorCheck: Codable, Sendable, Equatable {
    /// What was checked ("sch_fq", "hook tp_btf/kfree_skb").
    public var name: String
    public var status: DoctorStatus
    /// What was found, and why it is not OK.
    public var detail: String
    /// What depends on it (a signal, shaping, the whole agent).
    public var neededBy: String
    /// How to get it: a module, a kernel config option, a package. Empty when OK.
    public var fix: String

    public init(_ name: String, _ status: DoctorStatus, detail: String, neededBy: String, fix: String = "") {
        self.name = name
        self.status = status
        self.detail = detail
        self.neededBy = neededBy
        self.fix = status == .ok ? "" : fix
    }
}

public struct DoctorReport: Codable, Sendable, Equatable {
    /// uname -r.
    public var kernel: String
    public var checks: [DoctorCheck]

    public init(kernel: String, checks: [DoctorCheck]) {
        self.kernel = kernel
        self.checks = checks
    }

    /// The worst line's status.
    public var status: DoctorStatus { checks.map(\.status).max() ?? .ok }

    enum CodingKeys: String, CodingKey { case kernel, checks, status }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kernel = try c.decode(String.self, forKey: .kernel)
        checks = try c.decode([DoctorCheck].self, forKey: .checks)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kernel, forKey: .kernel)
        try c.encode(checks, forKey: .checks)
        try c.encode(status, forKey: .status)
    }
}

extension DoctorReport {
    /// The text form: one line per check (status, name, what was found), then for every line
    /// that is not OK what depends on it and how to get it; the verdict last.
    public func rendered() -> String {
        let width = min(44, (checks.map(\.name.count).max() ?? 0) + 2)
        var out = "kernel \(kernel)\n"
        for c in checks {
            let status = c.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            out += status + c.name.padding(toLength: max(width, c.name.count + 1), withPad: " ", startingAt: 0) + c.detail + "\n"
            if c.status != .ok {
                out += String(repeating: " ", count: 10) + "needed by: \(c.neededBy)\n"
                if !c.fix.isEmpty { out += String(repeating: " ", count: 10) + "fix: \(c.fix)\n" }
            }
        }
        let counts = [DoctorStatus.ok, .degraded, .missing].map { s in "\(checks.filter { $0.status == s }.count) \(s.rawValue)" }
        out += "\(status.rawValue): " + counts.joined(separator: ", ")
        return out
    }
}
