// The agent's local API: one table of methods, read methods open to the socket's group,
// write methods (shaping) for root or rpc.admin_group. Handlers only read state the
// collector already computed, so a slow client never slows telemetry.
import EdgeAPI
import EdgeRPC
import Foundation

enum AgentRPCMethods {
    static func router(state: AgentState) -> RPCRouter {
        var r = RPCRouter()
        r.register(AgentMethod.status, access: .read, summary: "health, attached programs, missing kernel features") { _ in
            state.status()
        }
        r.register(AgentMethod.telemetryGet, access: .read,
                   summary: "current telemetry window (RTT, retransmits, drops, runqlat, CPU, per-peer RTT) and per-class shaping counters") {
            (p: TelemetryGetParams, _) in
            if let n = p.peers, n < 0 { throw RPCError.invalidParams("peers must be >= 0, got \(n)") }
            guard state.collector.ticks >= 2 else {
                throw RPCError.unavailable("telemetry not ready yet: the first window completes one interval after start")
            }
            var w = state.collector.window()
            if let n = p.peers { w.peers = Array(w.peers.prefix(n)) }
            return AgentTelemetry(window: w, shaping: state.shapingCounters())
        }
        r.register(AgentMethod.telemetryReasons, access: .read,
                   summary: "kfree_skb drop reasons of this kernel, their weights and window counts") { _ in
            state.dropReasons()
        }
        ShapingRPC.register(into: &r, state: state)
        return r
    }
}
