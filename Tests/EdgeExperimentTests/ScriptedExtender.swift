// Extender answers written by hand for the placement tests: the placement arithmetic is checked
// against exact inputs (which node passed /filter, which priority each got), something the real
// controller only produces after seconds of telemetry and never on demand. Every call is recorded
// so the tests can check what kube-scheduler's side asked, and in which order.
@testable import edge_experiment
import Foundation

struct ScriptedFailure: Error, CustomStringConvertible {
    var description: String
}

final class ScriptedExtender: ExtenderVerbs {
    /// /filter's answer for (pod, offered nodes); throwing stands for a failed call.
    var filterAnswer: (String, [String]) throws -> (passed: [String], failed: [String: String])
    /// /prioritize's answer for (pod, offered nodes).
    var prioritizeAnswer: (String, [String]) throws -> [String: Int]
    private(set) var filterCalls: [(pod: String, nodes: [String])] = []
    private(set) var prioritizeCalls: [(pod: String, nodes: [String])] = []

    /// Every node passes /filter; /prioritize answers `priorities` (missing nodes are left out).
    init(priorities: [String: Int]) {
        filterAnswer = { _, nodes in (nodes, [:]) }
        prioritizeAnswer = { _, nodes in priorities.filter { nodes.contains($0.key) } }
    }

    func filter(pod: String, nodeNames: [String]) throws -> (passed: [String], failed: [String: String]) {
        filterCalls.append((pod, nodeNames))
        return try filterAnswer(pod, nodeNames)
    }

    func prioritize(pod: String, nodeNames: [String]) throws -> [String: Int] {
        prioritizeCalls.append((pod, nodeNames))
        return try prioritizeAnswer(pod, nodeNames)
    }
}
