// The shaping ownership ledger as a file, without root: order, one entry per object, removal,
// the notes of older agents taken in, and a ledger of an unknown version refused with its path.
@testable import EdgeAgent
import EdgeNetlink
import Foundation
import XCTest

final class OwnershipLedgerTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-ledger-\(UUID().uuidString)").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A dumped root qdisc (5: of `kind`), as the agent stores it.
    func snapshot(_ device: String, ifindex: Int32, kind: String) throws -> QdiscSnapshot {
        let root = #"{"ifindex":\#(ifindex),"handle":{"rawValue":327680},"parent":{"rawValue":4294967295},"kind":"\#(kind)","#
            + #""options":{"other":{"kind":"\#(kind)","raw":[]}},"rawOptions":[]}"#
        return QdiscSnapshot(deviceName: device, ifindex: ifindex,
                             root: try JSONDecoder().decode(Qdisc.self, from: Data(root.utf8)), children: [], classes: [],
                             hardwareAddress: "02:00:00:00:00:01")
    }

    func testEntriesKeepTheirOrderAndTheFirstRecordOfAnObject() throws {
        let ledger = OwnershipLedger(directory: directory)
        let eth0 = DeviceIdentity(name: "eth0", ifindex: 2, hardwareAddress: nil)
        XCTAssertEqual(try ledger.entries(), [])
        let first: [LedgerEntry] = [.pins(directory: "/sys/fs/bpf/edgenode"), .rootQdisc(try snapshot("eth0", ifindex: 2, kind: "tbf")),
                                    .clsact(eth0), .egressFilter(eth0), .congestionControl(previous: "cubic")]
        XCTAssertEqual(try ledger.record(first, over: try ledger.entries()), first)
        // a second setup: the root now is mq, the congestion control bbr; the first records stay
        let again: [LedgerEntry] = [.pins(directory: "/sys/fs/bpf/edgenode"), .rootQdisc(try snapshot("eth0", ifindex: 2, kind: "mq")),
                                    .egressFilter(eth0), .congestionControl(previous: "bbr")]
        XCTAssertEqual(try ledger.record(again, over: try ledger.entries()), [], "nothing new")
        XCTAssertEqual(try ledger.entries(), first)
        XCTAssertEqual(try ledger.recordedRoot(of: "eth0")?.root?.kind, "tbf")

        let other = DeviceIdentity(name: "eth1", ifindex: 3, hardwareAddress: nil)
        XCTAssertEqual(try ledger.record([.egressFilter(other)], over: try ledger.entries()), [.egressFilter(other)])
        XCTAssertEqual(try ledger.entries().last, .egressFilter(other), "appended: undone first")

        try ledger.remove { $0.device?.name == "eth0" }
        XCTAssertEqual(try ledger.entries(), [.pins(directory: "/sys/fs/bpf/edgenode"), .congestionControl(previous: "cubic"),
                                              .egressFilter(other)])
        try ledger.remove { _ in true }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger.path), "an empty ledger is no file")
    }

    func testTheNotesOfAnOlderAgentAreTakenIn() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let old = try snapshot("veth0", ifindex: 7, kind: "htb")
        try JSONEncoder().encode(old).write(to: URL(fileURLWithPath: directory + "/qdisc-veth0.json"))
        try Data(#"{"clsactCreated":true}"#.utf8).write(to: URL(fileURLWithPath: directory + "/shaping-veth0.json"))
        try Data(#"{"clsactCreated":false}"#.utf8).write(to: URL(fileURLWithPath: directory + "/shaping-eth9.json"))
        try Data(#"{"previous":"reno"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/tcp-congestion-control.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: directory + "/cni-classes.json"))

        let ledger = OwnershipLedger(directory: directory)
        XCTAssertEqual(try ledger.entries(), [.rootQdisc(old), .clsact(old.device), .congestionControl(previous: "reno")])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(),
                       ["cni-classes.json", OwnershipLedger.fileName], "the old notes are gone, other state stays")
        XCTAssertEqual(try ledger.entries(), [.rootQdisc(old), .clsact(old.device), .congestionControl(previous: "reno")])
    }

    func testALedgerOfAnotherVersionIsRefusedWithItsPath() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + OwnershipLedger.fileName
        try Data(#"{"version":2,"entries":[]}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try OwnershipLedger(directory: directory).entries()) {
            XCTAssertEqual("\($0)", "cannot read state file \(path): ledger version 2, this agent reads version 1; nothing was changed")
        }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try OwnershipLedger(directory: directory).entries()) {
            XCTAssertTrue("\($0)".hasPrefix("cannot read state file \(path): not the JSON edge-agent writes"), "\($0)")
        }
    }

    /// veth0 as rtnetlink would report it with ifindex `index`.
    static func link(index: Int32) -> Link {
        let json = #"{"index":\#(index),"name":"veth0","mtu":1500,"numTxQueues":1,"operState":"up","kind":"veth"}"#
        return try! JSONDecoder().decode(Link.self, from: Data(json.utf8))
    }

    func testAnEntryOfAnEarlierDeviceIsRecognised() {
        let recorded = DeviceIdentity(name: "veth0", ifindex: 7, hardwareAddress: "02:00:00:00:00:01")
        var link = Self.link(index: 7)
        link.hardwareAddress = "02:00:00:00:00:01"
        XCTAssertNil(recorded.mismatch(link))
        link.hardwareAddress = "02:00:00:00:00:02"
        XCTAssertEqual(recorded.mismatch(link), "recorded for address 02:00:00:00:00:01, veth0 now has 02:00:00:00:00:02")
        XCTAssertEqual(recorded.mismatch(Self.link(index: 9)), "recorded for ifindex 7, veth0 is now ifindex 9")
        XCTAssertNil(DeviceIdentity(name: "veth0", ifindex: nil, hardwareAddress: nil).mismatch(Self.link(index: 9)),
                     "a note of an older agent has the name only")
    }
}
