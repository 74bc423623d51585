// Shaping features seen through the real edge-agent's socket (fixture in FaultShapingTests.swift):
// per-class counters in telemetry.get and `edgectl telemetry`, and the host congestion control
// option in the agent's own network namespace.
import EdgeAPI
@testable import EdgeAgent
import EdgeCore
import EdgeLab
import EdgeRPC
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import XCTest

final class ShapingAgentTests: XCTestCase {
    /// telemetry.get answers once the first window is complete.
    private func telemetry(_ f: ShapingAgentFixture) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(10)
        while true {
            do {
                return try f.client().callRaw("telemetry.get")
            } catch let error as RPCClientError where error.serverErrorCode == .unavailable && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    func testTelemetryCarriesPerClassCountersAndEdgectlShowsThem() throws {
        let f = try ShapingAgentFixture()
        try f.start(congestionControl: nil)
        _ = try f.client().call("shaping.set", params: ShapingSetParams(selector: f.lab.txAddress, rate: "20mbit"),
                                as: ShapingClassInfo.self)
        _ = try TCPRateProbe.measure(sender: f.lab.tx.name, receiver: f.lab.rx.name, address: f.lab.rxAddress,
                                     warmup: 0.2, seconds: 1)

        let raw = try telemetry(f)
        XCTAssertNotNil(raw["rtt_samples"], "the window's own keys stay at the top level")
        let shaping = try XCTUnwrap(raw["shaping"], "\(raw)")
        XCTAssertEqual(shaping["device"]?.stringValue, "veth0")
        let rawClass = try XCTUnwrap(shaping["classes"]?.arrayValue?.first)
        for key in ["bytes", "packets", "drops", "ecn_marks"] {
            XCTAssertNotNil(rawClass[key]?.intValue, "class counter \(key) in \(rawClass)")
        }

        let typed: AgentTelemetry = try f.client().call("telemetry.get")
        let listed: ShapingListResult = try f.client().call("shaping.list")
        let counted = try XCTUnwrap(typed.shaping?.classes.first)
        XCTAssertEqual(counted.selector, f.lab.txAddress + "/32")
        XCTAssertGreaterThan(counted.bytes, 1_000_000, "about 2.5 MB went through the class")
        XCTAssertGreaterThan(counted.packets, 10, "GSO packets count once each")
        let later = try XCTUnwrap(listed.classes.first)
        XCTAssertGreaterThanOrEqual(later.bytes, counted.bytes, "the same cumulative counters as shaping.list")
        XCTAssertEqual(typed.window.node, "shaping-node")
        // A client that only knows the window reads the same answer.
        XCTAssertEqual(try f.client().call("telemetry.get", as: TelemetryWindow.self).node, "shaping-node")

        let out = try sh([try Products.path("edgectl"), "telemetry", "--socket", f.socket]).stdout
        XCTAssertTrue(out.contains("shaping \(typed.shaping!.status) on veth0"), out)
        XCTAssertTrue(out.contains("CLASS") && out.contains("CE MARKS"), out)
        let row = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix(f.lab.txAddress + "/32") }, out)
        XCTAssertTrue(row.contains(counted.rate.description), String(row))
        _ = try f.client().call("shaping.reset", as: ShapingChangeResult.self)
    }

    func testTelemetryHasNoShapingKeyWhenShapingIsOff() throws {
        let f = try ShapingAgentFixture()
        try f.start(enabled: false, congestionControl: nil)
        let raw = try telemetry(f)
        XCTAssertNotNil(raw["node"])
        XCTAssertNil(raw["shaping"], "absent, not empty: \(raw)")
        XCTAssertNil(try f.client().call("telemetry.get", as: AgentTelemetry.self).shaping)
        let out = try sh([try Products.path("edgectl"), "telemetry", "--socket", f.socket]).stdout
        XCTAssertFalse(out.contains("\nshaping "), out)
    }

    /// net.ipv4.tcp_congestion_control is per network namespace (4.15+): the agent in the
    /// sender's namespace switches that one, only once shaping is active, and reset restores it.
    /// (A namespace other than the host's may only choose what the host allows, reno and the
    /// host's default, bbr, here: so the "previous" value is reno.)
    func testHostCongestionControlIsSetWhileShapingAndRestoredOnReset() throws {
        let f = try ShapingAgentFixture()
        let host = try String(contentsOfFile: "/proc/sys/net/ipv4/tcp_congestion_control", encoding: .utf8)
        try f.lab.tx.run(["sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=reno"])
        try f.start(congestionControl: "bbr")
        XCTAssertEqual(try f.congestionControl(), "reno", "idle shaping (no class yet) leaves it alone")

        _ = try f.client().call("shaping.set", params: ShapingSetParams(selector: f.lab.txAddress, rate: "50mbit"),
                                as: ShapingClassInfo.self)
        XCTAssertEqual(try f.congestionControl(), "bbr")
        let note = try OwnershipLedger(directory: f.stateDir).entries().filter { if case .congestionControl = $0 { true } else { false } }
        XCTAssertEqual(note, [.congestionControl(previous: "reno")])
        XCTAssertTrue(f.agent?.log.contains("net.ipv4.tcp_congestion_control: reno -> bbr while shaping is active") ?? false,
                      f.agent?.log ?? "")
        // A second setup (a restart) keeps the original note rather than recording bbr.
        f.stop()
        try f.start(congestionControl: "bbr")
        XCTAssertEqual(try OwnershipLedger(directory: f.stateDir).entries().filter { if case .congestionControl = $0 { true } else { false } }, note)

        let reset: ShapingChangeResult = try f.client().call("shaping.reset")
        XCTAssertTrue(reset.actions.contains("restored net.ipv4.tcp_congestion_control to reno (was bbr)"), "\(reset.actions)")
        XCTAssertEqual(try f.congestionControl(), "reno")
        XCTAssertFalse(FileManager.default.fileExists(atPath: OwnershipLedger(directory: f.stateDir).path), "every entry undone")
        XCTAssertEqual(try String(contentsOfFile: "/proc/sys/net/ipv4/tcp_congestion_control", encoding: .utf8), host,
                       "the test's own namespace is untouched")
    }

    /// In a namespace other than the host's, an algorithm the host does not allow is refused by
    /// the kernel (EPERM): the status says where to allow it.
    func testRestrictedCongestionControlNamesTheAllowedList() throws {
        let f = try ShapingAgentFixture()
        let allowed = try String(contentsOfFile: "/proc/sys/net/ipv4/tcp_allowed_congestion_control", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let available = try String(contentsOfFile: "/proc/sys/net/ipv4/tcp_available_congestion_control", encoding: .utf8)
            .split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let restricted = available.first(where: { !allowed.split(separator: " ").map(String.init).contains($0) }) else {
            throw XCTSkip("every available algorithm is allowed in namespaces on this host (\(allowed))")
        }
        try f.start(congestionControl: restricted)
        _ = try f.client().call("shaping.set", params: ShapingSetParams(selector: f.lab.txAddress, rate: "50mbit"),
                                as: ShapingClassInfo.self)
        let status: AgentStatus = try f.client().call("agent.status")
        XCTAssertTrue(status.shaping.hasSuffix("host TCP congestion control not changed: TCP congestion control \"\(restricted)\" "
                                               + "is not allowed in this network namespace (allowed: \(allowed)): add it to "
                                               + "net.ipv4.tcp_allowed_congestion_control in the host's namespace"), status.shaping)
        _ = try f.client().call("shaping.reset", as: ShapingChangeResult.self)
    }

    /// An algorithm the kernel does not have (not even as a module it can load) is reported with
    /// the config option and the module; shaping itself still works.
    func testMissingCongestionControlIsNamedAndShapingStillWorks() throws {
        let f = try ShapingAgentFixture()
        let before = try f.congestionControl()
        try f.start(congestionControl: "edgenone")
        let info: ShapingClassInfo = try f.client().call("shaping.set",
                                                         params: ShapingSetParams(selector: f.lab.txAddress, rate: "50mbit"))
        XCTAssertEqual(info.classId, 1)
        let status: AgentStatus = try f.client().call("agent.status")
        XCTAssertTrue(status.shaping.contains("; host TCP congestion control not changed: TCP congestion control \"edgenone\" "
                                              + "is not available in this kernel (available: "), status.shaping)
        XCTAssertTrue(status.shaping.hasSuffix("it needs CONFIG_TCP_CONG_EDGENONE; load it with `modprobe tcp_edgenone`"),
                      status.shaping)
        XCTAssertNotNil(try f.lab.tcEDTFilter(), "the EDT filter is installed all the same")
        XCTAssertEqual(try f.congestionControl(), before)
        _ = try f.client().call("shaping.reset", as: ShapingChangeResult.self)
        XCTAssertEqual(try f.congestionControl(), before)
    }
}
