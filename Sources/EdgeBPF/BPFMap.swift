// Typed access to a BPF map of a loaded object: plain and per-CPU lookups, iteration.
import CEdgeShim
import CLibbpf
import Glibc

public struct BPFMap {
    let handle: OpaquePointer
    let object: BPFObject

    public var name: String { String(cString: bpf_map__name(handle)) }
    public var fd: Int32 { bpf_map__fd(handle) }
    public var keySize: Int { Int(bpf_map__key_size(handle)) }
    public var valueSize: Int { Int(bpf_map__value_size(handle)) }
    public var maxEntries: Int { Int(bpf_map__max_entries(handle)) }
    public var isPerCPU: Bool {
        switch bpf_map__type(handle) {
        case BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH: return true
        default: return false
        }
    }

    /// Bytes one lookup returns: per-CPU maps return one 8-byte-aligned slot per possible CPU.
    public var lookupSize: Int {
        isPerCPU ? ((valueSize + 7) & ~7) * BPFSystem.possibleCPUs : valueSize
    }

    /// Looks up `key` into `value` (at least `lookupSize` bytes). False when absent.
    public func lookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) throws -> Bool {
        let rc = bpf_map_lookup_elem(fd, key, value)
        if rc == 0 { return true }
        let err = errno
        if err == ENOENT { return false }
        throw BPFError("lookup in map \(name)", errno: err)
    }

    /// Sums a per-CPU value that is an array of u64 counters across CPUs (array maps, u32 key).
    public func sumPerCPUCounters(index: UInt32) throws -> [UInt64] {
        precondition(isPerCPU && valueSize % 8 == 0)
        let words = valueSize / 8
        let cpus = BPFSystem.possibleCPUs
        var buf = [UInt64](repeating: 0, count: words * cpus)
        var key = index
        let found = try buf.withUnsafeMutableBytes { try lookup(key: &key, into: $0.baseAddress!) }
        var sum = [UInt64](repeating: 0, count: words)
        guard found else { return sum }
        for cpu in 0..<cpus {
            let base = cpu * words
            for i in 0..<words { sum[i] &+= buf[base + i] }
        }
        return sum
    }

    /// Reads every entry of a per-CPU u64 array map (e.g. counters by reason), summed over CPUs.
    public func sumPerCPUArray() throws -> [UInt64] {
        precondition(isPerCPU && valueSize == 8)
        return try (0..<UInt32(maxEntries)).map { try sumPerCPUCounters(index: $0)[0] }
    }

    /// Calls `body(key, value)` for every entry of a (non-per-CPU) hash map.
    public func forEach(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        var key = [UInt8](repeating: 0, count: keySize)
        var next = [UInt8](repeating: 0, count: keySize)
        var value = [UInt8](repeating: 0, count: lookupSize)
        var first = true
        while true {
            let rc = first
                ? next.withUnsafeMutableBytes { bpf_map_get_next_key(fd, nil, $0.baseAddress) }
                : key.withUnsafeBytes { k in next.withUnsafeMutableBytes { bpf_map_get_next_key(fd, k.baseAddress, $0.baseAddress) } }
            if rc != 0 {
                if errno == ENOENT { return }
                throw BPFError("iterate map \(name)", errno: errno)
            }
            first = false
            // an entry may vanish between next_key and lookup (LRU eviction): skip it
            let found = try next.withUnsafeBytes { k in
                try value.withUnsafeMutableBytes { try lookup(key: k.baseAddress!, into: $0.baseAddress!) }
            }
            if found {
                try next.withUnsafeBytes { k in try value.withUnsafeBytes { try body(k, $0) } }
            }
            swap(&key, &next)
        }
    }

    /// Writes `value` at `key` (BPF_ANY).
    public func update(key: UnsafeRawPointer, value: UnsafeRawPointer) throws {
        let rc = bpf_map_update_elem(fd, key, value, UInt64(BPF_ANY))
        if rc != 0 { throw BPFError("update map \(name)", errno: errno) }
    }

    /// Deletes `key`; false if it was not there.
    @discardableResult
    public func delete(key: UnsafeRawPointer) throws -> Bool {
        let rc = bpf_map_delete_elem(fd, key)
        if rc == 0 { return true }
        if errno == ENOENT { return false }
        throw BPFError("delete from map \(name)", errno: errno)
    }
}

public enum BPFSystem {
    /// Possible CPUs (not online ones): per-CPU maps have a slot for each.
    public static let possibleCPUs: Int = Int(max(1, libbpf_num_possible_cpus()))

    /// Whether the kernel's BTF has a type of this name (e.g. "btf_trace_tcp_probe" for a tp_btf hook).
    public static func kernelHasType(_ name: String) -> Bool {
        edge_btf_kernel_has_type(name) != 0
    }

    /// How many arguments a tp_btf program on `tracepoint` gets on this kernel (nil: no such
    /// tracepoint in BTF). A program that reads more is refused by the verifier.
    public static func tracepointArguments(_ tracepoint: String) -> Int? {
        let n = edge_btf_kernel_tracepoint_args(tracepoint)
        return n >= 0 ? Int(n) : nil
    }

    public static var hasKernelBTF: Bool { access("/sys/kernel/btf/vmlinux", R_OK) == 0 }

    /// Every enumerator of a kernel enum, e.g. "skb_drop_reason" → [value: name].
    public static func kernelEnum(_ name: String) throws -> [Int64: String] {
        final class Box { var values: [Int64: String] = [:] }
        let box = Box()
        let rc = withUnsafeMutablePointer(to: &box.values) { ptr -> Int32 in
            edge_btf_kernel_enum(name, { ctx, value, cname in
                let dict = ctx!.assumingMemoryBound(to: [Int64: String].self)
                dict.pointee[value] = String(cString: cname!)
            }, ptr)
        }
        try check(rc, "read enum \(name) from kernel BTF")
        return box.values
    }
}
