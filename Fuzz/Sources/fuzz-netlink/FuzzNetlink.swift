// libFuzzer target: what the kernel sends back on an rtnetlink socket (the parse side):
// message walk, NLMSG_ERROR/DONE status with extack, RTM_NEWLINK and RTM_NEWQDISC decoding
// (fq/tbf/htb options), and nested attribute streams.
import EdgeNetlink
import FuzzSupport

/// The clock of this build machine's /proc/net/psched (1 tick = 1/15.625 µs), fixed so that
/// the run does not depend on the host.
let clock = PacketSchedulerClock(ticksPerMicrosecond: 15.625)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput(data, size).all
    let reply = NetlinkReplyDecoder.decode(datagram: bytes, clock: clock)
    // Every message of another type still goes through the attribute parser, nests included.
    for message in reply.others {
        guard let attributes = try? NetlinkAttribute.parse(message.payload, context: "fuzz") else { continue }
        for attribute in attributes {
            _ = try? attribute.nested("fuzz nest")
            _ = try? attribute.u64("u64")
            _ = attribute.string()
        }
    }
    return 0
}
