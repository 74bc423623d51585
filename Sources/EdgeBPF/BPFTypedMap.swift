// A BPF map seen through the C types of its key and value (imported from bpf/*.h through
// CEdgeShim's edge_bpf_contract.h). The sizes are checked when the map is opened, so a header
// changed on one side only fails at start with the map's name, never corrupts entries. Raw
// pointers stay in this file.
import Glibc

public struct BPFTypedMap<Key, Value> {
    public let map: BPFMap

    /// Wraps `map`; throws when its key or value size differs from `Key`'s or `Value`'s.
    public init(_ map: BPFMap, key: Key.Type = Key.self, value: Value.Type = Value.self) throws {
        guard map.keySize == MemoryLayout<Key>.size, map.valueSize == MemoryLayout<Value>.size else {
            throw BPFError("open map \(map.name): the object has key/value \(map.keySize)/\(map.valueSize) bytes, "
                + "the C types \(Key.self)/\(Value.self) have \(MemoryLayout<Key>.size)/\(MemoryLayout<Value>.size) "
                + "(the embedded object and bpf/*.h disagree: rebuild with `make bpf`)", errno: EINVAL)
        }
        precondition(!map.isPerCPU, "per-CPU maps are read with sumPerCPUCounters")
        self.map = map
    }

    public var name: String { map.name }

    /// The value at `key`, nil when absent.
    public func lookup(_ key: Key) throws -> Value? {
        var key = key
        return try withUnsafeTemporaryAllocation(byteCount: map.lookupSize, alignment: MemoryLayout<Value>.alignment) { buf in
            guard try map.lookup(key: &key, into: buf.baseAddress!) else { return nil }
            return buf.baseAddress!.loadUnaligned(as: Value.self)
        }
    }

    /// Writes `value` at `key` (BPF_ANY).
    public func update(_ key: Key, _ value: Value) throws {
        var key = key
        var value = value
        try map.update(key: &key, value: &value)
    }

    /// Deletes `key`; false when it was not there.
    @discardableResult
    public func delete(_ key: Key) throws -> Bool {
        var key = key
        return try map.delete(key: &key)
    }

    /// Every entry (an entry deleted or evicted meanwhile is skipped).
    public func forEach(_ body: (Key, Value) throws -> Void) throws {
        try map.forEach { k, v in
            try body(k.loadUnaligned(as: Key.self), v.loadUnaligned(as: Value.self))
        }
    }
}

extension BPFObject {
    /// A map of this object with its key and value types; see `BPFTypedMap`.
    public func map<Key, Value>(_ name: String, key: Key.Type, value: Value.Type) throws -> BPFTypedMap<Key, Value> {
        try BPFTypedMap(map(name), key: key, value: value)
    }
}
