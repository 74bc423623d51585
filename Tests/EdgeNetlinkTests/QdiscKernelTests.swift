import EdgeNetlink
import EdgeTestSupport
import XCTest

final class QdiscKernelTests: XCTestCase {
    func testMQRootAndReadBack() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        do {
            try socket.addQdisc(.mq, on: "veth0", parent: .root, handle: .qdisc(1))
        } catch let error as NetlinkError where error.isUnknownKind {
            try unmet("needs sch_mq: \(error)")
        }
        let qdiscs = try socket.listQdiscs(on: "veth0")
        let root = try XCTUnwrap(qdiscs.first(where: \.isRoot))
        XCTAssertEqual(root.kind, "mq")
        XCTAssertEqual(root.options, .mq)
        XCTAssertEqual(root.handle, .qdisc(1))
        let childParents = Set(qdiscs.filter { !$0.isRoot }.map(\.parent.description))
        XCTAssertEqual(childParents, ["1:1", "1:2", "1:3", "1:4"])

        let tcRoot = try XCTUnwrap(fixture.tcRoot())
        XCTAssertEqual(tcRoot["kind"] as? String, "mq")
        XCTAssertEqual(tcRoot["handle"] as? String, "1:")
        XCTAssertEqual(Set(try fixture.tcQdiscs().compactMap { $0["parent"] as? String }), childParents)

        // mq on a root that already has one is EEXIST, named as such.
        XCTAssertThrowsError(try socket.addQdisc(.mq, on: "veth0", parent: .root, handle: .qdisc(2))) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, EEXIST, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("qdisc add mq on veth0: File exists"), "\(error)")
        }
    }

    func testMQOnSingleQueueDeviceIsNotSupported() throws {
        let fixture = try KernelFixture(queues: 1)
        XCTAssertThrowsError(try fixture.socket.addQdisc(.mq, on: "veth0", handle: .qdisc(1))) { error in
            let netlink = error as? NetlinkError
            XCTAssertEqual(netlink?.errno, EOPNOTSUPP, "\(error)")
            XCTAssertEqual(netlink?.isNotSupported, true)
        }
    }

    func testTBFAddReplaceDelete() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        let first = TBFOptions(rate: 1_250_000, burst: 32_768, limit: 100_000)
        try socket.addQdisc(.tbf(first), on: "veth0", parent: .root, handle: .qdisc(1))

        var root = try XCTUnwrap(try socket.rootQdisc(on: "veth0"))
        XCTAssertEqual(root.kind, "tbf")
        XCTAssertEqual(root.handle, .qdisc(1))
        guard case .tbf(let readBack) = root.options else { return XCTFail("not tbf: \(root.options)") }
        XCTAssertEqual(readBack.rate, first.rate)
        XCTAssertEqual(readBack.limit, first.limit)
        XCTAssertEqual(Double(readBack.burst), Double(first.burst), accuracy: 1, "burst comes back via ticks")

        var tcRoot = try XCTUnwrap(fixture.tcRoot())
        var tcOptions = try XCTUnwrap(tcRoot["options"] as? [String: Any])
        XCTAssertEqual(tcRoot["kind"] as? String, "tbf")
        XCTAssertEqual(tcOptions["rate"] as? Int, 1_250_000)
        XCTAssertEqual(Double(tcOptions["burst"] as? Int ?? 0), 32_768, accuracy: 2)

        XCTAssertThrowsError(try socket.addQdisc(.tbf(first), on: "veth0", parent: .root, handle: .qdisc(1))) { error in
            XCTAssertEqual((error as? NetlinkError)?.isAlreadyExists, true, "\(error)")
        }

        // Same kind and handle: the kernel changes the options in place.
        let second = TBFOptions(rate: 2_500_000, burst: 65_536, limit: 200_000)
        try socket.replaceQdisc(.tbf(second), on: "veth0", parent: .root, handle: .qdisc(1))
        root = try XCTUnwrap(try socket.rootQdisc(on: "veth0"))
        guard case .tbf(let replaced) = root.options else { return XCTFail("not tbf: \(root.options)") }
        XCTAssertEqual(replaced.rate, 2_500_000)
        XCTAssertEqual(replaced.limit, 200_000)
        XCTAssertEqual(Double(replaced.burst), 65_536, accuracy: 1)
        tcRoot = try XCTUnwrap(fixture.tcRoot())
        tcOptions = try XCTUnwrap(tcRoot["options"] as? [String: Any])
        XCTAssertEqual(tcOptions["rate"] as? Int, 2_500_000)

        // A rate above 4 GB/s goes through TCA_TBF_RATE64.
        let fast = TBFOptions(rate: 5_000_000_000, burst: 1_000_000, limit: 1_000_000)
        try socket.replaceQdisc(.tbf(fast), on: "veth0", parent: .root, handle: .qdisc(1))
        guard case .tbf(let fastBack) = try XCTUnwrap(try socket.rootQdisc(on: "veth0")).options else {
            return XCTFail("not tbf")
        }
        XCTAssertEqual(fastBack.rate, 5_000_000_000)

        try socket.deleteQdisc(kind: "tbf", on: "veth0", parent: .root, handle: .qdisc(1))
        XCTAssertEqual(try socket.rootQdisc(on: "veth0")?.kind, "noqueue")
        XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "noqueue")
        // The root is the kernel's noqueue (handle 0:) now, so the kernel calls 1: an invalid handle.
        XCTAssertThrowsError(try socket.deleteQdisc(kind: "tbf", on: "veth0", parent: .root, handle: .qdisc(1))) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, EINVAL, "\(error)")
            XCTAssertEqual((error as? NetlinkError)?.extack, "Invalid handle", "\(error)")
        }
        XCTAssertThrowsError(try socket.deleteQdisc(kind: "noqueue", on: "veth0", parent: .root)) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, ENOENT, "\(error)")
            XCTAssertEqual((error as? NetlinkError)?.extack, "Cannot delete qdisc with handle of zero", "\(error)")
        }
        XCTAssertThrowsError(try socket.addQdisc(.tbf(TBFOptions(rate: 0, burst: 1, limit: 1)), on: "veth0")) { error in
            XCTAssertTrue("\(error)".contains("tbf rate"), "\(error)")
        }
    }

    func testHTBRootAndClassAddReplaceDelete() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        try socket.addQdisc(.htb(HTBOptions(defaultClass: 0x10)), on: "veth0", parent: .root, handle: .qdisc(1))
        let root = try XCTUnwrap(try socket.rootQdisc(on: "veth0"))
        XCTAssertEqual(root.options, .htb(HTBOptions(defaultClass: 0x10, rateToQuantum: 10, directQueueLength: 1000)))
        let tcRoot = try XCTUnwrap(fixture.tcRoot())
        XCTAssertEqual((tcRoot["options"] as? [String: Any])?["default"] as? String, "0x10")
        XCTAssertEqual((tcRoot["options"] as? [String: Any])?["r2q"] as? Int, 10)

        let classID = TCHandle(major: 1, minor: 0x10)
        try socket.htbClass(.add, classID: classID, parent: .qdisc(1),
                            options: HTBClassOptions(rate: 1_250_000, ceil: 2_500_000), on: "veth0")
        var htbClass = try XCTUnwrap(try socket.listClasses(on: "veth0").first { $0.handle == classID })
        XCTAssertEqual(htbClass.kind, "htb")
        XCTAssertEqual(htbClass.htb?.rate, 1_250_000)
        XCTAssertEqual(htbClass.htb?.ceil, 2_500_000)
        XCTAssertEqual(Double(htbClass.htb?.burst ?? 0), 1600, accuracy: 1)
        // iproute2 6.1 prints htb classes as text even with -j.
        var text = try sh(["tc", "-n", fixture.netns.name, "class", "show", "dev", "veth0"]).stdout
        XCTAssertTrue(text.contains("class htb 1:10 root"), text)
        XCTAssertTrue(text.contains("rate 10Mbit ceil 20Mbit"), text)

        try socket.htbClass(.replace, classID: classID, parent: .qdisc(1),
                            options: HTBClassOptions(rate: 2_500_000, ceil: 5_000_000), on: "veth0")
        htbClass = try XCTUnwrap(try socket.listClasses(on: "veth0").first { $0.handle == classID })
        XCTAssertEqual(htbClass.htb?.rate, 2_500_000)
        text = try sh(["tc", "-n", fixture.netns.name, "class", "show", "dev", "veth0"]).stdout
        XCTAssertTrue(text.contains("rate 20Mbit ceil 40Mbit"), text)

        XCTAssertThrowsError(try socket.htbClass(.add, classID: classID, parent: .qdisc(1),
                                                 options: HTBClassOptions(rate: 1, ceil: 1), on: "veth0")) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, EEXIST, "\(error)")
        }
        XCTAssertThrowsError(try socket.htbClass(.add, classID: TCHandle(major: 1, minor: 0x20), parent: .qdisc(1),
                                                 options: HTBClassOptions(rate: 10, ceil: 5), on: "veth0")) { error in
            XCTAssertTrue("\(error)".contains("below its rate"), "\(error)")
        }

        try socket.htbClass(.delete, classID: classID, parent: .qdisc(1), options: nil, on: "veth0")
        XCTAssertTrue(try socket.listClasses(on: "veth0").isEmpty)
        try socket.deleteQdisc(kind: "htb", on: "veth0")
        XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "noqueue")
    }
}
