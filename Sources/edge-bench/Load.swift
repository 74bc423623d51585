// Background load for the benchmarks: loopback TCP (request/response and bulk) and CPU
// contention, bounded in time, on this host only.
import Foundation

enum Load {
    /// Starts `python3 script` with a mode for `seconds`; returns the running process.
    static func tcp(script: String, mode: String, conns: Int, seconds: Double) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--mode", mode, "--conns", String(conns), "--seconds", String(seconds)]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Busy processes that contend for the CPUs (sched_switch/wakeup traffic); they stop by
    /// themselves after `seconds`.
    static func cpu(script: String, workers: Int, seconds: Double) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let cpuScript = URL(fileURLWithPath: script).deletingLastPathComponent().appendingPathComponent("cpu_load.py").path
        p.arguments = ["python3", cpuScript, "--workers", String(workers), "--seconds", String(seconds)]
        try p.run()
        return p
    }
}

/// Per-process CPU time and RSS from /proc.
struct ProcSample {
    var cpuSeconds: Double
    var rssKiB: Int

    static func read(pid: Int32) throws -> ProcSample {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // fields after the ")" of comm: state is field 3; utime 14, stime 15
        let rest = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = (Double(rest[11])! + Double(rest[12])!) / ticks
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
        return ProcSample(cpuSeconds: cpu, rssKiB: rss)
    }
}

func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let i = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[i]
}
