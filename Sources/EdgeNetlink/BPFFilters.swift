import CEdgeShim
import CMnl
import Glibc

/// The two clsact hooks.
public enum ClsactHook: String, Codable, Sendable {
    case ingress, egress

    /// Filter parent: ffff:fff2 / ffff:fff3.
    public var parent: TCHandle { self == .ingress ? .ingressHook : .egressHook }
}

/// A cls_bpf filter to attach: the program (by fd), its name as tc shows it, priority and handle.
public struct BPFFilterSpec: Equatable, Sendable {
    /// File descriptor of a loaded BPF_PROG_TYPE_SCHED_CLS program; the kernel takes its own
    /// reference, the caller may close the fd afterwards.
    public var programFD: Int32
    public var name: String
    /// Filter priority ("pref"), 1…65535 (0 would let the kernel pick one).
    public var priority: UInt16
    /// Filter handle within its priority, > 0.
    public var handle: UInt32
    /// TCA_BPF_FLAG_ACT_DIRECT: the program's return value is the tc action.
    public var directAction: Bool
    /// Ethernet protocol to match, host order (ETH_P_ALL by default).
    public var protocolNumber: UInt16

    public init(programFD: Int32, name: String, priority: UInt16 = 1, handle: UInt32 = 1,
                directAction: Bool = true, protocolNumber: UInt16 = 0x0003 /* ETH_P_ALL */) {
        self.programFD = programFD
        self.name = name
        self.priority = priority
        self.handle = handle
        self.directAction = directAction
        self.protocolNumber = protocolNumber
    }
}

/// A filter found on a hook.
public struct TCFilter: Equatable, Sendable {
    public var kind: String
    public var priority: UInt16
    public var protocolNumber: UInt16
    public var handle: UInt32
    /// cls_bpf only: TCA_BPF_NAME, TCA_BPF_ID, direct-action flag.
    public var bpfName: String?
    public var bpfProgramID: UInt32?
    public var directAction: Bool?
}

extension TrafficControlRequests {
    /// RTM_NEWTFILTER for a cls_bpf filter on a clsact hook.
    public static func bpfFilter(_ command: TrafficControlCommand, ifindex: Int32, deviceName: String,
                                 hook: ClsactHook, spec: BPFFilterSpec, sequence: UInt32 = 0) throws -> NetlinkRequest {
        guard command != .delete else { throw NetlinkRequestError("use deleteFilter to remove a filter") }
        guard spec.priority > 0 else { throw NetlinkRequestError("filter priority must be 1…65535") }
        guard spec.handle > 0 else { throw NetlinkRequestError("filter handle must be > 0") }
        guard spec.programFD >= 0 else { throw NetlinkRequestError("invalid BPF program fd \(spec.programFD)") }
        guard !spec.name.isEmpty, spec.name.utf8.count < 256 else {
            throw NetlinkRequestError("BPF filter name must be 1…255 bytes")
        }
        let request = NetlinkRequest(type: UInt16(RTM_NEWTFILTER), flags: command.flags, sequence: sequence,
                                     operation: "filter \(command.rawValue) bpf '\(spec.name)' on \(deviceName) \(hook.rawValue)")
        request.putFamilyHeader(tcHeader(ifindex: ifindex, handle: TCHandle(rawValue: spec.handle), parent: hook.parent,
                                         info: edge_nl_tc_filter_info(spec.priority, spec.protocolNumber)))
        request.put(UInt16(TCA_KIND), string: "bpf")
        request.nest(UInt16(TCA_OPTIONS)) { options in
            options.put(UInt16(TCA_BPF_FD), u32: UInt32(bitPattern: spec.programFD))
            options.put(UInt16(TCA_BPF_NAME), string: spec.name)
            if spec.directAction { options.put(UInt16(TCA_BPF_FLAGS), u32: UInt32(TCA_BPF_FLAG_ACT_DIRECT)) }
        }
        return request
    }

    /// RTM_DELTFILTER for one filter (priority + handle) or, with handle 0, all filters of the priority.
    public static func deleteFilter(ifindex: Int32, deviceName: String, hook: ClsactHook, kind: String,
                                    priority: UInt16, handle: UInt32, protocolNumber: UInt16 = 0x0003,
                                    sequence: UInt32 = 0) throws -> NetlinkRequest {
        guard priority > 0 else { throw NetlinkRequestError("filter priority must be 1…65535 (0 would delete every filter on the hook)") }
        let request = NetlinkRequest(type: UInt16(RTM_DELTFILTER), flags: TrafficControlCommand.delete.flags, sequence: sequence,
                                     operation: "filter delete \(kind) prio \(priority) handle \(handle) on \(deviceName) \(hook.rawValue)")
        request.putFamilyHeader(tcHeader(ifindex: ifindex, handle: TCHandle(rawValue: handle), parent: hook.parent,
                                         info: edge_nl_tc_filter_info(priority, protocolNumber)))
        request.put(UInt16(TCA_KIND), string: kind)
        return request
    }
}

extension NetlinkSocket {
    /// Attaches a cls_bpf filter; EEXIST when that priority/handle is taken.
    public func addBPFFilter(_ spec: BPFFilterSpec, on device: NetworkDevice, hook: ClsactHook) throws {
        let link = try resolve(device)
        _ = try execute(try TrafficControlRequests.bpfFilter(.add, ifindex: link.index, deviceName: link.name, hook: hook, spec: spec))
    }

    /// Attaches or swaps the program of a cls_bpf filter atomically.
    public func replaceBPFFilter(_ spec: BPFFilterSpec, on device: NetworkDevice, hook: ClsactHook) throws {
        let link = try resolve(device)
        _ = try execute(try TrafficControlRequests.bpfFilter(.replace, ifindex: link.index, deviceName: link.name, hook: hook, spec: spec))
    }

    /// Removes one filter (ENOENT when it is not there).
    public func deleteFilter(on device: NetworkDevice, hook: ClsactHook, kind: String = "bpf",
                             priority: UInt16, handle: UInt32, protocolNumber: UInt16 = 0x0003) throws {
        let link = try resolve(device)
        _ = try execute(try TrafficControlRequests.deleteFilter(ifindex: link.index, deviceName: link.name, hook: hook,
                                                                kind: kind, priority: priority, handle: handle,
                                                                protocolNumber: protocolNumber))
    }

    /// Filters on a clsact hook. The kernel also reports one entry per priority with handle 0
    /// (the classifier instance itself); those are left out.
    public func listFilters(on device: NetworkDevice, hook: ClsactHook) throws -> [TCFilter] {
        let link = try resolve(device)
        let request = NetlinkRequest(type: UInt16(RTM_GETTFILTER), flags: UInt16(NLM_F_DUMP),
                                     operation: "filter dump on \(link.name) \(hook.rawValue)")
        request.putFamilyHeader(TrafficControlRequests.tcHeader(ifindex: link.index, handle: .unspecified, parent: hook.parent))
        return try execute(request).filter { $0.type == UInt16(RTM_NEWTFILTER) }.compactMap { message in
            let (header, attributes) = try message.decode(tcmsg.self, "RTM_NEWTFILTER")
            guard header.tcm_handle != 0 else { return nil }
            var filter = TCFilter(kind: attributes.attribute(UInt16(TCA_KIND))?.string() ?? "",
                                  priority: edge_nl_tc_filter_priority(header.tcm_info),
                                  protocolNumber: edge_nl_tc_filter_protocol(header.tcm_info),
                                  handle: header.tcm_handle)
            if filter.kind == "bpf", let options = try attributes.attribute(UInt16(TCA_OPTIONS))?.nested("cls_bpf options") {
                filter.bpfName = options.attribute(UInt16(TCA_BPF_NAME))?.string()
                filter.bpfProgramID = try options.attribute(UInt16(TCA_BPF_ID))?.u32("TCA_BPF_ID")
                if let flags = try options.attribute(UInt16(TCA_BPF_FLAGS))?.u32("TCA_BPF_FLAGS") {
                    filter.directAction = flags & UInt32(TCA_BPF_FLAG_ACT_DIRECT) != 0
                } else {
                    filter.directAction = false
                }
            }
            return filter
        }
    }
}

extension TCFilter {
    init(kind: String, priority: UInt16, protocolNumber: UInt16, handle: UInt32) {
        self.init(kind: kind, priority: priority, protocolNumber: protocolNumber, handle: handle,
                  bpfName: nil, bpfProgramID: nil, directAction: nil)
    }
}
