// Workload profiles (`--workload`): what each request asks of the replica. A fault only shows in
// placement quality if the workload feels it, so the preset pairs each scenario with one:
//   web        16 KiB answers, no CPU work: latency-bound request/response (S1, S2, S5)
//   inference  1.5 ms of CPU per request, 32 KiB answers (S4: a CPU-starved node answers late)
//   stream     answers large enough that the capped node's share in baseline placement is 1.3×
//              S3's 50 Mbit/s (S3: below the cap tbf only adds its burst, above it it queues and drops)
// Any scenario can be run with any profile; `auto` is the preset's pairing.
import ArgumentParser
import Foundation

enum WorkloadProfile: String, CaseIterable, ExpressibleByArgument {
    case web, inference, stream

    /// S3's cap (Scenarios.swift), bits per second.
    static let s3CapBitsPerSecond = 50e6
    /// How far over the cap the capped node's baseline share of stream traffic goes.
    static let streamOverload = 1.3
    static let inferenceCPUMicros = 1500
    static let inferenceResponseBytes = 32 << 10

    /// The preset's profile for a scenario.
    static func preset(for s: ScenarioID) -> WorkloadProfile {
        switch s {
        case .S1, .S2, .S5: return .web
        case .S3: return .stream
        case .S4: return .inference
        }
    }

    var summary: String {
        switch self {
        case .web: return "web (small request/response, no CPU work)"
        case .inference: return "inference (\(Self.inferenceCPUMicros) µs CPU per request, \(Self.inferenceResponseBytes >> 10) KiB answers)"
        case .stream: return "stream (large answers: the capped node's baseline share is \(Self.streamOverload)× the 50 Mbit/s cap)"
        }
    }

    /// CPU microseconds per request.
    var cpuMicros: Int { self == .inference ? Self.inferenceCPUMicros : 0 }

    /// Bytes per answer. `webBytes` is --response-bytes (web's size). For stream: the size at which
    /// the degraded node's share of the rate under baseline round-robin placement carries
    /// `streamOverload` × the cap, capped at the wire's maximum.
    func responseBytes(webBytes: Int, rps: Double, replicas: Int, nodes: Int, degradedNode: Int) -> Int {
        switch self {
        case .web: return webBytes
        case .inference: return Self.inferenceResponseBytes
        case .stream:
            let onDegraded = Self.baselineReplicas(onNode: degradedNode, replicas: replicas, nodes: nodes)
            guard onDegraded > 0 else { return WorkloadWire.maxResponseBytes }
            let rateThere = rps * Double(onDegraded) / Double(replicas)
            let bytes = Self.streamOverload * Self.s3CapBitsPerSecond / 8 / rateThere
            return min(WorkloadWire.maxResponseBytes, Int(bytes.rounded(.up)))
        }
    }

    /// Replicas baseline spreading puts on node `node` (1-based): round-robin in node order.
    static func baselineReplicas(onNode node: Int, replicas: Int, nodes: Int) -> Int {
        (0..<replicas).filter { $0 % nodes == node - 1 }.count
    }
}
