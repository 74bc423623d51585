// The agent's bandwidth shaper: puts the EDT program on a device's egress and keeps the classes.
//
// setup() is an idempotent reconcile in the order that keeps a restart gap-free:
//   1. device (configured, or the default route's), 2. the state notes, all written before the
//   kernel is touched (the root qdisc tree as found, whether we are about to create clsact, the
//   host's congestion control), so a full state directory changes nothing, 3. bpffs + EDT maps
//   pinned or adopted, 4. program: the pinned one is reused when its instructions are the same,
//   5. mq + fq (a single root fq on a single-queue device; degraded, but running, where the
//   kernel has no sch_fq), 6. clsact, 7. the cls_bpf filter, replaced only if it does not
//   already run our program, 8. the host's TCP congestion control, if configured.
//   A second setup() sends no change to the kernel.
// reset() undoes all of it: filter, clsact (if we created it), the recorded root qdisc, pins,
// the host's congestion control.
import EdgeAPI
import EdgeBPF
import EdgeConfig
import EdgeCore
import EdgeNetlink
import Foundation
import Logging

/// Where and how to shape; from `[shaping]` and `[agent] state_dir`.
public struct ShaperSettings: Sendable, Equatable {
    /// Egress device; nil = the default route's device.
    public var device: String?
    /// Horizon for classes set without one; nil = derived from each class's rate.
    public var horizonSeconds: Double?
    /// CE-mark ECT packets before dropping.
    public var ecn: Bool
    /// bpffs directory for the pinned maps and program.
    public var pinPath: String
    /// Where the recorded qdiscs and ownership notes are kept.
    public var stateDirectory: String
    /// TCP congestion control for the host while shaping is active (`bbr`); nil leaves it alone.
    public var hostCongestionControl: String?
    public var routeTable = "/proc/net/route"
    public var mountInfo = "/proc/self/mountinfo"
    /// Where net.ipv4.* lives (for the agent: its own network namespace's values).
    public var sysctlDirectory = "/proc/sys/net/ipv4"
    /// skb->mark bits for pod classes (veth classifier → uplink), `[shaping] mark_mask`.
    public var markMask: UInt32 = AgentConfig.Shaping.defaultMarkMask

    public init(device: String?, horizonSeconds: Double?, ecn: Bool, pinPath: String, stateDirectory: String,
                hostCongestionControl: String? = nil) {
        self.device = device
        self.horizonSeconds = horizonSeconds
        self.ecn = ecn
        self.pinPath = pinPath
        self.stateDirectory = stateDirectory
        self.hostCongestionControl = hostCongestionControl
    }

    public init(config: AgentConfig) {
        self.init(device: config.shaping.device, horizonSeconds: config.shaping.horizonSeconds,
                  ecn: config.shaping.ecn, pinPath: config.shaping.pinPath, stateDirectory: config.agent.stateDir,
                  hostCongestionControl: config.shaping.hostCongestionControl)
        markMask = config.shaping.markMask
    }
}

/// What one setup() found and did.
public struct ShaperSetupReport: Sendable, Equatable {
    public var device: String
    /// The status line: "active", "active (single root fq: …)" or "degraded (sch_fq unavailable: …)",
    /// followed by "; host TCP congestion control not changed: …" when that failed.
    public var status: String
    /// What happened to the root qdisc ("unchanged", "mq with fq on 4 TX queues", …).
    public var qdiscAction: String
    /// False when the filter already ran our program (nothing was sent).
    public var filterChanged: Bool
    /// Id of the program the filter runs.
    public var programId: UInt32
    /// True when the pinned program was reused.
    public var programAdopted: Bool
    /// Maps that were pinned already and were adopted with their classes.
    public var adoptedMaps: [String]
    public var classes: Int
    public var mountedBPFFS: Bool
    public var clsactCreated: Bool
    /// The host's TCP congestion control after setup, when the config asks for one.
    public var hostCongestionControl: String?
}

public final class Shaper: @unchecked Sendable {
    /// Our filter's place on clsact egress: priority 1 so it runs first, a handle of its own.
    public static let filterPriority: UInt16 = 1
    public static let filterHandle: UInt32 = 0xED7
    public static let filterName = "edgenode-edt"
    /// File name of the pinned program in the pin directory.
    public static let programPin = "edt_egress_prog"

    public let settings: ShaperSettings
    let netlink: NetlinkSocket
    let logger: Logger
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
    }

    /// The status line for `agent.status`.
    public var status: String { lock.withLock { statusText } }

    /// True when a previous agent left a pinned EDT program (and so classes) to adopt.
    public var hasPinnedState: Bool {
        FileManager.default.fileExists(atPath: settings.pinPath + "/" + Self.programPin)
    }

    /// Status before the first class: nothing attached yet, by design.
    public func markIdle() {
        lock.withLock { statusText = "idle (no classes yet; attaches on the first shaping.set)" }
    }
    /// The shaped device once setup() found it.
    public var deviceName: String? { lock.withLock { link?.name } }

    // MARK: setup

    /// Reconciles the device with the wished state (see the file comment). Throws when shaping
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

    private func setupLocked() throws -> ShaperSetupReport {
        let link = try resolveDevice()
        let device = NetworkDevice.index(link.index)
        let records = self.records
        try records.recordRootQdiscIfNew(link)
        try records.recordClsactIntent(link)
        try records.recordCongestionControlIfNew()

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
        try dp.writeMarkMask(settings.markMask)
        let (programFD, programInfo, adopted) = try chooseProgram(dp)

        let (qdiscAction, qdiscStatus, policing) = try ensureQdiscs(link)
        var status = qdiscStatus
        self.policing = policing
        let clsactCreated = try netlink.ensureClsact(on: device)

        let current = try netlink.listFilters(on: device, hook: .egress)
            .first { $0.priority == Self.filterPriority && $0.handle == Self.filterHandle }
        let filterOK = current?.kind == "bpf" && current?.bpfProgramID == programInfo.id && current?.directAction == true
        if !filterOK {
            try netlink.replaceBPFFilter(BPFFilterSpec(programFD: programFD, name: Self.filterName,
                                                       priority: Self.filterPriority, handle: Self.filterHandle),
                                         on: device, hook: .egress)
            logger.info("EDT filter on \(link.name) egress now runs program \(programInfo.id)")
        }

        datapath = dp
        self.link = link
        let classes = try dp.classSelectors().count
        if !dp.adoptedMaps.isEmpty {
            logger.info("adopted pinned EDT maps \(dp.adoptedMaps.joined(separator: ", ")) with \(classes) classes")
        }
        let (congestion, congestionFailure) = records.applyCongestionControl()
        if let congestionFailure { status += "; host TCP congestion control not changed: \(congestionFailure)" }
        return ShaperSetupReport(device: link.name, status: status, qdiscAction: qdiscAction, filterChanged: !filterOK,
                                 programId: programInfo.id, programAdopted: adopted, adoptedMaps: dp.adoptedMaps,
                                 classes: classes, mountedBPFFS: mounted, clsactCreated: clsactCreated,
                                 hostCongestionControl: congestion)
    }

    private func resolveDevice() throws -> Link {
        let name = try settings.device ?? DefaultRouteDevice.find(routeTable: settings.routeTable)
        do {
            return try netlink.link(named: name)
        } catch let error as NetlinkError where error.errno == ENODEV {
            throw ShapingError.unknownDevice("unknown device '\(name)' (no such network interface)")
        } catch let error as NetlinkRequestError {
            throw ShapingError.unknownDevice(error.message)
        }
    }

    /// The program the filter should run: the pinned one when it has the same instructions as
    /// the one just loaded (so a restart changes nothing), else the new one, pinned.
    private func chooseProgram(_ dp: EDTDatapath) throws -> (Int32, BPFProgramInfo, Bool) {
        let fresh = try dp.program.info()
        let path = settings.pinPath + "/" + Self.programPin
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

    /// mq + fq; where sch_fq is missing the device is left as it was and shaping only polices.
    private func ensureQdiscs(_ link: Link) throws -> (action: String, status: String, policing: Bool) {
        do {
            switch try netlink.ensureMQFQ(device: .index(link.index), fqOptions: FQOptions()) {
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

    // MARK: classes

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
            let text = selector.description
            let selectors = try dp.classSelectors()
            let horizonNs = UInt64((horizon * 1e9).rounded())
            if let id = Self.classId(of: selector.classKey, in: selectors) {
                var record = try dp.readClass(id) ?? edt_class(rateBytesPerSecond: 0, horizonNs: 0, ecn: false)
                record.rate = rate.bytesPerSecond
                record.horizon_ns = horizonNs
                record.flags = settings.ecn ? UInt32(EDT_F_ECN) : 0
                try dp.writeSelector(id, text)  // one spelling per class, even for a class an older agent recorded
                try dp.writeClass(id, record)
                try dp.bind(selector, to: id)
                logger.notice("shaping \(text): \(rate), horizon \(DurationParser.format(seconds: horizon)) (class \(id) updated)")
                return try info(dp, id: id, selector: text)
            }
            guard let id = (1...EDTDatapath.maxClasses).first(where: { selectors[$0] == nil }) else {
                throw ShapingError.tableFull("the class table (\(EDTDatapath.maxClasses) classes)")
            }
            do {
                try dp.writeSelector(id, text)
                try dp.writeClass(id, edt_class(rateBytesPerSecond: rate.bytesPerSecond, horizonNs: horizonNs, ecn: settings.ecn))
                try dp.bind(selector, to: id)  // last: packets find the class only once it is complete
            } catch {
                try? dp.unbind(selector)
                try? dp.deleteClass(id)
                if let bpf = error as? BPFError, bpf.errno == E2BIG || bpf.errno == ENOSPC {
                    throw ShapingError.tableFull("the \(selector.kind) map")
                }
                throw error
            }
            logger.notice("shaping \(text): \(rate), horizon \(DurationParser.format(seconds: horizon)) (class \(id))")
            return try info(dp, id: id, selector: text)
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
            let dp = try requireDatapath()
            guard let id = Self.classId(of: key, in: try dp.classSelectors()) else {
                throw ShapingError.noSuchClass(text)
            }
            let unbound = try unbindAll(dp, classId: id)
            try dp.deleteClass(id)
            logger.notice("shaping class \(id) (\(canonical)) deleted")
            return ShapingChangeResult(actions: ["deleted class \(id) (\(canonical)), \(unbound) selector entr\(unbound == 1 ? "y" : "ies")"])
        }
    }

    /// The class whose recorded selector has `key` (matched by trie key or cgroup path, not by text).
    static func classId(of key: String, in selectors: [UInt32: String]) -> UInt32? {
        selectors.first { ShapingSelector.classKey(recorded: $0.value) == key }?.key
    }

    /// The status and every class with its counters.
    public func list() throws -> ShapingListResult {
        try lock.withLock {
            guard let dp = datapath else { return ShapingListResult(device: link?.name, status: statusText, classes: []) }
            // One walk of the meta map, then one lookup per class: O(n). (Walking the map again
            // per class made 1,024 classes take seconds under the lock.)
            let selectors = try dp.classSelectors()
            let classes = try selectors.keys.sorted().map { id in try info(dp, id: id, selector: selectors[id]!) }
            return ShapingListResult(device: link?.name, status: statusText, classes: classes)
        }
    }

    private func info(_ dp: EDTDatapath, id: UInt32, selector: String) throws -> ShapingClassInfo {
        guard let record = try dp.readClass(id) else { throw ShapingError.noSuchClass(selector) }
        // The rate was validated on the way in; a foreign value in a pinned map is shown clamped.
        let bits = min(max(record.rate * 8, BandwidthRate.minimum), BandwidthRate.maximum)
        return ShapingClassInfo(selector: selector, kind: selector.hasPrefix("cgroup:") ? "cgroup" : "prefix",
                                classId: id, rate: try BandwidthRate(bitsPerSecond: bits),
                                horizonSeconds: Double(record.horizon_ns) / 1e9, ecn: record.ecn,
                                bytes: record.bytes, packets: record.packets, drops: record.drops,
                                ecnMarks: record.ecn_marks)
    }

    private func unbindAll(_ dp: EDTDatapath, classId: UInt32) throws -> Int {
        var prefixKeys: [edt_prefix_key] = [], cgroupKeys: [UInt64] = []
        try dp.prefixes.forEach { key, value in
            if EDTPrefixValue.classId(value) == classId { prefixKeys.append(key) }
        }
        try dp.cgroups.forEach { key, value in
            if value == classId { cgroupKeys.append(key) }
        }
        for key in prefixKeys { try dp.prefixes.delete(key) }
        for key in cgroupKeys { try dp.cgroups.delete(key) }
        return prefixKeys.count + cgroupKeys.count
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

    /// Removes our filter, the clsact qdisc if we created it and nothing else uses it, puts the
    /// recorded root qdisc back, and removes the pins (classes are gone afterwards).
    public func reset() throws -> ShapingChangeResult {
        try lock.withLock {
            var actions: [String] = []
            let name = try link?.name ?? settings.device ?? DefaultRouteDevice.find(routeTable: settings.routeTable)
            if let link = try? netlink.link(named: name) {
                let device = NetworkDevice.index(link.index)
                do {
                    try netlink.deleteFilter(on: device, hook: .egress, priority: Self.filterPriority, handle: Self.filterHandle)
                    actions.append("removed the EDT filter from \(link.name) egress")
                } catch let error as NetlinkError where error.errno == ENOENT || error.errno == EINVAL {
                    // EINVAL: no clsact at all, so no filter either
                }
                let ownership = try records.loadOwnership(link.name)
                // The note is written before clsact is created: a setup that failed in between
                // leaves a note without a clsact.
                let hasClsact = try netlink.listQdiscs(on: device).contains { $0.kind == ClsactQdisc.kind }
                if ownership.clsactCreated, hasClsact, try clsactIsUnused(device) {
                    try netlink.deleteQdisc(kind: ClsactQdisc.kind, on: device, parent: ClsactQdisc.parent,
                                            handle: ClsactQdisc.handle)
                    actions.append("removed the clsact qdisc edgenode created on \(link.name)")
                }
                records.forgetOwnership(link.name)
                actions += try records.restoreRootQdisc(link)
            } else {
                // Its notes describe a device that no longer exists: a new device of the same
                // name must not inherit them (issue 13, finding 8).
                records.forgetDevice(name)
                actions.append("device \(name) is gone: nothing to remove from it; dropped its recorded root qdisc")
            }
            actions += try records.restoreCongestionControl()
            for pin in EDTDatapath.mapNames + [Self.programPin] {
                try BPFFS.unpin(settings.pinPath + "/" + pin)
            }
            BPFFS.removeDirectoryIfEmpty(settings.pinPath)
            actions.append("unpinned the EDT maps and program from \(settings.pinPath)")
            datapath = nil
            adoptedProgram = nil
            statusText = "reset"
            logger.notice("shaping reset: \(actions.joined(separator: "; "))")
            return ShapingChangeResult(actions: actions)
        }
    }

    private func clsactIsUnused(_ device: NetworkDevice) throws -> Bool {
        try netlink.listFilters(on: device, hook: .egress).isEmpty && netlink.listFilters(on: device, hook: .ingress).isEmpty
    }

    // MARK: recorded state (state_dir)

    /// What setup changed on the host and what stood there before (see `ShapingRecords`).
    var records: ShapingRecords {
        ShapingRecords(directory: settings.stateDirectory, netlink: netlink, logger: logger,
                       congestion: HostCongestionControl(directory: settings.sysctlDirectory),
                       wantedCongestionControl: settings.hostCongestionControl)
    }

    /// Root qdisc kinds setup() installs.
    static let installedKinds: Set<String> = ["mq", "fq"]

    // MARK: pods: the classifier on a host-side veth (PodShaping drives these)

    /// The classifier's place on a veth's clsact ingress.
    public static let classifierPriority: UInt16 = 1
    public static let classifierHandle: UInt32 = 0xED8
    public static let classifierFilterName = "edgenode-classify"

    /// Runs the classifier on `hostInterface`'s clsact ingress (what the pod sends), so its
    /// packets carry their class in skb->mark to the uplink. Sets the uplink up first if needed.
    /// A filter that already runs the program is left alone.
    @discardableResult
    public func attachClassifier(hostInterface: String) throws -> Bool {
        try lock.withLock {
            let dp = try requireDatapath()
            let link: Link
            do {
                link = try netlink.link(named: hostInterface)
            } catch let error as NetlinkError where error.errno == ENODEV {
                throw ShapingError.unknownDevice("unknown device '\(hostInterface)' (the pod's host-side veth is gone)")
            } catch let error as NetlinkRequestError {
                throw ShapingError.unknownDevice("\(error.message) (the pod's host-side veth)")
            }
            let device = NetworkDevice.index(link.index)
            _ = try netlink.ensureClsact(on: device)
            let info = try dp.classifier.info()
            let current = try netlink.listFilters(on: device, hook: .ingress)
                .first { $0.priority == Self.classifierPriority && $0.handle == Self.classifierHandle }
            if current?.kind == "bpf", current?.bpfProgramID == info.id, current?.directAction == true { return false }
            try netlink.replaceBPFFilter(BPFFilterSpec(programFD: dp.classifier.fd, name: Self.classifierFilterName,
                                                       priority: Self.classifierPriority, handle: Self.classifierHandle),
                                         on: device, hook: .ingress)
            logger.info("pod classifier on \(hostInterface) ingress now runs program \(info.id)")
            return true
        }
    }

    /// True when `hostInterface` runs a classifier filter of ours.
    public func classifierAttached(hostInterface: String) -> Bool {
        guard let link = try? netlink.link(named: hostInterface),
              let filters = try? netlink.listFilters(on: .index(link.index), hook: .ingress) else { return false }
        return filters.contains { $0.priority == Self.classifierPriority && $0.handle == Self.classifierHandle && $0.kind == "bpf" }
    }

    /// Removes the classifier; a veth that is gone (the pod went first) or has none is fine.
    public func detachClassifier(hostInterface: String) throws -> String {
        guard let link = try? netlink.link(named: hostInterface) else {
            return "\(hostInterface) is gone: no classifier to remove"
        }
        do {
            try netlink.deleteFilter(on: .index(link.index), hook: .ingress, priority: Self.classifierPriority,
                                     handle: Self.classifierHandle)
            return "removed the pod classifier from \(hostInterface) ingress"
        } catch let error as NetlinkError where error.errno == ENOENT || error.errno == EINVAL || error.errno == ENODEV {
            return "\(hostInterface) has no pod classifier"
        }
    }

    /// Binds more selectors (a pod's other addresses) to the class of `selector`.
    public func bindAlso(_ extra: [String], toClassOf selector: String) throws {
        let root = CgroupRoot.find(mountInfo: settings.mountInfo)
        let parsed = try extra.map { try ShapingSelector.parse($0, cgroupRoot: root) }
        let canonical = try ShapingSelector.parse(selector, cgroupRoot: root).description
        try lock.withLock {
            let dp = try requireDatapath()
            guard let id = try dp.classSelectors().first(where: { $0.value == canonical })?.key else {
                throw ShapingError.noSuchClass(selector)
            }
            for p in parsed { try dp.bind(p, to: id) }
        }
    }

    // MARK: inspection

    /// Qdiscs and clsact filters of `device` (any device, shaped or not).
    public func qdiscShow(device: String) throws -> QdiscShowResult {
        try QdiscInspector.show(device: device, netlink: netlink)
    }
}
