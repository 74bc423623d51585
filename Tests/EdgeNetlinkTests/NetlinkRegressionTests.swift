// Inputs the fuzz-netlink target (Fuzz/) found to break the reply parser, kept as tests.
import EdgeNetlink
import XCTest

final class NetlinkRegressionTests: XCTestCase {
    let clock = PacketSchedulerClock(ticksPerMicrosecond: 15.625)

    /// fuzz-netlink OOM: a second header claims nlmsg_len 0xd3d3d3d3. libmnl's mnl_nlmsg_ok
    /// compares it as a signed int (negative, so "fits"), and the message copy then asked for
    /// ~3.5 GiB read past a 91-byte buffer. The walk must stop at such a header instead.
    static let hugeLengthArtifact: [UInt8] = [
        0x20, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3,
        0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3,
        0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3,
        0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3, 0xd3,
        0xd3, 0xd3, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xff, 0xff, 0xff, 0x09,
        0x9e, 0x01, 0x00, 0x62, 0x75, 0x73, 0x79, 0x29, 0x00, 0x00, 0x00,
    ]

    func testAHeaderLongerThan2GiBEndsTheWalk() {
        let reply = NetlinkReplyDecoder.decode(datagram: Self.hugeLengthArtifact, clock: clock)
        XCTAssertEqual(reply.statuses.count, 1, "the first, well-formed NLMSG_DONE is still read")
        XCTAssertTrue(reply.links.isEmpty && reply.qdiscs.isEmpty && reply.others.isEmpty)
    }

    func testEveryLengthAtOrAbove2GiBIsRejectedNotJustTheFuzzersOne() {
        for length: UInt32 in [0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFF] {
            // nlmsghdr: len, type RTM_NEWLINK (16), flags, seq, pid; then 16 bytes of ifinfomsg.
            var bytes: [UInt8] = []
            for v in [length] { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
            bytes += [16, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 0, count: 16)
            let reply = NetlinkReplyDecoder.decode(datagram: bytes, clock: clock)
            XCTAssertTrue(reply.links.isEmpty && reply.errors.isEmpty && reply.others.isEmpty, "length \(length)")
        }
    }

    func testAWellFormedLinkStillDecodes() throws {
        // RTM_NEWLINK for ifindex 3 "veth0", MTU 1500: the fix must not reject valid replies.
        var payload: [UInt8] = [0, 0, 1, 0, 3, 0, 0, 0, 0x43, 0x10, 0, 0, 0, 0, 0, 0]
        payload += [10, 0, 3, 0] + Array("veth0".utf8) + [0, 0, 0]   // IFLA_IFNAME, padded
        payload += [8, 0, 4, 0, 0xdc, 0x05, 0, 0]                    // IFLA_MTU 1500
        let length = UInt32(16 + payload.count)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: length.littleEndian) { bytes += $0 }
        bytes += [16, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0] + payload
        let reply = NetlinkReplyDecoder.decode(datagram: bytes, clock: clock)
        XCTAssertEqual(reply.errors, [])
        let link = try XCTUnwrap(reply.links.first)
        XCTAssertEqual(link.name, "veth0")
        XCTAssertEqual(link.index, 3)
        XCTAssertEqual(link.mtu, 1500)
    }
}
