// The runner's side of the extender protocol goes through EdgeAPI's wire types: the body it sends
// is the one kube-scheduler sends, and it reads the controller's answers (the goldens pinned by
// EdgeControllerTests/ExtenderTests) back to what Placer needs.
@testable import edge_experiment
import Foundation
import XCTest

final class ExtenderClientTests: XCTestCase {
    func testArgsAreTheNodeCacheCapableBody() throws {
        let body = try ExtenderClient.args(pod: "web-1", nodeNames: ["edge-a", "edge-b"])
        XCTAssertEqual(String(decoding: body, as: UTF8.self),
                       #"{"NodeNames":["edge-a","edge-b"],"Nodes":null,"Pod":{"metadata":{"name":"web-1","namespace":"default"}}}"#)
        // the same JSON value as the hand-built dictionary the runner used to send
        let before: NSDictionary = [
            "Pod": ["metadata": ["name": "web-1", "namespace": "default"]],
            "Nodes": NSNull(),
            "NodeNames": ["edge-a", "edge-b"],
        ]
        XCTAssertEqual(try JSONSerialization.jsonObject(with: body) as? NSDictionary, before)
    }

    func testFilterAnswerCountsBothKindsOfFailure() throws {
        let golden = #"{"Error":"","FailedAndUnresolvableNodes":{"edge-s":"edgenode: telemetry stale (no report within registry.stale_after)"},"FailedNodes":{"edge-b":"edgenode: cpu above filter.max_cpu"},"NodeNames":["edge-a","edge-x"],"Nodes":null}"#
        let answer = try ExtenderClient.filterAnswer(Data(golden.utf8))
        XCTAssertEqual(answer.passed, ["edge-a", "edge-x"])
        XCTAssertEqual(answer.failed, ["edge-s": "edgenode: telemetry stale (no report within registry.stale_after)",
                                       "edge-b": "edgenode: cpu above filter.max_cpu"])
    }

    func testFilterErrorAndNonAnswersThrow() {
        let failed = #"{"Error":"edgenode: ExtenderArgs has neither Nodes nor NodeNames","FailedAndUnresolvableNodes":{},"FailedNodes":{},"NodeNames":null,"Nodes":null}"#
        XCTAssertThrowsError(try ExtenderClient.filterAnswer(Data(failed.utf8))) {
            XCTAssertEqual("\($0)", "/filter: edgenode: ExtenderArgs has neither Nodes nor NodeNames")
        }
        XCTAssertThrowsError(try ExtenderClient.filterAnswer(Data("[]".utf8)))
    }

    func testPrioritiesFromTheHostPriorityList() throws {
        let golden = #"[{"Host":"edge-a","Score":9},{"Host":"edge-b","Score":6},{"Host":"edge-s","Score":0},{"Host":"edge-x","Score":0}]"#
        XCTAssertEqual(try ExtenderClient.priorities(Data(golden.utf8)), ["edge-a": 9, "edge-b": 6, "edge-s": 0, "edge-x": 0])
        XCTAssertThrowsError(try ExtenderClient.priorities(Data(#"[{"Host":"edge-a"}]"#.utf8)))
        XCTAssertThrowsError(try ExtenderClient.priorities(Data("{}".utf8)))
    }
}
