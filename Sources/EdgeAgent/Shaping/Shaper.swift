// The agent's bandwidth shaper: puts the EDT program on a device's egress and keeps the classes.
// It coordinates four parts under one lock, in the manner of Cilium's bandwidth reconciler:
//   - ShapingDesiredState: what the device and host should look like;
//   - DeviceReconciler: root qdisc (mq + fq), clsact and the filter on the uplink, classifiers on
//     pods' veths;
//   - ClassTable: the classes over the EDT maps (EDTDatapath);
//   - HostTuning: the sysctls shaping changes while active.
// Every object setup creates or replaces is first written to the OwnershipLedger, with what stood
// there before; reset replays the ledger in reverse.
//
// setup() is an idempotent reconcile in the order that keeps a restart gap-free:
//   1. device (configured, or the default route's), 2. the ledger entries, all written before the
//   kernel is touched, so a full state directory changes nothing, 3. bpffs + EDT maps pinned or
//   adopted, 4. program: the pinned one is reused when its instructions are the same, 5. mq + fq
//   (a single root fq on a single-queue device; degraded, but running, where the kernel has no
//   sch_fq), 6. clsact, 7. the cls_bpf filter, replaced only if it does not already run our
//   program, 8. the host's TCP congestion control, if configured.
//   A second setup() sends no change to the kernel.
import EdgeAPI
import EdgeBPF
import EdgeConfig
import EdgeCore
import EdgeNetlink
import Foundation
import Logging

public final class Shaper: @unchecked Sendable {
    public let settings: ShaperSettings
    let netlink: NetlinkSocket
    let logger: Logger
    let devices: DeviceReconciler
    let hostTuning: HostTuning
    let ledger: OwnershipLedger
    private let lock = NSLock()
    private var datapath: EDTDatapath?
    /// Holds the fd of an adopted pinned program for as long as we use it.
    private var adoptedProgram: BPFPinnedProgram?
    private var link: Link?
    private var statusText = "not set up"
    /// True when the device has no fq: timestamps are not honoured and classes police.
    private var policing = false

    /// `netlink` must belong to the namespace of the device (the agent's own, or a test's).
    public init(settings: ShaperSettings, netlink: NetlinkSocket, logger: Logger) {
        self.settings = settings
        self.netlink = netlink
        self.logger = logger
        devices = DeviceReconciler(netlink: netlink, logger: logger)
        hostTuning = HostTuning(congestion: HostCongestionControl(directory: settings.sysctlDirectory),
                                wantedCongestionControl: settings.hostCongestionControl, logger: logger)
        ledger = OwnershipLedger(directory: settings.stateDirectory)
    }

    /// The status line for `agent.status`.
    public var status: String { lock.withLock { statusText } }

    /// True when a previous agent left a pinned EDT program (and so classes) to adopt.
    public var hasPinnedState: Bool {
        FileManager.default.fileExists(atPath: settings.pinPath + "/" + EDTDatapath.programPin)
    }

    /// Status before the first class: nothing attached yet, by design.
    public func markIdle() {
        lock.withLock { statusText = "idle (no classes yet; attaches on the first shaping.set)" }
    }
    /// The shaped device once setup() found it.
    public var deviceName: String? { lock.withLock { link?.name } }

    // MARK: setup

    /// Reconciles the device with the desired state (see the file comment). Throws when shaping
    /// cannot work at all (unknown device, no BPF); a missing sch_fq only degrades.
    @discardableResult
    public func setup() throws -> ShaperSetupReport {
        try lock.withLock {
            do {
                let report = try setupLocked()
                statusText = report.status
                return report
            } catch {
                statusText = "failed (\(error))"
                throw error
            }
        }
    }

    private func configuredDeviceName() throws -> String {
        try settings.device ?? DefaultRouteDevice.find(routeTable: settings.routeTable)
    }

    private func setupLocked() throws -> ShaperSetupReport {
        let link = try devices.resolve(try configuredDeviceName())
        let desired = ShapingDesiredState(device: link, settings: settings)
        try recordBeforeChanges(link)

        // Errors here name the directory and shaping.pin_path, which set it.
        let mounted: Bool
        let dp: EDTDatapath
        do {
            mounted = try BPFFS.ensureDirectory(settings.pinPath)
            dp = try EDTDatapath(pinDirectory: settings.pinPath)
        } catch let e as BPFError {
            throw BPFError("shaping.pin_path \(settings.pinPath): \(e.operation)", errno: e.errno, log: e.log, hint: e.hint)
        }
        if mounted { logger.notice("mounted bpffs for \(settings.pinPath)") }
        try dp.writeMarkMask(desired.markMask)
        let (programFD, programInfo, adopted) = try chooseProgram(dp)

        let outcome = try devices.reconcile(desired, programFD: programFD, programID: programInfo.id)
        policing = outcome.policing
        datapath = dp
        self.link = link
        let classes = try table(dp).count()
        if !dp.adoptedMaps.isEmpty {
            logger.info("adopted pinned EDT maps \(dp.adoptedMaps.joined(separator: ", ")) with \(classes) classes")
        }
        var status = outcome.status
        let (congestion, congestionFailure) = hostTuning.apply()
        if let congestionFailure { status += "; host TCP congestion control not changed: \(congestionFailure)" }
        return ShaperSetupReport(device: link.name, status: status, qdiscAction: outcome.qdiscAction,
                                 filterChanged: outcome.filterChanged, programId: programInfo.id, programAdopted: adopted,
                                 adoptedMaps: dp.adoptedMaps, classes: classes, mountedBPFFS: mounted,
                                 clsactCreated: outcome.clsactCreated, hostCongestionControl: congestion)
    }

    /// Writes the ledger entries of everything setup may create or replace, in the order it does
    /// so, in one write before any change. Entries of an earlier device with this name go first.
    private func recordBeforeChanges(_ link: Link) throws {
        var recorded = try ledger.entries()
        let stale = devices.entriesOfEarlierDevice(link, in: recorded)
        if !stale.isEmpty { recorded = try ledger.remove { stale.contains($0) } }
        try ledger.record([.pins(directory: settings.pinPath)]
                          + devices.entriesBeforeChanges(link, recorded: recorded)
                          + hostTuning.entriesBeforeChanges(recorded: recorded),
                          over: recorded)
    }

    /// The program the filter should run: the pinned one when it has the same instructions as
    /// the one just loaded (so a restart changes nothing), else the new one, pinned.
    private func chooseProgram(_ dp: EDTDatapath) throws -> (Int32, BPFProgramInfo, Bool) {
        let fresh = try dp.program.info()
        let path = settings.pinPath + "/" + EDTDatapath.programPin
        if let pinned = try BPFPinnedProgram(path: path) {
            if pinned.info.tag == fresh.tag {
                adoptedProgram = pinned
                return (pinned.fd, pinned.info, true)
            }
            logger.info("pinned EDT program \(pinned.info.id) differs from this build (tag \(pinned.info.tag) vs \(fresh.tag)): replacing it")
            try BPFFS.unpin(path)
        }
        try dp.program.pin(at: path)
        adoptedProgram = nil
        return (dp.program.fd, fresh, false)
    }

    // MARK: classes

    private func table(_ maps: EDTClassMaps) -> ClassTable {
        ClassTable(maps: maps, ecn: settings.ecn, logger: logger)
    }

    /// Creates or updates the class of `params.selector`. Every input is validated before any
    /// map is touched; an existing class keeps its counters and departure state.
    public func set(_ params: ShapingSetParams) throws -> ShapingClassInfo {
        let rate: BandwidthRate
        do {
            rate = try BandwidthRate(parsing: params.rate)
        } catch let error as BandwidthRate.ParseError {
            throw ShapingError.invalidRate(error.description)
        }
        let selector = try ShapingSelector.parse(params.selector, cgroupRoot: CgroupRoot.find(mountInfo: settings.mountInfo))
        _ = try ShapingHorizon.resolve(explicit: params.horizon, configured: nil, rate: rate)  // validate before any change
        return try lock.withLock {
            try checkDeviceStillThere()
            let dp = try requireDatapath()
            let horizon = try ShapingHorizon.resolve(explicit: params.horizon, configured: settings.horizonSeconds,
                                                     rate: rate, policing: policing)
            return try table(dp).set(selector, rate: rate, horizonSeconds: horizon)
        }
    }

    /// Removes the class of `selector` and every prefix/cgroup entry that points at it.
    public func delete(selector text: String) throws -> ShapingChangeResult {
        let canonical: String, key: String
        do {
            let selector = try ShapingSelector.parse(text, cgroupRoot: CgroupRoot.find(mountInfo: settings.mountInfo))
            (canonical, key) = (selector.description, selector.classKey)
        } catch ShapingError.missingCgroup(_, let path) {
            canonical = "cgroup:" + path  // the cgroup is gone (unit stopped); its class may not be
            key = canonical
        }
        return try lock.withLock {
            try table(try requireDatapath()).delete(key: key, canonical: canonical, asked: text)
        }
    }

    /// Binds more selectors (a pod's other addresses) to the class of `selector`.
    public func bindAlso(_ extra: [String], toClassOf selector: String) throws {
        let root = CgroupRoot.find(mountInfo: settings.mountInfo)
        let parsed = try extra.map { try ShapingSelector.parse($0, cgroupRoot: root) }
        let canonical = try ShapingSelector.parse(selector, cgroupRoot: root).description
        try lock.withLock {
            try table(try requireDatapath()).bind(parsed, toClassOf: canonical, asked: selector)
        }
    }

    /// The status and every class with its counters.
    public func list() throws -> ShapingListResult {
        try lock.withLock {
            guard let dp = datapath else { return ShapingListResult(device: link?.name, status: statusText, classes: []) }
            return ShapingListResult(device: link?.name, status: statusText, classes: try table(dp).list())
        }
    }

    /// A class set while the shaped device is gone shapes nothing: the caller must hear so
    /// (issue 13). A device recreated under the same name gets a fresh setup (new ifindex).
    private func checkDeviceStillThere() throws {
        guard let shaped = link, datapath != nil else { return }
        let now: Link
        do {
            now = try netlink.link(named: shaped.name)
        } catch let error as NetlinkError where error.errno == ENODEV {
            throw ShapingError.unknownDevice("device \(shaped.name) (ifindex \(shaped.index)) that shaping is set up on is gone: "
                + "the class was not set (shaping.reset clears the old state; the next shaping.set sets up again)")
        }
        if now.index != shaped.index {
            logger.notice("\(shaped.name) was recreated (ifindex \(shaped.index) -> \(now.index)): setting shaping up on it again")
            datapath = nil
            link = nil
        }
    }

    /// The datapath; after a reset the next change sets shaping up again.
    private func requireDatapath() throws -> EDTDatapath {
        if let datapath { return datapath }
        do {
            statusText = try setupLocked().status
        } catch {
            statusText = "failed (\(error))"
            throw error
        }
        return datapath!
    }

    // MARK: reset

    /// Replays the ownership ledger in reverse: the congestion control back, our filter off, the
    /// clsact we created removed if nothing else uses it, the recorded root qdisc back, the pins
    /// removed (classes are gone afterwards). What edgenode owns by name (its pins, the filter in
    /// its slot) is reset even when the ledger was lost with the state directory.
    public func reset() throws -> ShapingChangeResult {
        try lock.withLock {
            let name = try link?.name ?? configuredDeviceName()
            let current = try? netlink.link(named: name)
            var entries = try ledger.entries()
            var owned: [LedgerEntry] = [.pins(directory: settings.pinPath)]
            if let current { owned.append(.egressFilter(DeviceIdentity(current))) }
            entries += owned.filter { entry in !entries.contains { $0.isSameObject(as: entry) } }

            var actions: [String] = []
            var gone: Set<String> = []
            for entry in entries.reversed() {
                actions += try undo(entry, gone: &gone)
                try ledger.remove { $0 == entry }
            }
            if current == nil && !gone.contains(name) {
                actions.append("device \(name) is gone: nothing to remove from it")
            }
            datapath = nil
            adoptedProgram = nil
            statusText = "reset"
            logger.notice("shaping reset: \(actions.joined(separator: "; "))")
            return ShapingChangeResult(actions: actions)
        }
    }

    /// Undoes one ledger entry. Entries of a device that is gone, or that was recreated under the
    /// same name, are dropped, never applied to another device (issue 13, finding 8).
    private func undo(_ entry: LedgerEntry, gone: inout Set<String>) throws -> [String] {
        switch entry {
        case .pins(let directory):
            try EDTDatapath.unpinAll(in: directory)
            return ["unpinned the EDT maps and program from \(directory)"]
        case .congestionControl(let previous):
            return try hostTuning.restore(previous: previous)
        case .rootQdisc, .clsact, .egressFilter:
            guard let device = entry.device else { return [] }
            guard let link = try? netlink.link(named: device.name) else {
                guard gone.insert(device.name).inserted else { return [] }
                return ["device \(device.name) is gone: nothing to remove from it; dropped what the shaping ledger recorded of it"]
            }
            if let mismatch = device.mismatch(link) {
                let text = "\(DeviceReconciler.describe(entry)) of \(link.name) belongs to an earlier device (\(mismatch)): dropped, left as it is"
                logger.warning("\(text)")
                return [text]
            }
            return try devices.undo(entry, on: link)
        }
    }

    // MARK: pods: the classifier on a host-side veth (PodShaping drives these)

    /// Runs the classifier on `hostInterface`'s clsact ingress (what the pod sends), so its
    /// packets carry their class in skb->mark to the uplink. Sets the uplink up first if needed.
    /// A filter that already runs the program is left alone.
    @discardableResult
    public func attachClassifier(hostInterface: String) throws -> Bool {
        try lock.withLock {
            let dp = try requireDatapath()
            return try devices.attachClassifier(hostInterface: hostInterface, programFD: dp.classifier.fd,
                                                programID: try dp.classifier.info().id)
        }
    }

    /// True when `hostInterface` runs a classifier filter of ours.
    public func classifierAttached(hostInterface: String) -> Bool {
        devices.classifierAttached(hostInterface: hostInterface)
    }

    /// Removes the classifier; a veth that is gone (the pod went first) or has none is fine.
    public func detachClassifier(hostInterface: String) throws -> String {
        try devices.detachClassifier(hostInterface: hostInterface)
    }

    // MARK: inspection

    /// Qdiscs and clsact filters of `device` (any device, shaped or not).
    public func qdiscShow(device: String) throws -> QdiscShowResult {
        try QdiscInspector.show(device: device, netlink: netlink)
    }
}
