// The kube-scheduler extender: request body in, response body out (read → decide → write).
// Used by the HTTP routes, the `extender.dryrun` RPC and the benchmark, so all three run the same code.
//
// The live path reads bodies with jansson (`ParsedExtenderArgs`) and writes responses directly
// (`ExtenderResponseWriter`): at 1 000 candidates JSONDecoder + JSONEncoder cost ~2 ms where this
// costs a tenth of that (see `ExtenderBenchmark`). The Codable path (`ExtenderFoundationPath.swift`)
// is kept as the reference the benchmark and the equivalence tests compare against.
import EdgeCore
import EdgeJansson
import Foundation
import Synchronization

/// An HTTP-ready reply.
public struct ExtenderReply: Sendable {
    public var status: Int
    public var body: Data
    /// /filter: the reason of every node filtered out (for the metrics, not the wire).
    public var filteredReasons: [String] = []
    /// /prioritize: the candidate given the highest priority (the first of equals), i.e. where
    /// this placement decision steers the pod.
    public var placedOn: String? = nil

    public init(status: Int, body: Data, filteredReasons: [String] = [], placedOn: String? = nil) {
        self.status = status
        self.body = body
        self.filteredReasons = filteredReasons
        self.placedOn = placedOn
    }
}

/// Answers `/filter` and `/prioritize` from the registry.
public struct Extender: Sendable {
    public let registry: NodeRegistry
    /// Shared by every copy of this extender (HTTP routes, RPC), so a reload reaches all of them.
    private let rules: PolicyHolder
    /// The rules in force; each request reads them once.
    public var policy: ExtenderPolicy { rules.get() }

    public init(registry: NodeRegistry, policy: ExtenderPolicy) {
        self.registry = registry
        self.rules = PolicyHolder(policy)
    }

    /// New [filter] limits (reload); the next request uses them.
    public func apply(filter: ControllerConfig.Filter) {
        rules.update { $0.filter = filter }
    }

    /// `/filter`: a request that cannot be understood gets 400 with the reason in `Error`.
    /// The reply has the request's shape: `NodeNames` in → `NodeNames` out, `Nodes` in → the
    /// passing `v1.Node` objects out, unchanged.
    public func handleFilter(body: Data, now: MonotonicInstant = .now) -> ExtenderReply {
        do {
            let args = try ParsedExtenderArgs.read(body)
            let names = try args.candidateNames()
            let decision = decideFilter(names, now: now)
            var kept: [JanssonValue] = []
            if let list = args.nodeList, list.kind == .object, let items = try args.nodeItems() {
                if args.nodeNames == nil {
                    kept = decision.passing.map { items[$0] } // the names were read from these items, in order
                } else {
                    // Both shapes sent (kube-scheduler never does): keep the items whose name passed.
                    let passed = Set(decision.passing.map { names[$0] })
                    kept = items.filter { $0["metadata"]?["name"]?.stringValue.map(passed.contains) ?? false }
                }
            }
            let body = ExtenderResponseWriter.filterResult(
                nodeNames: args.nodeNames == nil ? nil : decision.passing.map { names[$0] },
                failed: decision.failed, unresolvable: decision.unresolvable,
                nodeList: args.nodeList?.kind == .object ? args.nodeList : nil, keptItems: kept, error: "")
            return ExtenderReply(status: 200, body: Data(body),
                                 filteredReasons: Array(decision.failed.values) + Array(decision.unresolvable.values))
        } catch {
            return ExtenderReply(status: 400, body: Data(ExtenderResponseWriter.filterError("edgenode: \(error)")))
        }
    }

    /// `/prioritize`: one priority per candidate in request order; 400 with `{"Error": reason}`
    /// when the request cannot be understood (kube-scheduler ignores prioritize errors, so the pod
    /// still schedules).
    public func handlePrioritize(body: Data, now: MonotonicInstant = .now) -> ExtenderReply {
        do {
            let names = try ParsedExtenderArgs.read(body).candidateNames()
            let scores = priorities(names, now: now)
            let body = ExtenderResponseWriter.hostPriorityList(hosts: names, scores: scores)
            let best = scores.indices.max { a, b in scores[a] < scores[b] || (scores[a] == scores[b] && a > b) }
            return ExtenderReply(status: 200, body: Data(body), placedOn: best.map { names[$0] })
        } catch {
            return ExtenderReply(status: 400, body: Data(ExtenderResponseWriter.prioritizeError("edgenode: \(error)")))
        }
    }

    // MARK: - decisions (shared by both paths)

    /// The filter's answer per candidate: indices of the passing ones (request order) and the
    /// reasons of the others (a name given twice appears once).
    struct FilterDecision {
        var passing: [Int] = []
        var failed: [String: String] = [:]
        var unresolvable: [String: String] = [:]
    }

    func decideFilter(_ names: [String], now: MonotonicInstant) -> FilterDecision {
        var decision = FilterDecision()
        decision.passing.reserveCapacity(names.count)
        let policy = self.policy
        registry.withRecords(reading: NodeFacts.init) { lookup in
            for (i, name) in names.enumerated() {
                switch policy.verdict(for: lookup(name), now: now) {
                case .pass: decision.passing.append(i)
                case let .failed(reason): decision.failed[name] = reason
                case let .unresolvable(reason): decision.unresolvable[name] = reason
                }
            }
        }
        return decision
    }

    /// One priority per candidate, in request order, under one registry lock.
    func priorities(_ names: [String], now: MonotonicInstant) -> [Int64] {
        let policy = self.policy
        return registry.withRecords(reading: NodeFacts.init) { lookup in
            names.map { Int64(policy.priority(for: lookup($0), now: now)) }
        }
    }
}

/// The extender's rules behind a lock: read once per request, replaced on reload.
final class PolicyHolder: Sendable {
    private let value: Mutex<ExtenderPolicy>
    init(_ policy: ExtenderPolicy) { value = Mutex(policy) }
    func get() -> ExtenderPolicy { value.withLock { $0 } }
    func update(_ body: (inout ExtenderPolicy) -> Void) { value.withLock { body(&$0) } }
}
