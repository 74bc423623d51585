// telemetry.cgroup without a kernel: the CPU arithmetic (usage against the allowance) from the
// files' text, the mount lookup from mountinfo fixtures of a hybrid and a pure v2 host, and the
// config key's refusals.
@testable import EdgeAgent
import EdgeConfig
import EdgeCore
import EdgeTelemetry
import XCTest

final class CgroupCPUTests: XCTestCase {
    // the build machines: v1 controllers, each on its own mount, the v2 hierarchy at /unified
    static let hybrid = """
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
    33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
    34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
    40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    """
    // Debian 12
    static let pureV2 = """
    22 29 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
    26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
    """

    func testMountsAreFoundWithTheirControllers() {
        let m = CgroupMount.parse(mountinfo: Self.hybrid)
        XCTAssertEqual(m.map(\.mountPoint), ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpuset",
                                             "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"])
        XCTAssertEqual(m[0].controllers, ["cpu"])
        XCTAssertEqual(m[3].controllers, [], "name=systemd is no controller")
        XCTAssertTrue(m[4].isV2)
        XCTAssertEqual(CgroupMount.parse(mountinfo: Self.pureV2), [CgroupMount(mountPoint: "/sys/fs/cgroup", isV2: true, controllers: [])])
        XCTAssertEqual(CgroupMount.parse(mountinfo: "1 2 0:3 / /mnt/a\\040b rw - cgroup2 none rw").first?.mountPoint, "/mnt/a b")
    }

    func testHybridLocationFindsTheV1DirectoriesAtTheSameRelativePath() throws {
        let mounts = CgroupMount.parse(mountinfo: Self.hybrid)
        let present: Set = ["/sys/fs/cgroup/unified/kubepods.slice/burstable", "/sys/fs/cgroup/cpu/kubepods.slice/burstable",
                            "/sys/fs/cgroup/cpuset/kubepods.slice/burstable"]
        let loc = try CgroupLocation.resolve(path: "/sys/fs/cgroup/unified/kubepods.slice/burstable/", mounts: mounts,
                                             exists: { present.contains($0) })
        XCTAssertEqual(loc.path, "/sys/fs/cgroup/unified/kubepods.slice/burstable")
        XCTAssertEqual(loc.v2Mount, "/sys/fs/cgroup/unified")
        XCTAssertEqual(loc.relative, "/kubepods.slice/burstable")
        XCTAssertEqual(loc.level, 2)
        XCTAssertEqual(loc.v1Dirs, ["cpu": "/sys/fs/cgroup/cpu/kubepods.slice/burstable",
                                    "cpuset": "/sys/fs/cgroup/cpuset/kubepods.slice/burstable"], "cpuacct has no such directory")
    }

    func testPureV2LocationAndItsRoot() throws {
        let mounts = CgroupMount.parse(mountinfo: Self.pureV2)
        let loc = try CgroupLocation.resolve(path: "/sys/fs/cgroup/kubepods.slice", mounts: mounts, exists: { _ in true })
        XCTAssertEqual(loc.level, 1)
        XCTAssertEqual(loc.v1Dirs, [:])
        let root = try CgroupLocation.resolve(path: "/sys/fs/cgroup", mounts: mounts, exists: { _ in true })
        XCTAssertEqual(root.level, 0)
        XCTAssertEqual(root.relative, "/")
    }

    func testLocationsOutsideTheV2HierarchyAreRefusedWithTheReason() {
        func reason(_ path: String, _ mountinfo: String, exists: Bool = true) -> String {
            do {
                _ = try CgroupLocation.resolve(path: path, mounts: CgroupMount.parse(mountinfo: mountinfo), exists: { _ in exists })
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(reason("/sys/fs/cgroup/cpu/kubepods.slice", Self.hybrid).contains("is not under the cgroup v2 mount (/sys/fs/cgroup/unified)"))
        XCTAssertTrue(reason("/sys/fs/cgroupx/a", Self.pureV2).contains("is not under the cgroup v2 mount"))
        XCTAssertTrue(reason("/sys/fs/cgroup/../etc", Self.pureV2).contains("contains \".\" or \"..\""))
        XCTAssertTrue(reason("/sys/fs/cgroup/gone", Self.pureV2, exists: false).contains("cgroup directory \"/sys/fs/cgroup/gone\" does not exist"))
        XCTAssertTrue(reason("/sys/fs/cgroup/cpu/x", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu").contains("no cgroup2 mount"))
    }

    func testFileTextsParse() throws {
        XCTAssertEqual(try CgroupCPU.usageMicros(cpuStat: "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n", file: "f"), 123_456)
        XCTAssertThrowsError(try CgroupCPU.usageMicros(cpuStat: "user_usec 1\n", file: "/x/cpu.stat")) {
            XCTAssertEqual("\($0)", "\(KernelTextError(file: "/x/cpu.stat", reason: "no usage_usec line"))")
        }
        XCTAssertEqual(try CgroupCPU.usageMicros(cpuacctUsage: "2500000000\n", file: "f"), 2_500_000)
        XCTAssertEqual(try CgroupCPU.quotaCPUs(cpuMax: "50000 100000\n", file: "f"), 0.5)
        XCTAssertNil(try CgroupCPU.quotaCPUs(cpuMax: "max 100000\n", file: "f"))
        XCTAssertThrowsError(try CgroupCPU.quotaCPUs(cpuMax: "50000\n", file: "f"))
        XCTAssertEqual(try CgroupCPU.quotaCPUs(cfsQuota: "150000\n", cfsPeriod: "100000\n", file: "f"), 1.5)
        XCTAssertNil(try CgroupCPU.quotaCPUs(cfsQuota: "-1\n", cfsPeriod: "100000\n", file: "f"))
        XCTAssertEqual(try CgroupCPU.cpuCount(list: "0-3,6,8-9\n", file: "f"), 7)
        XCTAssertEqual(try CgroupCPU.cpuCount(list: "\n", file: "f"), 0)
        XCTAssertThrowsError(try CgroupCPU.cpuCount(list: "3-1", file: "f"))
    }

    func testAllowanceIsTheSmallestLimit() {
        XCTAssertEqual(CgroupCPU.allowance(quota: nil, cpusetCPUs: nil, onlineCPUs: 8), 8)
        XCTAssertEqual(CgroupCPU.allowance(quota: 0.5, cpusetCPUs: 2, onlineCPUs: 8), 0.5)
        XCTAssertEqual(CgroupCPU.allowance(quota: 4, cpusetCPUs: 2, onlineCPUs: 8), 2)
        XCTAssertEqual(CgroupCPU.allowance(quota: 16, cpusetCPUs: 0, onlineCPUs: 8), 8, "an empty cpuset inherits")
    }

    func testUtilisationIsUsageOverTheAllowanceOfTheInterval() {
        // 0.5 CPU allowed for 2 s = 1 s; 0.25 s used → 25 %
        let a = CgroupCPUSample(usageMicros: 1_000_000, allowanceCPUs: 0.5)
        let b = CgroupCPUSample(usageMicros: 1_250_000, allowanceCPUs: 0.5)
        XCTAssertEqual(CgroupCPU.ticks(from: a, to: b, elapsedSeconds: 2), CPUTicks(busy: 250_000, total: 1_000_000))
        // using the whole quota is 100 %, whatever the host does; a burst above it saturates
        let full = CgroupCPUSample(usageMicros: 2_100_000, allowanceCPUs: 0.5)
        XCTAssertEqual(CgroupCPU.ticks(from: a, to: full, elapsedSeconds: 2), CPUTicks(busy: 1_000_000, total: 1_000_000))
        // a counter that went back (cgroup re-created) counts nothing
        XCTAssertEqual(CgroupCPU.ticks(from: b, to: a, elapsedSeconds: 1).busy, 0)
        // the allowance changed mid-interval: the mean of the two
        let wider = CgroupCPUSample(usageMicros: 1_250_000, allowanceCPUs: 1.5)
        XCTAssertEqual(CgroupCPU.ticks(from: a, to: wider, elapsedSeconds: 1).total, 1_000_000)
    }

    func testConfigKeyIsValidatedAndRoundTrips() throws {
        func parse(_ cgroup: String) throws -> AgentConfig {
            try AgentConfig.parse(text: "[telemetry]\ncgroup = \"\(cgroup)\"\n", file: "agent.toml")
        }
        XCTAssertNil(try parse("").telemetry.cgroup)
        XCTAssertNil(AgentConfig.defaults.telemetry.cgroup)
        XCTAssertThrowsError(try parse("kubepods.slice")) {
            XCTAssertTrue("\($0)".contains("telemetry.cgroup"), "\($0)")
            XCTAssertTrue("\($0)".contains("expected an absolute path"), "\($0)")
        }
        XCTAssertThrowsError(try parse("/etc")) {
            XCTAssertTrue("\($0)".contains("agent.toml"), "\($0)")
            XCTAssertTrue("\($0)".contains("telemetry.cgroup"), "\($0)")
            XCTAssertTrue("\($0)".contains("is not under the cgroup v2 mount"), "\($0)")
        }
        // the v2 root of this host exists and is under its own mount
        let mounts = CgroupMount.parse(mountinfo: try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))
        guard let v2 = mounts.first(where: \.isV2) else { throw XCTSkip("no cgroup2 mount on this host") }
        XCTAssertThrowsError(try parse("\(v2.mountPoint)/edgenode-no-such-\(UInt32.random(in: 0...UInt32.max))")) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
        let c = try parse(v2.mountPoint)
        XCTAssertEqual(c.telemetry.cgroup, v2.mountPoint)
        XCTAssertEqual(try AgentConfig.parse(text: c.tomlText, file: "round-trip"), c)
    }
}
