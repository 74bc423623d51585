// The device half of shaping: the root qdisc (mq + fq), clsact and the EDT filter on the uplink,
// the classifier on pods' host-side veths, and undoing the device entries of the ownership
// ledger. Each step reads what is there first and changes only what differs from the desired
// state.
import EdgeNetlink
import Foundation
import Logging

/// What reconciling the uplink found and did.
struct DeviceOutcome {
    /// What happened to the root qdisc ("unchanged", "mq 1: with fq on 4 TX queues", …).
    var qdiscAction: String
    /// "active", "active (single root fq: …)" or "degraded (sch_fq unavailable: …)".
    var status: String
    /// True when the device has no fq: timestamps are not honoured and classes police.
    var policing: Bool
    var clsactCreated: Bool
    /// False when the filter already ran the program (nothing was sent).
    var filterChanged: Bool
}

struct DeviceReconciler {
    let netlink: NetlinkSocket
    let logger: Logger

    /// The device named `name`; the error says it is unknown (and what was asked for it).
    func resolve(_ name: String, role: String = "") throws -> Link {
        do {
            return try netlink.link(named: name)
        } catch let error as NetlinkError where error.errno == ENODEV {
            throw ShapingError.unknownDevice("unknown device '\(name)' (\(role.isEmpty ? "no such network interface" : role))")
        } catch let error as NetlinkRequestError {
            throw ShapingError.unknownDevice(role.isEmpty ? error.message : "\(error.message) (\(role))")
        }
    }

    // MARK: the ledger, before any change

    /// The entries setup must hold before it touches `link`: its root tree as found (kept from the
    /// first setup), that edgenode is about to create clsact (when there is none), and the
    /// filter. Written before the change, so the ledger can never lack a clsact edgenode made (if
    /// another tool adds one in between, reset still only removes it when unused).
    func entriesBeforeChanges(_ link: Link, recorded: [LedgerEntry]) throws -> [LedgerEntry] {
        var wanted: [LedgerEntry] = []
        let device = DeviceIdentity(link)
        if !recorded.contains(where: { $0.recordsRootQdisc(of: link.name) }) {
            let snapshot = try netlink.snapshotRoot(device: .index(link.index))
            logger.info("recording \(link.name)'s root qdisc (\(snapshot.root?.kind ?? "none")) in the shaping ledger")
            wanted.append(.rootQdisc(snapshot))
        }
        if try !netlink.listQdiscs(on: .index(link.index)).contains(where: { $0.kind == ClsactQdisc.kind }) {
            wanted.append(.clsact(device))
        }
        wanted.append(.egressFilter(device))
        return wanted
    }

    /// The entries of an earlier device that had `link`'s name (deleted and recreated since):
    /// they say nothing about this one (issue 13, finding 8).
    func entriesOfEarlierDevice(_ link: Link, in recorded: [LedgerEntry]) -> [LedgerEntry] {
        recorded.filter { entry in
            guard let device = entry.device, device.name == link.name, let mismatch = device.mismatch(link) else { return false }
            logger.notice("dropped the shaping ledger's \(Self.describe(entry)) of \(link.name): \(mismatch), an earlier device of that name")
            return true
        }
    }

    // MARK: setup

    /// Root qdisc, clsact and the EDT filter of the desired state, running program `programID`
    /// (`programFD`). A missing sch_fq degrades (policing instead of pacing) and does not throw.
    func reconcile(_ desired: ShapingDesiredState, programFD: Int32, programID: UInt32) throws -> DeviceOutcome {
        let link = desired.device
        let device = NetworkDevice.index(link.index)
        let (qdiscAction, status, policing) = try reconcileRoot(link, fq: desired.fq)
        let clsactCreated = try netlink.ensureClsact(on: device)
        let slot = ShapingDesiredState.egressFilter
        let filterChanged = try ensureFilter(slot, on: link, programFD: programFD, programID: programID)
        if filterChanged { logger.info("EDT filter on \(link.name) egress now runs program \(programID)") }
        return DeviceOutcome(qdiscAction: qdiscAction, status: status, policing: policing,
                             clsactCreated: clsactCreated, filterChanged: filterChanged)
    }

    /// mq + fq; where sch_fq is missing the device is left as it was and shaping only polices.
    private func reconcileRoot(_ link: Link, fq: FQOptions) throws -> (action: String, status: String, policing: Bool) {
        do {
            switch try netlink.ensureMQFQ(device: .index(link.index), fqOptions: fq) {
            case .unchanged:
                return ("unchanged", "active", false)
            case let .appliedMQ(handle, queues, changed):
                logger.info("\(link.name): mq \(handle) with fq on \(queues) TX queues (\(changed) changed)")
                return ("mq \(handle) with fq on \(queues) TX queues", "active", false)
            case .appliedSingleFQ(let reason):
                logger.notice("\(link.name): single root fq instead of mq: \(reason)")
                return ("single root fq", "active (single root fq: \(reason))", false)
            }
        } catch let error as ShapingSetupError {
            if let reason = error.fallbackReason {
                logger.notice("\(link.name): single root fq instead of mq: \(reason)")
            }
            let status = "degraded (sch_fq unavailable: \(error); rates are policed by drops, not paced)"
            logger.warning("shaping on \(link.name) is \(status)")
            return ("unchanged (\(error))", status, true)
        }
    }

    /// Puts program `programFD` in `slot` on `link` unless the filter there already runs it.
    /// Returns true when a filter was sent.
    private func ensureFilter(_ slot: FilterSlot, on link: Link, programFD: Int32, programID: UInt32) throws -> Bool {
        let device = NetworkDevice.index(link.index)
        let current = try netlink.listFilters(on: device, hook: slot.hook).first(where: slot.holds)
        if slot.runs(programID, current) { return false }
        try netlink.replaceBPFFilter(BPFFilterSpec(programFD: programFD, name: slot.name, priority: slot.priority,
                                                   handle: slot.handle),
                                     on: device, hook: slot.hook)
        return true
    }

    // MARK: pod classifiers (host-side veths; PodShaping keeps their records)

    /// Runs the classifier (`programFD`, `programID`) on `hostInterface`'s clsact ingress. Returns
    /// false when a filter there already runs it.
    func attachClassifier(hostInterface: String, programFD: Int32, programID: UInt32) throws -> Bool {
        let link = try resolve(hostInterface, role: "the pod's host-side veth is gone")
        _ = try netlink.ensureClsact(on: .index(link.index))
        let changed = try ensureFilter(ShapingDesiredState.podClassifier, on: link, programFD: programFD, programID: programID)
        if changed { logger.info("pod classifier on \(hostInterface) ingress now runs program \(programID)") }
        return changed
    }

    func classifierAttached(hostInterface: String) -> Bool {
        let slot = ShapingDesiredState.podClassifier
        guard let link = try? netlink.link(named: hostInterface),
              let filters = try? netlink.listFilters(on: .index(link.index), hook: slot.hook) else { return false }
        return filters.contains { slot.holds($0) && $0.kind == "bpf" }
    }

    /// Removes the classifier; a veth that is gone (the pod went first) or has none is fine.
    func detachClassifier(hostInterface: String) throws -> String {
        guard let link = try? netlink.link(named: hostInterface) else {
            return "\(hostInterface) is gone: no classifier to remove"
        }
        return try removeFilter(ShapingDesiredState.podClassifier, from: link)
            ? "removed the pod classifier from \(hostInterface) ingress" : "\(hostInterface) has no pod classifier"
    }

    /// True when a filter was removed; no filter, no clsact or no device is not an error.
    private func removeFilter(_ slot: FilterSlot, from link: Link) throws -> Bool {
        do {
            try netlink.deleteFilter(on: .index(link.index), hook: slot.hook, priority: slot.priority, handle: slot.handle)
            return true
        } catch let error as NetlinkError where error.errno == ENOENT || error.errno == EINVAL || error.errno == ENODEV {
            return false  // EINVAL: no clsact at all, so no filter either
        }
    }

    // MARK: reset

    /// Undoes one device entry of the ledger on `link` (the device it names, checked to be the
    /// same one). Returns what was done, for the reply.
    func undo(_ entry: LedgerEntry, on link: Link) throws -> [String] {
        switch entry {
        case .egressFilter:
            return try removeFilter(ShapingDesiredState.egressFilter, from: link) ? ["removed the EDT filter from \(link.name) egress"] : []
        case .clsact:
            // The entry is written before clsact is created: a setup that failed in between
            // leaves an entry without a clsact.
            let device = NetworkDevice.index(link.index)
            guard try netlink.listQdiscs(on: device).contains(where: { $0.kind == ClsactQdisc.kind }),
                  try netlink.listFilters(on: device, hook: .egress).isEmpty,
                  try netlink.listFilters(on: device, hook: .ingress).isEmpty else { return [] }
            try netlink.deleteQdisc(kind: ClsactQdisc.kind, on: device, parent: ClsactQdisc.parent, handle: ClsactQdisc.handle)
            return ["removed the clsact qdisc edgenode created on \(link.name)"]
        case .rootQdisc(let snapshot):
            return try restoreRoot(snapshot, on: link)
        case .pins, .congestionControl:
            return []
        }
    }

    private func restoreRoot(_ snapshot: QdiscSnapshot, on link: Link) throws -> [String] {
        let current = try netlink.rootQdisc(on: .index(link.index))
        let recorded = snapshot.root
        if current?.kind == recorded?.kind && current?.handle == recorded?.handle && current?.rawOptions == recorded?.rawOptions {
            return ["root qdisc of \(link.name) is already the recorded \(recorded?.kind ?? "none")"]
        }
        try netlink.restore(snapshot)
        var actions = ["restored the recorded root qdisc \(recorded?.kind ?? "default") on \(link.name)"]
        // Neither what was recorded nor what edgenode installs (mq over fq, or a root fq): the
        // operator (or another tool) set it after shaping started, e.g. while shaping was
        // degraded and left the root alone. Say what was replaced, in the reply and the journal.
        if let current, !current.isKernelDefault, !ShapingDesiredState.installedRootKinds.contains(current.kind) {
            let warning = "warning: replaced root qdisc \(current.kind) \(current.handle) on \(link.name), which edgenode had "
                + "not installed (set after shaping started), with the recorded \(recorded?.kind ?? "default")"
            logger.warning("shaping reset: \(warning)")
            actions.append(warning)
        }
        return actions
    }

    /// The entry in a few words, for the journal.
    static func describe(_ entry: LedgerEntry) -> String {
        switch entry {
        case .rootQdisc(let snapshot): return "recorded root qdisc (\(snapshot.root?.kind ?? "none"))"
        case .clsact: return "clsact ownership"
        case .egressFilter: return "EDT filter"
        case .pins(let directory): return "pins under \(directory)"
        case .congestionControl(let previous): return "previous congestion control (\(previous))"
        }
    }
}
