import CMnl
import Glibc

/// A qdisc as dumped by the kernel.
public struct Qdisc: Equatable, Codable, Sendable {
    public var ifindex: Int32
    public var handle: TCHandle
    public var parent: TCHandle
    public var kind: String
    /// Typed options for known kinds, raw bytes otherwise.
    public var options: QdiscOptions
    /// TCA_OPTIONS exactly as dumped (what a restore sends back).
    public var rawOptions: [UInt8]

    /// Attached at the device root.
    public var isRoot: Bool { parent == .root }
    /// Created by the kernel rather than by a request (default root or per-queue children):
    /// such qdiscs have handle `0:` and cannot be deleted, only replaced.
    public var isKernelDefault: Bool { handle.major == 0 }
}

/// Add, replace and delete map onto RTM_NEWQDISC/RTM_DELQDISC flag combinations.
public enum TrafficControlCommand: String, Sendable {
    /// Create; fail with EEXIST if something is already there (NLM_F_CREATE|NLM_F_EXCL).
    case add
    /// Create or swap what is there (NLM_F_CREATE|NLM_F_REPLACE); same kind → options change.
    case replace
    case delete

    var flags: UInt16 {
        switch self {
        case .add: return UInt16(NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
        case .replace: return UInt16(NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE)
        case .delete: return UInt16(NLM_F_ACK)
        }
    }
}

/// Pure builders for traffic-control requests: testable byte for byte without a socket.
public enum TrafficControlRequests {
    static func tcHeader(ifindex: Int32, handle: TCHandle, parent: TCHandle, info: UInt32 = 0) -> tcmsg {
        var header = tcmsg()
        header.tcm_family = UInt8(AF_UNSPEC)
        header.tcm_ifindex = ifindex
        header.tcm_handle = handle.rawValue
        header.tcm_parent = parent.rawValue
        header.tcm_info = info
        return header
    }

    /// RTM_NEWQDISC / RTM_DELQDISC for `options.kind` at `parent` with `handle`
    /// (`.unspecified` lets the kernel pick one).
    public static func qdisc(_ command: TrafficControlCommand, ifindex: Int32, deviceName: String,
                             parent: TCHandle, handle: TCHandle, options: QdiscOptions,
                             clock: PacketSchedulerClock, sequence: UInt32 = 0) throws -> NetlinkRequest {
        let type = command == .delete ? RTM_DELQDISC : RTM_NEWQDISC
        let request = NetlinkRequest(type: UInt16(type), flags: command.flags, sequence: sequence,
                                     operation: "qdisc \(command.rawValue) \(options.kind) on \(deviceName)")
        request.putFamilyHeader(tcHeader(ifindex: ifindex, handle: handle, parent: parent))
        request.put(UInt16(TCA_KIND), string: options.kind)
        if command != .delete { try options.encode(into: request, clock: clock) }
        return request
    }
}

extension NetlinkSocket {
    /// Ifindex and a name for error messages; a bad index or name fails here with
    /// "unknown device ...".
    func resolve(_ device: NetworkDevice) throws -> Link {
        switch device {
        case .name(let name): return try link(named: name)
        case .index(let index): return try link(index: index)
        }
    }

    /// Every qdisc of `device` (root, its children, clsact/ingress).
    public func listQdiscs(on device: NetworkDevice) throws -> [Qdisc] {
        let link = try resolve(device)
        return try listQdiscs(ifindex: link.index)
    }

    func listQdiscs(ifindex: Int32) throws -> [Qdisc] {
        let request = NetlinkRequest(type: UInt16(RTM_GETQDISC), flags: UInt16(NLM_F_DUMP),
                                     operation: "qdisc dump of ifindex \(ifindex)")
        request.putFamilyHeader(TrafficControlRequests.tcHeader(ifindex: ifindex, handle: .unspecified, parent: .unspecified))
        let clock = try PacketSchedulerClock.system()
        // Older kernels ignore tcm_ifindex in qdisc dumps, so filter here as well.
        return try execute(request)
            .filter { $0.type == UInt16(RTM_NEWQDISC) }
            .map { try Qdisc(message: $0, clock: clock) }
            .filter { $0.ifindex == ifindex }
    }

    /// The qdisc at the root of `device` (kernels always have one, possibly `noqueue`).
    public func rootQdisc(on device: NetworkDevice) throws -> Qdisc? {
        try listQdiscs(on: device).first(where: \.isRoot)
    }

    /// Adds a qdisc; EEXIST if one is already at that parent/handle.
    public func addQdisc(_ options: QdiscOptions, on device: NetworkDevice,
                         parent: TCHandle = .root, handle: TCHandle = .unspecified) throws {
        try qdisc(.add, options, on: device, parent: parent, handle: handle)
    }

    /// Creates or replaces the qdisc at `parent` (same kind and handle: its options change).
    public func replaceQdisc(_ options: QdiscOptions, on device: NetworkDevice,
                             parent: TCHandle = .root, handle: TCHandle = .unspecified) throws {
        try qdisc(.replace, options, on: device, parent: parent, handle: handle)
    }

    /// Deletes the qdisc at `parent` (and `handle` if given). Deleting the root puts the
    /// kernel's default back.
    public func deleteQdisc(kind: String, on device: NetworkDevice, parent: TCHandle = .root,
                            handle: TCHandle = .unspecified) throws {
        try qdisc(.delete, .other(kind: kind, raw: []), on: device, parent: parent, handle: handle)
    }

    /// Adds a clsact qdisc (idempotent: an existing clsact is left alone).
    /// Returns true when this call created it, so callers can remove only what they made.
    @discardableResult
    public func ensureClsact(on device: NetworkDevice) throws -> Bool {
        do {
            try addQdisc(.clsact, on: device, parent: ClsactQdisc.parent, handle: ClsactQdisc.handle)
            return true
        } catch let error as NetlinkError where error.errno == EEXIST {
            return false
        }
    }

    func qdisc(_ command: TrafficControlCommand, _ options: QdiscOptions, on device: NetworkDevice,
               parent: TCHandle, handle: TCHandle) throws {
        let link = try resolve(device)
        let request = try TrafficControlRequests.qdisc(command, ifindex: link.index, deviceName: link.name,
                                                       parent: parent, handle: handle, options: options,
                                                       clock: try PacketSchedulerClock.system())
        _ = try execute(request)
    }
}

extension Qdisc {
    init(message: NetlinkMessage, clock: PacketSchedulerClock) throws {
        let (header, attributes) = try message.decode(tcmsg.self, "RTM_NEWQDISC")
        guard let kind = attributes.attribute(UInt16(TCA_KIND))?.string(), !kind.isEmpty else {
            throw NetlinkParseError("RTM_NEWQDISC", "no TCA_KIND")
        }
        ifindex = header.tcm_ifindex
        handle = TCHandle(rawValue: header.tcm_handle)
        parent = TCHandle(rawValue: header.tcm_parent)
        self.kind = kind
        rawOptions = attributes.attribute(UInt16(TCA_OPTIONS))?.payload ?? []
        options = try QdiscOptions.decode(kind: kind, raw: rawOptions, clock: clock)
    }
}
