// Per-event cost of each telemetry program (run_time_ns / run_cnt from BPF stats) under a
// loopback TCP load plus CPU contention.
import ArgumentParser
import EdgeAgent
import EdgeBPF
import Foundation

struct BPFCostBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bpf", abstract: "BPF cost per event for each telemetry program.")
    @OptionGroup var options: BenchOptions

    func run() throws { try Self.measure(options) }

    static func measure(_ o: BenchOptions) throws {
        let k = try KernelTelemetry(netnsInode: nil)
        let token = try BPFStatsToken()
        let before = try k.programStats()
        let loads = [
            try Load.tcp(script: o.loadScript, mode: "rr", conns: 8, seconds: o.seconds),
            try Load.tcp(script: o.loadScript, mode: "bulk", conns: 2, seconds: o.seconds),
            try Load.cpu(script: o.loadScript, workers: 4, seconds: o.seconds),
        ]
        for p in loads { p.waitUntilExit() }
        let after = try k.programStats()
        withExtendedLifetime(token) {}
        print("== BPF cost per event (\(o.seconds)s loopback rr+bulk TCP and 4 CPU hogs, kernel \(kernelRelease()))")
        print("program                  events      events/s   ns/event")
        for name in after.keys.sorted() {
            guard let a = after[name], let b = before[name] else { continue }
            let runs = a.runCount &- b.runCount
            let ns = a.nsPerRun(since: b).map { String(format: "%8.1f", $0) } ?? "       -"
            print(String(format: "%-22@ %10llu %12.0f   %@", name as NSString, runs, Double(runs) / o.seconds, ns as NSString))
        }
    }
}

func kernelRelease() -> String {
    (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
}
