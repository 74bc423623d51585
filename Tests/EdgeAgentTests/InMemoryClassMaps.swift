// An in-memory twin of the EDT class maps (the `EDTClassMaps` protocol EDTDatapath implements):
// the class logic runs on it without root. Capacities stand in for the maps' max_entries; a full
// map fails the way the kernel does (ENOSPC from the hash maps, E2BIG from the trie).
@testable import EdgeAgent
import EdgeBPF
import Glibc

final class InMemoryClassMaps: EDTClassMaps {
    var classes: [UInt32: edt_class] = [:]
    var selectors: [UInt32: String] = [:]
    /// Selector, by what the datapath matches (`classKey`: trie key or cgroup), → class id.
    var bindings: [String: UInt32] = [:]
    /// Entries the selector maps take before refusing, nil = unlimited.
    var bindingCapacity: Int?
    /// Counts every write, to check that a refused change wrote nothing that stayed.
    private(set) var writes = 0

    func classSelectors() throws -> [UInt32: String] { selectors }

    func readClass(_ id: UInt32) throws -> edt_class? { classes[id] }

    func writeClass(_ id: UInt32, _ record: edt_class) throws {
        writes += 1
        classes[id] = record
    }

    func writeSelector(_ id: UInt32, _ text: String) throws {
        guard edt_class_meta(text: text) != nil else {
            throw ShapingError.invalidSelector(text, "longer than \(edt_class_meta.maxTextBytes) bytes")
        }
        writes += 1
        selectors[id] = text
    }

    func deleteClass(_ id: UInt32) throws {
        classes[id] = nil
        selectors[id] = nil
    }

    func bind(_ selector: ShapingSelector, to id: UInt32) throws {
        if bindings[selector.classKey] == nil, let capacity = bindingCapacity, bindings.count >= capacity {
            throw BPFError("update \(selector.kind) map", errno: selector.kind == "prefix" ? E2BIG : ENOSPC)
        }
        writes += 1
        bindings[selector.classKey] = id
    }

    func unbind(_ selector: ShapingSelector) throws -> Bool {
        bindings.removeValue(forKey: selector.classKey) != nil
    }

    func unbindAll(classId id: UInt32) throws -> Int {
        let keys = bindings.filter { $0.value == id }.map(\.key)
        keys.forEach { bindings[$0] = nil }
        return keys.count
    }
}
