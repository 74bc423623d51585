// The shaper's ownership ledger: one file in the state directory (`agent.state_dir`,
// shaping-ledger.json) listing every kernel and host object shaping setup created or replaced,
// in the order it did so, each with what stood there before. Reset replays it in reverse.
//
// Rules that make it safe across crashes, restarts and reboots:
//  - an entry is written (atomically: a temporary file renamed over the ledger) before the change
//    it describes, so a change without its entry cannot exist; a full disk stops the change;
//  - an entry already in the ledger is kept, not rewritten: the first record of a root qdisc is
//    what the device looked like before edgenode touched it;
//  - reset removes an entry once it is undone, so a reset that fails half-way resumes where it
//    stopped;
//  - entries of a device that was deleted and recreated under the same name are dropped, never
//    applied to the new one (`DeviceIdentity`).
import EdgeNetlink
import Foundation

/// One object shaping setup created or replaced, and what stood there before.
enum LedgerEntry: Codable, Equatable {
    /// The device's root qdisc tree before setup replaced it; reset puts it back.
    case rootQdisc(QdiscSnapshot)
    /// A clsact qdisc setup created (none was there); reset removes it when no filter uses it.
    case clsact(DeviceIdentity)
    /// The EDT filter on the device's clsact egress; reset removes it.
    case egressFilter(DeviceIdentity)
    /// The EDT maps and program pinned under a bpffs directory; reset unpins them.
    case pins(directory: String)
    /// net.ipv4.tcp_congestion_control before setup changed it; reset puts it back.
    case congestionControl(previous: String)

    /// The device the object is on, for the objects that are on one.
    var device: DeviceIdentity? {
        switch self {
        case .rootQdisc(let snapshot): return snapshot.device
        case .clsact(let device), .egressFilter(let device): return device
        case .pins, .congestionControl: return nil
        }
    }

    /// True for the record of `device`'s root qdisc tree.
    func recordsRootQdisc(of device: String) -> Bool {
        if case .rootQdisc(let snapshot) = self { return snapshot.deviceName == device }
        return false
    }

    /// True for the record of the host's previous congestion control.
    var recordsCongestionControl: Bool {
        if case .congestionControl = self { return true }
        return false
    }

    /// Same object (not necessarily the same record of it): a ledger holds one entry per object.
    func isSameObject(as other: LedgerEntry) -> Bool {
        switch (self, other) {
        case (.rootQdisc(let a), .rootQdisc(let b)): return a.deviceName == b.deviceName
        case (.clsact(let a), .clsact(let b)), (.egressFilter(let a), .egressFilter(let b)): return a.name == b.name
        case (.pins(let a), .pins(let b)): return a == b
        case (.congestionControl, .congestionControl): return true
        default: return false
        }
    }
}

struct OwnershipLedger {
    static let fileName = "shaping-ledger.json"
    /// The format; a future agent that changes it must still read this one.
    static let version = 1

    let directory: String
    var path: String { directory + "/" + Self.fileName }

    private struct File: Codable {
        var version: Int
        var entries: [LedgerEntry]
    }

    /// The entries, oldest first. Notes of older agents (one file per object) are taken into the
    /// ledger the first time it is read (`LegacyShapingNotes`).
    func entries() throws -> [LedgerEntry] {
        if let file = try StateFile.read(File.self, from: path) {
            guard file.version == Self.version else {
                throw StateFileError(operation: "read", path: path, errno: 0,
                                     detail: "ledger version \(file.version), this agent reads version \(Self.version)")
            }
            return file.entries
        }
        let legacy = LegacyShapingNotes(directory: directory)
        let imported = try legacy.entries()
        if !imported.isEmpty {
            try save(imported)
            legacy.remove()
        }
        return imported
    }

    /// Adds the entries whose object is not in the ledger yet, in one write, before the caller
    /// changes anything. `recorded` is what the caller read with `entries()`; the state directory
    /// is the shaper's alone (one agent per host, under the shaper's lock). Returns what was added.
    @discardableResult
    func record(_ wanted: [LedgerEntry], over recorded: [LedgerEntry]) throws -> [LedgerEntry] {
        let added = wanted.filter { entry in !recorded.contains { $0.isSameObject(as: entry) } }
        if !added.isEmpty { try save(recorded + added) }
        return added
    }

    /// Removes the entries `shouldRemove` picks (one undone, or records of an earlier device);
    /// returns what is left.
    @discardableResult
    func remove(where shouldRemove: (LedgerEntry) -> Bool) throws -> [LedgerEntry] {
        let current = try entries()
        let kept = current.filter { !shouldRemove($0) }
        if kept.count != current.count { try save(kept) }
        return kept
    }

    private func save(_ entries: [LedgerEntry]) throws {
        if entries.isEmpty {
            StateFile.remove(path)
        } else {
            try StateFile.write(File(version: Self.version, entries: entries), to: path)
        }
    }
}

extension OwnershipLedger {
    /// The root qdisc tree recorded for `device`, if any.
    func recordedRoot(of device: String) throws -> QdiscSnapshot? {
        for case .rootQdisc(let snapshot) in try entries() where snapshot.deviceName == device { return snapshot }
        return nil
    }
}
