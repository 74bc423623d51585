// Which network device a record was made of. The name alone is what operators reuse: a device
// deleted and recreated under the same name is another device, and what was recorded of the old
// one (its root qdisc, that edgenode created its clsact) must never be applied to the new one
// (issue 13, finding 8).

/// A device as a record names it: its name, and the ifindex and hardware address it had then.
public struct DeviceIdentity: Equatable, Codable, Sendable {
    public var name: String
    /// nil in records of older agents, which kept only the name.
    public var ifindex: Int32?
    public var hardwareAddress: String?

    public init(name: String, ifindex: Int32?, hardwareAddress: String?) {
        self.name = name
        self.ifindex = ifindex
        self.hardwareAddress = hardwareAddress
    }

    public init(_ link: Link) {
        self.init(name: link.name, ifindex: link.index, hardwareAddress: link.hardwareAddress)
    }

    /// Why `link` is not this device, or nil when it is. A device is the same when its ifindex
    /// and hardware address are: a deleted device's ifindex is not handed out again until the
    /// namespace's counter wraps or someone asks for it (`ip link add … index N`), and a recreated
    /// virtual device (veth, dummy, bridge) gets a fresh random address.
    public func mismatch(_ link: Link) -> String? {
        if let ifindex, link.index != ifindex {
            return "recorded for ifindex \(ifindex), \(link.name) is now ifindex \(link.index)"
        }
        if let recorded = hardwareAddress, let now = link.hardwareAddress, recorded != now {
            return "recorded for address \(recorded), \(link.name) now has \(now)"
        }
        return nil
    }
}
