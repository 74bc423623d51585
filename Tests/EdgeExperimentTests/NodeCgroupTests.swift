// The bed's node cgroups on the real kernel (root): built with the CPU allowance, processes started
// through the bed land in their node's cgroup, and teardown leaves no cgroup behind in any hierarchy.
@testable import edge_experiment
import EdgeCore
import EdgeLab
import EdgeTestSupport
import Foundation
import XCTest

final class NodeCgroupTests: XCTestCase {
    private func bed(nodes: Int, cpus: Double) -> TestBed {
        TestBed(TestBedOptions(nodes: nodes, bin: "/nonexistent", selfPath: "/nonexistent", experimentsDir: "/nonexistent",
                               workDir: NSTemporaryDirectory(), cpus: 2, nodeCPUs: cpus))
    }

    /// Every directory under every cgroup mount whose name carries `tag`.
    private func leftovers(_ tag: String) throws -> [String] {
        let mounts = CgroupMount.parse(mountinfo: try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))
        return mounts.flatMap { m in
            ((try? FileManager.default.contentsOfDirectory(atPath: m.mountPoint)) ?? []).filter { $0.contains(tag) }.map { "\(m.mountPoint)/\($0)" }
        }
    }

    func testTheBedBuildsNodeCgroupsWithTheirAllowanceAndRemovesThemAll() throws {
        try requireRoot()
        let b = bed(nodes: 3, cpus: 0.25)
        let tag = "edgeexp-\(b.tag)-"
        XCTAssertEqual(try leftovers(tag), [], "no cgroup of this bed before it is built")
        defer { b.teardown() }
        try b.createNodeCgroups()
        XCTAssertEqual(b.cgroups.count, 3)
        for i in 1...3 {
            let cg = try XCTUnwrap(b.cgroups[i])
            for d in cg.directories { XCTAssertTrue(FileManager.default.fileExists(atPath: "\(d)/cgroup.procs"), d) }
            // the allowance: 25 ms of CPU per 100 ms period
            if let v1 = cg.v1CPUDir {
                XCTAssertEqual(try String(contentsOfFile: "\(v1)/cpu.cfs_quota_us", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "25000")
            } else {
                XCTAssertEqual(try String(contentsOfFile: "\(cg.v2Dir)/cpu.max", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "25000 100000")
            }
            // the agent's view of it: what telemetry.cgroup will resolve to
            let loc = try CgroupLocation.resolve(path: cg.v2Dir)
            XCTAssertEqual(loc.level, 1)
            if let v1 = cg.v1CPUDir { XCTAssertEqual(loc.v1Dirs["cpu"], v1) }
        }
        // a process started through the bed on node 2 is in node 2's cgroup (and its children too)
        let s = try DaemonProcess(name: "sleeper", b.inNodeCgroup(2, ["sh", "-c", "sleep 60 & wait"]), logPath: "\(NSTemporaryDirectory())/\(tag)sleeper.log")
        b.track(s)
        Thread.sleep(forTimeInterval: 0.3)
        let procs = try String(contentsOfFile: "\(b.cgroups[2]!.v2Dir)/cgroup.procs", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(procs.count, 2, "the shell and its sleep: \(procs)")
        XCTAssertTrue(procs.contains(Substring(String(s.pid))))
        let own = try String(contentsOfFile: "/proc/\(s.pid)/cgroup", encoding: .utf8)
        XCTAssertTrue(own.contains("/\(tag)n2"), own)

        b.teardown()
        XCTAssertEqual(try leftovers(tag), [], "teardown removed every node cgroup")
        XCTAssertTrue(b.cgroups.isEmpty)
        b.teardown() // twice is fine
    }

    func testNoNodeCgroupsWhenTheAllowanceIsZero() throws {
        let b = bed(nodes: 2, cpus: 0)
        try b.createNodeCgroups()
        XCTAssertTrue(b.cgroups.isEmpty)
        XCTAssertEqual(b.inNodeCgroup(1, ["serve"]), ["serve"])
    }

    func testTheWrapperJoinsEveryHierarchyBeforeItExecs() {
        let cg = NodeCgroup(v2Dir: "/sys/fs/cgroup/unified/x", v1CPUDir: "/sys/fs/cgroup/cpu/x", cpus: 0.5)
        XCTAssertEqual(cg.wrap(["serve", "--port", "7000"]),
                       ["sh", "-c", "echo $$ > '/sys/fs/cgroup/unified/x/cgroup.procs' && echo $$ > '/sys/fs/cgroup/cpu/x/cgroup.procs' && exec \"$@\"",
                        "sh", "serve", "--port", "7000"])
    }
}
