// The EDT class maps as the class table uses them. `EDTDatapath` is the kernel's (bpf/edt.bpf.c's
// maps); the tests' in-memory twin implements the same protocol, so that class logic (ids,
// aliases, updates that keep counters, a full table, a failure half-way) is tested without root.
import EdgeBPF

package protocol EDTClassMaps: AnyObject {
    /// Every class id with its selector text (the meta map is the list of classes).
    func classSelectors() throws -> [UInt32: String]
    func readClass(_ id: UInt32) throws -> edt_class?
    func writeClass(_ id: UInt32, _ record: edt_class) throws
    /// Records the class's selector text; too long a text is an invalid selector.
    func writeSelector(_ id: UInt32, _ text: String) throws
    /// Removes the class and its selector text.
    func deleteClass(_ id: UInt32) throws
    /// Points `selector` (a prefix in the trie, or a cgroup id) at class `id`.
    func bind(_ selector: ShapingSelector, to id: UInt32) throws
    @discardableResult
    func unbind(_ selector: ShapingSelector) throws -> Bool
    /// Removes every prefix and cgroup entry that points at class `id`; returns how many.
    func unbindAll(classId id: UInt32) throws -> Int
}

extension EDTDatapath: EDTClassMaps {}
