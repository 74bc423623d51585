// Issue 13 on the real kernel (root, fresh namespaces from ShapingFixture): a selector and its
// alias are one class (finding 7), a recorded root qdisc is never applied to a new device of the
// same name (finding 8), `shaping.set` on a device that is gone fails, and a reset that replaces
// a root qdisc edgenode did not install says so.
import EdgeAPI
@testable import EdgeAgent
import EdgeNetlink
import EdgeTestSupport
import Foundation
import XCTest

final class ShapingIdentityKernelTests: XCTestCase {
    /// The trie's keys, as prefixes.
    func trieKeys(_ f: ShapingFixture) throws -> [String] {
        let dp = try EDTDatapath(pinDirectory: f.pinPath)
        var keys: [String] = []
        try dp.prefixes.forEach { key, _ in
            if let p = key.prefix { keys.append(p.description) }
        }
        return keys.sorted()
    }

    func testAnAliasIsTheSameClassAndDeletingItLeavesNoOrphan() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        try shaper.setup()
        let a = try shaper.set(ShapingSetParams(selector: "10.77.0.1/32", rate: "100gbit"))
        let b = try shaper.set(ShapingSetParams(selector: "::ffff:10.77.0.1/128", rate: "20mbit"))
        XCTAssertEqual(a.classId, b.classId, "one trie key, one class")
        XCTAssertEqual(b.selector, "10.77.0.1/32")
        XCTAssertEqual(try shaper.list().classes.map(\.selector), ["10.77.0.1/32"])
        XCTAssertEqual(try shaper.list().classes.first?.rate.bitsPerSecond, 20_000_000)
        XCTAssertEqual(try trieKeys(f), ["10.77.0.1/32"])

        _ = try shaper.delete(selector: "::ffff:10.77.0.1/128")
        XCTAssertEqual(try shaper.list().classes, [], "nothing listed that the trie does not have")
        XCTAssertEqual(try trieKeys(f), [])
    }

    /// The exact sequence of finding 8: htb root, device deleted, reset ("device gone"), device
    /// recreated (noqueue), set, reset: the new device must keep its own root.
    func testAStaleSnapshotIsNeverAppliedToARecreatedDevice() throws {
        let f = try ShapingFixture()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "root", "handle", "1:", "htb", "default", "1"])
        try f.tx.run(["tc", "class", "add", "dev", "veth0", "parent", "1:", "classid", "1:1", "htb", "rate", "100mbit"])
        let shaper = f.shaper()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        try f.tx.run(["ip", "link", "del", "veth0"])
        let gone = try shaper.reset()
        XCTAssertTrue(gone.actions.contains { $0.hasPrefix("device veth0 is gone") }, "\(gone.actions)")

        try f.tx.run(["ip", "link", "add", "veth0", "numtxqueues", "4", "type", "veth", "peer", "name", "veth9"])
        try f.tx.run(["ip", "link", "set", "veth0", "up"])
        let before = try XCTUnwrap(try f.tcRoot())
        XCTAssertNotEqual(before["kind"] as? String, "htb")
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        let reset = try shaper.reset()
        let after = try XCTUnwrap(try f.tcRoot())
        XCTAssertEqual(after["kind"] as? String, before["kind"] as? String, "the new device keeps its own root: \(reset.actions)")
        XCTAssertFalse(try f.tcJSON(["class", "show", "dev", "veth0"]).contains { $0["kind"] as? String == "htb" },
                       "no htb class from the old device")
    }

    /// A record whose device was replaced behind the agent's back (no reset in between) is not
    /// restored either: the identity (ifindex, hardware address) differs.
    func testARecordOfAnEarlierDeviceIsDroppedAtSetup() throws {
        let f = try ShapingFixture()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "root", "handle", "1:", "htb", "default", "1"])
        let first = f.shaper()
        _ = try first.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        try f.tx.run(["ip", "link", "del", "veth0"])
        try f.tx.run(["ip", "link", "add", "veth0", "numtxqueues", "4", "type", "veth", "peer", "name", "veth9"])
        try f.tx.run(["ip", "link", "set", "veth0", "up"])
        let before = try XCTUnwrap(try f.tcRoot())
        let second = f.shaper() // a restarted agent
        try second.setup()
        let recorded = try XCTUnwrap(try OwnershipLedger(directory: f.stateDir).recordedRoot(of: "veth0"))
        XCTAssertNotEqual(recorded.root?.kind, "htb", "the old record was replaced by the new device's")
        _ = try second.reset()
        XCTAssertEqual(try XCTUnwrap(try f.tcRoot())["kind"] as? String, before["kind"] as? String)
    }

    func testSetOnADeviceThatIsGoneFails() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        try f.tx.run(["ip", "link", "del", "veth0"])
        XCTAssertThrowsError(try shaper.set(ShapingSetParams(selector: "10.204.0.9", rate: "10M"))) { error in
            XCTAssertTrue("\(error)".contains("device veth0"), "\(error)")
            XCTAssertTrue("\(error)".contains("is gone"), "\(error)")
        }
    }

    /// Degraded here (no sch_fq): setup leaves the root alone, so a root the operator sets later is
    /// not edgenode's. Reset still restores the recorded root, and says what it replaced.
    func testResetSaysWhichForeignRootItReplaced() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        try f.tx.run(["tc", "qdisc", "replace", "dev", "veth0", "root", "handle", "8:", "tbf", "rate", "10mbit",
                      "burst", "32kb", "limit", "100kb"])
        let result = try shaper.reset()
        XCTAssertTrue(result.actions.contains { $0.hasPrefix("warning: replaced root qdisc tbf 8:") }, "\(result.actions)")
    }
}
