// The shaping methods of the agent's local API. Changes need `.write` (root or rpc.admin_group, from
// SO_PEERCRED); reading is open to the socket's group. Errors an operator can fix come back as
// invalid params / not found with the shaper's own message.
import EdgeAPI
import EdgeNetlink
import EdgeRPC
import Foundation

enum ShapingRPC {
    static func register(into r: inout RPCRouter, state: AgentState) {
        r.register(AgentMethod.shapingList, access: .read, summary: "shaping status and every class with its counters") { _ in
            try call { withOrigins(try shaper(state).list(), state: state) }
        }
        r.register(AgentMethod.podAdd, access: .write,
                   summary: "shape a pod's egress: class by its addresses, classifier on its host-side veth (CNI ADD)") {
            (p: ShapingPodAddParams, _) in
            try call { try pods(state).add(p) }
        }
        r.register(AgentMethod.podCheck, access: .read, summary: "a pod's class and classifier (CNI CHECK)") {
            (p: ShapingPodRef, _) in
            try call { try pods(state).check(p) }
        }
        r.register(AgentMethod.podDelete, access: .write,
                   summary: "remove a pod's class and classifier; unknown pods succeed (CNI DEL)") {
            (p: ShapingPodRef, _) in
            try call { try pods(state).delete(p) }
        }
        r.register(AgentMethod.shapingSet, access: .write,
                   summary: "limit the egress of a selector (CIDR, cgroup:PATH, unit:NAME) to a rate, optional horizon") {
            (p: ShapingSetParams, _) in
            try call { try shaper(state).set(p) }
        }
        r.register(AgentMethod.shapingDelete, access: .write, summary: "remove the class of a selector") {
            (p: ShapingDeleteParams, _) in
            try call { try shaper(state).delete(selector: p.selector) }
        }
        r.register(AgentMethod.shapingReset, access: .write,
                   summary: "remove the EDT filter, restore the recorded root qdisc, unpin maps") { _ in
            try call {
                var result = try shaper(state).reset()
                if let pods = state.pods { result.actions += try pods.forgetAll() }
                return result
            }
        }
        r.register(AgentMethod.qdiscShow, access: .read, summary: "qdiscs and clsact filters of a device") {
            (p: QdiscShowParams, _) in
            try call {
                if let shaper = state.shaper { return try shaper.qdiscShow(device: p.device) }
                return try QdiscInspector.show(device: p.device, netlink: try NetlinkSocket())
            }
        }
    }

    /// Each class's origin: "cni" for pod classes, "config" for [[shaping.class]], else "rpc".
    static func withOrigins(_ list: ShapingListResult, state: AgentState) -> ShapingListResult {
        var out = list
        let cni = state.pods?.selectors() ?? []
        let config = state.configClassSelectors
        for i in out.classes.indices {
            let s = out.classes[i].selector
            out.classes[i].origin = cni.contains(s) ? "cni" : config.contains(s) ? "config" : "rpc"
        }
        return out
    }

    private static func pods(_ state: AgentState) throws -> PodShaping {
        _ = try shaper(state)
        guard let pods = state.pods else { throw RPCError.unavailable("shaping is not running") }
        return pods
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
