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
