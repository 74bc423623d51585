// edgectl extender test: what the scheduler extender would answer for a pod, without kube-scheduler.
import ArgumentParser
import EdgeAPI
import EdgeCore
import EdgeRPC
import Foundation

struct ExtenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extender",
        abstract: "Exercise the controller's kube-scheduler extender.",
        subcommands: [ExtenderTestCommand.self])
}

struct ExtenderTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Show what /filter and /prioritize would return for a pod (v1.Pod JSON).")

    @OptionGroup var controller: ControllerSocketOptions
    @Option(name: .long, help: "File holding the pod as JSON (e.g. kubectl get pod NAME -o json).")
    var podFile: String
    @Option(name: .customLong("node"), help: "Candidate node (repeat); default: every node the controller knows.")
    var nodes: [String] = []
    @Flag(help: "Print the answer as JSON, including the verbatim extender bodies.") var json = false

    func run() throws {
        let pod = try Self.readPod(podFile)
        var params: [String: JSONValue] = ["pod": pod]
        if !nodes.isEmpty { params["node_names"] = .array(nodes.map { .string($0) }) }
        // Raw params: the pod must travel with its keys exactly as Kubernetes wrote them.
        let raw = try controller.client().callRaw(ControllerMethod.extenderDryRun, params: .object(params))
        let r = try EdgeJSON.decoder().decode(ExtenderDryRunResult.self, from: JSONEncoder().encode(raw))
        if json { return try printJSON(r) }
        print(Self.render(r))
    }

    static func readPod(_ path: String) throws -> JSONValue {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("cannot read --pod-file \(path): \(error.localizedDescription)")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ValidationError("--pod-file \(path) is not valid JSON: \(error)")
        }
        guard case .object = value, value["metadata"] != nil else {
            throw ValidationError("--pod-file \(path) is not a v1.Pod object (no metadata)")
        }
        return value
    }

    static func render(_ r: ExtenderDryRunResult) -> String {
        var out = "pod \(r.pod): \(r.passed.count) of \(r.candidates.count) candidates pass /filter\n\n"
        var t = TextTable("NODE", "FILTER", "PRIORITY", "REASON")
        let failed = Dictionary(r.failed.map { ($0.node, $0.reason) }, uniquingKeysWith: { a, _ in a })
        let unresolvable = Dictionary(r.failedAndUnresolvable.map { ($0.node, $0.reason) }, uniquingKeysWith: { a, _ in a })
        for p in r.priorities {
            if let reason = unresolvable[p.node] {
                t.add(p.node, "unresolvable", String(p.priority), reason)
            } else if let reason = failed[p.node] {
                t.add(p.node, "failed", String(p.priority), reason)
            } else {
                t.add(p.node, "pass", String(p.priority), "")
            }
        }
        out += t.render()
        return out
    }
}
