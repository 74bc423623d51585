// Issue 7 fault paths of the netlink layer, on the real kernel in a fresh namespace:
// - EBUSY is provoked for real (deleting an htb class that still has a child) and must come
//   back with the kernel's extack text;
// - EINTR and ENOBUFS are rare from a real kernel, so the socket's receive call is wrapped (the
//   `receiveCall` seam): the wrapper returns the errno once, then makes the real call, so the
//   handling runs against the kernel's real replies, still queued on the real socket.
@testable import EdgeNetlink
import EdgeTestSupport
import Foundation
import XCTest

/// Wraps the real receive call: after `skip` real blocking calls (a request by device name
/// first looks the device up: its reply and its ack, two datagrams), the next `count` blocking calls fail with `errno`;
/// every other call is the real one. Counts what it saw.
final class ReceiveInjector: @unchecked Sendable {
    let errno: Int32
    var skip = 0
    var remaining = 0
    var injected = 0
    var nonBlockingCalls = 0

    init(errno: Int32) { self.errno = errno }

    func arm(count: Int, after skip: Int = 2) {
        remaining = count
        self.skip = skip
    }

    func install(on socket: NetlinkSocket) {
        socket.receiveCall = { [self] fd, buffer, flags in
            if flags & Int32(MSG_DONTWAIT) != 0 {
                nonBlockingCalls += 1
            } else if skip > 0 {
                skip -= 1
            } else if remaining > 0 {
                remaining -= 1
                injected += 1
                Glibc.errno = self.errno
                return -1
            }
            return NetlinkSocket.systemReceive(fd, buffer, flags)
        }
    }
}

final class NetlinkFaultKernelTests: XCTestCase {
    func testEBUSYFromTheKernelCarriesItsExtackText() throws {
        let f = try KernelFixture()
        try f.socket.addQdisc(.htb(HTBOptions(defaultClass: 0x10)), on: "veth0", parent: .root, handle: .qdisc(1))
        let parent = TCHandle(major: 1, minor: 1)
        try f.socket.htbClass(.add, classID: parent, parent: .qdisc(1),
                              options: HTBClassOptions(rate: 1_250_000, ceil: 1_250_000), on: "veth0")
        try f.socket.htbClass(.add, classID: TCHandle(major: 1, minor: 0x10), parent: parent,
                              options: HTBClassOptions(rate: 125_000, ceil: 1_250_000), on: "veth0")
        let before = try sh(["tc", "-n", f.netns.name, "-j", "class", "show", "dev", "veth0"]).stdout

        XCTAssertThrowsError(try f.socket.htbClass(.delete, classID: parent, parent: .qdisc(1), options: nil, on: "veth0")) { error in
            guard let error = error as? NetlinkError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.errno, EBUSY)
            XCTAssertEqual(error.extack, "HTB class in use")
            XCTAssertEqual(error.description,
                           "class delete htb 1:1 on veth0: Device or resource busy (kernel: HTB class in use) — the object is "
                           + "in use (remove what depends on it first) or a dump is still running on this socket")
        }
        XCTAssertEqual(try sh(["tc", "-n", f.netns.name, "-j", "class", "show", "dev", "veth0"]).stdout, before,
                       "the refused delete changed nothing")
    }

    func testEINTRIsRetriedForRequestsAndDumps() throws {
        let f = try KernelFixture()
        let injector = ReceiveInjector(errno: EINTR)
        injector.install(on: f.socket)
        injector.arm(count: 1)
        try f.socket.replaceQdisc(.tbf(TBFOptions(rate: 1_250_000, burst: 20_000, limit: 40_000)), on: "veth0",
                                  parent: .root, handle: .qdisc(5))
        XCTAssertEqual(injector.injected, 1)
        XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "tbf", "the interrupted request was applied once")

        injector.arm(count: 1)
        let qdiscs = try f.socket.listQdiscs(on: "veth0")
        XCTAssertEqual(injector.injected, 2)
        XCTAssertEqual(qdiscs.map(\.kind).sorted(), try f.tcQdiscs().compactMap { $0["kind"] as? String }.sorted())
    }

    /// ENOBUFS in a dump: the rest of the old dump is read away (the kernel would refuse a new
    /// one with EBUSY while it runs) and the dump starts again.
    func testENOBUFSRestartsADump() throws {
        let f = try KernelFixture()
        try f.socket.replaceQdisc(.tbf(TBFOptions(rate: 1_250_000, burst: 20_000, limit: 40_000)), on: "veth0",
                                  parent: .root, handle: .qdisc(5))
        let clean = try f.socket.listQdiscs(on: "veth0")

        let injector = ReceiveInjector(errno: ENOBUFS)
        injector.install(on: f.socket)
        injector.arm(count: 1)
        let restarted = try f.socket.listQdiscs(on: "veth0")
        XCTAssertEqual(injector.injected, 1)
        XCTAssertGreaterThan(injector.nonBlockingCalls, 0, "the old dump was drained")
        XCTAssertEqual(restarted, clean, "the restarted dump has the whole answer")

        // ENOBUFS on every attempt: a clear failure, not a partial list.
        injector.arm(count: 3)
        XCTAssertThrowsError(try f.socket.listQdiscs(on: "veth0")) { error in
            guard let error = error as? NetlinkError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.errno, ENOBUFS)
            XCTAssertTrue(error.description.hasPrefix("qdisc dump of ifindex "), error.description)
            XCTAssertTrue(error.description.contains("No buffer space available (kernel: gave up after 3 attempts"), error.description)
        }
        XCTAssertEqual(try f.socket.listQdiscs(on: "veth0"), clean, "the socket still works afterwards")
    }

    /// ENOBUFS on a change: its ack may be lost, so the error says the outcome is unknown; the
    /// stale ack left on the socket must not be taken for the next request's.
    func testENOBUFSOnAChangeFailsClearlyAndTheSocketStaysUsable() throws {
        let f = try KernelFixture()
        let injector = ReceiveInjector(errno: ENOBUFS)
        injector.install(on: f.socket)
        injector.arm(count: 1)
        XCTAssertThrowsError(try f.socket.replaceQdisc(.tbf(TBFOptions(rate: 1_250_000, burst: 20_000, limit: 40_000)),
                                                       on: "veth0", parent: .root, handle: .qdisc(5))) { error in
            XCTAssertEqual("\(error)", "qdisc replace tbf on veth0: No buffer space available (kernel: the reply was lost, "
                           + "so whether the kernel applied the request is unknown; read the state back) — netlink receive "
                           + "buffer overrun; messages were lost")
        }
        // Reading back is the advice: here the kernel did apply it.
        XCTAssertEqual(try f.socket.rootQdisc(on: "veth0")?.kind, "tbf")
        XCTAssertThrowsError(try f.socket.addQdisc(.tbf(TBFOptions(rate: 1_250_000, burst: 20_000, limit: 40_000)),
                                                   on: "veth0", parent: .root, handle: .qdisc(5))) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, EEXIST, "the answer to this request, not the stale ack: \(error)")
        }
    }
}
