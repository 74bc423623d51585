// Golden bytes for requests, derived by hand from the UAPI layouts (linux/netlink.h,
// linux/rtnetlink.h, linux/pkt_sched.h, linux/pkt_cls.h); all integers little-endian (x86-64),
// attributes padded to 4 bytes. No socket, no root needed.
import EdgeNetlink
import XCTest

final class RequestBytesTests: XCTestCase {
    /// /proc/net/psched on current kernels: 1000 ns/µs, 64 ns/tick, 1 MHz clock → 15.625 ticks/µs.
    let clock = PacketSchedulerClock(ticksPerMicrosecond: 15.625)

    func testTBFAddRequest() throws {
        let request = try TrafficControlRequests.qdisc(
            .add, ifindex: 7, deviceName: "veth0", parent: .root, handle: .qdisc(1),
            options: .tbf(TBFOptions(rate: 125_000, burst: 5000, limit: 10_000)), clock: clock, sequence: 42)
        let expected: [UInt8] = [
            // nlmsghdr: len 96, RTM_NEWQDISC (36), REQUEST|ACK|EXCL|CREATE (0x605), seq 42, pid 0
            96, 0, 0, 0, 36, 0, 0x05, 0x06, 42, 0, 0, 0, 0, 0, 0, 0,
            // tcmsg: family 0, pads, ifindex 7, handle 1:0, parent TC_H_ROOT, info 0
            0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
            // TCA_KIND (1) "tbf\0"
            8, 0, 1, 0, 0x74, 0x62, 0x66, 0,
            // TCA_OPTIONS (2 | NLA_F_NESTED), 52 bytes
            52, 0, 0x02, 0x80,
            // TCA_TBF_PARMS (1), 4 + 36 bytes of tc_tbf_qopt
            40, 0, 1, 0,
            // rate: cell_log 0, linklayer ETHERNET 1, overhead 0, cell_align 0, mpu 0, rate 125000
            0, 1, 0, 0, 0, 0, 0, 0, 0x48, 0xe8, 0x01, 0x00,
            // peakrate: unused
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            // limit 10000
            0x10, 0x27, 0, 0,
            // buffer: 5000 B at 125000 B/s = 40000 µs × 15.625 = 625000 ticks
            0x68, 0x89, 0x09, 0x00,
            // mtu 0
            0, 0, 0, 0,
            // TCA_TBF_BURST (6) = 5000
            8, 0, 6, 0, 0x88, 0x13, 0, 0,
        ]
        XCTAssertEqual(try request.bytes(), expected)
    }

    func testFQReplaceRequest() throws {
        let options = FQOptions(limit: 10_000, flowLimit: 100, maxRate: 1_250_000,
                                horizonMicroseconds: 2_000_000, horizonDrop: true)
        let request = try TrafficControlRequests.qdisc(
            .replace, ifindex: 3, deviceName: "veth0", parent: TCHandle(major: 1, minor: 2), handle: .unspecified,
            options: .fq(options), clock: clock, sequence: 7)
        let expected: [UInt8] = [
            // nlmsghdr: len 88, RTM_NEWQDISC, REQUEST|ACK|REPLACE|CREATE (0x505), seq 7
            88, 0, 0, 0, 36, 0, 0x05, 0x05, 7, 0, 0, 0, 0, 0, 0, 0,
            // tcmsg: ifindex 3, handle 0 (kernel picks), parent 1:2
            0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0,
            // TCA_KIND "fq\0" (7 bytes + 1 pad)
            7, 0, 1, 0, 0x66, 0x71, 0, 0,
            // TCA_OPTIONS nested, 44 bytes
            44, 0, 0x02, 0x80,
            // TCA_FQ_PLIMIT (1) 10000
            8, 0, 1, 0, 0x10, 0x27, 0, 0,
            // TCA_FQ_FLOW_PLIMIT (2) 100
            8, 0, 2, 0, 100, 0, 0, 0,
            // TCA_FQ_FLOW_MAX_RATE (7) 1250000 = 0x1312D0
            8, 0, 7, 0, 0xd0, 0x12, 0x13, 0,
            // TCA_FQ_HORIZON (14) 2000000 µs = 0x1E8480
            8, 0, 14, 0, 0x80, 0x84, 0x1e, 0,
            // TCA_FQ_HORIZON_DROP (15) u8 1, nla_len 5 + 3 pad
            5, 0, 15, 0, 1, 0, 0, 0,
        ]
        XCTAssertEqual(try request.bytes(), expected)
    }

    func testBPFFilterAddRequest() throws {
        let spec = BPFFilterSpec(programFD: 9, name: "edge_edt", priority: 1, handle: 1)
        let request = try TrafficControlRequests.bpfFilter(.add, ifindex: 5, deviceName: "veth0", hook: .egress,
                                                           spec: spec, sequence: 1)
        let expected: [UInt8] = [
            // nlmsghdr: len 80, RTM_NEWTFILTER (44), 0x605, seq 1
            80, 0, 0, 0, 44, 0, 0x05, 0x06, 1, 0, 0, 0, 0, 0, 0, 0,
            // tcmsg: ifindex 5, handle 1, parent ffff:fff3 (egress),
            // info = prio 1 << 16 | htons(ETH_P_ALL = 3) → 0x00010300
            0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0xf3, 0xff, 0xff, 0xff, 0x00, 0x03, 0x01, 0x00,
            // TCA_KIND "bpf\0"
            8, 0, 1, 0, 0x62, 0x70, 0x66, 0,
            // TCA_OPTIONS nested, 36 bytes
            36, 0, 0x02, 0x80,
            // TCA_BPF_FD (6) 9
            8, 0, 6, 0, 9, 0, 0, 0,
            // TCA_BPF_NAME (7) "edge_edt\0": nla_len 13, padded to 16
            13, 0, 7, 0, 0x65, 0x64, 0x67, 0x65, 0x5f, 0x65, 0x64, 0x74, 0, 0, 0, 0,
            // TCA_BPF_FLAGS (8) TCA_BPF_FLAG_ACT_DIRECT
            8, 0, 8, 0, 1, 0, 0, 0,
        ]
        XCTAssertEqual(try request.bytes(), expected)
    }

    func testHTBClassRequestUsesRate64AboveFourGigabytesPerSecond() throws {
        let rate: UInt64 = 5_000_000_000
        let request = try TrafficControlRequests.htbClass(
            .add, ifindex: 2, deviceName: "eth0", parent: .qdisc(1), classID: TCHandle(major: 1, minor: 0x10),
            options: HTBClassOptions(rate: rate), clock: clock)
        let bytes = try request.bytes()
        // tc_htb_opt is 2 × 12 (ratespecs) + 5 × 4 = 44 bytes: PARMS attr 48; then RATE64 and
        // CEIL64 (4 + 8 each) → options nest 4 + 48 + 12 + 12 = 76.
        XCTAssertEqual(bytes.count, 16 + 20 + 8 + 76)
        let options = Array(bytes[(16 + 20 + 8)...])
        XCTAssertEqual(Array(options[0..<4]), [76, 0, 0x02, 0x80])
        // rate32 field of the rate spec is ~0 when the rate needs 64 bits.
        XCTAssertEqual(Array(options[8..<20]), [0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
        // TCA_HTB_RATE64 (6): 5e9 = 0x12A05F200
        XCTAssertEqual(Array(options[52..<64]), [12, 0, 6, 0, 0x00, 0xf2, 0x05, 0x2a, 0x01, 0, 0, 0])
        // TCA_HTB_CEIL64 (7) = ceil defaults to the rate
        XCTAssertEqual(Array(options[64..<68]), [12, 0, 7, 0])
    }

    func testDeleteFilterRefusesPriorityZero() {
        XCTAssertThrowsError(try TrafficControlRequests.deleteFilter(ifindex: 1, deviceName: "eth0", hook: .egress,
                                                                     kind: "bpf", priority: 0, handle: 1)) { error in
            XCTAssertTrue("\(error)".contains("every filter"), "\(error)")
        }
    }

    func testOverlongRequestIsAnError() {
        let request = NetlinkRequest(type: 36, flags: 0, operation: "qdisc add huge on veth0", capacity: 64)
        request.put(1, bytes: [UInt8](repeating: 0xaa, count: 100))
        XCTAssertThrowsError(try request.bytes()) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, EMSGSIZE)
        }
    }
}
