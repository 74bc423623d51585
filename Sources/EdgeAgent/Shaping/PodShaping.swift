// Pod classes from the edgenode-bandwidth CNI plugin: one class per (container id, ifname),
// selected by the pod's addresses, classified on the pod's host-side veth so the class holds
// after masquerade. The agent keeps them in <state_dir>/cni-classes.json, written before the
// kernel is changed, so that
//  - DEL finds the class by container id alone (runtimes may send DEL without prevResult), and
//    succeeds for anything already gone;
//  - after a reboot (bpffs empty, no pinned maps) the agent re-creates the classes of the pods
//    whose veths still exist, and forgets the rest.
import EdgeAPI
import Foundation
import Logging

/// One pod class as recorded in the state file.
struct CNIClassRecord: Codable, Equatable {
    var containerId: String
    var ifname: String
    var hostInterface: String
    var addresses: [String]
    var rate: String
    var horizon: String?

    var key: String { containerId + "/" + ifname }
    var selector: String { addresses[0] }
}

public final class PodShaping: @unchecked Sendable {
    let shaper: Shaper
    let statePath: String
    let logger: Logger
    private let lock = NSLock()

    public init(shaper: Shaper, stateDirectory: String, logger: Logger) {
        self.shaper = shaper
        self.statePath = stateDirectory + "/cni-classes.json"
        self.logger = logger
    }

    private func load() throws -> [String: CNIClassRecord] {
        try StateFile.read([String: CNIClassRecord].self, from: statePath) ?? [:]
    }

    private func save(_ records: [String: CNIClassRecord]) throws {
        if records.isEmpty { StateFile.remove(statePath) } else { try StateFile.write(records, to: statePath) }
    }

    /// Canonical selectors of every pod class ("10.22.0.5/32"), for `shaping.list`'s origin.
    public func selectors() -> Set<String> {
        let records = (try? lock.withLock { try load() }) ?? [:]
        return Set(records.values.compactMap { try? ShapingSelector.parse($0.selector, cgroupRoot: nil).description })
    }

    // MARK: add / check / delete

    public func add(_ p: ShapingPodAddParams) throws -> ShapingPodResult {
        try validate(p)
        let record = CNIClassRecord(containerId: p.containerId, ifname: p.ifname, hostInterface: p.hostInterface,
                                    addresses: p.addresses, rate: p.rate, horizon: p.horizon)
        return try lock.withLock {
            var records = try load()
            if let old = records[record.key], old.addresses != record.addresses {
                _ = try? shaper.delete(selector: old.selector)  // the same attachment with new addresses
            }
            records[record.key] = record
            try save(records)  // the note first: a crash in between leaves a class DEL can find
            do {
                return try apply(record)
            } catch {
                _ = try? shaper.delete(selector: record.selector)
                records[record.key] = nil
                try? save(records)
                throw error
            }
        }
    }

    private func apply(_ r: CNIClassRecord) throws -> ShapingPodResult {
        let info = try shaper.set(ShapingSetParams(selector: r.selector, rate: r.rate, horizon: r.horizon))
        if r.addresses.count > 1 { try shaper.bindAlso(Array(r.addresses.dropFirst()), toClassOf: r.selector) }
        try shaper.attachClassifier(hostInterface: r.hostInterface)
        logger.notice("pod \(r.containerId) (\(r.hostInterface), \(r.addresses.joined(separator: ", "))): class \(info.classId) at \(info.rate)")
        return ShapingPodResult(containerId: r.containerId, ifname: r.ifname, hostInterface: r.hostInterface,
                                addresses: r.addresses, classId: info.classId, rate: info.rate, classifierAttached: true)
    }

    /// The pod's class as it is now; `noSuchClass` when the agent has none, or it lost a part.
    public func check(_ ref: ShapingPodRef) throws -> ShapingPodResult {
        try lock.withLock {
            guard let r = try load()[ref.containerId + "/" + ref.ifname] else {
                throw ShapingError.noSuchClass("pod \(ref.containerId) (\(ref.ifname))")
            }
            let canonical = try ShapingSelector.parse(r.selector, cgroupRoot: nil).description
            guard let info = try shaper.list().classes.first(where: { $0.selector == canonical }) else {
                throw ShapingError.noSuchClass("pod \(ref.containerId) (\(ref.ifname)): its class \(canonical) is gone")
            }
            let attached = shaper.classifierAttached(hostInterface: r.hostInterface)
            guard attached else {
                throw ShapingError.noSuchClass("pod \(ref.containerId) (\(ref.ifname)): no classifier on \(r.hostInterface)")
            }
            return ShapingPodResult(containerId: r.containerId, ifname: r.ifname, hostInterface: r.hostInterface,
                                    addresses: r.addresses, classId: info.classId, rate: info.rate,
                                    classifierAttached: attached)
        }
    }

    /// Removes the pod's class and classifier. Idempotent: an unknown container, a class or a
    /// veth already gone all succeed, saying so.
    public func delete(_ ref: ShapingPodRef) throws -> ShapingChangeResult {
        try lock.withLock {
            var records = try load()
            let key = ref.containerId + "/" + ref.ifname
            guard let r = records[key] else {
                return ShapingChangeResult(actions: ["no pod class for container \(ref.containerId) (\(ref.ifname)): nothing to do"])
            }
            var actions = [try shaper.detachClassifier(hostInterface: r.hostInterface)]
            do {
                actions += try shaper.delete(selector: r.selector).actions
            } catch ShapingError.noSuchClass(_) {
                actions.append("class of \(r.selector) already gone")
            }
            records[key] = nil
            try save(records)
            logger.notice("pod \(r.containerId) (\(r.hostInterface)): class removed")
            return ShapingChangeResult(actions: actions)
        }
    }

    /// Forgets every pod class (after shaping.reset removed the classes themselves).
    public func forgetAll() throws -> [String] {
        try lock.withLock {
            let records = try load()
            var actions: [String] = []
            for r in records.values { actions.append(try shaper.detachClassifier(hostInterface: r.hostInterface)) }
            try save([:])
            return actions + (records.isEmpty ? [] : ["forgot \(records.count) pod class(es) from CNI"])
        }
    }

    /// At start with empty maps (a reboot, or bpffs unmounted): re-creates the recorded pod
    /// classes whose veth still exists, and forgets those whose veth is gone.
    public func restore() -> [String] {
        lock.withLock {
            guard var records = try? load(), !records.isEmpty else { return [] }
            var lines: [String] = []
            for (key, r) in records.sorted(by: { $0.key < $1.key }) {
                do {
                    _ = try apply(r)
                    lines.append("re-created the class of pod \(r.containerId) on \(r.hostInterface)")
                } catch ShapingError.unknownDevice(_) {
                    _ = try? shaper.delete(selector: r.selector)
                    records[key] = nil
                    lines.append("forgot pod \(r.containerId): \(r.hostInterface) is gone")
                } catch {
                    lines.append("cannot re-create the class of pod \(r.containerId): \(error)")
                }
            }
            try? save(records)
            return lines
        }
    }

    private func validate(_ p: ShapingPodAddParams) throws {
        guard !p.containerId.isEmpty, p.containerId.utf8.count <= 256 else {
            throw ShapingError.invalidSelector(p.containerId, "container_id must be 1 to 256 bytes")
        }
        guard !p.ifname.isEmpty, p.ifname.utf8.count <= 15 else {
            throw ShapingError.invalidSelector(p.ifname, "ifname must be an interface name (1 to 15 bytes)")
        }
        guard !p.hostInterface.isEmpty, p.hostInterface.utf8.count <= 15 else {
            throw ShapingError.unknownDevice("host_interface must be an interface name (1 to 15 bytes), got \"\(p.hostInterface)\"")
        }
        guard !p.addresses.isEmpty else {
            throw ShapingError.invalidSelector("addresses", "a pod needs at least one address to be shaped")
        }
        for a in p.addresses {
            let prefix = try ShapingSelector.parse(a, cgroupRoot: nil)
            guard case .prefix = prefix, !a.contains("/") else {
                throw ShapingError.invalidSelector(a, "a pod address is one IPv4 or IPv6 address without a prefix length")
            }
        }
    }
}
