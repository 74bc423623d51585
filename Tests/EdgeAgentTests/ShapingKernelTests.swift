// The shaper on the real kernel: a veth pair (4 TX queues) between two fresh namespaces, real
// netlink, real BPF, pins under a test-only bpffs directory; cross-checked with `tc -j`.
import EdgeAPI
@testable import EdgeAgent
import EdgeBPF
import EdgeCore
import EdgeLab
import EdgeNetlink
import EdgeTestSupport
import Foundation
import Logging
import XCTest

final class ShapingFixture {
    let tx: ScratchNetns
    let rx: ScratchNetns
    let netlink: NetlinkSocket
    let pinPath = "/sys/fs/bpf/edgetest-\(UInt32.random(in: 0...UInt32.max))"
    let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-shaping-\(UUID().uuidString)").path
    let txAddress = "10.204.0.1"
    let rxAddress = "10.204.0.2"

    /// veth0 (in `tx`) to veth1 (in `rx`), each with `queues` TX and RX queues.
    init(queues: Int = 4) throws {
        try requireRoot()
        tx = try ScratchNetns(prefix: "edgetest-tx")
        rx = try ScratchNetns(prefix: "edgetest-rx")
        try Veth.add(VethEnd("veth0", in: tx.name, address: txAddress + "/24"),
                     VethEnd("veth1", in: rx.name, address: rxAddress + "/24"), queues: queues)
        netlink = try NetlinkSocket(namespace: NetworkNamespace(named: tx.name))
    }

    deinit {
        for name in EDTDatapath.pinNames { unlink(pinPath + "/" + name) }
        rmdir(pinPath)
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    func shaper(device: String? = "veth0", horizon: Double? = nil, logger given: Logger? = nil) -> Shaper {
        var logger = given ?? Logger(label: "edgetest.shaper")
        if given == nil { logger.logLevel = .warning }
        return Shaper(settings: ShaperSettings(device: device, horizonSeconds: horizon, ecn: true,
                                               pinPath: pinPath, stateDirectory: stateDir),
                      netlink: netlink, logger: logger)
    }

    /// `tc -j` output re-serialised with sorted keys, for before/after comparisons.
    func tcCanonical(_ args: [String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: try tcJSON(args), options: [.sortedKeys]), as: UTF8.self)
    }

    func tcJSON(_ args: [String]) throws -> [[String: Any]] {
        let text = try sh(["tc", "-n", tx.name, "-j"] + args).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    /// Our filter as `tc -j filter show dev veth0 egress` reports it.
    func tcEDTFilter() throws -> [String: Any]? {
        try tcJSON(["filter", "show", "dev", "veth0", "egress"]).compactMap { $0["options"] as? [String: Any] }
            .first { $0["handle"] as? String == "0xed7" }
    }

    func tcRoot() throws -> [String: Any]? {
        try tcJSON(["qdisc", "show", "dev", "veth0"]).first { $0["root"] as? Bool == true }
    }

    /// Whether this kernel has sch_fq: ask it, on the other end of the pair.
    func kernelHasFQ() throws -> Bool {
        let added = try rx.run(["tc", "qdisc", "add", "dev", "veth1", "root", "fq"], check: false).status == 0
        if added { try rx.run(["tc", "qdisc", "del", "dev", "veth1", "root"]) }
        return added
    }
}

final class ShapingKernelTests: XCTestCase {
    static let degraded = "degraded (sch_fq unavailable: sch_fq is not available in this kernel: load module sch_fq "
        + "(CONFIG_NET_SCH_FQ); rates are policed by drops, not paced)"

    func testSetupInstallsTheFilterDegradesWithoutFQAndASecondSetupChangesNothing() throws {
        let f = try ShapingFixture()
        let hasFQ = try f.kernelHasFQ()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "root", "tbf", "rate", "900mbit", "burst", "64kb", "limit", "256kb"])
        let shaper = f.shaper()
        let first = try shaper.setup()
        if hasFQ {
            XCTAssertEqual(first.status, "active")
            XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "mq")
        } else {
            XCTAssertEqual(first.status, Self.degraded)
            XCTAssertEqual(shaper.status, Self.degraded)
            XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "tbf", "without fq the root is left as it was")
        }
        XCTAssertTrue(first.filterChanged)
        XCTAssertTrue(first.clsactCreated)
        XCTAssertFalse(first.programAdopted)
        XCTAssertEqual(first.device, "veth0")
        XCTAssertNotNil(try OwnershipLedger(directory: f.stateDir).recordedRoot(of: "veth0"), "root recorded before changes")

        let filter = try XCTUnwrap(try f.tcEDTFilter(), "tc sees our filter")
        XCTAssertEqual(filter["bpf_name"] as? String, ShapingDesiredState.egressFilter.name)
        XCTAssertEqual(filter["direct-action"] as? Bool, true)
        let prog = try XCTUnwrap(filter["prog"] as? [String: Any])
        XCTAssertEqual((prog["id"] as? NSNumber)?.uint32Value, first.programId)
        XCTAssertEqual(prog["name"] as? String, EDTDatapath.programName)
        XCTAssertTrue(try f.tcJSON(["qdisc", "show", "dev", "veth0"]).contains { $0["kind"] as? String == "clsact" })

        let second = try shaper.setup()
        XCTAssertFalse(second.filterChanged, "the filter already runs our program")
        XCTAssertEqual(second.programId, first.programId)
        XCTAssertTrue(second.programAdopted)
        XCTAssertFalse(second.clsactCreated)
        XCTAssertEqual(second.status, first.status)
        XCTAssertEqual((try f.tcEDTFilter()?["prog"] as? [String: Any])?["id"] as? NSNumber, NSNumber(value: first.programId))
        XCTAssertEqual(try f.tcJSON(["filter", "show", "dev", "veth0", "egress"]).count, 2, "one classifier, one filter")
    }

    func testARestartedShaperAdoptsPinnedMapsAndProgramWithoutAGap() throws {
        let f = try ShapingFixture()
        let before = f.shaper()
        let first = try before.setup()
        _ = try before.set(ShapingSetParams(selector: "10.204.0.0/24", rate: "20mbit", horizon: "50ms"))

        let after = f.shaper()  // a new agent process: nothing in memory, everything on bpffs
        let report = try after.setup()
        XCTAssertEqual(Set(report.adoptedMaps), Set(EDTDatapath.mapNames))
        XCTAssertTrue(report.programAdopted)
        XCTAssertFalse(report.filterChanged, "the running filter is not touched")
        XCTAssertEqual(report.programId, first.programId)
        XCTAssertEqual(report.classes, 1)
        let classes = try after.list().classes
        XCTAssertEqual(classes.map(\.selector), ["10.204.0.0/24"])
        XCTAssertEqual(classes.first?.rate, try BandwidthRate(parsing: "20mbit"))
        XCTAssertEqual(classes.first?.horizonSeconds ?? 0, 0.05, accuracy: 1e-9)
    }

    func testResetRestoresTheRecordedRootQdiscAndRemovesEverything() throws {
        let f = try ShapingFixture()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "root", "handle", "5:", "tbf", "rate", "800mbit", "burst", "32kb", "limit", "100kb"])
        let recorded = try XCTUnwrap(try f.tcRoot())
        let shaper = f.shaper()
        try shaper.setup()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        // whatever happened to the root since (our mq/fq where fq exists, someone else's htb here)
        try f.tx.run(["tc", "qdisc", "replace", "dev", "veth0", "root", "handle", "7:", "htb", "default", "1"])

        let result = try shaper.reset()
        XCTAssertTrue(result.actions.contains("removed the EDT filter from veth0 egress"), "\(result.actions)")
        XCTAssertTrue(result.actions.contains("restored the recorded root qdisc tbf on veth0"), "\(result.actions)")
        let root = try XCTUnwrap(try f.tcRoot())
        XCTAssertEqual(root["kind"] as? String, "tbf")
        XCTAssertEqual(root["handle"] as? String, "5:")
        XCTAssertEqual((root["options"] as? [String: Any])?["rate"] as? NSNumber,
                       (recorded["options"] as? [String: Any])?["rate"] as? NSNumber)
        XCTAssertFalse(try f.tcJSON(["qdisc", "show", "dev", "veth0"]).contains { $0["kind"] as? String == "clsact" },
                       "the clsact we created is gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.pinPath), "pins and their directory are gone")
        XCTAssertNil(try OwnershipLedger(directory: f.stateDir).recordedRoot(of: "veth0"))
        XCTAssertEqual(shaper.status, "reset")
        XCTAssertEqual(try shaper.list().classes, [])

        // a change after reset sets shaping up again
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        XCTAssertNotNil(try f.tcEDTFilter())
    }

    func testResetLeavesAClsactItDidNotCreate() throws {
        let f = try ShapingFixture()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "clsact"])
        let shaper = f.shaper()
        XCTAssertFalse(try shaper.setup().clsactCreated)
        _ = try shaper.reset()
        XCTAssertNil(try f.tcEDTFilter())
        XCTAssertTrue(try f.tcJSON(["qdisc", "show", "dev", "veth0"]).contains { $0["kind"] as? String == "clsact" })
    }

    func testInvalidRequestsGetClearErrorsAndChangeNothing() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        try shaper.setup()
        _ = try shaper.set(ShapingSetParams(selector: "10.204.0.0/24", rate: "20mbit"))
        let classesBefore = try shaper.list().classes
        let filterBefore = try f.tcCanonical(["filter", "show", "dev", "veth0", "egress"])
        let qdiscsBefore = try f.tcCanonical(["qdisc", "show", "dev", "veth0"])

        func error(_ params: ShapingSetParams) -> String {
            do {
                _ = try shaper.set(params)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error(.init(selector: "10.204.0.0/24", rate: "fast")).hasPrefix("invalid rate \"fast\": expected a number first"))
        XCTAssertTrue(error(.init(selector: "10.204.0.0/24", rate: "500kbit")).contains("is outside 1Mbit/s to 100Gbit/s"))
        XCTAssertTrue(error(.init(selector: "10.204.0.0/24", rate: "200gbit")).contains("is outside 1Mbit/s to 100Gbit/s"))
        XCTAssertTrue(error(.init(selector: "10.204.0.0/33", rate: "1gbit")).contains("prefix length \"33\" must be 0…32"))
        XCTAssertTrue(error(.init(selector: "10.204.0.9/24", rate: "1gbit")).contains("did you mean 10.204.0.0/24?"))
        XCTAssertTrue(error(.init(selector: "eth0", rate: "1gbit")).contains("is not an IPv4 or IPv6 address"))
        let root = try XCTUnwrap(CgroupRoot.find())
        XCTAssertEqual(error(.init(selector: "cgroup:/edgetest-missing", rate: "1gbit")),
                       "cgroup of \"cgroup:/edgetest-missing\" does not exist: no cgroup2 directory \(root)/edgetest-missing")
        XCTAssertEqual(error(.init(selector: "unit:edgetest-missing.service", rate: "1gbit")),
                       "cgroup of \"unit:edgetest-missing.service\" does not exist: no cgroup2 directory \(root)/system.slice/edgetest-missing.service")
        XCTAssertEqual(error(.init(selector: "10.204.0.0/24", rate: "1gbit", horizon: "2m")),
                       "invalid horizon \"2m\": must be between 1ms and 60s")
        XCTAssertThrowsError(try shaper.delete(selector: "10.9.9.9")) {
            XCTAssertEqual("\($0)", "no shaping class for \"10.9.9.9\" (see shaping.list)")
        }

        XCTAssertEqual(try shaper.list().classes, classesBefore, "classes unchanged")
        XCTAssertEqual(try f.tcCanonical(["filter", "show", "dev", "veth0", "egress"]), filterBefore)
        XCTAssertEqual(try f.tcCanonical(["qdisc", "show", "dev", "veth0"]), qdiscsBefore)

        // an unknown device fails setup before anything is pinned, recorded or attached
        let other = f.shaper(device: "nosuchdev0")
        XCTAssertThrowsError(try other.setup()) {
            XCTAssertEqual("\($0)", "unknown device 'nosuchdev0' (no such network interface)")
        }
        XCTAssertTrue(other.status.hasPrefix("failed (unknown device 'nosuchdev0'"))
        XCTAssertNil(try OwnershipLedger(directory: f.stateDir).recordedRoot(of: "nosuchdev0"))
        XCTAssertThrowsError(try shaper.qdiscShow(device: "nosuchdev0")) {
            XCTAssertEqual("\($0)", "unknown device 'nosuchdev0' (no such network interface)")
        }
    }

    /// A single-queue device cannot take mq: the shaper decides on one root fq and logs why.
    /// This kernel has no sch_fq, so the fallback ends degraded, and the status names both the
    /// missing fq and the reason for the fallback. (The VM bed's kernel has sch_fq: there the
    /// same device gets a root fq and "active (single root fq: …)".)
    func testSingleQueueDeviceFallsBackToOneRootFQAndSaysWhy() throws {
        let f = try ShapingFixture(queues: 1)
        let hasFQ = try f.kernelHasFQ()
        let log = CapturedLog()
        let shaper = f.shaper(logger: log.logger)
        let report = try shaper.setup()
        let fallback = "\(report.device): single root fq instead of mq: mq needs a multi-queue device; veth0 has 1 TX queue(s)"
        XCTAssertTrue(log.messages(.notice).contains { $0.hasPrefix(fallback) }, "\(log.messages(.notice))")
        if hasFQ {
            XCTAssertTrue(report.status.hasPrefix("active (single root fq: mq needs a multi-queue device; veth0 has 1 TX queue(s)"), report.status)
            XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "fq")
        } else {
            XCTAssertTrue(report.status.hasPrefix("degraded (sch_fq unavailable: sch_fq is not available in this kernel: load module "
                                                  + "sch_fq (CONFIG_NET_SCH_FQ); it was needed for a single root fq, the fallback "
                                                  + "because mq needs a multi-queue device; veth0 has 1 TX queue(s)"), report.status)
            XCTAssertTrue(report.status.hasSuffix("; rates are policed by drops, not paced)"), report.status)
            XCTAssertTrue(log.messages(.warning).contains { $0.hasPrefix("shaping on veth0 is degraded (sch_fq unavailable") })
            XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "noqueue", "the device is left as it was")
        }
        XCTAssertNotNil(try f.tcEDTFilter(), "the EDT program is installed either way")
        XCTAssertEqual(shaper.status, report.status)
    }

    func testSetUpdatesInPlaceAndDeleteRemovesEveryEntry() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        try shaper.setup()
        let a = try shaper.set(ShapingSetParams(selector: "fd00:204::/64", rate: "100M"))
        let b = try shaper.set(ShapingSetParams(selector: "fd00:204:0:0::/64", rate: "1.5Gbit", horizon: "10ms"))
        XCTAssertEqual(a.classId, b.classId, "the same selector updates its class")
        XCTAssertEqual(b.rate.bitsPerSecond, 1_500_000_000)
        XCTAssertEqual(b.horizonSeconds, 0.01, accuracy: 1e-12)
        XCTAssertTrue(b.ecn)
        XCTAssertEqual(try shaper.list().classes.count, 1)

        let result = try shaper.delete(selector: "fd00:204::/64")
        XCTAssertEqual(result.actions, ["deleted class \(a.classId) (fd00:204::/64), 1 selector entry"])
        XCTAssertEqual(try shaper.list().classes, [])
    }

    func testCgroupSelectorsResolveToTheCgroupID() throws {
        let f = try ShapingFixture()
        let root = try XCTUnwrap(CgroupRoot.find())
        let name = "edgetest-\(UInt32.random(in: 0...UInt32.max))"
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        defer { rmdir(path) }
        let shaper = f.shaper()
        try shaper.setup()
        let byPath = try shaper.set(ShapingSetParams(selector: "cgroup:" + path, rate: "10M"))
        XCTAssertEqual(byPath.selector, "cgroup:" + path)
        XCTAssertEqual(byPath.kind, "cgroup")
        let relative = try shaper.set(ShapingSetParams(selector: "cgroup:/" + name + "/", rate: "20M"))
        XCTAssertEqual(relative.classId, byPath.classId, "a path relative to the cgroup2 root names the same cgroup")
        let inode = try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value)
        guard case .cgroup(_, let id) = try ShapingSelector.parse("cgroup:" + path, cgroupRoot: root) else {
            return XCTFail("not a cgroup selector")
        }
        XCTAssertEqual(id, inode)
        XCTAssertEqual(try shaper.delete(selector: "cgroup:" + path).actions.count, 1)
    }

    func testQdiscShowMatchesTC() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        let report = try shaper.setup()
        let shown = try shaper.qdiscShow(device: "veth0")
        XCTAssertEqual(shown.txQueues, 4)
        let tcKinds = try f.tcJSON(["qdisc", "show", "dev", "veth0"]).compactMap { $0["kind"] as? String }
        XCTAssertEqual(shown.qdiscs.map(\.kind).sorted(), tcKinds.sorted())
        let ours = try XCTUnwrap(shown.filters.first { $0.isEdgenode })
        XCTAssertEqual(ours.hook, "egress")
        XCTAssertEqual(ours.bpfProgramId, report.programId)
        XCTAssertEqual(ours.directAction, true)
        XCTAssertEqual(ours.handle, 0xED7)
    }

    /// Bulk TCP from the shaped source must arrive at the class's rate (±10 %). Without sch_fq
    /// the EDT timestamps are not honoured and the horizon polices: drops make TCP back off.
    func testLiveTrafficIsHeldToTheRate() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        try shaper.setup()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "20mbit"))
        let result = try TCPRateProbe.measure(sender: f.tx.name, receiver: f.rx.name, address: f.rxAddress,
                                              warmup: 0.5, seconds: 3)
        let ratio = result.bitsPerSecond / 20e6
        XCTAssertEqual(ratio, 1, accuracy: 0.10, "measured \(result.bitsPerSecond / 1e6) Mbit/s for a 20 Mbit/s class")
        let c = try XCTUnwrap(try shaper.list().classes.first)
        XCTAssertGreaterThan(c.bytes, 7_000_000, "the class counted the stream's bytes")
        XCTAssertGreaterThan(c.packets, 0)

        // without the class the same path runs far faster: the limit came from the shaper
        _ = try shaper.delete(selector: f.txAddress)
        let free = try TCPRateProbe.measure(sender: f.tx.name, receiver: f.rx.name, address: f.rxAddress,
                                            warmup: 0.2, seconds: 1)
        XCTAssertGreaterThan(free.bitsPerSecond, 100e6)
    }
}

/// A logger whose messages the test can read.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(Logger.Level, String)] = []

    var logger: Logger {
        var logger = Logger(label: "edgetest.captured") { _ in Handler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    func messages(_ level: Logger.Level) -> [String] {
        lock.withLock { entries.filter { $0.0 == level }.map(\.1) }
    }

    fileprivate func append(_ level: Logger.Level, _ message: String) {
        lock.withLock { entries.append((level, message)) }
    }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.append(event.level, event.message.description)
        }
    }
}
