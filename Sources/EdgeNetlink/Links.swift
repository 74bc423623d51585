import CMnl
import Glibc

/// A network device as rtnetlink reports it.
public struct Link: Equatable, Sendable, Codable {
    public var index: Int32
    public var name: String
    public var mtu: UInt32
    /// IFLA_NUM_TX_QUEUES: how many TX queues (mq creates one child per queue).
    public var numTxQueues: UInt32
    public var operState: OperState
    /// IFLA_INFO_KIND ("veth", "bridge", ...); nil for physical devices and loopback.
    public var kind: String?

    /// RFC 2863 operational state (IF_OPER_*).
    public enum OperState: String, Codable, Sendable {
        case unknown, notPresent, down, lowerLayerDown, testing, dormant, up

        init(raw: UInt8) {
            switch raw {
            case 1: self = .notPresent
            case 2: self = .down
            case 3: self = .lowerLayerDown
            case 4: self = .testing
            case 5: self = .dormant
            case 6: self = .up
            default: self = .unknown
            }
        }
    }
}

/// Which device an operation targets: by name (resolved through netlink) or by ifindex.
/// String literals name a device: `socket.listQdiscs(on: "veth0")`.
public enum NetworkDevice: Equatable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    case name(String)
    case index(Int32)

    public init(stringLiteral value: String) { self = .name(value) }

    public var description: String {
        switch self {
        case .name(let name): return name
        case .index(let index): return "ifindex \(index)"
        }
    }
}

extension NetlinkSocket {
    /// Every device in this socket's namespace.
    public func listLinks() throws -> [Link] {
        let request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: UInt16(NLM_F_DUMP), operation: "link dump")
        request.putFamilyHeader(ifinfomsg())
        return try execute(request).filter { $0.type == UInt16(RTM_NEWLINK) }.map(Link.init(message:))
    }

    /// The kernel's rules for a device name (dev_valid_name): 1–15 bytes, not "." or "..", no
    /// '/', ':', whitespace or control bytes. A NUL would be worse than invalid: IFLA_IFNAME
    /// is a C string, so "eth0\0evil" would silently name eth0.
    public static func validateDeviceName(_ name: String) throws {
        let shown = name.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? String(format: "\\x%02x", $0.value) : String($0) }.joined()
        if name.utf8.contains(0) {
            throw NetlinkRequestError("invalid device name '\(shown)' (contains a NUL byte)")
        }
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ), name != ".", name != "..",
              !name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw NetlinkRequestError("invalid device name '\(shown)' (1–15 bytes, not '.' or '..', no '/', ':', spaces or control characters)")
        }
    }

    /// The device called `name`; throws "unknown device 'name'" (ENODEV) when there is none.
    public func link(named name: String) throws -> Link {
        try Self.validateDeviceName(name)
        let request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: UInt16(NLM_F_ACK), operation: "look up device '\(name)'")
        request.putFamilyHeader(ifinfomsg())
        request.put(UInt16(IFLA_IFNAME), string: name)
        return try single(request, unknown: "unknown device '\(name)'")
    }

    /// The device with ifindex `index`; throws "unknown device ifindex N" (ENODEV) when there is none.
    public func link(index: Int32) throws -> Link {
        guard index > 0 else { throw NetlinkRequestError("invalid ifindex \(index) (must be > 0)") }
        let request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: UInt16(NLM_F_ACK), operation: "look up ifindex \(index)")
        var header = ifinfomsg()
        header.ifi_index = index
        request.putFamilyHeader(header)
        return try single(request, unknown: "unknown device ifindex \(index)")
    }

    /// The ifindex of `device`, looking the name up when needed.
    public func ifindex(of device: NetworkDevice) throws -> Int32 {
        switch device {
        case .index(let index):
            guard index > 0 else { throw NetlinkRequestError("invalid ifindex \(index) (must be > 0)") }
            return index
        case .name(let name): return try link(named: name).index
        }
    }

    private func single(_ request: NetlinkRequest, unknown: String) throws -> Link {
        do {
            guard let message = try execute(request).first(where: { $0.type == UInt16(RTM_NEWLINK) }) else {
                throw NetlinkParseError(request.operation, "kernel sent no RTM_NEWLINK")
            }
            return try Link(message: message)
        } catch let error as NetlinkError where error.errno == ENODEV {
            throw NetlinkError(operation: unknown, errno: ENODEV, extack: error.extack)
        }
    }
}

extension Link {
    init(message: NetlinkMessage) throws {
        let (header, attributes) = try message.decode(ifinfomsg.self, "RTM_NEWLINK")
        index = header.ifi_index
        name = attributes.attribute(UInt16(IFLA_IFNAME))?.string() ?? ""
        mtu = try attributes.attribute(UInt16(IFLA_MTU))?.u32("IFLA_MTU") ?? 0
        numTxQueues = try attributes.attribute(UInt16(IFLA_NUM_TX_QUEUES))?.u32("IFLA_NUM_TX_QUEUES") ?? 1
        operState = OperState(raw: try attributes.attribute(UInt16(IFLA_OPERSTATE))?.u8("IFLA_OPERSTATE") ?? 0)
        kind = try attributes.attribute(UInt16(IFLA_LINKINFO))?.nested("IFLA_LINKINFO")
            .attribute(UInt16(IFLA_INFO_KIND))?.string()
        if name.isEmpty { throw NetlinkParseError("RTM_NEWLINK ifindex \(index)", "no IFLA_IFNAME") }
    }
}
