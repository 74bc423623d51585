// libFuzzer target: kube-scheduler extender bodies (`ExtenderArgs`, PascalCase, `Nodes` or
// `NodeNames`, either may be null) through /filter and /prioritize, against a registry that
// knows three nodes: one healthy, one degraded, one without RTT samples.
//
// Differential: the live path (jansson + direct writing) is only ever stricter than the Codable
// reference path. Whenever it answers 200, the reference must answer 200 with the same bytes —
// except for bodies nested deeper than JSONDecoder's limit (~500 levels; jansson allows 2048).
import EdgeConfig
import EdgeController
import EdgeControllerLab
import EdgeCore
import EdgeTelemetry
import Foundation
import FuzzSupport

func window(_ node: String, rtt: Double?, drop: Double, cpu: Double) -> TelemetryWindow {
    TelemetryWindow(node: node, agentVersion: "fuzz", generatedAt: 1_700_000_000, windowSeconds: 10,
                    rttP50Ms: rtt.map { $0 / 2 }, rttP99Ms: rtt, rttSamples: rtt == nil ? 0 : 100,
                    retransRate: 0.001, retransmits: 1, segmentsOut: 1000, dropRate: drop, dropRateWeighted: drop,
                    drops: [], runqlatP95Ms: 1, runqlatSamples: 100, cpuUtilization: cpu, peers: [])
}

let extender: Extender = {
    let config = ControllerConfig.defaults
    let registry = NodeRegistry(score: config.score, registry: config.registry)
    _ = try! registry.ingest(window("node-a", rtt: 5, drop: 0, cpu: 0.2))
    _ = try! registry.ingest(window("node-b", rtt: 180, drop: 50, cpu: 0.95))
    _ = try! registry.ingest(window("node-c", rtt: nil, drop: 1, cpu: 0.5))
    return Extender(registry: registry, policy: ExtenderPolicy(
        filter: config.filter, stalePolicy: config.registry.stalePolicy, staleAfter: registry.staleAfter))
}()

/// The deepest nesting of `[`/`{` outside strings (bytes are not checked for validity here).
func nestingDepth(_ bytes: Data) -> Int {
    var depth = 0, deepest = 0, inString = false, escaped = false
    for b in bytes {
        if inString {
            if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
        } else if b == UInt8(ascii: "\"") {
            inString = true
        } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "{") {
            depth += 1
            deepest = max(deepest, depth)
        } else if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
            depth -= 1
        }
    }
    return deepest
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExtender(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Data(FuzzInput(data, size).all)
    let now = ContinuousClock.now
    let pairs = [(extender.handleFilter(body: body, now: now), extender.handleFilterWithFoundation(body: body, now: now)),
                 (extender.handlePrioritize(body: body, now: now), extender.handlePrioritizeWithFoundation(body: body, now: now))]
    for (live, reference) in pairs where live.status == 200 && nestingDepth(body) < 400 {
        precondition(reference.status == 200 && reference.body == live.body,
                     "live path answered 200 where the reference answered \(reference.status): "
                     + "live \(String(decoding: live.body, as: UTF8.self)) reference \(String(decoding: reference.body, as: UTF8.self))")
    }
    for reply in pairs.map(\.0) {
        // Every answer is an HTTP status kube-scheduler understands and a JSON body.
        precondition(reply.status == 200 || reply.status == 400 || reply.status == 413 || reply.status == 500,
                     "unexpected status \(reply.status)")
        precondition((try? JSONSerialization.jsonObject(with: reply.body, options: [.fragmentsAllowed])) != nil,
                     "reply body is not JSON: \(String(decoding: reply.body, as: UTF8.self))")
    }
    return 0
}
