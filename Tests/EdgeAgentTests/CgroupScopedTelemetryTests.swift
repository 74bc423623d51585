// telemetry.cgroup on the real kernel: two cgroups, each with its own agent's telemetry scoped to
// it; busy loops in one of them, a task that sleeps and wakes in the other. Only the busy one's
// run-queue p95 and CPU utilisation go up. The busy cgroup has a tiny CFS quota (10 ms per 1 s
// period), so its loops wait most of a second for the next period however idle or loaded the host
// is: on a build machine at load 15 a sleeper's wakeups alone wait ~50 ms (p95), a throttled
// loop ~1 s, so the contrast does not depend on a quiet machine.
@testable import EdgeAgent
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class CgroupScopedTelemetryTests: XCTestCase {
    static let cpuLoad = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/cpu_load.py").path

    /// A cgroup made for the test: the v2 directory (what telemetry.cgroup names) and, on a hybrid
    /// host, the v1 cpu directory with the quota.
    struct TestCgroup {
        var dirs: [String]
        var v2: String { dirs[0] }

        init(name: String, quotaCPUs: Double?, mounts: [CgroupMount]) throws {
            guard let v2 = mounts.first(where: \.isV2) else { try unmet("needs a cgroup2 mount") }
            let controllers = (try? String(contentsOfFile: "\(v2.mountPoint)/cgroup.controllers", encoding: .utf8)) ?? ""
            dirs = ["\(v2.mountPoint)/\(name)"]
            try FileManager.default.createDirectory(atPath: dirs[0], withIntermediateDirectories: false)
            guard let q = quotaCPUs else { return }
            let period = 1_000_000, quota = String(Int(q * Double(period)))
            if controllers.contains("cpu") {
                let subtree = "\(v2.mountPoint)/cgroup.subtree_control"
                if !((try? String(contentsOfFile: subtree, encoding: .utf8)) ?? "").contains("cpu") {
                    try "+cpu".write(toFile: subtree, atomically: false, encoding: .utf8)
                }
                try "\(quota) \(period)".write(toFile: "\(dirs[0])/cpu.max", atomically: false, encoding: .utf8)
            } else if let cpu = mounts.first(where: { !$0.isV2 && $0.controllers.contains("cpu") }) {
                let d = "\(cpu.mountPoint)/\(name)"
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: false)
                dirs.append(d)
                try String(period).write(toFile: "\(d)/cpu.cfs_period_us", atomically: false, encoding: .utf8)
                try quota.write(toFile: "\(d)/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
            } else {
                try unmet("needs the cpu controller (cgroup v2 or a v1 cpu hierarchy) for a CFS quota")
            }
        }

        /// `args` started inside the cgroup (the shell joins it, then execs).
        func spawn(_ args: [String]) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", dirs.map { "echo $$ > \($0)/cgroup.procs" }.joined(separator: " && ") + " && exec \"$@\"", "sh"] + args
            try p.run()
            return p
        }

        /// Kills whatever is left in it (the loops' worker processes), then removes it.
        func remove() {
            if let pids = try? String(contentsOfFile: "\(v2)/cgroup.procs", encoding: .utf8) {
                for p in pids.split(separator: "\n") { if let pid = Int32(p) { kill(pid, SIGKILL) } }
            }
            for d in dirs.reversed() {
                let deadline = Date().addingTimeInterval(5)
                while rmdir(d) != 0 && errno == EBUSY && Date() < deadline { usleep(50_000) }
            }
        }
    }

    func testOnlyTheBusyCgroupsTelemetryReportsTheHigherRunQueueP95AndCPU() throws {
        try requireRoot()
        try requireBTF()
        let mounts = CgroupMount.parse(mountinfo: try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))
        let tag = "edgetest-\(UInt32.random(in: 0...UInt32.max))"
        let busy = try TestCgroup(name: "\(tag)-busy", quotaCPUs: 0.01, mounts: mounts)
        defer { busy.remove() }
        let calm = try TestCgroup(name: "\(tag)-calm", quotaCPUs: nil, mounts: mounts)
        defer { calm.remove() }

        let busyLoc = try CgroupLocation.resolve(path: busy.v2), calmLoc = try CgroupLocation.resolve(path: calm.v2)
        let busyAgent = try KernelTelemetry(netnsInode: nil, cgroup: busyLoc)
        let calmAgent = try KernelTelemetry(netnsInode: nil, cgroup: calmLoc)
        let busyCPU = CgroupCPUReader(location: busyLoc), calmCPU = CgroupCPUReader(location: calmLoc)
        XCTAssertEqual(try busyCPU.read().allowanceCPUs, 0.01, accuracy: 1e-9, "the quota is the allowance")

        let loops = try busy.spawn(["python3", Self.cpuLoad, "--workers", "2", "--seconds", "6"])
        let sleeper = try calm.spawn(["python3", "-c", "import time\nend = time.monotonic() + 6\nwhile time.monotonic() < end: time.sleep(0.002)"])
        defer {
            for p in [loops, sleeper] where p.isRunning { kill(p.processIdentifier, SIGKILL) }
            loops.waitUntilExit(); sleeper.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 1) // both started and in their cgroups
        let b0 = try busyAgent.read(), c0 = try calmAgent.read()
        let bc0 = try busyCPU.read(), cc0 = try calmCPU.read()
        let t0 = Date()
        Thread.sleep(forTimeInterval: 3)
        let b1 = try busyAgent.read(), c1 = try calmAgent.read()
        let bc1 = try busyCPU.read(), cc1 = try calmCPU.read()
        let elapsed = Date().timeIntervalSince(t0)

        let busyHist = b1[.runqlat].subtractingWrapping(b0[.runqlat]), calmHist = c1[.runqlat].subtractingWrapping(c0[.runqlat])
        XCTAssertGreaterThan(busyHist.total, 3, "the busy loops were switched in and out")
        XCTAssertGreaterThan(calmHist.total, 50, "the sleeper woke (every 2 ms when it gets the CPU)")
        let busyP95 = try XCTUnwrap(busyHist.quantile(0.95)), calmP95 = try XCTUnwrap(calmHist.quantile(0.95))
        // throttled to 10 ms per second, the loops wait most of each period
        XCTAssertGreaterThan(busyP95, 200_000_000, "busy p95 \(busyP95 / 1e6) ms")
        XCTAssertGreaterThan(busyP95, 3 * calmP95, "busy p95 \(busyP95 / 1e6) ms vs calm p95 \(calmP95 / 1e6) ms")

        let busyUtil = CgroupCPU.ticks(from: bc0, to: bc1, elapsedSeconds: elapsed)
        let calmUtil = CgroupCPU.ticks(from: cc0, to: cc1, elapsedSeconds: elapsed)
        let bu = Double(busyUtil.busy) / Double(busyUtil.total), cu = Double(calmUtil.busy) / Double(calmUtil.total)
        XCTAssertGreaterThan(bu, 0.5, "the busy cgroup uses its whole quota (3 s span 3 or 4 of its 1 s periods)")
        XCTAssertLessThan(cu, 0.3, "the sleeper against the whole host's CPUs")
        print("cgroup-scoped telemetry: busy p95 \(busyP95 / 1e6) ms, util \(bu); calm p95 \(calmP95 / 1e6) ms, util \(cu)")
    }
}
