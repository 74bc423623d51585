import CEdgeShim
import CMnl
import Foundation
import Glibc

/// An rtnetlink (NETLINK_ROUTE) socket over libmnl with extended ACKs turned on.
///
/// Requests are sent one at a time (a lock serialises them); each gets a fresh sequence
/// number and the receive loop only accepts replies carrying that number and our port id.
/// The socket belongs to the network namespace it was created in, for its whole life: use
/// `init(namespace:)` to talk to another namespace from any thread.
public final class NetlinkSocket: @unchecked Sendable {
    private let socket: OpaquePointer
    /// Port id the kernel assigned on bind.
    public let portID: UInt32
    private var nextSequence: UInt32
    private let lock = NSLock()
    /// 32 KiB: the size libmnl recommends for dump replies (MNL_SOCKET_DUMP_SIZE), so one
    /// recvmsg never truncates a kernel dump batch.
    private static let receiveBufferSize = 32768
    /// How often a dump that the kernel marked inconsistent (NLM_F_DUMP_INTR) is retried.
    private static let dumpAttempts = 3
    /// NLMSG_HDRLEN.
    private static let headerLength = edge_nl_align(MemoryLayout<nlmsghdr>.size)

    /// Opens and binds a socket in the calling thread's network namespace.
    public init() throws {
        guard let socket = mnl_socket_open(NETLINK_ROUTE) else {
            throw NetlinkError(operation: "open rtnetlink socket", errno: Glibc.errno)
        }
        if mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            let code = Glibc.errno
            mnl_socket_close(socket)
            throw NetlinkError(operation: "bind rtnetlink socket", errno: code)
        }
        if edge_nl_enable_ext_ack(socket) < 0 {
            let code = Glibc.errno
            mnl_socket_close(socket)
            throw NetlinkError(operation: "enable NETLINK_EXT_ACK", errno: code)
        }
        self.socket = socket
        portID = mnl_socket_get_portid(socket)
        // Start from the clock like iproute2 does, so replies to an earlier process that had
        // the same port id cannot be mistaken for ours.
        nextSequence = UInt32(truncatingIfNeeded: time(nil))
    }

    /// Opens a socket inside `namespace` (on a dedicated thread that enters it), usable
    /// afterwards from any thread.
    public convenience init(namespace: NetworkNamespace) throws {
        let inner = try namespace.runOnDedicatedThread { try NetlinkSocket() }
        self.init(adopting: inner)
    }

    private init(adopting other: NetlinkSocket) {
        // Move the handle: `other` must not close it.
        socket = other.socket
        portID = other.portID
        nextSequence = other.nextSequence
        other.ownsSocket = false
    }

    private var ownsSocket = true

    deinit {
        if ownsSocket { mnl_socket_close(socket) }
    }

    /// One receive system call: `recv(2)` on the socket's fd with `flags` (MSG_TRUNC always,
    /// MSG_DONTWAIT when draining), returning the datagram's full length or -1 with errno set.
    typealias ReceiveCall = (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ flags: Int32) -> Int

    /// The real call.
    static let systemReceive: ReceiveCall = { fd, buffer, flags in recv(fd, buffer.baseAddress, buffer.count, flags) }

    /// The call the receive loop makes. Only tests replace it, with a wrapper around
    /// `systemReceive` that first returns an errno the kernel gives rarely (EINTR, ENOBUFS), so
    /// the paths that handle them run against the real socket and the real kernel replies.
    var receiveCall: ReceiveCall = NetlinkSocket.systemReceive

    /// Sends `request` and returns the data messages of the reply (not the ACK/DONE).
    /// Non-dump requests should carry NLM_F_ACK so that success is confirmed.
    ///
    /// EINTR from a system call is retried. A dump that the kernel marks inconsistent
    /// (NLM_F_DUMP_INTR) or that loses messages (ENOBUFS) is restarted, up to `dumpAttempts`
    /// times in all. ENOBUFS on any other request fails: its acknowledgement may be among the
    /// lost messages, so whether the kernel applied it is unknown.
    public func execute(_ request: NetlinkRequest) throws -> [NetlinkMessage] {
        lock.lock()
        defer { lock.unlock() }
        var attempt = 1
        while true {
            do {
                return try executeLocked(request)
            } catch let error as NetlinkError where request.isDump && (error.errno == EINTR || error.errno == ENOBUFS) {
                guard attempt < Self.dumpAttempts else {
                    throw NetlinkError(operation: request.operation, errno: error.errno,
                                       extack: "gave up after \(attempt) attempts: \(error.extack ?? error.systemMessage)")
                }
                attempt += 1
            } catch let error as NetlinkError where error.errno == ENOBUFS {
                throw NetlinkError(operation: request.operation, errno: ENOBUFS,
                                   extack: "the reply was lost, so whether the kernel applied the request is unknown; read the state back")
            }
        }
    }

    private func executeLocked(_ request: NetlinkRequest) throws -> [NetlinkMessage] {
        nextSequence &+= 1
        let sequence = nextSequence
        request.sequence = sequence
        try request.withMessage { header in
            while true {
                let sent = mnl_socket_sendto(socket, header, Int(header.pointee.nlmsg_len))
                if sent >= 0 { return }
                if Glibc.errno == EINTR { continue }
                throw NetlinkError(operation: "\(request.operation) (send)", errno: Glibc.errno)
            }
        }
        do {
            return try receive(sequence: sequence, request: request)
        } catch let error as NetlinkError where error.errno == ENOBUFS && request.isDump {
            // The kernel refuses a new dump on this socket while the old one runs (EBUSY):
            // read the rest of it away before the caller restarts.
            drain(sequence: sequence)
            throw error
        }
    }

    /// Reads without blocking until the reply to `sequence` has ended (its NLMSG_DONE or
    /// NLMSG_ERROR), the socket is empty, or a second has passed.
    private func drain(sequence: UInt32) {
        var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        let fd = mnl_socket_get_fd(socket)
        let deadline = ContinuousClock.now.advanced(by: .seconds(1))
        while ContinuousClock.now < deadline {
            let received = buffer.withUnsafeMutableBytes { receiveCall(fd, $0, Int32(MSG_TRUNC | MSG_DONTWAIT)) }
            if received < 0 {
                if Glibc.errno == EINTR || Glibc.errno == ENOBUFS { continue }
                return  // EAGAIN: nothing more is queued
            }
            let ended = buffer.withUnsafeBytes { raw in
                Self.walkMessages(raw, length: received) { message in
                    let type = Int32(message.pointee.nlmsg_type)
                    return message.pointee.nlmsg_seq == sequence && (type == NLMSG_DONE || type == NLMSG_ERROR)
                }
            }
            if ended || received == 0 { return }
        }
    }

    /// Walks the messages in the first `length` bytes of `raw` (each bounds-checked before it is
    /// read), calling `visit` until it returns true. Returns whether `visit` ended the walk.
    private static func walkMessages(_ raw: UnsafeRawBufferPointer, length: Int,
                                     _ visit: (UnsafePointer<nlmsghdr>) throws -> Bool) rethrows -> Bool {
        var remaining = Int32(min(length, raw.count))
        var cursor = UnsafePointer(raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self))
        while netlinkMessageFits(cursor, remaining) {
            if try visit(cursor) { return true }
            cursor = UnsafePointer(mnl_nlmsg_next(cursor, &remaining)!)
        }
        return false
    }

    private func receive(sequence: UInt32, request: NetlinkRequest) throws -> [NetlinkMessage] {
        var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        let fd = mnl_socket_get_fd(socket)
        var collected: [NetlinkMessage] = []
        var interrupted = false
        while true {
            let received = buffer.withUnsafeMutableBytes { receiveCall(fd, $0, Int32(MSG_TRUNC)) }
            if received < 0 {
                let code = Glibc.errno
                if code == EINTR { continue }
                // ENOBUFS: the kernel dropped messages for us; the reply is incomplete.
                throw NetlinkError(operation: "\(request.operation) (receive)", errno: code)
            }
            if received == 0 {
                throw NetlinkError(operation: "\(request.operation) (receive)", errno: EPIPE, extack: "netlink socket closed")
            }
            if received > buffer.count {
                // MSG_TRUNC reports the datagram's real length: the kernel sent more than fits.
                throw NetlinkError(operation: "\(request.operation) (receive)", errno: EMSGSIZE,
                                   extack: "a \(received)-byte reply does not fit the \(buffer.count)-byte receive buffer")
            }
            let finished = try buffer.withUnsafeBytes { raw in
                try Self.walkMessages(raw, length: received) { cursor -> Bool in
                    let header = cursor.pointee
                    // Replies to an earlier, abandoned request (or not meant for us) are dropped.
                    guard header.nlmsg_seq == sequence, header.nlmsg_pid == 0 || header.nlmsg_pid == portID else { return false }
                    if header.nlmsg_flags & UInt16(NLM_F_DUMP_INTR) != 0 { interrupted = true }
                    switch Int32(header.nlmsg_type) {
                    case NLMSG_NOOP:
                        return false
                    case NLMSG_OVERRUN:
                        throw NetlinkError(operation: request.operation, errno: ENOBUFS)
                    case NLMSG_ERROR, NLMSG_DONE:
                        var extack: UnsafePointer<CChar>?
                        let code = edge_nl_parse_status(cursor, Int(header.nlmsg_len), &extack)
                        if code < 0 {
                            throw NetlinkParseError(request.operation, "truncated NLMSG_ERROR/NLMSG_DONE")
                        }
                        if code > 0 {
                            throw NetlinkError(operation: request.operation, errno: code,
                                               extack: extack.map { String(cString: $0) })
                        }
                        return true
                    default:
                        let payloadStart = UnsafeRawPointer(cursor) + Self.headerLength
                        let payloadLength = Int(header.nlmsg_len) - Self.headerLength
                        collected.append(NetlinkMessage(
                            type: header.nlmsg_type, flags: header.nlmsg_flags,
                            sequence: header.nlmsg_seq, portID: header.nlmsg_pid,
                            payload: [UInt8](UnsafeRawBufferPointer(start: payloadStart, count: max(0, payloadLength)))))
                        // A non-dump request without NLM_F_ACK ends with its single reply.
                        return !request.isDump && request.flags & UInt16(NLM_F_ACK) == 0
                    }
                }
            }
            if finished {
                if interrupted {
                    throw NetlinkError(operation: request.operation, errno: EINTR,
                                       extack: "dump was interrupted by a concurrent change")
                }
                return collected
            }
        }
    }
}
