// The loaded EDT object (bpf/edt.bpf.c) and typed access to its maps. With a pin directory the
// maps live on bpffs: a compatible map pinned there by an earlier agent is adopted (its classes
// and counters carry on), otherwise the new map is pinned for the next one.
import EdgeBPF
import Foundation

public final class EDTDatapath {
    public static let programName = "edt_egress"
    /// The classifier for a pod's host-side veth (clsact ingress): class id into skb->mark.
    public static let classifierName = "edt_classify"
    static let prefixesMap = "edt_prefixes"
    static let cgroupsMap = "edt_cgroups"
    static let classesMap = "edt_classes"
    static let metaMap = "edt_class_meta"
    static let configMap = "edt_config"
    static let mapNames = [prefixesMap, cgroupsMap, classesMap, metaMap, configMap]
    /// bpf/edt.h EDT_MAX_CLASSES: class ids are 1…maxClasses.
    static let maxClasses: UInt32 = 1024

    let object: BPFObject
    public let program: BPFProgram
    public let classifier: BPFProgram
    /// Where the maps are pinned, nil when they are private to this process.
    public let pinDirectory: String?
    /// Maps that were already pinned and were adopted rather than created.
    public let adoptedMaps: [String]

    let prefixes, cgroups, classes, meta, config: BPFMap

    /// Opens and loads the embedded EDT object, pinning (or adopting) its maps under
    /// `pinDirectory` when given. The directory must already be on bpffs.
    public init(pinDirectory: String?) throws {
        object = try BPFObject(embedded: "edt")
        var adopted: [String] = []
        if let pinDirectory {
            for name in Self.mapNames {
                let path = pinDirectory + "/" + name
                if BPFFS.exists(path) { adopted.append(name) }
                try object.setPinPath(ofMap: name, to: path)
            }
        }
        try object.load()
        program = try object.program(Self.programName)
        classifier = try object.program(Self.classifierName)
        prefixes = try object.map(Self.prefixesMap)
        cgroups = try object.map(Self.cgroupsMap)
        classes = try object.map(Self.classesMap)
        meta = try object.map(Self.metaMap)
        config = try object.map(Self.configMap)
        self.pinDirectory = pinDirectory
        adoptedMaps = adopted
        try checkLayout()
    }

    /// A mismatch means bpf/edt.h changed without EDTMapLayout.swift: refuse to touch the maps.
    private func checkLayout() throws {
        let expected: [(BPFMap, Int, Int)] = [(prefixes, EDTPrefixKey.size, 4), (cgroups, 8, 4),
                                              (classes, 4, EDTClassRecord.size), (meta, 4, EDTClassMeta.size),
                                              (config, 4, EDTMarkConfig.size)]
        for (map, key, value) in expected where map.keySize != key || map.valueSize != value {
            throw BPFError("map \(map.name) has key/value \(map.keySize)/\(map.valueSize) bytes, expected \(key)/\(value) (bpf/edt.h and EDTMapLayout.swift disagree)", errno: EINVAL)
        }
    }

    // MARK: the mark

    /// The skb->mark bits that carry class ids from veth classifiers to the uplink (0: off).
    func writeMarkMask(_ mask: UInt32) throws {
        var key: UInt32 = 0
        try EDTMarkConfig.encode(mask: mask).withUnsafeBytes { try config.update(key: &key, value: $0.baseAddress!) }
    }

    func readMarkMask() throws -> UInt32 {
        var key: UInt32 = 0
        var value = [UInt8](repeating: 0, count: EDTMarkConfig.size)
        _ = try value.withUnsafeMutableBytes { try config.lookup(key: &key, into: $0.baseAddress!) }
        return LittleEndianBytes.u32(value, 0)
    }

    // MARK: classes

    func readClass(_ id: UInt32) throws -> EDTClassRecord? {
        var key = id
        var value = [UInt8](repeating: 0, count: EDTClassRecord.size)
        let found = try value.withUnsafeMutableBytes { try classes.lookup(key: &key, into: $0.baseAddress!) }
        return found ? EDTClassRecord(bytes: value) : nil
    }

    func writeClass(_ id: UInt32, _ record: EDTClassRecord) throws {
        var key = id
        try record.encoded.withUnsafeBytes { try classes.update(key: &key, value: $0.baseAddress!) }
    }

    /// Every class id with its selector text (the meta map is the list of classes).
    func classSelectors() throws -> [UInt32: String] {
        var out: [UInt32: String] = [:]
        try meta.forEach { key, value in
            out[key.load(as: UInt32.self)] = EDTClassMeta.decode(Array(value))
        }
        return out
    }

    func writeSelector(_ id: UInt32, _ text: String) throws {
        guard let bytes = EDTClassMeta.encode(text) else {
            throw ShapingError.invalidSelector(text, "longer than \(EDTClassMeta.size - 1) bytes")
        }
        var key = id
        try bytes.withUnsafeBytes { try meta.update(key: &key, value: $0.baseAddress!) }
    }

    func deleteClass(_ id: UInt32) throws {
        var key = id
        try classes.delete(key: &key)
        try meta.delete(key: &key)
    }

    // MARK: selectors → class

    func bind(_ selector: ShapingSelector, to id: UInt32) throws {
        switch selector {
        case .prefix(let prefix):
            var value = EDTPrefixValue.encode(classId: id, prefix)
            try EDTPrefixKey.encode(prefix).withUnsafeBytes { try prefixes.update(key: $0.baseAddress!, value: &value) }
        case .cgroup(_, let cgroupID):
            var key = cgroupID
            var value = id
            try cgroups.update(key: &key, value: &value)
        }
    }

    @discardableResult
    func unbind(_ selector: ShapingSelector) throws -> Bool {
        switch selector {
        case .prefix(let prefix):
            return try EDTPrefixKey.encode(prefix).withUnsafeBytes { try prefixes.delete(key: $0.baseAddress!) }
        case .cgroup(_, let cgroupID):
            var key = cgroupID
            return try cgroups.delete(key: &key)
        }
    }

    /// Removes every pin of this object (maps and `extraPins`) and the directory if empty.
    func unpinAll(extraPins: [String]) throws {
        guard let pinDirectory else { return }
        for name in Self.mapNames + extraPins { try BPFFS.unpin(pinDirectory + "/" + name) }
        BPFFS.removeDirectoryIfEmpty(pinDirectory)
    }
}
