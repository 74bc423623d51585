// The telemetry BPF object (bpf/telemetry.bpf.c), loaded and attached, and its maps read as
// typed cumulative counters. The collector turns two readings into one interval's deltas.
import EdgeAPI
import EdgeBPF
import EdgeCore
import EdgeTelemetry
import Foundation

/// Cumulative kernel counters at one instant, keyed like the aggregator's sums so that the
/// collector's deltas need no code per signal.
public struct KernelCounters: Sendable {
    public var histograms: [TelemetryHistogram: LogLinearHistogram] = [:]
    public var counters: [TelemetryCounter: UInt64] = [:]
    /// Per remote address (text form); u32 slots in the kernel, widened here.
    public var peers: [String: LogLinearHistogram] = [:]
    /// Drop count by kfree_skb reason value.
    public var drops: [Int: UInt64] = [:]

    /// A histogram, empty when the kernel did not fill it.
    public subscript(kind: TelemetryHistogram) -> LogLinearHistogram { histograms[kind] ?? LogLinearHistogram() }
    /// A counter, 0 when the kernel did not fill it.
    public subscript(kind: TelemetryCounter) -> UInt64 { counters[kind] ?? 0 }
}


public final class KernelTelemetry {
    let object: BPFObject
    private var links: [BPFLink] = []
    private let rttHist, runqHist, retransCount, dropCount: BPFMap
    /// Per remote peer RTT slots, typed by bpf/telemetry.h.
    private let peerRTT: BPFTypedMap<edge_peer_key, edge_peer_hist>
    /// Programs attached to their hooks.
    public let attached: [String]
    /// Programs this kernel does not offer or refused, each with why and what took over.
    public let missing: [MissingHook]
    /// kfree_skb reason value → name without the SKB_DROP_REASON_ prefix (from kernel BTF).
    public let dropReasonNames: [Int: String]
    /// The network namespace filtered on (inode), nil = every namespace.
    public let netnsInode: UInt32?

    /// The cgroup run-queue latency is scoped to (telemetry.cgroup), nil = every task.
    public let cgroup: CgroupLocation?

    /// Loads and attaches every program this kernel accepts. Kernel BTF picks each program or
    /// its older variant (TelemetryPlan.fromBTF); if the kernel still refuses the object, each
    /// program is loaded alone to find the refused ones, which are switched off (or replaced by
    /// their fallback) so the others still load.
    /// - Parameter netnsInode: count only sockets/packets of this network namespace (nil = all).
    /// - Parameter cgroup: count run-queue latency only for tasks in this cgroup's subtree (nil = all).
    public init(netnsInode: UInt32?, cgroup: CgroupLocation? = nil) throws {
        guard BPFSystem.hasKernelBTF else {
            throw BPFError("load telemetry: kernel BTF missing at /sys/kernel/btf/vmlinux (CO-RE needs a kernel built with CONFIG_DEBUG_INFO_BTF=y)", errno: ENOENT)
        }
        // resolved once: every probe load below scopes to the same directory
        let scope = try cgroup.map { (id: try cgroupID(path: $0.path), level: UInt32($0.level)) }
        let open = { () throws -> BPFObject in
            let obj = try BPFObject(embedded: "telemetry")
            try obj.setConstant("targ_netns_inum", netnsInode ?? 0)
            if let scope {
                try obj.setConstant("targ_cgroup_id", scope.id)
                try obj.setConstant("targ_cgroup_level", scope.level)
            }
            return obj
        }
        var plan = TelemetryPlan.fromBTF()
        let first = try BPFProbe.loadAccepted(plan.load, open: open)
        var obj = first.object
        if !first.refused.isEmpty {
            plan.apply(refused: first.refused) { BPFProbe.refusal(of: $0, open: open) }
            let loaded = try BPFProbe.loadAccepted(plan.load, open: open)
            obj = loaded.object
            plan.apply(refused: loaded.refused) { _ in "refused" }
        }
        var links: [BPFLink] = []
        var missing = plan.off
        for name in plan.load {
            do {
                links.append(try obj.program(name).attach())
            } catch {
                let p = TelemetryProgram.named(name)
                missing.append(MissingHook(program: name, hook: p?.hook ?? "?", signal: p?.signal ?? "?",
                                           reason: "attach failed: \(error)"))
            }
        }
        object = obj
        self.links = links
        self.attached = links.map(\.programName)
        self.missing = missing
        self.netnsInode = netnsInode
        self.cgroup = cgroup
        rttHist = try obj.map("rtt_hist")
        runqHist = try obj.map("runq_hist")
        peerRTT = try obj.map("peer_rtt", key: edge_peer_key.self, value: edge_peer_hist.self)
        guard MemoryLayout<edge_peer_hist>.size / MemoryLayout<UInt32>.size == LogLinearHistogram.slotCount else {
            throw BPFError("open map peer_rtt: bpf/telemetry.h has \(MemoryLayout<edge_peer_hist>.size / 4) histogram slots, "
                + "EdgeTelemetry's LogLinearHistogram \(LogLinearHistogram.slotCount) (bpf/include/edge_hist.h and LogLinearHistogram.swift must agree)", errno: EINVAL)
        }
        retransCount = try obj.map("retrans_count")
        dropCount = try obj.map("drop_count")
        dropReasonNames = Self.loadDropReasonNames()
    }

    /// Detaches every program (the object and maps go with `self`).
    public func detach() { links.removeAll() }

    /// Reads every map once.
    public func read() throws -> KernelCounters {
        var c = KernelCounters()
        c.histograms[.rtt] = try LogLinearHistogram(counts: rttHist.sumPerCPUCounters(index: 0))
        c.histograms[.runqlat] = try LogLinearHistogram(counts: runqHist.sumPerCPUCounters(index: 0))
        c.counters[.retransmits] = try retransCount.sumPerCPUCounters(index: 0)[0]
        for (reason, n) in try dropCount.sumPerCPUArray().enumerated() where n > 0 {
            c.drops[reason] = n
        }
        try peerRTT.forEach { key, value in
            var addr = key.addr, slots = value.slots
            let bytes = withUnsafeBytes(of: &addr) { Array($0) }
            guard let text = PeerAddressText.format(family: key.family, bytes: bytes) else { return }
            let counts = withUnsafeBytes(of: &slots) { $0.bindMemory(to: UInt32.self).map { UInt64($0) } }
            c.peers[text] = try LogLinearHistogram(counts: counts)
        }
        return c
    }

    /// Run-time statistics per attached program (needs BPF stats enabled to be non-zero).
    public func programStats() throws -> [String: BPFProgramStats] {
        var out: [String: BPFProgramStats] = [:]
        for l in links { out[l.programName] = try object.program(l.programName).stats() }
        return out
    }

    /// The kernel's name for a drop reason; the last slot (edge_compat.bpf.h's
    /// EDGE_DROP_REASON_UNREPORTED) holds drops whose reason the kernel did not say or that lie
    /// beyond the map.
    public func reasonName(_ value: Int) -> String {
        if let name = dropReasonNames[value] { return name }
        return value == Self.unreportedDropSlot ? "UNREPORTED" : "REASON_\(value)"
    }

    /// EDGE_MAX_DROP_REASONS - 1 (bpf/telemetry.h).
    public static let unreportedDropSlot = Int(EDGE_MAX_DROP_REASONS) - 1

    static func loadDropReasonNames() -> [Int: String] {
        guard let values = try? BPFSystem.kernelEnum("skb_drop_reason") else { return [:] }
        var names: [Int: String] = [:]
        for (v, name) in values {
            names[Int(v)] = name.hasPrefix("SKB_DROP_REASON_") ? String(name.dropFirst(16)) : name
        }
        return names
    }
}

/// The inode of a network namespace, as BPF sees it in `net->ns.inum`.
/// `/proc/*/ns/net` is a magic symlink whose target reads "net:[INODE]" (lstat would give the
/// link's own procfs inode); `/run/netns/NAME` is a bind mount of the nsfs file itself.
public func networkNamespaceInode(path: String = "/proc/self/ns/net") throws -> UInt32 {
    let fm = FileManager.default
    if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
        guard target.hasPrefix("net:["), target.hasSuffix("]"),
              let ino = UInt32(target.dropFirst(5).dropLast()) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path,
                NSLocalizedDescriptionKey: "\(path) -> \(target) is not a network namespace"])
        }
        return ino
    }
    let attrs = try fm.attributesOfItem(atPath: path)
    guard let ino = attrs[.systemFileNumber] as? NSNumber else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    return UInt32(truncatingIfNeeded: ino.uint64Value)
}

/// telemetry.drop_weights checked against the running kernel's drop reasons (its BTF enum
/// `skb_drop_reason`): a misspelt reason used to be accepted and silently never matched (issue 13).
public enum DropWeightReasons {
    /// The error text for the reasons in `weights` that `known` lacks, or nil when all are known.
    /// `known` empty (no BTF enum) checks nothing: the caller warns instead.
    public static func problem(weights: [String: Double], known: some Collection<String>) -> String? {
        let names = Set(known)
        guard !names.isEmpty else { return nil }
        let unknown = weights.keys.filter { !names.contains($0) }.sorted()
        guard !unknown.isEmpty else { return nil }
        return "telemetry.drop_weights: unknown drop reason\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) "
            + "(names are the kernel's enum skb_drop_reason without SKB_DROP_REASON_; this kernel has: "
            + "\(names.sorted().joined(separator: ", ")); see `edgectl reasons`)"
    }
}

/// A cgroup's id as BPF sees it (`cgroup->kn->id`): the inode number of its v2 directory.
public func cgroupID(path: String) throws -> UInt64 {
    var st = stat()
    guard stat(path, &st) == 0 else {
        throw BPFError("telemetry.cgroup: cannot stat \(path)", errno: errno)
    }
    return UInt64(st.st_ino)
}
