import Foundation
import Glibc

/// What a device's root qdisc tree looked like: the root, the qdiscs and classes below it.
/// Codable so the agent can save it and put the device back later (on request, on purge).
/// clsact/ingress are not part of it: they are not under the root and are managed separately.
public struct QdiscSnapshot: Equatable, Codable, Sendable {
    public var deviceName: String
    public var ifindex: Int32
    /// nil if the device had no root qdisc at all (the kernel always attaches one, so rarely).
    public var root: Qdisc?
    /// Qdiscs created below the root by requests (kernel defaults, handle 0:, are omitted:
    /// the kernel recreates them).
    public var children: [Qdisc]
    /// Classes of an htb root tree, which restore recreates; empty for every other kind, whose
    /// classes the kernel creates along with the qdisc.
    public var classes: [TrafficClass]
    /// The device's hardware address when recorded (nil in records of older agents).
    public var hardwareAddress: String?

    public init(deviceName: String, ifindex: Int32, root: Qdisc?, children: [Qdisc], classes: [TrafficClass],
                hardwareAddress: String? = nil) {
        self.deviceName = deviceName
        self.ifindex = ifindex
        self.root = root
        self.children = children
        self.classes = classes
        self.hardwareAddress = hardwareAddress
    }

    /// The device the snapshot was taken of.
    public var device: DeviceIdentity {
        DeviceIdentity(name: deviceName, ifindex: ifindex, hardwareAddress: hardwareAddress)
    }

    /// Why `link` is not the device this snapshot was taken of, or nil when it is.
    public func identityMismatch(_ link: Link) -> String? {
        device.mismatch(link)
    }

    /// True when the root is whatever the kernel attaches by itself (handle 0:).
    public var rootIsKernelDefault: Bool { root?.isKernelDefault ?? true }
}

extension NetlinkSocket {
    /// Records the root qdisc tree of `device`.
    public func snapshotRoot(device: NetworkDevice) throws -> QdiscSnapshot {
        let link = try resolve(device)
        let qdiscs = try listQdiscs(ifindex: link.index)
        let root = qdiscs.first(where: \.isRoot)
        let children = qdiscs.filter { qdisc in
            !qdisc.isRoot && !qdisc.isKernelDefault && !isHookQdisc(qdisc)
        }
        // Only what a restore must recreate: htb classes exist because requests made them.
        // Other classful kinds (tbf's 5:1, prio's bands, mq's per-queue classes) create their
        // classes themselves when the qdisc is added, so re-adding them is refused with EEXIST.
        var classes: [TrafficClass] = []
        if let root, !root.isKernelDefault, root.kind == HTBOptions.kind {
            classes = try listClasses(ifindex: link.index).filter { $0.handle.major == root.handle.major }
        }
        return QdiscSnapshot(deviceName: link.name, ifindex: link.index, root: root, children: children, classes: classes,
                             hardwareAddress: link.hardwareAddress)
    }

    /// Puts the root tree of the snapshot's device back: removes the current root (which takes
    /// its children and classes with it) and re-creates the recorded root, classes and child
    /// qdiscs from their dumped options. A kernel-default root is restored by deletion alone.
    /// The device is found by name first (ifindex if the name is gone); it must be the device the
    /// snapshot was taken of (`identityMismatch`), or nothing is changed.
    public func restore(_ snapshot: QdiscSnapshot) throws {
        let link: Link
        do {
            link = try self.link(named: snapshot.deviceName)
        } catch let error as NetlinkError where error.errno == ENODEV {
            link = try self.link(index: snapshot.ifindex)
        }
        if let mismatch = snapshot.identityMismatch(link) {
            throw NetlinkError(operation: "restore the recorded root qdisc of \(snapshot.deviceName) (\(mismatch))",
                               errno: ENODEV, extack: nil)
        }
        let current = try listQdiscs(ifindex: link.index).first(where: \.isRoot)
        if let current, !current.isKernelDefault {
            try deleteQdisc(kind: current.kind, on: .index(link.index), parent: .root, handle: current.handle)
        }
        guard let root = snapshot.root, !root.isKernelDefault else { return }

        var recreated = root
        recreated.ifindex = link.index
        try recreate(recreated, link: link)
        for trafficClass in orderedParentsFirst(snapshot.classes, rootHandle: root.handle) {
            var copy = trafficClass
            copy.ifindex = link.index
            try addClass(copy, deviceName: link.name)
        }
        for child in snapshot.children {
            var copy = child
            copy.ifindex = link.index
            try recreate(copy, link: link)
        }
    }

    private func recreate(_ qdisc: Qdisc, link: Link) throws {
        // Known kinds are rebuilt from their typed options: a dump is not always accepted back
        // verbatim (htb dumps its version as 3.17 but init insists on 3). Other kinds go back as
        // the raw TCA_OPTIONS they were dumped with.
        try self.qdisc(.add, qdisc.options, on: .index(link.index), parent: qdisc.parent, handle: qdisc.handle)
    }

    private func isHookQdisc(_ qdisc: Qdisc) -> Bool {
        qdisc.parent == .clsactParent  // clsact and ingress both live at ffff:fff1
    }

    /// Classes must be created after their parent class.
    private func orderedParentsFirst(_ classes: [TrafficClass], rootHandle: TCHandle) -> [TrafficClass] {
        var created: Set<TCHandle> = [rootHandle]
        var pending = classes
        var ordered: [TrafficClass] = []
        while !pending.isEmpty {
            let ready = pending.filter { created.contains($0.parent) || $0.parent == .root }
            // A class whose parent is missing from the dump: keep going rather than loop forever;
            // the kernel's error will name the class.
            let batch = ready.isEmpty ? pending : ready
            ordered += batch
            batch.forEach { created.insert($0.handle) }
            pending.removeAll { item in batch.contains(where: { $0.handle == item.handle }) }
        }
        return ordered
    }
}
