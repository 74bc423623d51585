import CEdgeShim
import CMnl

/// What one kernel datagram held, decoded without a socket.
public struct DecodedNetlinkReply: Sendable {
    /// Links from RTM_NEWLINK messages.
    public var links: [Link] = []
    /// Qdiscs from RTM_NEWQDISC messages.
    public var qdiscs: [Qdisc] = []
    /// The status of each NLMSG_ERROR / NLMSG_DONE: 0 (success) or a positive errno, with the
    /// kernel's extack text when it sent one.
    public var statuses: [(errno: Int32, extack: String?)] = []
    /// Messages of other types, kept as they came.
    public var others: [NetlinkMessage] = []
    /// Per-message decoding errors (a bad message does not hide the ones after it).
    public var errors: [NetlinkParseError] = []
}

/// The parse side of rtnetlink as a pure function of bytes: the same message walk
/// (`mnl_nlmsg_ok`/`mnl_nlmsg_next`), status parser (`edge_nl_parse_status`) and message
/// decoders (`Link(message:)`, `Qdisc(message:clock:)`) that `NetlinkSocket` runs on what the
/// kernel sends. It exists so that these decoders can be fuzzed and tested on captured bytes;
/// it never talks to the kernel.
public enum NetlinkReplyDecoder {
    /// Decodes every message in `datagram` (one `recvmsg` worth of bytes). Trailing bytes too
    /// short for a message are ignored, as the socket's receive loop ignores them.
    public static func decode(datagram: [UInt8], clock: PacketSchedulerClock) -> DecodedNetlinkReply {
        var reply = DecodedNetlinkReply()
        let headerLength = edge_nl_align(MemoryLayout<nlmsghdr>.size)
        // Copy into 4-byte aligned storage: nlmsghdr is read in place, as from the receive buffer.
        let words = (datagram.count + 3) / 4
        var storage = [UInt32](repeating: 0, count: max(words, 1))
        storage.withUnsafeMutableBytes { $0.copyBytes(from: datagram) }
        storage.withUnsafeBytes { raw in
            var remaining = Int32(clamping: datagram.count)
            var cursor = UnsafePointer(raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self))
            while netlinkMessageFits(cursor, remaining) {
                let header = cursor.pointee
                defer { cursor = UnsafePointer(mnl_nlmsg_next(cursor, &remaining)!) }
                switch Int32(header.nlmsg_type) {
                case NLMSG_NOOP, NLMSG_OVERRUN:
                    continue
                case NLMSG_ERROR, NLMSG_DONE:
                    var extack: UnsafePointer<CChar>?
                    let code = edge_nl_parse_status(cursor, Int(header.nlmsg_len), &extack)
                    if code < 0 {
                        reply.errors.append(NetlinkParseError("reply", "truncated NLMSG_ERROR/NLMSG_DONE"))
                    } else {
                        reply.statuses.append((code, extack.map { String(cString: $0) }))
                    }
                default:
                    let payloadStart = UnsafeRawPointer(cursor) + headerLength
                    let payloadLength = Int(header.nlmsg_len) - headerLength
                    let message = NetlinkMessage(
                        type: header.nlmsg_type, flags: header.nlmsg_flags,
                        sequence: header.nlmsg_seq, portID: header.nlmsg_pid,
                        payload: [UInt8](UnsafeRawBufferPointer(start: payloadStart, count: max(0, payloadLength))))
                    do {
                        switch Int32(message.type) {
                        case Int32(RTM_NEWLINK): reply.links.append(try Link(message: message))
                        case Int32(RTM_NEWQDISC): reply.qdiscs.append(try Qdisc(message: message, clock: clock))
                        default: reply.others.append(message)
                        }
                    } catch let error as NetlinkParseError {
                        reply.errors.append(error)
                    } catch {
                        reply.errors.append(NetlinkParseError("reply", "\(error)"))
                    }
                }
            }
        }
        return reply
    }
}

/// `mnl_nlmsg_ok` plus the bound it gets wrong: libmnl 1.0.4 compares `(int)nlmsg_len <= len`,
/// so a length of 2^31 or more turns negative and passes, and the reader would then copy (or
/// parse) up to 4 GiB past the receive buffer. Found by the fuzz-netlink target (Fuzz/).
func netlinkMessageFits(_ header: UnsafePointer<nlmsghdr>, _ remaining: Int32) -> Bool {
    mnl_nlmsg_ok(header, remaining) && header.pointee.nlmsg_len <= UInt32(max(remaining, 0))
}
