import EdgeNetlink
import EdgeTestSupport
import XCTest

final class LinkKernelTests: XCTestCase {
    func testListLinksSeesTheVethPair() throws {
        let fixture = try KernelFixture()
        let links = try fixture.socket.listLinks()
        XCTAssertEqual(Set(links.map(\.name)), ["lo", "veth0", "veth1"])
        let veth = try XCTUnwrap(links.first { $0.name == "veth0" })
        XCTAssertEqual(veth.numTxQueues, 4)
        XCTAssertEqual(veth.kind, "veth")
        XCTAssertEqual(veth.mtu, 1500)
        XCTAssertEqual(links.first { $0.name == "lo" }?.kind, nil)

        let byName = try fixture.socket.link(named: "veth0")
        XCTAssertEqual(byName, veth)
        XCTAssertEqual(try fixture.socket.link(index: veth.index).name, "veth0")
        XCTAssertEqual(try fixture.socket.ifindex(of: "veth1"), links.first { $0.name == "veth1" }?.index)
    }

    func testUnknownDeviceAndBadIfindexAreClearErrors() throws {
        let fixture = try KernelFixture()
        XCTAssertThrowsError(try fixture.socket.link(named: "nosuch0")) { error in
            let netlink = error as? NetlinkError
            XCTAssertEqual(netlink?.errno, ENODEV)
            XCTAssertTrue("\(error)".hasPrefix("unknown device 'nosuch0'"), "\(error)")
        }
        XCTAssertThrowsError(try fixture.socket.link(index: 99_999)) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, ENODEV)
            XCTAssertTrue("\(error)".contains("unknown device ifindex 99999"), "\(error)")
        }
        XCTAssertThrowsError(try fixture.socket.addQdisc(.mq, on: .index(99_999), handle: .qdisc(1))) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, ENODEV, "\(error)")
        }
        XCTAssertThrowsError(try fixture.socket.ensureMQFQ(device: "ghost0", fqOptions: FQOptions())) { error in
            XCTAssertTrue("\(error)".contains("unknown device 'ghost0'"), "\(error)")
        }
        XCTAssertThrowsError(try fixture.socket.link(named: "bad/name")) { error in
            XCTAssertTrue(error is NetlinkRequestError, "\(error)")
        }
        // ifindex 0 would mean "any device" to the kernel: refused before any request.
        XCTAssertThrowsError(try fixture.socket.listQdiscs(on: .index(0)))
    }

    func testNamespaceHelperRunsOnADedicatedThreadInsideTheNamespace() throws {
        let fixture = try KernelFixture()
        let hostInode = try Self.namespaceInode()
        let inside = try fixture.namespace.runOnDedicatedThread { try Self.namespaceInode() }
        XCTAssertNotEqual(inside, hostInode)
        // The calling thread never moved.
        XCTAssertEqual(try Self.namespaceInode(), hostInode)
    }

    private static func namespaceInode() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
    }
}
