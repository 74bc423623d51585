// The kube-scheduler extender: request body in, response body out (decode → decide → encode).
// Used by the HTTP routes, the `extender.dryrun` RPC and the benchmark, so all three run the same code.
import EdgeCore
import Foundation

/// An HTTP-ready reply.
public struct ExtenderReply: Sendable {
    public var status: Int
    public var body: Data
}

/// Answers `/filter` and `/prioritize` from the registry.
public struct Extender: Sendable {
    public let registry: NodeRegistry
    public let policy: ExtenderPolicy

    public init(registry: NodeRegistry, policy: ExtenderPolicy) {
        self.registry = registry
        self.policy = policy
    }

    /// Decodes an `ExtenderArgs` body, naming what is wrong when it cannot.
    public static func decodeArgs(_ body: Data) throws -> ExtenderArgs {
        do {
            return try ExtenderJSON.decoder().decode(ExtenderArgs.self, from: body)
        } catch {
            throw ExtenderRequestError(reason: "invalid ExtenderArgs: \(describeDecodingError(error))")
        }
    }

    /// The candidates' names, from `NodeNames` or from `Nodes.items[].metadata.name`.
    static func candidateNames(_ args: ExtenderArgs) throws -> [String] {
        if let names = args.nodeNames { return names }
        if let items = try args.nodeItems() { return try ExtenderArgs.names(of: items) }
        // Answering "no nodes" here would make kube-scheduler treat every node as filtered out.
        throw ExtenderRequestError(reason: "ExtenderArgs has neither Nodes nor NodeNames")
    }

    /// The filter decision. The reply has the request's shape: `NodeNames` in → `NodeNames` out,
    /// `Nodes` in → the passing `v1.Node` objects out, unchanged.
    public func filter(_ args: ExtenderArgs, now: MonotonicInstant = .now) throws -> ExtenderFilterResult {
        let names = try Self.candidateNames(args)
        let verdicts = registry.withRecords { lookup in
            names.map { policy.verdict(for: lookup($0), now: now) }
        }
        var result = ExtenderFilterResult()
        var passing: [Int] = []
        passing.reserveCapacity(names.count)
        for (i, v) in verdicts.enumerated() {
            switch v {
            case .pass: passing.append(i)
            case let .failed(reason): result.failedNodes[names[i]] = reason
            case let .unresolvable(reason): result.failedAndUnresolvableNodes[names[i]] = reason
            }
        }
        if args.nodeNames != nil {
            result.nodeNames = passing.map { names[$0] }
        }
        if case var .object(list)? = args.nodes, let items = try args.nodeItems() {
            let kept: [JSONValue]
            if args.nodeNames == nil {
                kept = passing.map { items[$0] } // the names were read from these items, in order
            } else {
                // Both shapes sent (kube-scheduler never does): keep the items whose name passed.
                let passed = Set(passing.map { names[$0] })
                kept = items.filter { $0["metadata"]?["name"]?.stringValue.map(passed.contains) ?? false }
            }
            list["items"] = .array(kept)
            result.nodes = .object(list)
        }
        return result
    }

    /// One priority per candidate, in request order.
    public func prioritize(_ args: ExtenderArgs, now: MonotonicInstant = .now) throws -> [HostPriority] {
        let names = try Self.candidateNames(args)
        return registry.withRecords { lookup in
            names.map { HostPriority(host: $0, score: Int64(policy.priority(for: lookup($0), now: now))) }
        }
    }

    /// `/filter`: a request that cannot be understood gets 400 with the reason in `Error`.
    public func handleFilter(body: Data, now: MonotonicInstant = .now) -> ExtenderReply {
        let encoder = ExtenderJSON.encoder()
        do {
            let result = try filter(Self.decodeArgs(body), now: now)
            return ExtenderReply(status: 200, body: try encoder.encode(result))
        } catch {
            let result = ExtenderFilterResult(error: "edgenode: \(error)")
            return ExtenderReply(status: 400, body: (try? encoder.encode(result)) ?? Data())
        }
    }

    /// `/prioritize`: 400 with `{"Error": reason}` when the request cannot be understood
    /// (kube-scheduler ignores prioritize errors, so the pod still schedules).
    public func handlePrioritize(body: Data, now: MonotonicInstant = .now) -> ExtenderReply {
        let encoder = ExtenderJSON.encoder()
        do {
            let list = try prioritize(Self.decodeArgs(body), now: now)
            return ExtenderReply(status: 200, body: try encoder.encode(list))
        } catch {
            return ExtenderReply(status: 400, body: (try? encoder.encode(["Error": "edgenode: \(error)"])) ?? Data())
        }
    }
}
