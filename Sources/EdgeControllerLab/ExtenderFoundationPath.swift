// The Codable path: `ExtenderArgs` through JSONDecoder, results through JSONEncoder.
//
// It was the live path until jansson + direct writing replaced it (issue 4's benchmark keeps the
// faster). It stays because it is the reference: the benchmark prints both, and the tests and the
// extender fuzzer check that the live path gives the same answers, byte for byte, for every body
// both accept. The typed `filter`/`prioritize` are also the convenient API for callers holding an
// `ExtenderArgs`. It lives in the lab, not in EdgeController (the daemon never runs it), and
// reaches the decisions through EdgeController's `package` access.
import EdgeAPI
import EdgeController
import EdgeCore
import Foundation

extension Extender {
    /// Decodes an `ExtenderArgs` body with JSONDecoder, naming what is wrong when it cannot.
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

    /// The filter decision as the Codable result, in the request's shape.
    public func filter(_ args: ExtenderArgs, now: MonotonicInstant = .now) throws -> ExtenderFilterResult {
        let names = try Self.candidateNames(args)
        let decision = decideFilter(names, now: now)
        var result = ExtenderFilterResult(failedNodes: decision.failed, failedAndUnresolvableNodes: decision.unresolvable)
        if args.nodeNames != nil {
            result.nodeNames = decision.passing.map { names[$0] }
        }
        if case var .object(list)? = args.nodes, let items = try args.nodeItems() {
            let kept: [JSONValue]
            if args.nodeNames == nil {
                kept = decision.passing.map { items[$0] }
            } else {
                let passed = Set(decision.passing.map { names[$0] })
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
        return zip(names, priorities(names, now: now).scores).map { HostPriority(host: $0, score: $1) }
    }

    /// `/filter` through JSONDecoder/JSONEncoder (same replies as `handleFilter` for valid JSON).
    public func handleFilterWithFoundation(body: Data, now: MonotonicInstant = .now) -> ExtenderReply {
        let encoder = ExtenderJSON.encoder()
        do {
            let result = try filter(Self.decodeArgs(body), now: now)
            return ExtenderReply(status: 200, body: try encoder.encode(result))
        } catch {
            let result = ExtenderFilterResult(error: "edgenode: \(error)")
            return ExtenderReply(status: 400, body: (try? encoder.encode(result)) ?? Data())
        }
    }

    /// `/prioritize` through JSONDecoder/JSONEncoder (same replies as `handlePrioritize` for valid JSON).
    public func handlePrioritizeWithFoundation(body: Data, now: MonotonicInstant = .now) -> ExtenderReply {
        let encoder = ExtenderJSON.encoder()
        do {
            let list = try prioritize(Self.decodeArgs(body), now: now)
            return ExtenderReply(status: 200, body: try encoder.encode(list))
        } catch {
            return ExtenderReply(status: 400, body: (try? encoder.encode(["Error": "edgenode: \(error)"])) ?? Data())
        }
    }
}
