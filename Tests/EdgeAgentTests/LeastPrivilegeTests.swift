// Least privilege, measured (issue 7): the real edge-agent runs with exactly the capability
// bounding set of the shipped unit (read from systemd/edge-agent.service, so the test follows the
// unit) and must do everything the product does on a kernel: load and attach every telemetry
// program, give its socket a group, install EDT shaping on a multi-queue veth (netlink qdiscs,
// cls_bpf, bpffs pins, state file), and reset it. Every capability outside that set is thereby
// shown to be unneeded. Then each capability of the set is removed in turn, and the same run must
// break at a named step: a capability nothing needs would fail the test and belongs out of the unit.
import EdgeAPI
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class LeastPrivilegeTests: XCTestCase {
    static let unitFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd/edge-agent.service").path

    /// `CapabilityBoundingSet=` of the shipped unit, as setpriv names ("bpf", "net_admin", …).
    static func unitCapabilities() throws -> [String] {
        let text = try String(contentsOfFile: unitFile, encoding: .utf8)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("CapabilityBoundingSet=") },
                                 "no CapabilityBoundingSet= in \(unitFile)")
        return line.dropFirst("CapabilityBoundingSet=".count).split(separator: " ")
            .map { $0.lowercased().replacingOccurrences(of: "cap_", with: "") }
    }

    /// The steps of one run, in order; the first that fails ends it.
    enum Step: String, CaseIterable {
        case ready = "start: load + attach every telemetry program, listen"
        case socketGroup = "give the socket its group"
        case shapingSet = "shaping.set: qdiscs, cls_bpf filter, pins, state file"
        case shapingReset = "shaping.reset: filter and pins removed"
    }

    struct Outcome {
        var passed: [Step] = []
        var failure: (step: Step, reason: String)?
    }

    /// The group the socket is given: present on every Debian system, and root is not a member,
    /// so handing the socket to it needs CAP_CHOWN.
    let socketGroup = "adm"

    func testUnitCapabilitiesAreEnoughAndEachIsNeeded() throws {
        try requireRoot()
        try requireBTF()
        let caps = try Self.unitCapabilities()
        XCTAssertFalse(caps.isEmpty)
        XCTAssertFalse(caps.contains("sys_admin"), "the unit must not need CAP_SYS_ADMIN")

        let full = try run(capabilities: caps)
        XCTAssertNil(full.failure.map { "\($0.step.rawValue): \($0.reason)" },
                     "the agent must work with exactly the unit's capabilities \(caps)")
        XCTAssertEqual(full.passed, Step.allCases)
        var table = ["capabilities: unit set \(caps.joined(separator: ",")): all \(Step.allCases.count) steps pass"]

        for cap in caps {
            let outcome = try run(capabilities: caps.filter { $0 != cap })
            let failed = try XCTUnwrap(outcome.failure, "CAP_\(cap.uppercased()) is not needed by any step: drop it from the unit")
            table.append("  without CAP_\(cap.uppercased()): fails at \"\(failed.step.rawValue)\": \(failed.reason)")
        }
        print(table.joined(separator: "\n"))
    }

    /// Starts the agent in a fresh netns with a 4-queue veth under `setpriv --bounding-set` (uid 0,
    /// so its permitted and effective sets become exactly `capabilities`, as under systemd), and
    /// walks the steps.
    func run(capabilities: [String]) throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-caps-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let socket = dir.appendingPathComponent("agent.sock").path
        let pinPath = "/sys/fs/bpf/edgetest-caps-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? sh(["rm", "-rf", pinPath], check: false) }
        let ns = try ScratchNetns(prefix: "edgecaps")
        let peer = try ScratchNetns(prefix: "edgecapr")
        try Veth.add(VethEnd("veth0", in: ns.name, address: "10.231.0.1/24"), VethEnd("veth1", in: peer.name), queues: 4)
        let config = """
        [agent]
        node_name = "caps-node"
        state_dir = "\(dir.appendingPathComponent("state").path)"
        [telemetry]
        interval = "200ms"
        [rpc]
        socket = "\(socket)"
        group = "\(socketGroup)"
        [metrics]
        listen = ""
        [shaping]
        device = "veth0"
        pin_path = "\(pinPath)"
        """
        let configPath = dir.appendingPathComponent("agent.toml").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)

        let bounding = (["-all"] + capabilities.map { "+" + $0 }).joined(separator: ",")
        // nsenter, not `ip netns exec`: the latter mounts a fresh /sys without the host's bpffs,
        // which the agent (like under systemd) expects to find mounted rather than mount itself.
        let agent = try DaemonProcess("/usr/bin/nsenter",
                                      ["--net=/run/netns/\(ns.name)", "setpriv", "--bounding-set", bounding,
                                       "--inh-caps", "-all", "--",
                                       try Products.path("edge-agent"), "--config", configPath])
        defer { agent.stop() }
        var outcome = Outcome()
        func fail(_ step: Step, _ reason: String) -> Outcome {
            outcome.failure = (step, reason)
            return outcome
        }
        let client = RPCClient(path: socket, timeout: .seconds(5))

        // ready: the socket answers and no telemetry program is missing
        let up = agent.waitUntil(timeout: 20) { (try? client.call("agent.status") as AgentStatus) != nil }
        guard up else { return fail(.ready, lastLine(agent.log)) }
        let status: AgentStatus = try client.call("agent.status")
        guard status.telemetry.missing.isEmpty else { return fail(.ready, "missing programs \(status.telemetry.missing)") }
        outcome.passed.append(.ready)

        // socket group
        let attributes = try FileManager.default.attributesOfItem(atPath: socket)
        let gid = (attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value
        guard gid == getgrnam(socketGroup)?.pointee.gr_gid else {
            return fail(.socketGroup, "socket group id \(gid.map(String.init) ?? "?"): " + lastLine(agent.log, matching: "group"))
        }
        outcome.passed.append(.socketGroup)

        // shaping.set: the EDT filter must be on veth0's egress (cross-checked with tc)
        do {
            let _: JSONValue = try client.call("shaping.set", params: ShapingSetParams(selector: "10.231.0.1/32", rate: "20mbit"))
        } catch {
            return fail(.shapingSet, "\(error)")
        }
        let filters = try ns.run(["tc", "-j", "filter", "show", "dev", "veth0", "egress"]).stdout
        guard filters.contains("\"kind\":\"bpf\"") else { return fail(.shapingSet, "no cls_bpf filter on veth0: \(filters)") }
        outcome.passed.append(.shapingSet)

        do {
            let _: JSONValue = try client.call("shaping.reset")
        } catch {
            return fail(.shapingReset, "\(error)")
        }
        let after = try ns.run(["tc", "-j", "filter", "show", "dev", "veth0", "egress"]).stdout
        guard !after.contains("\"kind\":\"bpf\""), !FileManager.default.fileExists(atPath: pinPath) else {
            return fail(.shapingReset, "filter or pins left: \(after)")
        }
        outcome.passed.append(.shapingReset)
        return outcome
    }

    /// The agent's last log line (mentioning `matching`, when given): its own reason for failing.
    func lastLine(_ log: String, matching: String? = nil) -> String {
        let lines = log.split(separator: "\n").map(String.init)
        let picked = matching.flatMap { m in lines.last { $0.localizedCaseInsensitiveContains(m) } } ?? lines.last
        return picked.map { String($0.prefix(300)) } ?? "(no output)"
    }
}
