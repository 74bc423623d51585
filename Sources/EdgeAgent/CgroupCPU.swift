// CPU utilisation of one cgroup (telemetry.cgroup): its CPU time against its CPU allowance.
// The allowance is the smallest of the CFS quota (v2 cpu.max, v1 cpu.cfs_quota_us/period), the
// size of its cpuset (v2 cpuset.cpus.effective, v1 cpuset.effective_cpus or cpuset.cpus) and the
// host's online CPUs. A cgroup using all of its quota is 100 % busy even if the host is idle: that
// is what a pod in it feels. The parsing and arithmetic are pure; `CgroupCPUReader` does the I/O.
import EdgeCore
import EdgeTelemetry
import Foundation

/// One reading of a cgroup's CPU figures.
public struct CgroupCPUSample: Sendable, Equatable {
    /// Cumulative CPU time of the subtree, microseconds.
    public var usageMicros: UInt64
    /// CPUs the subtree may use (fractional with a quota).
    public var allowanceCPUs: Double

    public init(usageMicros: UInt64, allowanceCPUs: Double) {
        self.usageMicros = usageMicros
        self.allowanceCPUs = allowanceCPUs
    }
}

public enum CgroupCPU {
    /// usage_usec from a v2 cpu.stat.
    public static func usageMicros(cpuStat text: String, file: String) throws -> UInt64 {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == "usage_usec" {
                guard let v = UInt64(f[1]) else {
                    throw KernelTextError(file: file, reason: "usage_usec is not a number: \"\(f[1])\"")
                }
                return v
            }
        }
        throw KernelTextError(file: file, reason: "no usage_usec line")
    }

    /// v1 cpuacct.usage is nanoseconds.
    public static func usageMicros(cpuacctUsage text: String, file: String) throws -> UInt64 {
        guard let ns = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw KernelTextError(file: file, reason: "expected nanoseconds, got \"\(text.prefix(40))\"")
        }
        return ns / 1000
    }

    /// v2 cpu.max "QUOTA PERIOD" or "max PERIOD": CPUs, nil = no quota.
    public static func quotaCPUs(cpuMax text: String, file: String) throws -> Double? {
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count == 2, let period = Double(f[1]), period > 0 else {
            throw KernelTextError(file: file, reason: "expected \"QUOTA PERIOD\" or \"max PERIOD\", got \"\(text.prefix(40))\"")
        }
        if f[0] == "max" { return nil }
        guard let quota = Double(f[0]), quota > 0 else {
            throw KernelTextError(file: file, reason: "quota is not a positive number: \"\(f[0])\"")
        }
        return quota / period
    }

    /// v1 cpu.cfs_quota_us (−1 = none) over cpu.cfs_period_us: CPUs, nil = no quota.
    public static func quotaCPUs(cfsQuota: String, cfsPeriod: String, file: String) throws -> Double? {
        guard let quota = Int64(cfsQuota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let period = Int64(cfsPeriod.trimmingCharacters(in: .whitespacesAndNewlines)), period > 0 else {
            throw KernelTextError(file: file, reason: "expected cfs_quota_us and cfs_period_us as integers, got \"\(cfsQuota.prefix(20))\" and \"\(cfsPeriod.prefix(20))\"")
        }
        return quota <= 0 ? nil : Double(quota) / Double(period)
    }

    /// Number of CPUs in a kernel CPU list such as "0-3,6,8-9". Empty = 0.
    public static func cpuCount(list text: String, file: String) throws -> Int {
        var n = 0
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = part.split(separator: "-")
            guard ends.count == 1 || ends.count == 2, let lo = Int(ends[0]), let hi = Int(ends.last!), lo <= hi else {
                throw KernelTextError(file: file, reason: "\"\(part)\" is not a CPU or CPU range")
            }
            n += hi - lo + 1
        }
        return n
    }

    /// The smallest of the limits; an empty cpuset (0) means "inherits", so it is no limit.
    public static func allowance(quota: Double?, cpusetCPUs: Int?, onlineCPUs: Int) -> Double {
        var a = Double(max(onlineCPUs, 1))
        if let quota { a = min(a, quota) }
        if let c = cpusetCPUs, c > 0 { a = min(a, Double(c)) }
        return a
    }

    /// Busy and total for one interval, in microseconds: the cgroup's CPU time against the
    /// allowance over the elapsed time (the mean of the two readings' allowances, should it change).
    public static func ticks(from a: CgroupCPUSample, to b: CgroupCPUSample, elapsedSeconds: Double) -> CPUTicks {
        let used = b.usageMicros >= a.usageMicros ? b.usageMicros - a.usageMicros : 0
        let allowed = max(0, elapsedSeconds * 1e6 * (a.allowanceCPUs + b.allowanceCPUs) / 2)
        let total = UInt64(allowed.rounded())
        return CPUTicks(busy: min(used, total), total: total)
    }
}

/// Reads a cgroup's CPU figures from the files `CgroupLocation` found.
public struct CgroupCPUReader: Sendable {
    public let location: CgroupLocation
    let onlinePath: String

    public init(location: CgroupLocation, onlinePath: String = "/sys/devices/system/cpu/online") {
        self.location = location
        self.onlinePath = onlinePath
    }

    public func read() throws -> CgroupCPUSample {
        let v2 = location.path
        let usage: UInt64
        if let text = Self.text("\(v2)/cpu.stat") {
            usage = try CgroupCPU.usageMicros(cpuStat: text, file: "\(v2)/cpu.stat")
        } else if let dir = location.v1Dirs["cpuacct"], let text = Self.text("\(dir)/cpuacct.usage") {
            usage = try CgroupCPU.usageMicros(cpuacctUsage: text, file: "\(dir)/cpuacct.usage")
        } else {
            throw KernelTextError(file: "\(v2)/cpu.stat", reason: "unreadable, and no v1 cpuacct.usage for \(location.relative) (telemetry.cgroup; was the cgroup removed?)")
        }
        var quota: Double?
        if let text = Self.text("\(v2)/cpu.max") {
            quota = try CgroupCPU.quotaCPUs(cpuMax: text, file: "\(v2)/cpu.max")
        } else if let dir = location.v1Dirs["cpu"], let q = Self.text("\(dir)/cpu.cfs_quota_us"),
                  let p = Self.text("\(dir)/cpu.cfs_period_us") {
            quota = try CgroupCPU.quotaCPUs(cfsQuota: q, cfsPeriod: p, file: "\(dir)/cpu.cfs_quota_us")
        }
        var cpuset: Int?
        if let text = Self.text("\(v2)/cpuset.cpus.effective") {
            cpuset = try CgroupCPU.cpuCount(list: text, file: "\(v2)/cpuset.cpus.effective")
        } else if let dir = location.v1Dirs["cpuset"],
                  let text = Self.text("\(dir)/cpuset.effective_cpus") ?? Self.text("\(dir)/cpuset.cpus") {
            cpuset = try CgroupCPU.cpuCount(list: text, file: "\(dir)/cpuset.effective_cpus")
        }
        let online = try Self.text(onlinePath).map { try CgroupCPU.cpuCount(list: $0, file: onlinePath) }
            ?? ProcessInfo.processInfo.activeProcessorCount
        return CgroupCPUSample(usageMicros: usage,
                               allowanceCPUs: CgroupCPU.allowance(quota: quota, cpusetCPUs: cpuset, onlineCPUs: online))
    }

    static func text(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }
}
