import CMnl
import Glibc

/// A traffic class (htb classes here; mq's per-queue classes show up too).
public struct TrafficClass: Equatable, Codable, Sendable {
    public var ifindex: Int32
    public var handle: TCHandle
    public var parent: TCHandle
    public var kind: String
    /// Decoded options for htb classes.
    public var htb: HTBClassOptions?
    /// TCA_OPTIONS as dumped.
    public var rawOptions: [UInt8]
}

extension TrafficControlRequests {
    /// RTM_NEWTCLASS / RTM_DELTCLASS for an htb class `classID` under `parent`.
    public static func htbClass(_ command: TrafficControlCommand, ifindex: Int32, deviceName: String,
                                parent: TCHandle, classID: TCHandle, options: HTBClassOptions?,
                                clock: PacketSchedulerClock, sequence: UInt32 = 0) throws -> NetlinkRequest {
        let type = command == .delete ? RTM_DELTCLASS : RTM_NEWTCLASS
        let request = NetlinkRequest(type: UInt16(type), flags: command.flags, sequence: sequence,
                                     operation: "class \(command.rawValue) htb \(classID) on \(deviceName)")
        request.putFamilyHeader(tcHeader(ifindex: ifindex, handle: classID, parent: parent))
        request.put(UInt16(TCA_KIND), string: HTBOptions.kind)
        if command != .delete {
            guard let options else { throw NetlinkRequestError("htb class \(command.rawValue) needs rate options") }
            try options.validate()
            request.nest(UInt16(TCA_OPTIONS)) { options.encode(into: $0, clock: clock) }
        }
        return request
    }
}

extension NetlinkSocket {
    /// Every class on `device`.
    public func listClasses(on device: NetworkDevice) throws -> [TrafficClass] {
        let link = try resolve(device)
        return try listClasses(ifindex: link.index)
    }

    func listClasses(ifindex: Int32) throws -> [TrafficClass] {
        let request = NetlinkRequest(type: UInt16(RTM_GETTCLASS), flags: UInt16(NLM_F_DUMP),
                                     operation: "class dump of ifindex \(ifindex)")
        request.putFamilyHeader(TrafficControlRequests.tcHeader(ifindex: ifindex, handle: .unspecified, parent: .unspecified))
        let clock = try PacketSchedulerClock.system()
        return try execute(request).filter { $0.type == UInt16(RTM_NEWTCLASS) }.map { message in
            let (header, attributes) = try message.decode(tcmsg.self, "RTM_NEWTCLASS")
            let kind = attributes.attribute(UInt16(TCA_KIND))?.string() ?? ""
            let raw = attributes.attribute(UInt16(TCA_OPTIONS))?.payload ?? []
            let htb = kind == HTBOptions.kind
                ? try HTBClassOptions(attributes: NetlinkAttribute.parse(raw, context: "htb class options"), clock: clock)
                : nil
            return TrafficClass(ifindex: header.tcm_ifindex, handle: TCHandle(rawValue: header.tcm_handle),
                                parent: TCHandle(rawValue: header.tcm_parent), kind: kind, htb: htb, rawOptions: raw)
        }.filter { $0.ifindex == ifindex }
    }

    /// Adds (`.add`), replaces (`.replace`) or deletes (`.delete`, options ignored) an htb class.
    public func htbClass(_ command: TrafficControlCommand, classID: TCHandle, parent: TCHandle,
                         options: HTBClassOptions?, on device: NetworkDevice) throws {
        let link = try resolve(device)
        let request = try TrafficControlRequests.htbClass(command, ifindex: link.index, deviceName: link.name,
                                                          parent: parent, classID: classID, options: options,
                                                          clock: try PacketSchedulerClock.system())
        _ = try execute(request)
    }

    /// Re-creates a class from its dumped options (used by snapshot restore).
    func addClass(_ trafficClass: TrafficClass, deviceName: String) throws {
        if let htb = trafficClass.htb {
            _ = try execute(try TrafficControlRequests.htbClass(
                .add, ifindex: trafficClass.ifindex, deviceName: deviceName, parent: trafficClass.parent,
                classID: trafficClass.handle, options: htb, clock: try PacketSchedulerClock.system()))
            return
        }
        let request = NetlinkRequest(type: UInt16(RTM_NEWTCLASS), flags: TrafficControlCommand.add.flags,
                                     operation: "class add \(trafficClass.kind) \(trafficClass.handle) on \(deviceName)")
        request.putFamilyHeader(TrafficControlRequests.tcHeader(ifindex: trafficClass.ifindex,
                                                                 handle: trafficClass.handle, parent: trafficClass.parent))
        request.put(UInt16(TCA_KIND), string: trafficClass.kind)
        if !trafficClass.rawOptions.isEmpty { request.put(UInt16(TCA_OPTIONS), bytes: trafficClass.rawOptions) }
        _ = try execute(request)
    }
}
