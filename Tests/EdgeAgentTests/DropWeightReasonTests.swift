// Issue 13: a telemetry.drop_weights key that the running kernel does not define used to be
// accepted and then never matched. It is refused at start and on reload, listing this kernel's
// reasons (from its BTF enum skb_drop_reason). Root + BTF; the real edge-agent in a namespace.
@testable import EdgeAgent
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class DropWeightReasonTests: XCTestCase {
    func testUnknownReasonsAreNamedWithTheKernelsList() throws {
        try requireBTF()
        let known = KernelTelemetry.loadDropReasonNames().values
        XCTAssertTrue(known.contains("NO_SOCKET"))
        XCTAssertNil(DropWeightReasons.problem(weights: ["NO_SOCKET": 0.5, "QDISC_DROP": 2], known: known))
        let problem = try XCTUnwrap(DropWeightReasons.problem(weights: ["NO_SOCKET": 0.5, "NO_SUCH_REASON": 2], known: known))
        XCTAssertTrue(problem.hasPrefix("telemetry.drop_weights: unknown drop reason NO_SUCH_REASON "), problem)
        XCTAssertTrue(problem.contains("QDISC_DROP"), "the valid reasons are listed: \(problem)")
        XCTAssertNil(DropWeightReasons.problem(weights: ["ANYTHING": 1], known: [String]()), "no BTF enum: not checked")
    }

    func agentConfig(_ dir: URL, extra: String) -> String {
        """
        [agent]
        node_name = "reasons-node"
        [telemetry]
        interval = "200ms"
        [rpc]
        socket = "\(dir.appendingPathComponent("agent.sock").path)"
        group = ""
        [metrics]
        listen = ""
        \(extra)
        """
    }

    func testTheAgentRefusesAnUnknownReasonAtStartAndOnReload() throws {
        try requireRoot()
        try requireBTF()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-reasons-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ns = try ScratchNetns()
        let config = dir.appendingPathComponent("agent.toml")
        try agentConfig(dir, extra: "[telemetry.drop_weights]\nNO_SOCKET = 0.5\nNO_SUCH_REASON = 2\n")
            .write(to: config, atomically: true, encoding: .utf8)
        let refused = try DaemonProcess(try Products.path("edge-agent"), ["--config", config.path], netns: ns.name)
        refused.process.waitUntilExit()
        XCTAssertNotEqual(refused.process.terminationStatus, 0, refused.log)
        XCTAssertTrue(refused.log.contains("unknown drop reason NO_SUCH_REASON"), refused.log)

        try agentConfig(dir, extra: "[telemetry.drop_weights]\nNO_SOCKET = 0.5\n").write(to: config, atomically: true, encoding: .utf8)
        let agent = try DaemonProcess(try Products.path("edge-agent"), ["--config", config.path], netns: ns.name)
        defer { agent.stop() }
        XCTAssertTrue(agent.waitUntil { FileManager.default.fileExists(atPath: dir.appendingPathComponent("agent.sock").path) }, agent.log)
        try agentConfig(dir, extra: "[telemetry.drop_weights]\nNO_SOKET = 0.5\n").write(to: config, atomically: true, encoding: .utf8)
        kill(agent.process.processIdentifier, SIGHUP)
        XCTAssertTrue(agent.waitUntil(timeout: 5) { agent.log.contains("reload refused") }, agent.log)
        XCTAssertTrue(agent.log.contains("unknown drop reason NO_SOKET"), agent.log)
    }
}
