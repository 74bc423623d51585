// edgectl smoke against a real agent: run in the agent's namespace every signal moves; run
// from another namespace (which an agent counting only its own cannot see) the network
// signals are named as not moving and the exit status is 1. Both leave nothing behind.
import EdgeTestSupport
import Foundation
import XCTest

final class SmokeTests: XCTestCase {
    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
    }

    func smoke(in ns: ScratchNetns, socket: String) throws -> ShellResult {
        try ns.run([try Products.path("edgectl"), "smoke", "--socket", socket, "--seconds", "2"], check: false)
    }

    func namespaceName(_ out: String) -> String? {
        out.split(separator: " ").first { $0.hasPrefix("edgesmoke-") }.map { String($0.trimmingCharacters(in: .punctuationCharacters)) }
    }

    func testEverySignalMovesInTheAgentsNamespace() throws {
        let f = try OperatorAgentFixture()
        let r = try smoke(in: f.ns, socket: f.socket)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr + "\nagent log:\n" + f.agent.log)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for signal in ["rtt", "retransmits", "drops", "runqlat"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix("OK") && $0.contains(" \(signal) ") }, "\(signal) moved:\n\(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("QDISC_DROP"), "the drop is shown with its reason:\n\(r.stdout)")
        XCTAssertTrue(r.stdout.contains("every signal moved"), r.stdout)
        let name = try XCTUnwrap(namespaceName(r.stdout), r.stdout)
        XCTAssertFalse(try sh(["ip", "netns", "list"]).stdout.contains(name), "the smoke namespace was removed")
        XCTAssertFalse(try f.ns.run(["ip", "-o", "link", "show"]).stdout.contains("esm"), "the veth pair was removed")
    }

    func testSignalsThatCannotMoveAreNamed() throws {
        let f = try OperatorAgentFixture()
        // another namespace: the agent (telemetry.netns = self) cannot see its sockets and qdiscs,
        // while the scheduler's wake-ups are not per namespace
        let elsewhere = try ScratchNetns(prefix: "edgeop")
        let r = try smoke(in: elsewhere, socket: f.socket)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("smoke: did not move: rtt, retransmits, drops"), r.stdout)
        XCTAssertTrue(r.stdout.contains("counts only its own network namespace"), r.stdout)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("OK") && $0.contains(" runqlat ") }, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("FAILED") && $0.contains(" drops ") }, r.stdout)
        let name = try XCTUnwrap(namespaceName(r.stdout), r.stdout)
        XCTAssertFalse(try sh(["ip", "netns", "list"]).stdout.contains(name))
    }
}
