// A BPF ELF object embedded in the binary: open, set load-time constants, choose which
// programs load, load, then hand out programs and maps. Owns the libbpf handle.
import CEdgeShim
import CLibbpf
import Glibc

public final class BPFObject {
    let handle: OpaquePointer
    public let name: String
    public private(set) var isLoaded = false

    /// Opens one of the objects compiled from `bpf/*.bpf.c` ("telemetry", "edt").
    public init(embedded name: String) throws {
        BPFLog.capture()
        var len = 0
        guard let bytes = edge_bpf_embedded_object(name, &len) else {
            throw BPFError("open embedded BPF object '\(name)' (not built into this binary)", errno: ENOENT)
        }
        guard let obj = edge_bpf_open_mem(bytes, len, name) else {
            throw BPFError("open BPF object '\(name)'", errno: errno, log: BPFLog.take())
        }
        handle = obj
        self.name = name
    }

    /// Opens a compiled object from a file (tests and tools; the daemons use embedded ones).
    public init(file path: String) throws {
        BPFLog.capture()
        // libbpf 1.x: NULL and errno on failure
        guard let obj = bpf_object__open_file(path, nil) else {
            throw BPFError("open BPF object file \(path)", errno: errno == 0 ? ENOENT : errno, log: BPFLog.take())
        }
        handle = obj
        name = path
    }

    deinit { bpf_object__close(handle) }

    /// Names of every program in the object.
    public var programNames: [String] {
        var names: [String] = []
        var prog = bpf_object__next_program(handle, nil)
        while let p = prog {
            names.append(String(cString: bpf_program__name(p)))
            prog = bpf_object__next_program(handle, p)
        }
        return names
    }

    /// Sets a `const volatile` global (a `targ_*` knob) before load.
    public func setConstant<T: BitwiseCopyable>(_ variable: String, _ value: T) throws {
        precondition(!isLoaded, "constants are frozen once the object is loaded")
        guard let map = bpf_object__find_map_by_name(handle, ".rodata") else {
            throw BPFError("set \(variable): object '\(name)' has no .rodata", errno: ENOENT)
        }
        var offset = 0, size = 0
        try check(edge_bpf_var_offset(handle, ".rodata", variable, &offset, &size), "find constant \(variable)")
        guard size == MemoryLayout<T>.size else {
            throw BPFError("set \(variable): size \(MemoryLayout<T>.size) does not match BTF size \(size)", errno: EINVAL)
        }
        var mapSize = 0
        guard let current = bpf_map__initial_value(map, &mapSize), offset + size <= mapSize else {
            throw BPFError("set \(variable): .rodata is smaller than its BTF says", errno: EINVAL)
        }
        // libbpf 1.1 hands out the initial image read-only: copy, patch, set it back
        var image = [UInt8](UnsafeRawBufferPointer(start: current, count: mapSize))
        image.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
        try check(image.withUnsafeBytes { bpf_map__set_initial_value(map, $0.baseAddress, mapSize) },
                  "set constant \(variable)")
    }

    /// Switches a program's autoload: one program the kernel refuses fails the whole load,
    /// so programs whose hook is missing are switched off first.
    public func setAutoload(_ program: String, _ on: Bool) throws {
        guard let p = bpf_object__find_program_by_name(handle, program) else {
            throw BPFError("find program \(program) in \(name)", errno: ENOENT)
        }
        try check(bpf_program__set_autoload(p, on), "set autoload of \(program)")
    }

    /// Loads and verifies every autoload program and creates the maps.
    public func load() throws {
        _ = BPFLog.take()
        try check(bpf_object__load(handle), "load BPF object '\(name)'")
        isLoaded = true
    }

    public func program(_ programName: String) throws -> BPFProgram {
        guard let p = bpf_object__find_program_by_name(handle, programName) else {
            throw BPFError("find program \(programName) in \(name)", errno: ENOENT)
        }
        return BPFProgram(handle: p, object: self)
    }

    public func map(_ mapName: String) throws -> BPFMap {
        guard let m = bpf_object__find_map_by_name(handle, mapName) else {
            throw BPFError("find map \(mapName) in \(name)", errno: ENOENT)
        }
        return BPFMap(handle: m, object: self)
    }
}
