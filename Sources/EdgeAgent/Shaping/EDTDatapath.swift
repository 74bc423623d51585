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
    /// The object's maps: the declared table (as a libbpf skeleton would list them).
    static let mapNames = [prefixesMap, cgroupsMap, classesMap, metaMap, configMap]
    /// File name of the pinned EDT program in the pin directory.
    static let programPin = "edt_egress_prog"
    /// Everything the shaper pins: the maps and the program.
    static let pinNames = mapNames + [programPin]
    /// bpf/edt.h EDT_MAX_CLASSES: class ids are 1…maxClasses.
    static let maxClasses = UInt32(EDT_MAX_CLASSES)

    let object: BPFObject
    public let program: BPFProgram
    public let classifier: BPFProgram
    /// Where the maps are pinned, nil when they are private to this process.
    public let pinDirectory: String?
    /// Maps that were already pinned and were adopted rather than created.
    public let adoptedMaps: [String]

    /// Source prefix → class id (| EDT_PREFIX_IPV6_ONLY).
    let prefixes: BPFTypedMap<edt_prefix_key, UInt32>
    /// cgroup id → class id.
    let cgroups: BPFTypedMap<UInt64, UInt32>
    let classes: BPFTypedMap<UInt32, edt_class>
    let meta: BPFTypedMap<UInt32, edt_class_meta>
    let config: BPFTypedMap<UInt32, edt_config>

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
        // typed by bpf/edt.h; each size is checked here, so a stale embedded object fails at start
        prefixes = try object.map(Self.prefixesMap, key: edt_prefix_key.self, value: UInt32.self)
        cgroups = try object.map(Self.cgroupsMap, key: UInt64.self, value: UInt32.self)
        classes = try object.map(Self.classesMap, key: UInt32.self, value: edt_class.self)
        meta = try object.map(Self.metaMap, key: UInt32.self, value: edt_class_meta.self)
        config = try object.map(Self.configMap, key: UInt32.self, value: edt_config.self)
        self.pinDirectory = pinDirectory
        adoptedMaps = adopted
    }

    // MARK: the mark

    /// The skb->mark bits that carry class ids from veth classifiers to the uplink (0: off).
    package func writeMarkMask(_ mask: UInt32) throws {
        try config.update(0, edt_config(markMask: mask))
    }

    func readMarkMask() throws -> UInt32 {
        try config.lookup(0)?.mark_mask ?? 0
    }

    // MARK: classes

    package func readClass(_ id: UInt32) throws -> edt_class? {
        try classes.lookup(id)
    }

    package func writeClass(_ id: UInt32, _ record: edt_class) throws {
        try classes.update(id, record)
    }

    /// Every class id with its selector text (the meta map is the list of classes).
    package func classSelectors() throws -> [UInt32: String] {
        var out: [UInt32: String] = [:]
        try meta.forEach { id, value in out[id] = value.text }
        return out
    }

    package func writeSelector(_ id: UInt32, _ text: String) throws {
        guard let value = edt_class_meta(text: text) else {
            throw ShapingError.invalidSelector(text, "longer than \(edt_class_meta.maxTextBytes) bytes")
        }
        try meta.update(id, value)
    }

    package func deleteClass(_ id: UInt32) throws {
        try classes.delete(id)
        try meta.delete(id)
    }

    // MARK: selectors → class

    package func bind(_ selector: ShapingSelector, to id: UInt32) throws {
        switch selector {
        case .prefix(let prefix):
            try prefixes.update(edt_prefix_key(prefix), EDTPrefixValue.encode(classId: id, prefix))
        case .cgroup(_, let cgroupID):
            try cgroups.update(cgroupID, id)
        }
    }

    @discardableResult
    package func unbind(_ selector: ShapingSelector) throws -> Bool {
        switch selector {
        case .prefix(let prefix):
            return try prefixes.delete(edt_prefix_key(prefix))
        case .cgroup(_, let cgroupID):
            return try cgroups.delete(cgroupID)
        }
    }

    package func unbindAll(classId id: UInt32) throws -> Int {
        var prefixKeys: [edt_prefix_key] = [], cgroupKeys: [UInt64] = []
        try prefixes.forEach { key, value in
            if EDTPrefixValue.classId(value) == id { prefixKeys.append(key) }
        }
        try cgroups.forEach { key, value in
            if value == id { cgroupKeys.append(key) }
        }
        for key in prefixKeys { try prefixes.delete(key) }
        for key in cgroupKeys { try cgroups.delete(key) }
        return prefixKeys.count + cgroupKeys.count
    }

    // MARK: pins

    /// Removes every pin of the object (maps and program) under `directory`, and the directory
    /// when it is then empty.
    static func unpinAll(in directory: String) throws {
        for name in pinNames { try BPFFS.unpin(directory + "/" + name) }
        BPFFS.removeDirectoryIfEmpty(directory)
    }
}
