// The shaping methods of the agent's local API. Changes need `.write` (root or rpc.admin_group, from
// SO_PEERCRED); reading is open to the socket's group. Errors an operator can fix come back as
// invalid params / not found with the shaper's own message.
import EdgeCore
import EdgeNetlink
import EdgeRPC
import Foundation

enum ShapingRPC {
    static func register(into r: inout RPCRouter, state: AgentState) {
        r.register("shaping.list", access: .read, summary: "shaping status and every class with its counters") { _ in
            try call { try shaper(state).list() }
        }
        r.register("shaping.set", access: .write,
                   summary: "limit the egress of a selector (CIDR, cgroup:PATH, unit:NAME) to a rate, optional horizon") {
            (p: ShapingSetParams, _) in
            try call { try shaper(state).set(p) }
        }
        r.register("shaping.delete", access: .write, summary: "remove the class of a selector") {
            (p: ShapingDeleteParams, _) in
            try call { try shaper(state).delete(selector: p.selector) }
        }
        r.register("shaping.reset", access: .write,
                   summary: "remove the EDT filter, restore the recorded root qdisc, unpin maps") { _ in
            try call { try shaper(state).reset() }
        }
        r.register("qdisc.show", access: .read, summary: "qdiscs and clsact filters of a device") {
            (p: QdiscShowParams, _) in
            try call {
                if let shaper = state.shaper { return try shaper.qdiscShow(device: p.device) }
                return try QdiscInspector.show(device: p.device, netlink: try NetlinkSocket())
            }
        }
    }

    private static func shaper(_ state: AgentState) throws -> Shaper {
        guard state.config.shaping.enabled else { throw ShapingError.disabled }
        guard let shaper = state.shaper else {
            throw RPCError.unavailable("shaping is not running: \(state.shapingFailure ?? "it did not start")")
        }
        return shaper
    }

    /// Maps shaper errors onto JSON-RPC errors with their messages.
    private static func call<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ShapingError {
            switch error {
            case .noSuchClass: throw RPCError.notFound(error.description)
            case .tableFull, .disabled: throw RPCError.unavailable(error.description)
            default: throw RPCError.invalidParams(error.description)
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError.unavailable("shaping: \(error)")
        }
    }
}
