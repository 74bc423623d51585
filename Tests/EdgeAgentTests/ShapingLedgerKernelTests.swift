// The ownership ledger on the real kernel (root, fresh namespaces from ShapingFixture): setup
// records in the order it changes things, reset replays in reverse, an upgraded agent resets what
// an older agent recorded in its one-file-per-object notes, and a lost state directory still
// takes off what edgenode owns by name.
import EdgeAPI
@testable import EdgeAgent
import EdgeCore
import EdgeNetlink
import EdgeTestSupport
import Foundation
import XCTest

final class ShapingLedgerKernelTests: XCTestCase {
    func testSetupRecordsInOrderAndResetReplaysInReverse() throws {
        let f = try ShapingFixture()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "root", "handle", "5:", "tbf", "rate", "800mbit", "burst", "32kb", "limit", "100kb"])
        let shaper = f.shaper()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        let veth0 = try XCTUnwrap(try OwnershipLedger(directory: f.stateDir).recordedRoot(of: "veth0")?.device)
        XCTAssertEqual(try OwnershipLedger(directory: f.stateDir).entries().map(DeviceReconciler.describe),
                       ["pins under \(f.pinPath)", "recorded root qdisc (tbf)", "clsact ownership", "EDT filter"])
        XCTAssertEqual(try OwnershipLedger(directory: f.stateDir).entries().compactMap(\.device), [veth0, veth0, veth0])
        // whatever the root became since (our mq/fq where the kernel has fq; someone's htb here)
        try f.tx.run(["tc", "qdisc", "replace", "dev", "veth0", "root", "handle", "7:", "htb", "default", "1"])

        let actions = try shaper.reset().actions
        XCTAssertEqual(actions, ["removed the EDT filter from veth0 egress",
                                 "removed the clsact qdisc edgenode created on veth0",
                                 "restored the recorded root qdisc tbf on veth0",
                                 "warning: replaced root qdisc htb 7: on veth0, which edgenode had not installed (set after "
                                    + "shaping started), with the recorded tbf",
                                 "unpinned the EDT maps and program from \(f.pinPath)"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: OwnershipLedger(directory: f.stateDir).path))
        XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "tbf")
    }

    /// What an agent before the ledger left in the state directory is reset by this one.
    func testAnUpgradedAgentResetsWhatAnOlderAgentRecorded() throws {
        let f = try ShapingFixture()
        try f.tx.run(["tc", "qdisc", "add", "dev", "veth0", "root", "handle", "1:", "htb", "default", "1"])
        let old = f.shaper()
        _ = try old.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        // rewrite the ledger as the older agent's notes
        let snapshot = try XCTUnwrap(try OwnershipLedger(directory: f.stateDir).recordedRoot(of: "veth0"))
        try FileManager.default.removeItem(atPath: OwnershipLedger(directory: f.stateDir).path)
        try JSONEncoder().encode(snapshot).write(to: URL(fileURLWithPath: f.stateDir + "/qdisc-veth0.json"))
        try Data(#"{"clsactCreated":true}"#.utf8).write(to: URL(fileURLWithPath: f.stateDir + "/shaping-veth0.json"))
        try f.tx.run(["tc", "qdisc", "replace", "dev", "veth0", "root", "handle", "7:", "tbf", "rate", "10mbit",
                      "burst", "32kb", "limit", "100kb"])

        let upgraded = f.shaper()
        let actions = try upgraded.reset().actions
        XCTAssertTrue(actions.contains("removed the EDT filter from veth0 egress"), "\(actions)")
        XCTAssertTrue(actions.contains("removed the clsact qdisc edgenode created on veth0"), "\(actions)")
        XCTAssertTrue(actions.contains("restored the recorded root qdisc htb on veth0"), "\(actions)")
        XCTAssertTrue(actions.contains { $0.hasPrefix("warning: replaced root qdisc tbf 7:") }, "\(actions)")
        XCTAssertEqual(try f.tcRoot()?["kind"] as? String, "htb")
        XCTAssertEqual((try f.tcRoot()?["handle"]) as? String, "1:")
        XCTAssertFalse(try f.tcJSON(["qdisc", "show", "dev", "veth0"]).contains { $0["kind"] as? String == "clsact" })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.stateDir), [], "notes and ledger are gone")
    }

    /// A wiped state directory loses the recorded root (left as it is), not the filter or the pins.
    func testALostLedgerStillTakesOffWhatEdgenodeOwnsByName() throws {
        let f = try ShapingFixture()
        let shaper = f.shaper()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: "50M"))
        XCTAssertNotNil(try f.tcEDTFilter())
        try FileManager.default.removeItem(atPath: f.stateDir)

        let actions = try f.shaper().reset().actions
        XCTAssertEqual(actions, ["removed the EDT filter from veth0 egress", "unpinned the EDT maps and program from \(f.pinPath)"])
        XCTAssertNil(try f.tcEDTFilter())
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.pinPath))
    }
}
