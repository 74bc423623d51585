// The typed method descriptors reach the same wire names as before, and the server's method table
// is exactly the descriptors' (a method registered under another name, or a descriptor nobody
// serves, fails here).
import EdgeAPI
import EdgeRPC
import Foundation
import XCTest

final class RPCMethodTests: XCTestCase {
    func testDescriptorNamesAreTheWireNames() {
        XCTAssertEqual([AgentMethod.status.name, AgentMethod.telemetryGet.name, AgentMethod.telemetryReasons.name,
                        AgentMethod.shapingList.name, AgentMethod.shapingSet.name, AgentMethod.shapingDelete.name,
                        AgentMethod.shapingReset.name, AgentMethod.podAdd.name, AgentMethod.podCheck.name,
                        AgentMethod.podDelete.name, AgentMethod.qdiscShow.name],
                       ["agent.status", "telemetry.get", "telemetry.reasons", "shaping.list", "shaping.set", "shaping.delete",
                        "shaping.reset", "shaping.pod.add", "shaping.pod.check", "shaping.pod.delete", "qdisc.show"])
        XCTAssertEqual([ControllerMethod.status.name, ControllerMethod.nodesList.name, ControllerMethod.scoreGet.name,
                        ControllerMethod.extenderDryRun.name],
                       ["controller.status", "nodes.list", "score.get", "extender.dryrun"])
    }

    /// A typed registration answers a typed call over a real socket, and its params are decoded
    /// as the descriptor says (a wrong type is refused as invalid params).
    func testTypedRegistrationAndCall() async throws {
        var router = RPCRouter()
        router.register(ControllerMethod.scoreGet, access: .read, summary: "test") { (p: ScoreGetParams, _) in
            ScoreGetResult(normalisation: p.node ?? "all", smoothing: 0.3, hysteresis: 0.05, scores: [])
        }
        let peer = RPCPeer(pid: 1, uid: 0, gid: 0, canWrite: false)
        let answer = await router.handle(frame: Data(#"{"jsonrpc":"2.0","id":1,"method":"score.get","params":{"node":"n1"}}"#.utf8), peer: peer)
        XCTAssertTrue(String(decoding: answer ?? Data(), as: UTF8.self).contains(#""normalisation":"n1""#), String(decoding: answer ?? Data(), as: UTF8.self))
        let wrong = await router.handle(frame: Data(#"{"jsonrpc":"2.0","id":2,"method":"score.get","params":{"node":7}}"#.utf8), peer: peer)
        XCTAssertTrue(String(decoding: wrong ?? Data(), as: UTF8.self).contains("-32602"), "invalid params")
    }
}
