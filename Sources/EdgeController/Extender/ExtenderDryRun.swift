// `extender.dryrun`: what /filter and /prioritize would answer for a pod, run through the same code.
import EdgeAPI
import Foundation

extension Extender {
    /// Runs both verbs on `NodeNames` = `params.nodeNames` (default: every node in the registry).
    public func dryRun(_ params: ExtenderDryRunParams, now: MonotonicInstant = .now) throws -> ExtenderDryRunResult {
        let pod: PodReference?
        if let p = params.pod, p != .null {
            guard case .object = p else { throw ExtenderRequestError(reason: "pod must be a v1.Pod object") }
            pod = PodReference(metadata: .init(name: p["metadata"]?["name"]?.stringValue,
                                               namespace: p["metadata"]?["namespace"]?.stringValue,
                                               uid: p["metadata"]?["uid"]?.stringValue))
        } else {
            pod = nil
        }
        let names = params.nodeNames ?? registry.snapshots(now: now).map(\.name)
        let args = ExtenderArgs(pod: pod, nodes: nil, nodeNames: names)
        let body = try ExtenderJSON.encoder().encode(args)
        // Through the byte-level handlers, so the verbatim answers are exactly what HTTP would send.
        let filterReply = handleFilter(body: body, now: now)
        let prioritizeReply = handlePrioritize(body: body, now: now)
        let filtered = try ExtenderJSON.decoder().decode(ExtenderFilterResult.self, from: filterReply.body)
        let priorities = try ExtenderJSON.decoder().decode([HostPriority].self, from: prioritizeReply.body)
        return ExtenderDryRunResult(
            pod: pod?.displayName ?? "<no pod>",
            candidates: names,
            passed: filtered.nodeNames ?? [],
            failed: filtered.failedNodes.sorted { $0.key < $1.key }.map { NodeReason(node: $0.key, reason: $0.value) },
            failedAndUnresolvable: filtered.failedAndUnresolvableNodes.sorted { $0.key < $1.key }
                .map { NodeReason(node: $0.key, reason: $0.value) },
            priorities: priorities.map { NodePriority(node: $0.host, priority: Int($0.score)) }
                .sorted { ($0.priority, $1.node) > ($1.priority, $0.node) },
            filterResponse: String(decoding: filterReply.body, as: UTF8.self),
            prioritizeResponse: String(decoding: prioritizeReply.body, as: UTF8.self))
    }
}
