// What shaping changed on the host and what stood there before, kept in the state directory
// (`shaping.state_dir`) so that a reset, in this run or after a restart or reboot of the agent,
// can put it back: a device's root qdisc (qdisc-DEV.json), whether its clsact is ours
// (shaping-DEV.json), and the host's TCP congestion control (tcp-congestion-control.json).
// Setup records before it changes anything; reset restores in the reverse order.
import EdgeCore
import EdgeNetlink
import Foundation
import Logging

struct ShapingRecords {
    let directory: String
    let netlink: NetlinkSocket
    let logger: Logger
    let congestion: HostCongestionControl
    /// `shaping.host_congestion_control`, nil = the host's is left alone.
    let wantedCongestionControl: String?

    func snapshotPath(_ device: String) -> String { directory + "/qdisc-\(device).json" }
    func ownershipPath(_ device: String) -> String { directory + "/shaping-\(device).json" }

    func congestionPath() -> String { directory + "/tcp-congestion-control.json" }

    /// The first setup records the root tree; later ones keep that record (it is what the device
    /// looked like before edgenode touched it).
    /// A record left by an earlier device of the same name (deleted and recreated) is dropped
    /// with its ownership note: it says nothing about this device (issue 13, finding 8).
    func recordRootQdiscIfNew(_ link: Link) throws {
        let path = snapshotPath(link.name)
        if let old = try StateFile.read(QdiscSnapshot.self, from: path) {
            guard let mismatch = old.identityMismatch(link) else { return }
            logger.notice("dropped the recorded root qdisc of \(link.name) (\(old.root?.kind ?? "none")): \(mismatch), an earlier device of that name")
            StateFile.remove(path)
            StateFile.remove(ownershipPath(link.name))
        }
        let snapshot = try netlink.snapshotRoot(device: .index(link.index))
        try StateFile.write(snapshot, to: path)
        logger.info("recorded \(link.name)'s root qdisc (\(snapshot.root?.kind ?? "none")) in \(path)")
    }

    /// Notes that clsact is ours before creating it, so the note can never be missing for a
    /// clsact we made (if another tool adds one in between, reset still only removes it unused).
    func recordClsactIntent(_ link: Link) throws {
        var ownership = try loadOwnership(link.name)
        guard !ownership.clsactCreated,
              try !netlink.listQdiscs(on: .index(link.index)).contains(where: { $0.kind == ClsactQdisc.kind }) else { return }
        ownership.clsactCreated = true
        try saveOwnership(ownership, device: link.name)
    }

    func restoreRootQdisc(_ link: Link) throws -> [String] {
        let path = snapshotPath(link.name)
        guard let snapshot = try StateFile.read(QdiscSnapshot.self, from: path) else {
            return ["no recorded root qdisc for \(link.name): left as it is"]
        }
        if let mismatch = snapshot.identityMismatch(link) {
            StateFile.remove(path)
            let text = "recorded root qdisc of \(link.name) belongs to an earlier device (\(mismatch)): dropped, root left as it is"
            logger.warning("\(text)")
            return [text]
        }
        let current = try netlink.rootQdisc(on: .index(link.index))
        let recorded = snapshot.root
        let same = current?.kind == recorded?.kind && current?.handle == recorded?.handle
            && current?.rawOptions == recorded?.rawOptions
        var actions: [String] = []
        if same {
            actions.append("root qdisc of \(link.name) is already the recorded \(recorded?.kind ?? "none")")
        } else {
            try netlink.restore(snapshot)
            actions.append("restored the recorded root qdisc \(recorded?.kind ?? "default") on \(link.name)")
            // Neither what was recorded nor what edgenode installs (mq over fq, or a root fq): the
            // operator (or another tool) set it after shaping started, e.g. while shaping was
            // degraded and left the root alone. Say what was replaced, in the reply and the journal.
            if let current, !current.isKernelDefault, !Shaper.installedKinds.contains(current.kind) {
                let warning = "warning: replaced root qdisc \(current.kind) \(current.handle) on \(link.name), which edgenode had "
                    + "not installed (set after shaping started), with the recorded \(recorded?.kind ?? "default")"
                logger.warning("shaping reset: \(warning)")
                actions.append(warning)
            }
        }
        try FileManager.default.removeItem(atPath: path)
        return actions
    }

    struct Ownership: Codable {
        var clsactCreated = false
    }

    func loadOwnership(_ device: String) throws -> Ownership {
        try StateFile.read(Ownership.self, from: ownershipPath(device)) ?? Ownership()
    }

    func saveOwnership(_ ownership: Ownership, device: String) throws {
        try StateFile.write(ownership, to: ownershipPath(device))
    }

    // MARK: host congestion control

    /// The host's value before edgenode changed it.
    struct CongestionRecord: Codable {
        var previous: String
    }

    /// Records the host's congestion control the first time one is configured; an unreadable
    /// sysctl is left to `applyCongestionControl` to report.
    func recordCongestionControlIfNew() throws {
        guard wantedCongestionControl != nil, !FileManager.default.fileExists(atPath: congestionPath()),
              let previous = try? congestion.current() else { return }
        try StateFile.write(CongestionRecord(previous: previous), to: congestionPath())
    }

    /// Switches the host to the configured algorithm. A kernel without it degrades nothing but
    /// this: shaping still works, and the failure goes to the status line and the log.
    func applyCongestionControl() -> (current: String?, failure: String?) {
        guard let wanted = wantedCongestionControl else { return (nil, nil) }
        do {
            let before = try congestion.current()
            if before == wanted { return (wanted, nil) }
            try congestion.set(wanted)
            logger.notice("\(HostCongestionControl.sysctlName): \(before) -> \(wanted) while shaping is active (shaping.reset restores \(before))")
            return (wanted, nil)
        } catch {
            logger.warning("\(HostCongestionControl.sysctlName) not changed to \(wanted): \(error)")
            return (try? congestion.current(), "\(error)")
        }
    }

    func restoreCongestionControl() throws -> [String] {
        guard let record = try StateFile.read(CongestionRecord.self, from: congestionPath()) else { return [] }
        let now = try congestion.current()
        if now != record.previous { try congestion.set(record.previous) }
        StateFile.remove(congestionPath())
        return ["restored \(HostCongestionControl.sysctlName) to \(record.previous) (was \(now))"]
    }

    /// Forgets that clsact on `device` is ours (after reset removed it or left it to its owner).
    func forgetOwnership(_ device: String) {
        StateFile.remove(ownershipPath(device))
    }

    /// Forgets every record of a device that no longer exists: a new device of the same name must
    /// not inherit them (issue 13, finding 8).
    func forgetDevice(_ device: String) {
        StateFile.remove(snapshotPath(device))
        StateFile.remove(ownershipPath(device))
    }
}
