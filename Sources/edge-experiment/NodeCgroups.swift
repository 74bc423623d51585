// Each namespace node gets a cgroup with a CPU allowance, as Mininet's CPU-limited hosts do (CFS
// bandwidth: quota per period). The node's probe server, its replicas and S4's busy loops run in
// it; its agent is pointed at it (telemetry.cgroup), so run-queue latency and CPU utilisation are
// that node's, not the shared kernel's. The agent itself runs outside, as a node daemon runs
// outside kubepods.slice.
//
// cgroup v2 (Debian 12): one directory under the cgroup2 mount with cpu.max.
// v1/hybrid (the build machines): the directory in the unified hierarchy identifies the tasks
// (the agent's BPF reads the v2 cgroup), and one in the v1 cpu hierarchy carries the quota.
import EdgeCore
import EdgeLab
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct NodeCgroup: Equatable {
    /// The cgroup v2 directory: the agent's telemetry.cgroup.
    var v2Dir: String
    /// The v1 cpu directory holding the quota (hybrid hosts), nil on pure v2.
    var v1CPUDir: String?
    /// CPUs allowed.
    var cpus: Double
    static let periodMicros = 100_000

    /// Every directory made, deepest last (removal goes in reverse).
    var directories: [String] { [v2Dir] + (v1CPUDir.map { [$0] } ?? []) }

    /// `argv` run from a shell that first moves itself into the cgroup, then execs: the process
    /// and everything it forks are in it from the first instruction (no race with a late move).
    func wrap(_ argv: [String]) -> [String] {
        let joins = directories.map { "echo $$ > '\($0)/cgroup.procs'" }.joined(separator: " && ")
        return ["sh", "-c", "\(joins) && exec \"$@\"", "sh"] + argv
    }

    /// Makes the cgroup `name` with `cpus` CPUs of CFS bandwidth under this host's mounts.
    static func create(name: String, cpus: Double, mounts: [CgroupMount]) throws -> NodeCgroup {
        guard let v2 = mounts.first(where: \.isV2) else {
            throw CommandFailure(description: "node cgroups: no cgroup2 mount (needed to identify each node's tasks); use --node-cpus 0 for a bed without cgroups")
        }
        let quota = max(1000, Int((cpus * Double(periodMicros)).rounded()))
        let controllers = (try? String(contentsOfFile: "\(v2.mountPoint)/cgroup.controllers", encoding: .utf8)) ?? ""
        let v2Dir = "\(v2.mountPoint)/\(name)"
        if controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu") {
            // pure v2: the cpu controller must be enabled for the root's children
            let subtree = "\(v2.mountPoint)/cgroup.subtree_control"
            let enabled = (try? String(contentsOfFile: subtree, encoding: .utf8)) ?? ""
            if !enabled.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu") {
                try write("+cpu", to: subtree)
            }
            try makeDirectory(v2Dir)
            let cg = NodeCgroup(v2Dir: v2Dir, v1CPUDir: nil, cpus: cpus)
            do { try write("\(quota) \(periodMicros)", to: "\(v2Dir)/cpu.max") } catch { cg.remove(); throw error }
            return cg
        }
        guard let cpuMount = mounts.first(where: { !$0.isV2 && $0.controllers.contains("cpu") }) else {
            throw CommandFailure(description: "node cgroups: neither the cgroup2 mount \(v2.mountPoint) nor a v1 hierarchy offers the cpu controller")
        }
        try makeDirectory(v2Dir)
        let v1Dir = "\(cpuMount.mountPoint)/\(name)"
        var cg = NodeCgroup(v2Dir: v2Dir, v1CPUDir: nil, cpus: cpus)
        do {
            try makeDirectory(v1Dir)
            cg.v1CPUDir = v1Dir
            try write(String(periodMicros), to: "\(v1Dir)/cpu.cfs_period_us")
            try write(String(quota), to: "\(v1Dir)/cpu.cfs_quota_us")
        } catch {
            cg.remove()
            throw error
        }
        return cg
    }

    /// Removes the directories. Tasks still in them (a process that is exiting) are waited for
    /// up to 5 s, then killed (cgroup.kill) so that nothing is left behind.
    func remove() {
        for dir in directories.reversed() where FileManager.default.fileExists(atPath: dir) {
            let deadline = monotonicNow() + 5
            while rmdir(dir) != 0 {
                if errno == ENOENT { break }
                if monotonicNow() > deadline {
                    _ = try? Self.write("1", to: "\(dir)/cgroup.kill")
                    if let pids = try? String(contentsOfFile: "\(dir)/cgroup.procs", encoding: .utf8) {
                        for p in pids.split(separator: "\n") { if let pid = Int32(p) { kill(pid, SIGKILL) } }
                    }
                    if monotonicNow() > deadline + 5 { break }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    private static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 else {
            throw CommandFailure(description: "node cgroups: mkdir \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw CommandFailure(description: "node cgroups: open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = text.withCString { Glibc.write(fd, $0, strlen($0)) } >= 0
        guard ok else { throw CommandFailure(description: "node cgroups: write \"\(text)\" to \(path): \(String(cString: strerror(errno)))") }
    }
}
