// The notes agents before the ownership ledger kept, one file per object: a device's root qdisc
// (qdisc-DEV.json), whether its clsact was created by edgenode (shaping-DEV.json), and the host's
// congestion control (tcp-congestion-control.json). An upgraded agent takes them into the ledger
// the first time it reads it, so a reset after an upgrade still restores what the old agent
// recorded.
import EdgeNetlink
import Foundation

struct LegacyShapingNotes {
    let directory: String

    private struct ClsactNote: Codable {
        var clsactCreated = false
    }

    private struct CongestionNote: Codable {
        var previous: String
    }

    private static let congestionFile = "tcp-congestion-control.json"

    /// Device names with a note of `prefix`, e.g. "qdisc-eth0.json" → "eth0".
    private func devices(prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") && $0 != OwnershipLedger.fileName }
            .map { String($0.dropFirst(prefix.count).dropLast(".json".count)) }
            .filter { !$0.isEmpty }
            .sorted()
    }

    /// The notes as ledger entries, in the order the old agent made the changes: root qdiscs,
    /// then clsacts, then the congestion control.
    func entries() throws -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        var snapshots: [String: QdiscSnapshot] = [:]
        for device in devices(prefix: "qdisc-") {
            if let snapshot = try StateFile.read(QdiscSnapshot.self, from: directory + "/qdisc-\(device).json") {
                snapshots[device] = snapshot
                entries.append(.rootQdisc(snapshot))
            }
        }
        for device in devices(prefix: "shaping-") {
            guard let note = try StateFile.read(ClsactNote.self, from: directory + "/shaping-\(device).json"),
                  note.clsactCreated else { continue }
            // The old note had the name only; the root qdisc note of the same device has the rest.
            entries.append(.clsact(snapshots[device]?.device
                ?? DeviceIdentity(name: device, ifindex: nil, hardwareAddress: nil)))
        }
        if let note = try StateFile.read(CongestionNote.self, from: directory + "/" + Self.congestionFile) {
            entries.append(.congestionControl(previous: note.previous))
        }
        return entries
    }

    /// Removes the notes once the ledger holds them.
    func remove() {
        for device in devices(prefix: "qdisc-") { StateFile.remove(directory + "/qdisc-\(device).json") }
        for device in devices(prefix: "shaping-") { StateFile.remove(directory + "/shaping-\(device).json") }
        StateFile.remove(directory + "/" + Self.congestionFile)
    }
}
