// What a process holds and has used at one moment, read from /proc: resident memory, open
// descriptors, CPU time. Memory growth, descriptor leaks and CPU cost are judged by comparing
// samples over a run (edge-soak, edge-bench, the experiment's servers).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct ProcessSample: CustomStringConvertible {
    /// VmRSS in KiB.
    public var rssKiB: Int
    /// Entries in /proc/PID/fd.
    public var fds: Int
    /// User + system CPU seconds, all threads.
    public var cpuSeconds: Double

    /// Reads `pid`'s sample; throws when the process is gone or /proc is unreadable.
    public init(pid: Int32) throws {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
            throw LabError("no VmRSS in /proc/\(pid)/status")
        }
        guard let cpu = processCPUSeconds(pid: pid) else { throw LabError("no CPU times in /proc/\(pid)/stat") }
        rssKiB = kib
        cpuSeconds = cpu
        fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    public var description: String { String(format: "RSS %.1f MiB, %d fds", Double(rssKiB) / 1024, fds) }
}

/// CPU seconds (user + system, all threads) of a live process, from /proc/PID/stat.
public func processCPUSeconds(pid: Int32) -> Double? {
    (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).flatMap(procStatCPUSeconds)
}

/// CPU seconds from the text of a /proc/PID/stat (read here, or on a node VM by the experiment).
public func procStatCPUSeconds(_ stat: String) -> Double? {
    guard let close = stat.lastIndex(of: ")") else { return nil }
    // after "comm)": state is field 3, utime field 14, stime field 15
    let rest = stat[stat.index(after: close)...].split(separator: " ")
    guard rest.count > 12, let u = Double(rest[11]), let s = Double(rest[12]) else { return nil }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
