import CMnl
import Glibc
import CEdgeShim

/// Builds one netlink request with libmnl (header → family header → attributes), in a buffer
/// this value owns. Pure: no socket involved, so the bytes can be unit tested.
///
/// Attribute writes that would overflow the buffer are remembered and reported by `bytes()`,
/// so building code stays linear and a too-long request is still a clear error.
public final class NetlinkRequest {
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private let header: UnsafeMutablePointer<nlmsghdr>
    private var overflowed = false
    /// Names the request in errors ("qdisc add tbf on veth0").
    public let operation: String

    /// - Parameters:
    ///   - type: RTM_* message type.
    ///   - flags: NLM_F_* flags (NLM_F_REQUEST is always added).
    ///   - sequence: nlmsg_seq; the socket overwrites it when sending.
    public init(type: UInt16, flags: UInt16, sequence: UInt32 = 0, operation: String, capacity: Int = 8192) {
        self.capacity = capacity
        self.operation = operation
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        header = mnl_nlmsg_put_header(buffer)
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = flags | UInt16(NLM_F_REQUEST)
        header.pointee.nlmsg_seq = sequence
    }

    deinit { buffer.deallocate() }

    /// nlmsg_type.
    public var type: UInt16 { header.pointee.nlmsg_type }
    /// nlmsg_flags.
    public var flags: UInt16 { header.pointee.nlmsg_flags }
    /// True for NLM_F_DUMP requests (answered by a multipart stream ending in NLMSG_DONE).
    public var isDump: Bool { flags & UInt16(NLM_F_DUMP) == UInt16(NLM_F_DUMP) }

    /// nlmsg_seq.
    public var sequence: UInt32 {
        get { header.pointee.nlmsg_seq }
        set { header.pointee.nlmsg_seq = newValue }
    }

    /// Appends the family header (ifinfomsg, tcmsg, ...) right after the netlink header.
    /// Must come before any attribute; inside a nest it starts the nest's payload (a veth's
    /// VETH_INFO_PEER carries the peer's ifinfomsg before the peer's attributes).
    public func putFamilyHeader<T>(_ value: T) {
        var copy = value
        let size = MemoryLayout<T>.size
        guard Int(header.pointee.nlmsg_len) + edge_nl_align(size) <= capacity else {
            overflowed = true
            return
        }
        let dst = mnl_nlmsg_put_extra_header(header, size)!
        withUnsafeBytes(of: &copy) { dst.copyMemory(from: $0.baseAddress!, byteCount: size) }
    }

    public func put(_ type: UInt16, u8 value: UInt8) {
        if !mnl_attr_put_u8_check(header, capacity, type, value) { overflowed = true }
    }

    public func put(_ type: UInt16, u16 value: UInt16) {
        if !mnl_attr_put_u16_check(header, capacity, type, value) { overflowed = true }
    }

    public func put(_ type: UInt16, u32 value: UInt32) {
        if !mnl_attr_put_u32_check(header, capacity, type, value) { overflowed = true }
    }

    public func put(_ type: UInt16, u64 value: UInt64) {
        if !mnl_attr_put_u64_check(header, capacity, type, value) { overflowed = true }
    }

    /// A NUL-terminated string attribute (NLA_STRING / NLA_NUL_STRING both accept it).
    public func put(_ type: UInt16, string value: String) {
        if !mnl_attr_put_strz_check(header, capacity, type, value) { overflowed = true }
    }

    /// Raw bytes (used to send back options captured from a dump, e.g. when restoring).
    public func put(_ type: UInt16, bytes: [UInt8]) {
        let ok = bytes.withUnsafeBytes { mnl_attr_put_check(header, capacity, type, bytes.count, $0.baseAddress) }
        if !ok { overflowed = true }
    }

    /// A C struct as the attribute payload (tc_tbf_qopt, tc_htb_opt, ...).
    public func put<T>(_ type: UInt16, value: T) {
        var copy = value
        let ok = withUnsafeBytes(of: &copy) {
            mnl_attr_put_check(header, capacity, type, MemoryLayout<T>.size, $0.baseAddress)
        }
        if !ok { overflowed = true }
    }

    /// A nested attribute: `body` appends the inner attributes.
    public func nest(_ type: UInt16, _ body: (NetlinkRequest) -> Void) {
        guard let start = mnl_attr_nest_start_check(header, capacity, type) else {
            overflowed = true
            return
        }
        body(self)
        if !overflowed { mnl_attr_nest_end(header, start) }
    }

    /// The finished message (nlmsg_len bytes).
    public func bytes() throws -> [UInt8] {
        if overflowed {
            throw NetlinkError(operation: operation, errno: EMSGSIZE, extack: "request larger than \(capacity) bytes")
        }
        return [UInt8](UnsafeRawBufferPointer(start: buffer, count: Int(header.pointee.nlmsg_len)))
    }

    /// Gives the socket the header pointer for sending, without copying.
    func withMessage<R>(_ body: (UnsafeMutablePointer<nlmsghdr>) throws -> R) throws -> R {
        if overflowed {
            throw NetlinkError(operation: operation, errno: EMSGSIZE, extack: "request larger than \(capacity) bytes")
        }
        return try body(header)
    }
}
