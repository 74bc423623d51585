import CEdgeShim

/// One message received from the kernel, copied out of the receive buffer.
public struct NetlinkMessage: Sendable {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var portID: UInt32
    /// Everything after the netlink header (family header + attributes).
    public var payload: [UInt8]

    public init(type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32, payload: [UInt8]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// Decodes the family header `T` (ifinfomsg, tcmsg) and the attributes that follow it.
    /// Throws when the payload is shorter than the header.
    public func decode<T>(_: T.Type, _ context: String) throws -> (header: T, attributes: [NetlinkAttribute]) {
        let size = MemoryLayout<T>.size
        guard payload.count >= size else {
            throw NetlinkParseError(context, "message holds \(payload.count) bytes, family header needs \(size)")
        }
        let header: T = payload.withUnsafeBytes { raw in
            var aligned = [UInt8](raw[0..<size])
            return aligned.withUnsafeMutableBytes { $0.load(as: T.self) }
        }
        let start = min(edge_nl_align(size), payload.count)
        let attributes = try NetlinkAttribute.parse(Array(payload[start...]), context: context)
        return (header, attributes)
    }
}
