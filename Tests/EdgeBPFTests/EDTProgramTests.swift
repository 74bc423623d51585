// The EDT program on the real kernel through BPF_PROG_TEST_RUN: crafted IPv4, IPv6 and GSO
// frames, classes written into the real maps, departure times checked to the nanosecond.
@testable import EdgeAgent
import EdgeBPF
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class EDTProgramTests: XCTestCase {
    static let tcOK: UInt32 = 0     // TC_ACT_OK
    static let tcShot: UInt32 = 2   // TC_ACT_SHOT
    var dp: EDTDatapath!

    override func setUpWithError() throws {
        try requireRoot()
        dp = try EDTDatapath(pinDirectory: nil)
    }

    // MARK: helpers

    /// Adds class `id` for `selector` with a rate in bit/s and t_last as given.
    func addClass(_ id: UInt32, _ selector: String, bitsPerSecond: UInt64, horizonNs: UInt64,
                  ecn: Bool = false, tLast: UInt64 = 0) throws {
        var record = edt_class(rateBytesPerSecond: bitsPerSecond / 8, horizonNs: horizonNs, ecn: ecn)
        record.t_last = tLast
        try dp.writeClass(id, record)
        try dp.writeSelector(id, selector)
        try dp.bind(ShapingSelector.parse(selector, cgroupRoot: CgroupRoot.find()), to: id)
    }

    func run(_ frame: [UInt8], _ context: SKBTestContext = SKBTestContext()) throws -> BPFTestRunResult {
        try dp.program.testRun(packet: frame, context: context)
    }

    func record(_ id: UInt32) throws -> edt_class { try XCTUnwrap(try dp.readClass(id)) }

    /// The expected delay: round(wire * 1e9 / rate) with rate in bytes/s, as the program computes it.
    func delay(_ wire: UInt64, bitsPerSecond: UInt64) -> UInt64 {
        let rate = bitsPerSecond / 8
        return (wire * 1_000_000_000 + rate / 2) / rate
    }

    // MARK: departure times

    func testIPv4DepartureTimesAreExactAcrossConsecutivePackets() throws {
        let start = monotonicNow() + 500_000_000  // booked ahead: max(now, t_last) = t_last
        try addClass(1, "10.0.0.0/24", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        let frame = Frames.ipv4(source: [10, 0, 0, 7], payload: 1000)
        XCTAssertEqual(frame.count, 1054)
        let step = delay(1054, bitsPerSecond: 100_000_000)
        XCTAssertEqual(step, 84_320)
        var expected = start
        for _ in 0..<5 {
            let r = try run(frame)
            expected += step
            XCTAssertEqual(r.returnValue, Self.tcOK)
            XCTAssertEqual(r.context.tstamp, expected, "departure = previous departure + 1054 B at 100 Mbit/s")
            XCTAssertEqual(r.packet, frame, "an accepted packet is not modified")
        }
        let c = try record(1)
        XCTAssertEqual(c.t_last, expected)
        XCTAssertEqual(c.packets, 5)
        XCTAssertEqual(c.bytes, 5 * 1054)
        XCTAssertEqual(c.drops, 0)
    }

    func testIdleClassDepartsOneSerialisationTimeAfterNow() throws {
        try addClass(1, "10.0.0.7", bitsPerSecond: 10_000_000, horizonNs: 1_000_000_000)
        let before = monotonicNow()
        let r = try run(Frames.ipv4(source: [10, 0, 0, 7], payload: 1000))
        let after = monotonicNow()
        let step = delay(1054, bitsPerSecond: 10_000_000)
        XCTAssertGreaterThanOrEqual(r.context.tstamp, before + step)
        XCTAssertLessThanOrEqual(r.context.tstamp, after + step)
    }

    func testIPv6DepartureTimes() throws {
        let start = monotonicNow() + 500_000_000
        try addClass(3, "fd00:1::/64", bitsPerSecond: 1_000_000_000, horizonNs: 10_000_000_000, tLast: start)
        let frame = Frames.ipv6(source: Frames.fd00(0x1, 0x42), payload: 1400)
        XCTAssertEqual(frame.count, 14 + 40 + 20 + 1400)
        let step = delay(UInt64(frame.count), bitsPerSecond: 1_000_000_000)
        XCTAssertEqual(step, 11_792)  // 1474 B * 8 ns
        let first = try run(frame), second = try run(frame)
        XCTAssertEqual(first.context.tstamp, start + step)
        XCTAssertEqual(second.context.tstamp, start + 2 * step)
        XCTAssertEqual(try record(3).bytes, 2 * UInt64(frame.count))
    }

    func testGSOPacketIsChargedForEverySegmentsHeaders() throws {
        let start = monotonicNow() + 500_000_000
        try addClass(1, "10.0.0.0/8", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        // 3 segments of 1000 bytes behind a TCP header with 12 bytes of options (doff 8); test
        // frames are limited to a page, so the super-packets here are small ones
        let frame = Frames.ipv4(source: [10, 1, 2, 3], payload: 3000, tcpOptions: 12)
        let headers: UInt64 = 14 + 20 + 32
        XCTAssertEqual(UInt64(frame.count), headers + 3000)
        let r = try run(frame, SKBTestContext(gsoSegments: 3, gsoSize: 1000))
        let wire = UInt64(frame.count) + 2 * headers
        XCTAssertEqual(r.context.tstamp, start + delay(wire, bitsPerSecond: 100_000_000))
        XCTAssertEqual(try record(1).bytes, wire, "wire bytes = len + (segs-1) * (eth+ip+tcp)")
        XCTAssertEqual(try record(1).packets, 1)

        // the same for IPv6 (no TCP options)
        try addClass(2, "fd00::/16", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        let frame6 = Frames.ipv6(source: Frames.fd00(0, 1), payload: 2 * 1200)
        let r6 = try run(frame6, SKBTestContext(gsoSegments: 2, gsoSize: 1200))
        let wire6 = UInt64(frame6.count) + 1 * (14 + 40 + 20)
        XCTAssertEqual(r6.context.tstamp, start + delay(wire6, bitsPerSecond: 100_000_000))
    }

    func testOneMegabitAndHundredGigabitGiveExactDeltas() throws {
        let start = monotonicNow() + 500_000_000
        try addClass(1, "10.0.0.1", bitsPerSecond: 1_000_000, horizonNs: 60_000_000_000, tLast: start)
        try addClass(2, "10.0.0.2", bitsPerSecond: 100_000_000_000, horizonNs: 60_000_000_000, tLast: start)
        let slow = Frames.ipv4(source: [10, 0, 0, 1], payload: 1446)   // 1500-byte frame
        let fast = Frames.ipv4(source: [10, 0, 0, 2], payload: 1446)
        XCTAssertEqual(try run(slow).context.tstamp, start + 12_000_000, "1500 B at 1 Mbit/s = 12 ms")
        XCTAssertEqual(try run(slow).context.tstamp, start + 24_000_000)
        XCTAssertEqual(try run(fast).context.tstamp, start + 120, "1500 B at 100 Gbit/s = 120 ns")
        XCTAssertEqual(try run(fast).context.tstamp, start + 240)
        // the most segments a GSO packet may claim (GSO_MAX_SEGS) at 1 Mbit/s: the largest
        // product the program forms (3.5 MB * 1e9), no overflow, 28 s of departure time
        let big = Frames.ipv4(source: [10, 0, 0, 1], payload: 3000)
        let wire = UInt64(big.count) + 65_534 * 54
        let r = try run(big, SKBTestContext(gsoSegments: 65_535, gsoSize: 1448))
        XCTAssertEqual(r.context.tstamp, start + 24_000_000 + delay(wire, bitsPerSecond: 1_000_000))
        XCTAssertEqual(delay(wire, bitsPerSecond: 1_000_000), wire * 8_000)
    }

    // MARK: the packet's own departure time (TCP pacing, BBR, SO_TXTIME)

    func testPacketStampedLaterThanTheSlotKeepsItsStampAndBooksIt() throws {
        let start = monotonicNow() + 500_000_000
        try addClass(1, "10.0.0.7", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        let frame = Frames.ipv4(source: [10, 0, 0, 7], payload: 1000)
        let step = delay(1054, bitsPerSecond: 100_000_000)
        let paced = start + 3_000_000  // the socket's own pacing wants it 3 ms after the class's slot
        let r = try run(frame, SKBTestContext(tstamp: paced))
        XCTAssertEqual(r.returnValue, Self.tcOK)
        XCTAssertEqual(r.context.tstamp, paced, "a later departure time is never brought forward")
        XCTAssertEqual(try record(1).t_last, paced, "the class is busy until the paced packet leaves")
        let next = try run(frame)
        XCTAssertEqual(next.context.tstamp, paced + step, "the next packet queues behind it")
        XCTAssertEqual(try record(1).packets, 2)
    }

    func testPacketStampedBeforeTheSlotGetsTheSlot() throws {
        let start = monotonicNow() + 500_000_000
        try addClass(1, "10.0.0.7", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        let frame = Frames.ipv4(source: [10, 0, 0, 7], payload: 1000)
        let step = delay(1054, bitsPerSecond: 100_000_000)
        // stamped in the future, but earlier than the class allows
        let early = try run(frame, SKBTestContext(tstamp: start + step / 2))
        XCTAssertEqual(early.context.tstamp, start + step)
        // stamped in the past (a departure time the socket set long ago): the slot as well
        let past = try run(frame, SKBTestContext(tstamp: monotonicNow() - 1_000_000_000))
        XCTAssertEqual(past.context.tstamp, start + 2 * step)
        XCTAssertEqual(try record(1).t_last, start + 2 * step)
    }

    func testPastStampOnAnIdleClassLeavesAfterNowNotAtTheStamp() throws {
        try addClass(1, "10.0.0.7", bitsPerSecond: 10_000_000, horizonNs: 1_000_000_000)
        let step = delay(1054, bitsPerSecond: 10_000_000)
        let before = monotonicNow()
        let r = try run(Frames.ipv4(source: [10, 0, 0, 7], payload: 1000), SKBTestContext(tstamp: 5))
        let after = monotonicNow()
        XCTAssertGreaterThanOrEqual(r.context.tstamp, before + step, "a stale stamp counts as now")
        XCTAssertLessThanOrEqual(r.context.tstamp, after + step)
    }

    func testUnstampedPacketGetsTheSlot() throws {
        let start = monotonicNow() + 500_000_000
        try addClass(1, "10.0.0.7", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        let r = try run(Frames.ipv4(source: [10, 0, 0, 7], payload: 1000), SKBTestContext(tstamp: 0))
        XCTAssertEqual(r.context.tstamp, start + delay(1054, bitsPerSecond: 100_000_000))
    }

    func testSelfPacedStampFarAheadIsNotDroppedByTheClassHorizon() throws {
        // the horizon judges the class's backlog; a socket pacing itself 2 s ahead is fq's to judge
        try addClass(1, "10.0.0.7", bitsPerSecond: 100_000_000, horizonNs: 20_000_000)
        let far = monotonicNow() + 2_000_000_000
        let r = try run(Frames.ipv4(source: [10, 0, 0, 7], payload: 1000), SKBTestContext(tstamp: far))
        XCTAssertEqual(r.returnValue, Self.tcOK)
        XCTAssertEqual(r.context.tstamp, far)
        XCTAssertEqual(try record(1).drops, 0)
    }

    // MARK: the pod classifier and the mark (classification that survives masquerade)

    static let defaultMask: UInt32 = 0xFFE0_0000

    func testClassifierWritesThePodsClassIntoTheMarkKeepingOtherBits() throws {
        try dp.writeMarkMask(Self.defaultMask)
        try addClass(5, "10.244.1.7", bitsPerSecond: 10_000_000, horizonNs: 1_000_000_000)
        let frame = Frames.ipv4(source: [10, 244, 1, 7], payload: 100)
        let r = try dp.classifier.testRun(packet: frame, context: SKBTestContext(tstamp: 42, mark: 0x4000 | 0x0020_0000 * 9))
        XCTAssertEqual(r.returnValue, Self.tcOK)
        XCTAssertEqual(r.context.mark, 0x4000 | (5 << 21), "class 5 in bits 21-31, kube-proxy's 0x4000 kept, stale class bits replaced")
        XCTAssertEqual(r.context.tstamp, 42, "the classifier schedules nothing")
        XCTAssertEqual(r.packet, frame)
        XCTAssertEqual(try record(5).packets, 0, "counted once, at the uplink")
        let other = try dp.classifier.testRun(packet: Frames.ipv4(source: [10, 244, 1, 8], payload: 100),
                                              context: SKBTestContext(mark: 0x4000))
        XCTAssertEqual(other.context.mark, 0x4000, "no class: the mark is left alone")
        let v6 = Frames.ipv6(source: Frames.fd00(0x244, 7), payload: 100)
        try addClass(6, "fd00:244::7", bitsPerSecond: 10_000_000, horizonNs: 1_000_000_000)
        XCTAssertEqual(try dp.classifier.testRun(packet: v6).context.mark, 6 << 21)
    }

    func testClassifierDoesNothingWithTheMarkOffOrAnIdTheMaskCannotHold() throws {
        try addClass(20, "10.244.1.7", bitsPerSecond: 10_000_000, horizonNs: 1_000_000_000)
        let frame = Frames.ipv4(source: [10, 244, 1, 7], payload: 100)
        try dp.writeMarkMask(0)
        XCTAssertEqual(try dp.classifier.testRun(packet: frame, context: SKBTestContext(mark: 7)).context.mark, 7)
        try dp.writeMarkMask(0x0000_0F00)  // 4 bits: ids up to 15 (narrower than the config allows)
        XCTAssertEqual(try dp.classifier.testRun(packet: frame, context: SKBTestContext(mark: 7)).context.mark, 7,
                       "id 20 truncated to 4 bits would name class 4: not written")
    }

    func testUplinkFindsTheClassByMarkFirstThenByAddress() throws {
        try dp.writeMarkMask(Self.defaultMask)
        let start = monotonicNow() + 500_000_000
        try addClass(2, "10.244.1.7", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        try addClass(3, "192.168.0.1", bitsPerSecond: 100_000_000, horizonNs: 10_000_000_000, tLast: start)
        // masqueraded: the source is the node's (class 3 by address), the mark says class 2
        let natted = Frames.ipv4(source: [192, 168, 0, 1], payload: 1000)
        let r = try run(natted, SKBTestContext(mark: 0x4000 | 2 << 21))
        XCTAssertEqual(r.context.tstamp, start + delay(1054, bitsPerSecond: 100_000_000))
        XCTAssertEqual(try [record(2).packets, record(3).packets], [1, 0], "the mark wins over the address")
        // a mark naming no class (deleted meanwhile, or someone else's bits): the address decides
        _ = try run(natted, SKBTestContext(mark: 77 << 21))
        XCTAssertEqual(try [record(2).packets, record(3).packets], [1, 1])
        // the mark off: the class bits are not read
        try dp.writeMarkMask(0)
        _ = try run(natted, SKBTestContext(mark: 2 << 21))
        XCTAssertEqual(try [record(2).packets, record(3).packets], [1, 2])
    }

    // MARK: horizon and ECN

    func testPacketsPastTheHorizonAreDropped() throws {
        // 1054 B at 1 Mbit/s = 8.432 ms; horizon 20 ms: two fit, the third would leave 25 ms out
        try addClass(1, "10.0.0.9", bitsPerSecond: 1_000_000, horizonNs: 20_000_000)
        let frame = Frames.ipv4(source: [10, 0, 0, 9], payload: 1000)
        XCTAssertEqual(try run(frame).returnValue, Self.tcOK)
        XCTAssertEqual(try run(frame).returnValue, Self.tcOK)
        let tLast = try record(1).t_last
        let dropped = try run(frame, SKBTestContext(tstamp: 777))
        XCTAssertEqual(dropped.returnValue, Self.tcShot)
        XCTAssertEqual(dropped.context.tstamp, 777, "a dropped packet gets no departure time")
        let c = try record(1)
        XCTAssertEqual(c.drops, 1)
        XCTAssertEqual(c.packets, 2)
        XCTAssertEqual(c.t_last, tLast, "a drop books nothing")
    }

    func testECTPacketsAreMarkedCEPastHalfTheHorizonAndStillDroppedPastIt() throws {
        try addClass(1, "10.0.0.9", bitsPerSecond: 1_000_000, horizonNs: 20_000_000, ecn: true)
        let ect0 = Frames.ipv4(source: [10, 0, 0, 9], payload: 1000, tos: 0x02)
        let first = try run(ect0)   // 8.4 ms ahead: below horizon/2
        XCTAssertEqual(first.packet[15] & 3, 0x02, "not marked below horizon/2")
        let second = try run(ect0)  // 16.9 ms ahead: past horizon/2
        XCTAssertEqual(second.returnValue, Self.tcOK)
        XCTAssertEqual(second.packet[15] & 3, 0x03, "CE set")
        XCTAssertEqual(second.packet[15] & 0xFC, 0x00, "DSCP untouched")
        XCTAssertEqual(Frames.ipv4HeaderChecksum(second.packet), 0, "header checksum still valid")
        XCTAssertTrue(second.packet[16..<24] == ect0[16..<24] && second.packet[26...] == ect0[26...],
                      "nothing but the ECN bits and the header checksum changed")
        XCTAssertNotEqual(second.packet[24..<26], ect0[24..<26], "the checksum was updated")
        XCTAssertEqual(try run(ect0).returnValue, Self.tcShot, "past the horizon even ECT packets drop")
        let c = try record(1)
        XCTAssertEqual(c.ecn_marks, 1)
        XCTAssertEqual(c.drops, 1)
    }

    func testNonECTPacketsAreNotMarkedAndECNOffMarksNothing() throws {
        try addClass(1, "10.0.0.9", bitsPerSecond: 1_000_000, horizonNs: 20_000_000, ecn: true)
        let plain = Frames.ipv4(source: [10, 0, 0, 9], payload: 1000, tos: 0x00)
        _ = try run(plain)
        XCTAssertEqual(try run(plain).packet, plain)
        try addClass(2, "10.0.0.10", bitsPerSecond: 1_000_000, horizonNs: 20_000_000, ecn: false)
        let ect = Frames.ipv4(source: [10, 0, 0, 10], payload: 1000, tos: 0x01)
        _ = try run(ect)
        XCTAssertEqual(try run(ect).packet, ect, "ECN off for the class")
        XCTAssertEqual(try record(1).ecn_marks + record(2).ecn_marks, 0)
    }

    func testIPv6TrafficClassGetsCE() throws {
        try addClass(1, "fd00::/8", bitsPerSecond: 1_000_000, horizonNs: 20_000_000, ecn: true)
        let frame = Frames.ipv6(source: Frames.fd00(0, 9), payload: 1000, trafficClass: 0xB9)  // DSCP 46, ECT(1)
        _ = try run(frame)
        let marked = try run(frame)
        let tc = (marked.packet[14] & 0x0F) << 4 | marked.packet[15] >> 4
        XCTAssertEqual(tc, 0xBB, "DSCP kept, ECN = CE")
        XCTAssertEqual(marked.packet[15] & 0x0F, frame[15] & 0x0F, "flow label untouched")
        XCTAssertEqual(try record(1).ecn_marks, 1)
    }

    // MARK: class lookup

    func testUnknownClassPassesUntouched() throws {
        try addClass(1, "10.0.0.0/24", bitsPerSecond: 1_000_000, horizonNs: 1_000_000)
        let frame = Frames.ipv4(source: [192, 168, 1, 1], payload: 200)
        let r = try run(frame, SKBTestContext(tstamp: 12345))
        XCTAssertEqual(r.returnValue, Self.tcOK)
        XCTAssertEqual(r.context.tstamp, 12345)
        XCTAssertEqual(r.packet, frame)
        let arp = Frames.ethernet(type: 0x0806, payload: [UInt8](repeating: 1, count: 28))
        XCTAssertEqual(try run(arp, SKBTestContext(tstamp: 9)).context.tstamp, 9, "non-IP without a cgroup class passes")
        XCTAssertEqual(try record(1).packets, 0)
    }

    func testLongestPrefixWins() throws {
        try addClass(1, "10.0.0.0/8", bitsPerSecond: 1_000_000, horizonNs: 1_000_000_000)
        try addClass(2, "10.2.0.0/16", bitsPerSecond: 1_000_000, horizonNs: 1_000_000_000)
        try addClass(3, "10.2.3.4", bitsPerSecond: 1_000_000, horizonNs: 1_000_000_000)
        _ = try run(Frames.ipv4(source: [10, 9, 9, 9], payload: 10))
        _ = try run(Frames.ipv4(source: [10, 2, 9, 9], payload: 10))
        _ = try run(Frames.ipv4(source: [10, 2, 3, 4], payload: 10))
        _ = try run(Frames.ipv4(source: [10, 2, 3, 4], payload: 10))
        XCTAssertEqual(try [record(1).packets, record(2).packets, record(3).packets], [1, 1, 2])
    }

    /// Issue 13: `::/0` (and any IPv6 prefix shorter than /96) covered the IPv4-mapped keys IPv4
    /// packets are looked up as. An IPv6 selector classifies IPv6 packets only.
    func testIPv6SelectorNeverClassifiesIPv4Packets() throws {
        try addClass(1, "::/0", bitsPerSecond: 1_000_000, horizonNs: 1_000_000_000)
        let v4 = Frames.ipv4(source: [10, 9, 9, 9], payload: 10)
        let r = try run(v4, SKBTestContext(tstamp: 77))
        XCTAssertEqual(r.returnValue, Self.tcOK)
        XCTAssertEqual(r.context.tstamp, 77, "an IPv4 packet must not take the ::/0 class")
        XCTAssertEqual(try record(1).packets, 0)
        _ = try run(Frames.ipv6(source: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], payload: 10))
        XCTAssertEqual(try record(1).packets, 1, "an IPv6 packet does")
        // With an IPv4 default class as well, IPv4 packets take that one.
        try addClass(2, "0.0.0.0/0", bitsPerSecond: 1_000_000, horizonNs: 1_000_000_000)
        _ = try run(v4)
        XCTAssertEqual(try [record(1).packets, record(2).packets], [1, 1])
    }

    func testCgroupClassMatchesTheSocketsCgroup() throws {
        // BPF_PROG_TEST_RUN's skb has a socket in the test process's own cgroup
        guard let root = CgroupRoot.find() else { try unmet("needs a cgroup2 mount") }
        let own = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        let path = root + (try XCTUnwrap(own, "no cgroup2 line in /proc/self/cgroup"))
        try addClass(5, "cgroup:" + path, bitsPerSecond: 1_000_000_000, horizonNs: 1_000_000_000)
        let r = try run(Frames.ipv4(source: [172, 16, 0, 1], payload: 100), SKBTestContext(tstamp: 1))
        XCTAssertNotEqual(r.context.tstamp, 1, "the cgroup's class gave the packet a departure time")
        XCTAssertEqual(try record(5).packets, 1)
    }

    func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Ethernet frames with IPv4/IPv6 + TCP headers, built byte by byte.
enum Frames {
    static func ethernet(type: UInt16, payload: [UInt8]) -> [UInt8] {
        [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, UInt8(type >> 8), UInt8(type & 0xFF)] + payload
    }

    static func tcp(options: Int) -> [UInt8] {
        precondition(options % 4 == 0)
        var h: [UInt8] = [0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0]
        h += [UInt8((20 + options) / 4) << 4, 0x10, 0xFF, 0xFF, 0, 0, 0, 0]
        return h + [UInt8](repeating: 1, count: options)  // NOPs
    }

    static func ipv4(source: [UInt8], payload: Int, tos: UInt8 = 0, tcpOptions: Int = 0) -> [UInt8] {
        let l4 = tcp(options: tcpOptions) + [UInt8](repeating: 0xAB, count: payload)
        let total = 20 + l4.count
        var ip: [UInt8] = [0x45, tos, UInt8((total >> 8) & 0xFF), UInt8(total & 0xFF), 0, 1, 0x40, 0, 64, 6, 0, 0]
        ip += source + [10, 99, 0, 1]
        let sum = checksum(ip)
        ip[10] = UInt8(sum >> 8)
        ip[11] = UInt8(sum & 0xFF)
        return ethernet(type: 0x0800, payload: ip + l4)
    }

    static func ipv6(source: [UInt8], payload: Int, trafficClass: UInt8 = 0) -> [UInt8] {
        let l4 = tcp(options: 0) + [UInt8](repeating: 0xCD, count: payload)
        var ip: [UInt8] = [0x60 | trafficClass >> 4, (trafficClass & 0x0F) << 4 | 0x0A, 0xBC, 0xDE]  // flow label abcde
        ip += [UInt8((l4.count >> 8) & 0xFF), UInt8(l4.count & 0xFF), 6, 64]
        ip += source + fd00(0x99, 1)
        return ethernet(type: 0x86DD, payload: ip + l4)
    }

    /// fd00:<group1>::<last>.
    static func fd00(_ group1: UInt16, _ last: UInt16) -> [UInt8] {
        [0xFD, 0x00, UInt8(group1 >> 8), UInt8(group1 & 0xFF)] + [UInt8](repeating: 0, count: 10)
            + [UInt8(last >> 8), UInt8(last & 0xFF)]
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) {
            sum += UInt32(bytes[i]) << 8 | UInt32(i + 1 < bytes.count ? bytes[i + 1] : 0)
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// The one's-complement sum over the IPv4 header of a frame: 0 when the checksum is right.
    static func ipv4HeaderChecksum(_ frame: [UInt8]) -> UInt16 { checksum(Array(frame[14..<34])) }
}
