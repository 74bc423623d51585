// The kube-scheduler extender: request body in, response body out (read → decide → write).
// Used by the HTTP routes, the `extender.dryrun` RPC and the benchmark, so all three run the same code.
//
// The live path reads bodies with jansson (`ParsedExtenderArgs`) and writes responses directly
// (`ExtenderResponseWriter`): at 1 000 candidates JSONDecoder + JSONEncoder cost ~2 ms where this
// costs a tenth of that (see `ExtenderBenchmark`). The Codable path (`ExtenderFoundationPath.swift`,
// in the lab module EdgeControllerLab: the daemon never runs it) is kept as the reference the
// benchmark, the equivalence tests and the extender fuzzer compare against; it reaches the
// decisions below through `package` access.
import EdgeConfig
import EdgeCore
import EdgeJansson
import Foundation
import Synchronization

/// An HTTP-ready reply.
public struct ExtenderReply: Sendable {
    public var status: Int
    public var body: Data
    /// The answer was given in panic (too few fresh candidates: nothing filtered, priorities flat).
    public var panic = false
    /// For /filter: what the logs and /metrics get (live values stay out of the body).
    public var filter: FilterSummary?
    /// /filter: the reason of every node filtered out (for the metrics, not the wire).
    public var filteredReasons: [String] = []
    /// /prioritize: the candidate given the highest priority (the first of equals), i.e. where
    /// this placement decision steers the pod.
    public var placedOn: String? = nil

    public init(status: Int, body: Data, panic: Bool = false, filter: FilterSummary? = nil,
                filteredReasons: [String] = [], placedOn: String? = nil) {
        self.status = status
        self.body = body
        self.panic = panic
        self.filter = filter
        self.filteredReasons = filteredReasons
        self.placedOn = placedOn
    }
}

/// What one /filter call decided, for logs and metrics.
public struct FilterSummary: Sendable {
    public var fresh: Int
    public var candidates: Int
    /// Nodes turned away per cause: "stale", "suppressed", "limit".
    public var rejected: [String: Int]
    /// "node: live values" of nodes turned away (only when details were asked for).
    public var details: [String]
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
    public func handleFilter(body: Data, now: MonotonicInstant = .now, details: Bool = false) -> ExtenderReply {
        do {
            let args = try ParsedExtenderArgs.read(body)
            let names = try args.candidateNames()
            let decision = decideFilter(names, now: now, details: details)
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
            return ExtenderReply(status: 200, body: Data(body), panic: decision.panic,
                                 filter: FilterSummary(fresh: decision.fresh, candidates: decision.candidates,
                                                       rejected: decision.rejected, details: decision.details),
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
            let answer = priorities(names, now: now)
            let scores = answer.scores
            let body = ExtenderResponseWriter.hostPriorityList(hosts: names, scores: scores)
            let best = scores.indices.max { a, b in scores[a] < scores[b] || (scores[a] == scores[b] && a > b) }
            return ExtenderReply(status: 200, body: Data(body), panic: answer.panic, placedOn: best.map { names[$0] })
        } catch {
            return ExtenderReply(status: 400, body: Data(ExtenderResponseWriter.prioritizeError("edgenode: \(error)")))
        }
    }

    // MARK: - decisions (shared by both paths)

    /// The filter's answer per candidate: indices of the passing ones (request order) and the
    /// reasons of the others (a name given twice appears once).
    package struct FilterDecision {
        package var passing: [Int] = []
        package var failed: [String: String] = [:]
        package var unresolvable: [String: String] = [:]
        /// Candidates with fresh telemetry, of `candidates`.
        var fresh = 0
        var candidates = 0
        /// Too few fresh candidates: nothing was filtered (Envoy's panic mode).
        var panic = false
        /// How many nodes were turned away, per cause ("stale", "suppressed", "limit").
        var rejected: [String: Int] = [:]
        /// Live values of the nodes turned away (only when asked for: the debug log), at most 20.
        var details: [String] = []
    }

    /// Nodes suppressed by flap damping are filtered only while some other candidate passes: damping
    /// ranks an unreliable node behind every other feasible one, it never makes a pod unschedulable.
    /// When fewer than `panic_threshold` of the candidates have fresh telemetry (a controller
    /// restart, an ingest outage), nothing is filtered at all: filtering on telemetry must never
    /// make the cluster unschedulable.
    package func decideFilter(_ names: [String], now: MonotonicInstant, details: Bool = false) -> FilterDecision {
        var decision = FilterDecision()
        decision.passing.reserveCapacity(names.count)
        decision.candidates = names.count
        var suppressed: [(index: Int, reason: String)] = []
        let policy = self.policy
        registry.withRecords(reading: NodeFacts.init) { lookup in
            for (i, name) in names.enumerated() {
                let facts = lookup(name)
                if policy.isFresh(facts, now: now) { decision.fresh += 1 }
                let verdict = policy.verdict(for: facts, now: now)
                switch verdict {
                case .pass: decision.passing.append(i)
                case let .failed(reason): decision.failed[name] = reason
                case let .unresolvable(reason): decision.unresolvable[name] = reason
                case let .suppressed(reason): suppressed.append((i, reason))
                }
                if details, verdict != .pass, decision.details.count < 20 {
                    decision.details.append("\(name): \(policy.detail(for: facts, now: now))")
                }
            }
        }
        if Self.panics(fresh: decision.fresh, of: names.count, threshold: policy.panicThreshold) {
            decision.panic = true
            decision.passing = Array(names.indices)
            decision.failed = [:]
            decision.unresolvable = [:]
            return decision
        }
        if decision.passing.isEmpty {
            decision.passing = suppressed.map(\.index) // request order, like the rest
        } else {
            for s in suppressed { decision.unresolvable[names[s.index]] = s.reason }
        }
        for reason in decision.failed.values where !reason.isEmpty { decision.rejected["limit", default: 0] += 1 }
        for reason in decision.unresolvable.values {
            decision.rejected[reason == ExtenderPolicy.staleReason ? "stale" : "suppressed", default: 0] += 1
        }
        return decision
    }

    /// Panic: fewer than `threshold` of `count` candidates have fresh telemetry.
    static func panics(fresh: Int, of count: Int, threshold: Double) -> Bool {
        count > 0 && threshold > 0 && Double(fresh) < threshold * Double(count)
    }

    /// One priority per candidate, in request order, under one registry lock. In panic every
    /// candidate gets the same priority (0): the extender then changes no ranking at all, as if it
    /// were not configured, instead of sending every pod to the few nodes that have reported.
    package func priorities(_ names: [String], now: MonotonicInstant) -> (scores: [Int64], panic: Bool) {
        let policy = self.policy
        return registry.withRecords(reading: NodeFacts.init) { lookup in
            var fresh = 0
            let scores = names.map { name -> Int64 in
                let facts = lookup(name)
                if policy.isFresh(facts, now: now) { fresh += 1 }
                return Int64(policy.priority(for: facts, now: now))
            }
            if Self.panics(fresh: fresh, of: names.count, threshold: policy.panicThreshold) {
                return ([Int64](repeating: 0, count: names.count), true)
            }
            return (scores, false)
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
