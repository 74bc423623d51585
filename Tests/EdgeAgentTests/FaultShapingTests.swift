// The real edge-agent binary shaping a veth between two fresh namespaces (issue 7 faults on the
// shaping side, and the shaping features only a whole agent shows):
// - SIGKILL while shaping: the pinned program and maps keep shaping during the gap, a restarted
//   agent adopts them, and there is still exactly one EDT filter;
// - a full state directory: shaping.set fails naming the file and ENOSPC, the kernel is
//   untouched, the agent keeps running, and the same call succeeds once there is space;
// - per-class counters in telemetry.get (and `edgectl telemetry`);
// - the host congestion control option, in the agent's own network namespace.
// The agent is started with nsenter (network namespace only): `ip netns exec` would give it a
// fresh /sys without the host's bpffs, so its pins would die with it.
import EdgeAPI
@testable import EdgeAgent
import EdgeConfig
import EdgeCore
import EdgeLab
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class ShapingAgentFixture {
    let lab: ShapingFixture
    let dir: URL
    var stateDir: String
    private(set) var agent: DaemonProcess?
    var socket: String { dir.appendingPathComponent("agent.sock").path }
    var configPath: String { dir.appendingPathComponent("agent.toml").path }

    init(queues: Int = 4) throws {
        try requireBTF()
        lab = try ShapingFixture(queues: queues)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-shagent-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stateDir = lab.stateDir
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }

    /// Writes the config and starts the agent inside the sender's namespace; returns the
    /// seconds until it answered `agent.status` (the new process, not a stale socket).
    @discardableResult
    func start(enabled: Bool = true, congestionControl: String? = "bbr", environment: [String: String] = [:]) throws -> Double {
        var config = AgentConfig.defaults
        config.agent.nodeName = "shaping-node"
        config.agent.stateDir = stateDir
        config.telemetry.intervalSeconds = 0.2
        config.telemetry.windowSeconds = 10
        config.rpc = RPCConfig(socket: socket, group: nil)
        config.metrics.listen = nil
        config.shaping.enabled = enabled
        config.shaping.device = "veth0"
        config.shaping.pinPath = lab.pinPath
        config.shaping.hostCongestionControl = congestionControl
        try config.tomlText.write(toFile: configPath, atomically: true, encoding: .utf8)
        let started = Date()
        let process = try DaemonProcess("/usr/bin/nsenter", ["--net=/run/netns/\(lab.tx.name)",
                                                             try Products.path("edge-agent"), "--config", configPath],
                                        environment: environment)
        agent = process
        let pid = process.process.processIdentifier
        let up = process.waitUntil {
            (try? self.client().call("agent.status", as: AgentStatus.self))?.pid == pid
        }
        guard up else { throw AgentDidNotStart(log: process.log) }
        return Date().timeIntervalSince(started)
    }

    func stop() {
        agent?.stop()
        agent = nil
    }

    /// SIGKILL: no shutdown code runs.
    func kill9() {
        guard let agent else { return }
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        self.agent = nil
    }

    func client() -> RPCClient { RPCClient(path: socket, timeout: .seconds(10)) }

    /// The sender namespace's net.ipv4.tcp_congestion_control.
    func congestionControl() throws -> String {
        try lab.tx.run(["cat", "/proc/sys/net/ipv4/tcp_congestion_control"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every filter on veth0's egress hook as tc sees it (the kind line and the filter itself).
    func tcEgressFilters() throws -> [[String: Any]] {
        try lab.tcJSON(["filter", "show", "dev", "veth0", "egress"]).filter { $0["options"] != nil }
    }
}

struct AgentDidNotStart: Error, CustomStringConvertible {
    let log: String
    var description: String { "edge-agent did not answer agent.status:\n\(log)" }
}

final class FaultShapingTests: XCTestCase {
    let rate = 20e6

    func testSIGKILLKeepsShapingAndARestartAdoptsWithoutDuplicateFilters() throws {
        let f = try ShapingAgentFixture()
        try f.lab.tx.run(["sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=reno"])
        try f.start()
        _ = try f.client().call("shaping.set", params: ShapingSetParams(selector: f.lab.txAddress, rate: "20mbit"),
                                as: ShapingClassInfo.self)
        let programBefore = try XCTUnwrap(try f.lab.tcEDTFilter()?["prog"] as? [String: Any])["id"] as? NSNumber
        let alive = try TCPRateProbe.measure(sender: f.lab.tx.name, receiver: f.lab.rx.name, address: f.lab.rxAddress,
                                             warmup: 0.3, seconds: 1)
        let classesBefore: ShapingListResult = try f.client().call("shaping.list")
        XCTAssertGreaterThan(try XCTUnwrap(classesBefore.classes.first).bytes, alive.bytes)

        f.kill9()
        // The gap: no agent at all. The filter still runs the pinned program over the pinned maps.
        let gap = try TCPRateProbe.measure(sender: f.lab.tx.name, receiver: f.lab.rx.name, address: f.lab.rxAddress,
                                           warmup: 0.5, seconds: 2.5)
        XCTAssertEqual(gap.bitsPerSecond / rate, 1, accuracy: 0.10,
                       "rate with the agent dead: \(gap.bitsPerSecond / 1e6) Mbit/s for a 20 Mbit/s class")

        let adoptSeconds = try f.start()
        let after: ShapingListResult = try f.client().call("shaping.list")
        XCTAssertEqual(after.classes.map(\.selector), classesBefore.classes.map(\.selector))
        XCTAssertEqual(after.classes.map(\.classId), classesBefore.classes.map(\.classId))
        XCTAssertEqual(after.classes.map(\.rate), classesBefore.classes.map(\.rate))
        let bytesBefore = try XCTUnwrap(classesBefore.classes.first).bytes
        let bytesAfter = try XCTUnwrap(after.classes.first).bytes
        XCTAssertGreaterThanOrEqual(bytesAfter, bytesBefore + gap.bytes, "the counters carried on through the gap")
        XCTAssertTrue(f.agent?.log.contains("adopted pinned EDT maps") ?? false, f.agent?.log ?? "")

        let filters = try f.tcEgressFilters()
        XCTAssertEqual(filters.count, 1, "exactly one filter on egress: \(filters)")
        let options = try XCTUnwrap(filters.first?["options"] as? [String: Any])
        XCTAssertEqual(options["handle"] as? String, "0xed7")
        XCTAssertEqual((options["prog"] as? [String: Any])?["id"] as? NSNumber, programBefore, "the same program, never replaced")

        // The congestion-control note from the first agent survives the kill: reset restores reno.
        XCTAssertEqual(try f.congestionControl(), "bbr")
        let reset: ShapingChangeResult = try f.client().call("shaping.reset")
        XCTAssertTrue(reset.actions.contains("restored net.ipv4.tcp_congestion_control to reno (was bbr)"), "\(reset.actions)")
        XCTAssertEqual(try f.congestionControl(), "reno")
        print(String(format: "fault SIGKILL: %.2f Mbit/s with the agent alive, %.2f Mbit/s with it dead (class 20 Mbit/s); restarted agent answered with the class adopted after %.2f s; %d egress filter(s); counters %llu -> %llu bytes",
                     alive.bitsPerSecond / 1e6, gap.bitsPerSecond / 1e6, adoptSeconds, filters.count, bytesBefore, bytesAfter))
    }

    func testFullStateDirectoryFailsCleanlyAndRecovers() throws {
        let f = try ShapingAgentFixture()
        let mountPoint = f.dir.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try sh(["mount", "-t", "tmpfs", "-o", "size=64k", "edgetest-state", mountPoint])
        defer {
            f.stop()
            _ = try? sh(["umount", mountPoint], check: false)
        }
        let filler = mountPoint + "/filler"
        // dd stops at ENOSPC (and says so): the file system is then full to the last byte.
        try sh(["dd", "if=/dev/zero", "of=" + filler, "bs=4096", "count=64"], check: false)
        XCTAssertEqual(try sh(["df", "--output=avail", mountPoint]).stdout.split(separator: "\n").last?
                        .trimmingCharacters(in: .whitespaces), "0", "the state directory is full")
        f.stateDir = mountPoint
        try f.start()
        let qdiscsBefore = try f.lab.tcCanonical(["qdisc", "show", "dev", "veth0"])
        let congestionBefore = try f.congestionControl()

        let params = ShapingSetParams(selector: f.lab.txAddress, rate: "20mbit")
        XCTAssertThrowsError(try f.client().call("shaping.set", params: params, as: ShapingClassInfo.self)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cannot write state file \(mountPoint)/shaping-ledger.json: No space left on device (ENOSPC); nothing was changed"), text)
        }
        XCTAssertEqual(try f.lab.tcCanonical(["qdisc", "show", "dev", "veth0"]), qdiscsBefore, "no qdisc changed")
        XCTAssertEqual(try f.tcEgressFilters().count, 0, "no filter")
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.lab.pinPath), "nothing pinned")
        XCTAssertEqual(try f.congestionControl(), congestionBefore)
        let status: AgentStatus = try f.client().call("agent.status")
        XCTAssertTrue(status.shaping.hasPrefix("failed (cannot write state file"), status.shaping)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mountPoint), ["filler"], "no half-written note")

        try FileManager.default.removeItem(atPath: filler)
        let info: ShapingClassInfo = try f.client().call("shaping.set", params: params)
        XCTAssertEqual(info.selector, f.lab.txAddress + "/32")
        XCTAssertEqual(try f.tcEgressFilters().count, 1)
        XCTAssertNotNil(try OwnershipLedger(directory: mountPoint).recordedRoot(of: "veth0"))
        _ = try f.client().call("shaping.reset", as: ShapingChangeResult.self)
    }
}
