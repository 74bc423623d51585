// CPU utilisation from /proc/stat's aggregate "cpu " line.
//
// Fields (USER_HZ ticks): user nice system idle iowait irq softirq steal guest guest_nice.
// guest and guest_nice are already included in user and nice (kernel/sched/cputime.c accounts guest
// time to both), so adding them would count guest time twice. Older kernels print fewer fields; four
// (up to idle) is the minimum.
import EdgeCore
import Foundation

/// Cumulative CPU ticks since boot, summed over all CPUs.
public struct CPUTicks: Sendable, Equatable {
    /// Ticks spent doing work: total − idle − iowait (steal counts as busy: the CPU was unavailable).
    public var busy: UInt64
    /// All ticks: user + nice + system + idle + iowait + irq + softirq + steal.
    public var total: UInt64

    /// Ticks as read (or as a delta).
    public init(busy: UInt64, total: UInt64) {
        self.busy = busy
        self.total = total
    }

    /// Ticks between an older reading and this one. Counters can step back (iowait is known to
    /// decrease on some kernels), so each difference saturates at 0 and busy never exceeds total.
    public func delta(since older: CPUTicks) -> CPUTicks {
        let total = self.total >= older.total ? self.total - older.total : 0
        let busy = self.busy >= older.busy ? self.busy - older.busy : 0
        return CPUTicks(busy: min(busy, total), total: total)
    }
}

/// Parser for /proc/stat.
public enum ProcStat {
    /// The usual location.
    public static let path = "/proc/stat"

    /// Aggregate CPU ticks from the text of /proc/stat.
    /// - Parameter file: name used in error messages.
    public static func parseCPUTicks(_ text: String, file: String = path) throws -> CPUTicks {
        guard let line = text.split(separator: "\n", omittingEmptySubsequences: true)
            .first(where: { $0.hasPrefix("cpu ") })
        else {
            throw KernelTextError(file: file, reason: "no aggregate \"cpu \" line")
        }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst()
        guard fields.count >= 4 else {
            throw KernelTextError(file: file, reason: "\"cpu \" line has \(fields.count) fields, expected at least 4")
        }
        var ticks: [UInt64] = []
        for (i, f) in fields.enumerated() {
            guard let v = UInt64(f) else {
                throw KernelTextError(file: file, reason: "\"cpu \" field \(i + 1) is not a tick count: \"\(f)\"")
            }
            ticks.append(v)
        }
        // user nice system idle iowait irq softirq steal — guest fields (8, 9) are left out on purpose.
        let counted = ticks.prefix(8)
        let total = counted.reduce(0, &+)
        let idle = ticks[3]
        let iowait = ticks.count > 4 ? ticks[4] : 0
        return CPUTicks(busy: total &- idle &- iowait, total: total)
    }

    /// Reads and parses the real /proc/stat (or `path`).
    public static func readCPUTicks(path: String = path) throws -> CPUTicks {
        try parseCPUTicks(readKernelText(path), file: path)
    }
}
