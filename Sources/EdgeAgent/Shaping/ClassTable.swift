// The shaping classes over the EDT maps: class ids 1…EDT_MAX_CLASSES, one class per selector
// (matched by what the datapath matches, so an alias is the same class), the selectors bound to
// it, and what `shaping.list` shows. It holds no lock and no device: the shaper calls it under its
// lock with validated input, and tests drive it over an in-memory twin of the maps.
import EdgeAPI
import EdgeBPF
import EdgeCore
import Glibc
import Logging

struct ClassTable {
    let maps: EDTClassMaps
    /// `[shaping] ecn`: CE-mark ECT packets before dropping.
    let ecn: Bool
    let logger: Logger

    static let maxClasses = EDTDatapath.maxClasses

    /// The class whose recorded selector has `key` (matched by trie key or cgroup path, not by text).
    static func classId(of key: String, in selectors: [UInt32: String]) -> UInt32? {
        selectors.first { ShapingSelector.classKey(recorded: $0.value) == key }?.key
    }

    /// Creates or updates the class of `selector`. An existing class keeps its counters and
    /// departure state; a new one is bound last, so packets find it only once it is complete.
    func set(_ selector: ShapingSelector, rate: BandwidthRate, horizonSeconds: Double) throws -> ShapingClassInfo {
        let text = selector.description
        let selectors = try maps.classSelectors()
        let horizonNs = UInt64((horizonSeconds * 1e9).rounded())
        let horizonText = DurationParser.format(seconds: horizonSeconds)
        if let id = Self.classId(of: selector.classKey, in: selectors) {
            var record = try maps.readClass(id) ?? edt_class(rateBytesPerSecond: 0, horizonNs: 0, ecn: false)
            record.rate = rate.bytesPerSecond
            record.horizon_ns = horizonNs
            record.flags = ecn ? UInt32(EDT_F_ECN) : 0
            try maps.writeSelector(id, text)  // one spelling per class, even for a class an older agent recorded
            try maps.writeClass(id, record)
            try maps.bind(selector, to: id)
            logger.notice("shaping \(text): \(rate), horizon \(horizonText) (class \(id) updated)")
            return try info(id: id, selector: text)
        }
        guard let id = (1...Self.maxClasses).first(where: { selectors[$0] == nil }) else {
            throw ShapingError.tableFull("the class table (\(Self.maxClasses) classes)")
        }
        do {
            try maps.writeSelector(id, text)
            try maps.writeClass(id, edt_class(rateBytesPerSecond: rate.bytesPerSecond, horizonNs: horizonNs, ecn: ecn))
            try maps.bind(selector, to: id)
        } catch {
            _ = try? maps.unbind(selector)
            try? maps.deleteClass(id)
            if let bpf = error as? BPFError, bpf.errno == E2BIG || bpf.errno == ENOSPC {
                throw ShapingError.tableFull("the \(selector.kind) map")
            }
            throw error
        }
        logger.notice("shaping \(text): \(rate), horizon \(horizonText) (class \(id))")
        return try info(id: id, selector: text)
    }

    /// Removes the class with selector key `key` and every prefix/cgroup entry that points at it.
    /// `canonical` is the selector as shown, `asked` as the caller wrote it (for the error).
    func delete(key: String, canonical: String, asked: String) throws -> ShapingChangeResult {
        guard let id = Self.classId(of: key, in: try maps.classSelectors()) else {
            throw ShapingError.noSuchClass(asked)
        }
        let unbound = try maps.unbindAll(classId: id)
        try maps.deleteClass(id)
        logger.notice("shaping class \(id) (\(canonical)) deleted")
        return ShapingChangeResult(actions: ["deleted class \(id) (\(canonical)), \(unbound) selector entr\(unbound == 1 ? "y" : "ies")"])
    }

    /// Binds more selectors (a pod's other addresses) to the class whose selector is `canonical`.
    func bind(_ extra: [ShapingSelector], toClassOf canonical: String, asked: String) throws {
        guard let id = try maps.classSelectors().first(where: { $0.value == canonical })?.key else {
            throw ShapingError.noSuchClass(asked)
        }
        for selector in extra { try maps.bind(selector, to: id) }
    }

    /// Every class with its counters, by class id. One walk of the meta map, then one lookup per
    /// class: O(n). (Walking the map again per class made 1,024 classes take seconds.)
    func list() throws -> [ShapingClassInfo] {
        let selectors = try maps.classSelectors()
        return try selectors.keys.sorted().map { id in try info(id: id, selector: selectors[id]!) }
    }

    /// The number of classes.
    func count() throws -> Int {
        try maps.classSelectors().count
    }

    private func info(id: UInt32, selector: String) throws -> ShapingClassInfo {
        guard let record = try maps.readClass(id) else { throw ShapingError.noSuchClass(selector) }
        // The rate was validated on the way in; a foreign value in a pinned map is shown clamped.
        let bits = min(max(record.rate * 8, BandwidthRate.minimum), BandwidthRate.maximum)
        return ShapingClassInfo(selector: selector, kind: selector.hasPrefix("cgroup:") ? "cgroup" : "prefix",
                                classId: id, rate: try BandwidthRate(bitsPerSecond: bits),
                                horizonSeconds: Double(record.horizon_ns) / 1e9, ecn: record.ecn,
                                bytes: record.bytes, packets: record.packets, drops: record.drops,
                                ecnMarks: record.ecn_marks)
    }
}
