// Decoding of kernel replies and small value types, without a socket.
import EdgeNetlink
import XCTest

final class ParsingTests: XCTestCase {
    func testAttributeStreamSkipsUnknownAndChecksLengths() throws {
        // PLIMIT 500, an unknown type 99 (newer kernel), HORIZON_DROP 0.
        let stream: [UInt8] = [8, 0, 1, 0, 0xf4, 0x01, 0, 0,
                               8, 0, 99, 0, 1, 2, 3, 4,
                               5, 0, 15, 0, 0, 0, 0, 0]
        let attributes = try NetlinkAttribute.parse(stream, context: "test")
        XCTAssertEqual(attributes.map(\.type), [1, 99, 15])
        XCTAssertEqual(try attributes[0].u32("PLIMIT"), 500)
        XCTAssertThrowsError(try attributes[2].u32("HORIZON_DROP"), "a 1-byte attribute is not a u32")
        XCTAssertEqual(try attributes[2].u8("HORIZON_DROP"), 0)
    }

    func testAttributeLengthPastTheEndIsRejected() {
        // Claims 16 bytes, only 8 present.
        let truncated: [UInt8] = [16, 0, 1, 0, 1, 2, 3, 4]
        XCTAssertThrowsError(try NetlinkAttribute.parse(truncated, context: "fq options")) { error in
            XCTAssertTrue("\(error)".contains("fq options"), "\(error)")
        }
        // Length smaller than the attribute header.
        XCTAssertThrowsError(try NetlinkAttribute.parse([2, 0, 1, 0], context: "x"))
    }

    func testPacketSchedulerClockFromProcText() throws {
        let clock = try PacketSchedulerClock(pschedText: "000003e8 00000040 000f4240 3b9aca00\n")
        XCTAssertEqual(clock.ticksPerMicrosecond, 15.625)
        XCTAssertEqual(clock.ticks(toSend: 32768, atBytesPerSecond: 1_250_000), 409_600)
        XCTAssertEqual(clock.bytes(in: 409_599, atBytesPerSecond: 1_250_000), 32768)
        XCTAssertThrowsError(try PacketSchedulerClock(pschedText: "garbage"))
    }

    func testHandlesFormatAndParseLikeTC() throws {
        XCTAssertEqual(TCHandle.qdisc(1).description, "1:")
        XCTAssertEqual(TCHandle(major: 1, minor: 0x10).description, "1:10")
        XCTAssertEqual(TCHandle.clsactParent.description, "ffff:fff1")
        XCTAssertEqual(TCHandle.root.description, "root")
        XCTAssertEqual(try TCHandle(parsing: "8001:"), TCHandle.qdisc(0x8001))
        XCTAssertEqual(try TCHandle(parsing: "ffff:fff3"), TCHandle.egressHook)
        XCTAssertThrowsError(try TCHandle(parsing: "1"))
        XCTAssertThrowsError(try TCHandle(parsing: "x:1"))
    }

    func testErrorDescriptionCarriesErrnoAndExtack() {
        let error = NetlinkError(operation: "qdisc add fq on veth0", errno: ENOENT,
                                 extack: "Specified qdisc kind is unknown")
        XCTAssertTrue(error.description.hasPrefix(
            "qdisc add fq on veth0: No such file or directory (kernel: Specified qdisc kind is unknown)"), error.description)
        XCTAssertTrue(error.isUnknownKind)
        XCTAssertEqual(NetlinkError(operation: "x", errno: EEXIST).meaning?.contains("already exists"), true)
        XCTAssertEqual(NetlinkError(operation: "x", errno: ENODEV).meaning?.contains("no such network device"), true)
        XCTAssertEqual(NetlinkError(operation: "x", errno: EOPNOTSUPP).meaning?.contains("does not support"), true)
        XCTAssertFalse(NetlinkError(operation: "x", errno: ENOENT).isUnknownKind)
    }

    func testFQMatchingIgnoresFieldsTheWishLeavesOpen() {
        let actual = FQOptions(limit: 10_000, flowLimit: 100, quantum: 3028, horizonMicroseconds: 10_000_000, horizonDrop: true)
        XCTAssertTrue(actual.satisfies(FQOptions(horizonDrop: true)))
        XCTAssertTrue(actual.satisfies(FQOptions()))
        XCTAssertFalse(actual.satisfies(FQOptions(limit: 20_000)))
        XCTAssertFalse(actual.satisfies(FQOptions(maxRate: 1000)))
    }

    func testSnapshotIsCodable() throws {
        let snapshot = QdiscSnapshot(
            deviceName: "veth0", ifindex: 3,
            root: nil, children: [], classes: [])
        let data = try JSONEncoder().encode(snapshot)
        XCTAssertEqual(try JSONDecoder().decode(QdiscSnapshot.self, from: data), snapshot)
    }
}
