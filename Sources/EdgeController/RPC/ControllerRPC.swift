// The controller's JSON-RPC methods. All are read methods: the socket's group may call them.
import EdgeAPI
import EdgeConfig
import EdgeRPC
import Foundation

/// Registers the controller's methods on an `RPCRouter`.
public struct ControllerRPC: Sendable {
    public let registry: NodeRegistry
    public let extender: Extender
    public let config: ControllerConfig
    /// Builds the status answer (it needs daemon-level facts: uptime, listen address).
    public let status: @Sendable () -> ControllerStatusResult

    public init(registry: NodeRegistry, extender: Extender, config: ControllerConfig,
                status: @escaping @Sendable () -> ControllerStatusResult) {
        self.registry = registry
        self.extender = extender
        self.config = config
        self.status = status
    }

    public func register(on router: inout RPCRouter) {
        router.register(ControllerMethod.status, access: .read,
                        summary: "Controller version, listener, node counts and score settings.") { (_: RPCPeer) in
            self.status()
        }
        router.register(ControllerMethod.nodesList, access: .read,
                        summary: "Every node that reported: signals, staleness, score and priority.") { (_: RPCPeer) in
            NodesListResult(nodes: self.registry.snapshots().map(ScoreExplainer.summary))
        }
        router.register(ControllerMethod.scoreGet, access: .read,
                        summary: "Scores of one node ({node}) or all; {explain: true} adds the per-signal breakdown.") {
            (params: ScoreGetParams, _: RPCPeer) in
            try self.scores(params)
        }
        router.register(ControllerMethod.extenderDryRun, access: .read,
                        summary: "What /filter and /prioritize would return for {pod, node_names?}.") {
            (params: ExtenderDryRunParams, _: RPCPeer) in
            do {
                return try self.extender.dryRun(params)
            } catch let e as ExtenderRequestError {
                throw RPCError.invalidParams(e.reason)
            }
        }
    }

    func scores(_ params: ScoreGetParams) throws -> ScoreGetResult {
        let snaps: [NodeSnapshot]
        if let node = params.node {
            guard let s = registry.snapshot(node: node) else {
                throw RPCError.notFound("no report received from node '\(node)'")
            }
            snaps = [s]
        } else {
            snaps = registry.snapshots()
        }
        let explain = params.explain ?? false
        let score = registry.scoreSettings // the live settings: a reload replaces them
        return ScoreGetResult(
            normalisation: score.normalisation.rawValue, smoothing: score.smoothing,
            hysteresis: score.hysteresis,
            scores: snaps.map { ScoreExplainer.explain($0, settings: score, registry: config.registry,
                                                        damping: config.damping, explain: explain) })
    }
}
