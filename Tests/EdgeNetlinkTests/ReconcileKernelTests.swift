import EdgeNetlink
import EdgeTestSupport
import Foundation
import XCTest

final class ReconcileKernelTests: XCTestCase {
    let wish = FQOptions(limit: 10_000, flowLimit: 100, horizonMicroseconds: 2_000_000, horizonDrop: true)

    func testPlainFQAddReportsUnknownKindWhenTheKernelLacksIt() throws {
        let fixture = try KernelFixture()
        do {
            try fixture.socket.replaceQdisc(.fq(wish), on: "veth0", parent: .root)
        } catch let error as NetlinkError {
            // This is the build machine's kernel: no sch_fq.
            XCTAssertEqual(error.errno, ENOENT)
            XCTAssertTrue(error.isUnknownKind)
            XCTAssertEqual(error.extack, "Specified qdisc kind is unknown")
            XCTAssertTrue(error.description.hasPrefix(
                "qdisc replace fq on veth0: No such file or directory (kernel: Specified qdisc kind is unknown)"),
                error.description)
            return
        }
        // A kernel with sch_fq: the options must read back.
        guard case .fq(let readBack) = try XCTUnwrap(try fixture.socket.rootQdisc(on: "veth0")).options else {
            return XCTFail("root is not fq")
        }
        XCTAssertTrue(readBack.satisfies(wish), "\(readBack)")
    }

    /// mq + fq reconcile, twice. Without sch_fq (this machine) both runs throw featureMissing
    /// and leave the device exactly as it was; with sch_fq the second run is `.unchanged`.
    func testEnsureMQFQTwice() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        let tcBefore = try fixture.tcRoot()?["kind"] as? String
        let snapshotBefore = try socket.snapshotRoot(device: "veth0")

        let first: ReconcileResult
        do {
            first = try socket.ensureMQFQ(device: "veth0", fqOptions: wish)
        } catch let error as ShapingSetupError {
            XCTAssertEqual(error, .featureMissing("sch_fq", hint: "load module sch_fq (CONFIG_NET_SCH_FQ)"))
            XCTAssertEqual(error.description,
                           "sch_fq is not available in this kernel: load module sch_fq (CONFIG_NET_SCH_FQ)")
            // Rolled back: the root is what it was (mq was created, then removed again).
            XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, tcBefore)
            XCTAssertEqual(try socket.snapshotRoot(device: "veth0"), snapshotBefore)
            XCTAssertThrowsError(try socket.ensureMQFQ(device: "veth0", fqOptions: wish)) { again in
                XCTAssertEqual(again as? ShapingSetupError, error)
            }
            XCTAssertEqual(try socket.snapshotRoot(device: "veth0"), snapshotBefore)
            return
        }
        XCTAssertEqual(first, .appliedMQ(handle: .qdisc(1), queues: 4, changedQueues: 4))
        XCTAssertEqual(try socket.ensureMQFQ(device: "veth0", fqOptions: wish), .unchanged)
        let qdiscs = try fixture.tcQdiscs()
        XCTAssertEqual(qdiscs.filter { $0["kind"] as? String == "fq" }.count, 4)
        XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "mq")
        // A changed wish only touches the children.
        let changed = try socket.ensureMQFQ(device: "veth0", fqOptions: FQOptions(limit: 20_000))
        XCTAssertEqual(changed, .appliedMQ(handle: .qdisc(1), queues: 4, changedQueues: 4))
    }

    /// A single-queue device cannot take mq (EOPNOTSUPP); the fallback is one root fq, which
    /// here again ends in featureMissing.
    func testEnsureMQFQOnSingleQueueDeviceFallsBackToRootFQ() throws {
        let fixture = try KernelFixture(queues: 1)
        do {
            let result = try fixture.socket.ensureMQFQ(device: "veth0", fqOptions: wish)
            guard case .appliedSingleFQ(let reason) = result else { return XCTFail("\(result)") }
            XCTAssertTrue(reason.contains("1 TX queue"), reason)
            XCTAssertEqual(try fixture.socket.ensureMQFQ(device: "veth0", fqOptions: wish), .unchanged)
            XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "fq")
        } catch let error as ShapingSetupError {
            guard case .fallbackFeatureMissing("sch_fq", "load module sch_fq (CONFIG_NET_SCH_FQ)", let reason) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(reason.hasPrefix("mq needs a multi-queue device; veth0 has 1 TX queue(s) (qdisc replace mq on veth0: "
                                           + "Operation not supported"), reason)
            XCTAssertEqual(error.fallbackReason, reason)
            XCTAssertTrue(error.description.hasPrefix("sch_fq is not available in this kernel: load module sch_fq "
                                                      + "(CONFIG_NET_SCH_FQ); it was needed for a single root fq, the fallback "
                                                      + "because mq needs a multi-queue device"), error.description)
            XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "noqueue")
        }
    }

    /// tbf makes a class of its own (5:1) when it is added: the snapshot must not record it, or
    /// the restore would try to add it again and get EEXIST.
    func testSnapshotOfTBFRestoresExactlyAfterMQReplacedIt() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        try fixture.netns.run(["tc", "qdisc", "add", "dev", "veth0", "root", "handle", "5:", "tbf",
                               "rate", "800mbit", "burst", "32kb", "limit", "100kb"])
        XCTAssertEqual(try socket.listClasses(on: "veth0").map(\.handle), [TCHandle(major: 5, minor: 1)],
                       "the kernel made tbf's class itself")
        let tcBefore = try jsonText(fixture.tcQdiscs())
        let snapshot = try JSONDecoder().decode(QdiscSnapshot.self,
                                                from: try JSONEncoder().encode(try socket.snapshotRoot(device: "veth0")))
        XCTAssertEqual(snapshot.root?.kind, "tbf")
        XCTAssertEqual(snapshot.classes, [], "only what a restore must create")

        try socket.replaceQdisc(.mq, on: "veth0", parent: .root, handle: .qdisc(1))
        XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "mq")

        try socket.restore(snapshot)
        XCTAssertEqual(try jsonText(fixture.tcQdiscs()), tcBefore)
    }

    func testSnapshotChangeRestoreBringsTheOldRootBack() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        try socket.addQdisc(.htb(HTBOptions(defaultClass: 0x10)), on: "veth0", parent: .root, handle: .qdisc(1))
        try socket.htbClass(.add, classID: TCHandle(major: 1, minor: 0x10), parent: .qdisc(1),
                            options: HTBClassOptions(rate: 1_250_000, ceil: 2_500_000), on: "veth0")
        let tcBefore = try fixture.tcQdiscs()
        let classesBefore = try sh(["tc", "-n", fixture.netns.name, "class", "show", "dev", "veth0"]).stdout

        // Saved and loaded as JSON, as the agent would.
        let saved = try JSONEncoder().encode(try socket.snapshotRoot(device: "veth0"))
        let snapshot = try JSONDecoder().decode(QdiscSnapshot.self, from: saved)
        XCTAssertEqual(snapshot.root?.kind, "htb")
        XCTAssertEqual(snapshot.classes.map(\.handle), [TCHandle(major: 1, minor: 0x10)])

        try socket.replaceQdisc(.tbf(TBFOptions(rate: 125_000, burst: 16_000, limit: 50_000)), on: "veth0",
                                parent: .root, handle: .qdisc(2))
        XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "tbf")

        try socket.restore(snapshot)
        XCTAssertEqual(try jsonText(fixture.tcQdiscs()), try jsonText(tcBefore))
        XCTAssertEqual(try sh(["tc", "-n", fixture.netns.name, "class", "show", "dev", "veth0"]).stdout, classesBefore)
    }

    func testRestoreOfMQTreeAndOfTheKernelDefault() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        let pristine = try socket.snapshotRoot(device: "veth0")
        XCTAssertTrue(pristine.rootIsKernelDefault)

        // mq with a tbf under queue 2: the child is part of the tree.
        try socket.addQdisc(.mq, on: "veth0", parent: .root, handle: .qdisc(1))
        try socket.addQdisc(.tbf(TBFOptions(rate: 1_250_000, burst: 20_000, limit: 40_000)), on: "veth0",
                            parent: TCHandle(major: 1, minor: 2), handle: .qdisc(0x20))
        let tcTree = try fixture.tcQdiscs()
        let tree = try socket.snapshotRoot(device: "veth0")
        XCTAssertEqual(tree.children.map(\.kind), ["tbf"])

        try socket.restore(pristine)
        XCTAssertEqual(try fixture.tcRoot()?["kind"] as? String, "noqueue")

        try socket.restore(tree)
        XCTAssertEqual(try jsonText(fixture.tcQdiscs()), try jsonText(tcTree))
    }

    /// Order-independent, stable text of tc's JSON, for equality.
    private func jsonText(_ entries: [[String: Any]]) throws -> [String] {
        try entries.map {
            String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self)
        }.sorted()
    }
}
