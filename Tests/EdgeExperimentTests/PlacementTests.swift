// Where Placer puts replicas in both modes, on inputs whose outcome is worked out by hand from
// kube-scheduler's sum: total = 2 · spread + priority · weight · 10, spread = 100 · (max − count) / max
// (100 everywhere while the candidates are empty), ties to the earlier node.
@testable import edge_experiment
import XCTest

final class PlacementTests: XCTestCase {
    let nodes = ["n1", "n2", "n3", "n4"]

    private func place(_ replicas: Int, policy: PlacementPolicy, _ ext: ScriptedExtender?, weight: Double = 5,
                       ignorable: Bool = true, nodes: [String]? = nil) throws -> PlacementDecision {
        try Placer.place(replicas: replicas, nodes: nodes ?? self.nodes, policy: policy, extender: ext,
                         extenderWeight: weight, ignorable: ignorable, podPrefix: "web")
    }

    func testSpreadScoreOfThePlugin() {
        XCTAssertEqual(Placer.spreadScore(count: 0, maxCount: 0), 100)
        XCTAssertEqual(Placer.spreadScore(count: 0, maxCount: 1), 100)
        XCTAssertEqual(Placer.spreadScore(count: 1, maxCount: 2), 50)
        XCTAssertEqual(Placer.spreadScore(count: 2, maxCount: 2), 0)
        XCTAssertEqual(Placer.spreadScore(count: 1, maxCount: 3), 100 * 2.0 / 3, accuracy: 1e-12)
    }

    func testPickBreaksTiesByNodeOrderAndCountsMissingPriorityAsZero() {
        // all empty, equal priorities: the first node
        XCTAssertEqual(Placer.pick(candidates: ["b", "a"], counts: [:], priority: ["a": 3, "b": 3], extenderWeight: 5), "b")
        // "a" has no priority: 200 + 0 < 200 + 1·5·10
        XCTAssertEqual(Placer.pick(candidates: ["a", "b"], counts: [:], priority: ["b": 1], extenderWeight: 5), "b")
        // a = 2·50 + 4·10 = 140, b = 2·0 + 6·10 = 60, c = 2·100 + 0 = 200
        XCTAssertEqual(Placer.pick(candidates: ["a", "b", "c"], counts: ["a": 1, "b": 2, "c": 0],
                                   priority: ["a": 4, "b": 6], extenderWeight: 1), "c")
        XCTAssertNil(Placer.pick(candidates: [], counts: [:], priority: [:], extenderWeight: 5))
    }

    func testBaselineSpreadsRoundRobinAndNeverAsksTheExtender() throws {
        // telemetry would send everything to n3; the baseline must not even ask
        let ext = ScriptedExtender(priorities: ["n1": 0, "n2": 0, "n3": 10, "n4": 0])
        let four = try place(4, policy: .spread, ext)
        XCTAssertEqual(four.nodes, ["n1", "n2", "n3", "n4"])
        // after one each, all spread scores are 0 (tie → n1), then n1 holds 2 → others 50 → n2
        let six = try place(6, policy: .spread, ext)
        XCTAssertEqual(six.nodes, ["n1", "n2", "n3", "n4", "n1", "n2"])
        XCTAssertTrue(ext.filterCalls.isEmpty)
        XCTAssertTrue(ext.prioritizeCalls.isEmpty)
        XCTAssertEqual(six.notes, [])
        // the extender policy without an extender configured is the default scheduler too
        XCTAssertEqual(try place(4, policy: .extender, nil).nodes, ["n1", "n2", "n3", "n4"])
    }

    func testProposedAvoidsTheDegradedNodeAtTheShippedWeight() throws {
        // n1 degraded (priority 0). Weight 5 → priority term p·50: n1 0, n2 500, n3 450, n4 500.
        // web-0: 200 + {0, 500, 450, 500} → n2 (tie with n4, earlier wins)
        // web-1: max 1; n1 200, n2 0+500, n3 200+450, n4 200+500 = 700 → n4
        // web-2: n1 200, n2 500, n3 650, n4 500 → n3
        // web-3: n1 200, n2 500, n3 450, n4 500 → n2
        let ext = ScriptedExtender(priorities: ["n1": 0, "n2": 10, "n3": 9, "n4": 10])
        let d = try place(4, policy: .extender, ext)
        XCTAssertEqual(d.nodes, ["n2", "n4", "n3", "n2"])
        XCTAssertEqual(ext.filterCalls.map(\.pod), ["web-0", "web-1", "web-2", "web-3"])
        XCTAssertTrue(ext.filterCalls.allSatisfy { $0.nodes == self.nodes })
        XCTAssertEqual(ext.prioritizeCalls.map(\.pod), ["web-0", "web-1", "web-2", "web-3"])
        XCTAssertEqual(d.notes, [])
    }

    func testAtWeightOneSpreadingOutweighsThePriorities() throws {
        // priority term p·10: n1 0, n2 100, n3 90, n4 100
        // web-0: 200 + … → n2 (300, tie n4); web-1: n1 200, n2 100, n3 290, n4 300 → n4
        // web-2: n1 200, n2 100, n3 290, n4 100 → n3; web-3: n1 200, n2 100, n3 90, n4 100 → n1
        let ext = ScriptedExtender(priorities: ["n1": 0, "n2": 10, "n3": 9, "n4": 10])
        XCTAssertEqual(try place(4, policy: .extender, ext, weight: 1).nodes, ["n2", "n4", "n3", "n1"])
    }

    func testEqualPrioritiesFallBackToSpreading() throws {
        let ext = ScriptedExtender(priorities: ["n1": 7, "n2": 7, "n3": 7, "n4": 7])
        XCTAssertEqual(try place(5, policy: .extender, ext).nodes, ["n1", "n2", "n3", "n4", "n1"])
    }

    func testFilteredStaleNodeIsNeitherPrioritisedNorChosen() throws {
        // /filter fails n1 (stale telemetry) but /prioritize would rate it 10 if asked
        let ext = ScriptedExtender(priorities: ["n1": 10, "n2": 5, "n3": 5, "n4": 5])
        ext.filterAnswer = { _, offered in (offered.filter { $0 != "n1" }, ["n1": "telemetry stale (last report 4.0 s ago)"]) }
        let d = try place(4, policy: .extender, ext)
        XCTAssertEqual(d.nodes, ["n2", "n3", "n4", "n2"])
        XCTAssertTrue(ext.prioritizeCalls.allSatisfy { $0.nodes == ["n2", "n3", "n4"] })
        XCTAssertEqual(d.notes.count, 4)
        XCTAssertEqual(d.notes.first, "web-0: filtered n1 (telemetry stale (last report 4.0 s ago))")
    }

    func testAPriorityForANodeOutsideTheCandidatesIsIgnored() throws {
        // a misbehaving extender rates a node it was not asked about
        let ext = ScriptedExtender(priorities: [:])
        ext.filterAnswer = { _, offered in (["n2", "n3"], ["n1": "down", "n4": "down"]) }
        ext.prioritizeAnswer = { _, _ in ["n1": 10, "n3": 1] }
        XCTAssertEqual(try place(2, policy: .extender, ext).nodes, ["n3", "n2"])
    }

    func testEveryNodeFilteredMakesThePodUnschedulable() {
        let ext = ScriptedExtender(priorities: [:])
        ext.filterAnswer = { _, offered in ([], Dictionary(uniqueKeysWithValues: offered.map { ($0, "stale") })) }
        XCTAssertThrowsError(try place(2, policy: .extender, ext)) { error in
            XCTAssertEqual("\(error)", "web-0 unschedulable: every node failed /filter")
        }
        XCTAssertTrue(ext.prioritizeCalls.isEmpty)
    }

    func testIgnorableFilterErrorKeepsEveryNodeAndStillUsesPriorities() throws {
        // weight 5: web-0 n3 = 200 + 500; web-1 n3 = 0 + 500 > 200 elsewhere
        let ext = ScriptedExtender(priorities: ["n1": 0, "n2": 0, "n3": 10, "n4": 0])
        ext.filterAnswer = { _, _ in throw ScriptedFailure(description: "connection refused") }
        let d = try place(2, policy: .extender, ext)
        XCTAssertEqual(d.nodes, ["n3", "n3"])
        XCTAssertEqual(d.notes, ["web-0: /filter error, extender ignored (ignorable): connection refused",
                                 "web-1: /filter error, extender ignored (ignorable): connection refused"])
        XCTAssertTrue(ext.prioritizeCalls.allSatisfy { $0.nodes == self.nodes })
    }

    func testNotIgnorableFilterErrorFailsThePod() {
        let ext = ScriptedExtender(priorities: [:])
        ext.filterAnswer = { _, _ in throw ScriptedFailure(description: "HTTP 500") }
        XCTAssertThrowsError(try place(1, policy: .extender, ext, ignorable: false)) { error in
            XCTAssertEqual("\(error)", "web-0 unschedulable: /filter failed: HTTP 500")
        }
    }

    func testPrioritizeErrorIsIgnoredAndSpreadingDecides() throws {
        let ext = ScriptedExtender(priorities: [:])
        ext.prioritizeAnswer = { _, _ in throw ScriptedFailure(description: "timeout") }
        let d = try place(4, policy: .extender, ext)
        XCTAssertEqual(d.nodes, ["n1", "n2", "n3", "n4"])
        XCTAssertEqual(d.notes.last, "web-3: /prioritize error ignored: timeout")
    }

    func testExtenderAnswersCountPodsTheExtenderSpokeFor() throws {
        // the MTTR measurement waits for a decision with 0 answers: default scheduling restored
        let ext = ScriptedExtender(priorities: ["n1": 0, "n2": 10, "n3": 10, "n4": 10])
        XCTAssertEqual(try place(3, policy: .extender, ext).extenderAnswers, 3)
        XCTAssertEqual(try place(3, policy: .spread, ext).extenderAnswers, 0)
        // /filter fails but /prioritize answers: the extender still shaped the decision
        ext.filterAnswer = { _, _ in throw ScriptedFailure(description: "connection refused") }
        XCTAssertEqual(try place(2, policy: .extender, ext).extenderAnswers, 2)
    }

    func testAStoppedExtenderGivesExactlyDefaultSpreading() throws {
        let ext = ScriptedExtender(priorities: [:])
        ext.filterAnswer = { _, _ in throw ScriptedFailure(description: "connection refused") }
        ext.prioritizeAnswer = { _, _ in throw ScriptedFailure(description: "connection refused") }
        let rolledBack = try place(4, policy: .extender, ext)
        XCTAssertEqual(rolledBack.extenderAnswers, 0)
        XCTAssertEqual(rolledBack.nodes, try place(4, policy: .spread, nil).nodes)
        XCTAssertEqual(rolledBack.notes.count, 8, "a filter and a prioritize note per pod: \(rolledBack.notes)")
    }

    func testBadNodeListsAreRefusedByName() {
        XCTAssertThrowsError(try place(1, policy: .spread, nil, nodes: [])) { error in
            XCTAssertEqual("\(error)", "no candidate nodes to place web replicas on")
        }
        XCTAssertThrowsError(try place(1, policy: .spread, nil, nodes: ["n1", "n2", "n1"])) { error in
            XCTAssertEqual("\(error)", #"candidate node names must be distinct: ["n1", "n2", "n1"]"#)
        }
    }
}
