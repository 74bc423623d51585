// The kernel versions that change what edgenode can measure, as in edge-agent(8) KERNEL
// VERSIONS and bpf/edge_compat.bpf.h. The doctor compares the running kernel against it.
import EdgeAPI

public struct KernelVersion: Comparable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// From a release string such as "6.1.0-18-amd64" or "5.15.0-91-generic".
    public init?(release: String) {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        self.init(parts[0], parts[1])
    }

    public var description: String { "\(major).\(minor)" }
    public static func < (a: KernelVersion, b: KernelVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}

public enum KernelVersionTable {
    /// Below this the telemetry object cannot load at all (tp_btf with task storage).
    public static let floor = KernelVersion(5, 11)
    /// The study's oldest kernel.
    public static let studyMinimum = KernelVersion(5, 15)
    /// From which version each loss of an older kernel goes away.
    public static let gains: [(since: KernelVersion, what: String)] = [
        (KernelVersion(5, 17), "drop reasons (kfree_skb's reason argument; older kernels count every drop as UNREPORTED)"),
        (KernelVersion(5, 18), "sched_switch's prev_state argument (older kernels read the task's state, which can race with a wake-up)"),
    ]

    public static func check(release: String) -> DoctorCheck {
        let name = "kernel version"
        let needed = "every telemetry signal (the features table: edge-agent(8) KERNEL VERSIONS)"
        guard let v = KernelVersion(release: release) else {
            return DoctorCheck(name, .degraded, detail: "cannot read a version from '\(release)'", neededBy: needed,
                               fix: "compare uname -r with edge-agent(8) KERNEL VERSIONS by hand")
        }
        if v < floor {
            return DoctorCheck(name, .missing, detail: "\(release): tp_btf programs with task storage need \(floor)+",
                               neededBy: needed, fix: "a kernel \(studyMinimum) or newer (Debian 12: 6.1)")
        }
        let lost = gains.filter { v < $0.since }.map { "without \($0.what) until \($0.since)" }
        if v < studyMinimum {
            return DoctorCheck(name, .degraded, detail: "\(release) is below the study's minimum \(studyMinimum): untested; " + lost.joined(separator: "; "),
                               neededBy: needed, fix: "a kernel \(studyMinimum) or newer (Debian 12: 6.1)")
        }
        if !lost.isEmpty {
            return DoctorCheck(name, .degraded, detail: "\(release): " + lost.joined(separator: "; "),
                               neededBy: needed, fix: "kernel 5.18 or newer for every signal in full")
        }
        return DoctorCheck(name, .ok, detail: "\(release): every signal in full (5.18+)", neededBy: needed)
    }
}
