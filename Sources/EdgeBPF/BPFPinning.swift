// Pinning on the BPF filesystem: maps and programs that outlive the process, and adopting them
// again after a restart (a restarted agent keeps shaping without a gap).
import CEdgeShim
import CLibbpf
import Glibc

/// The BPF filesystem: finding it, mounting it, and removing pins.
public enum BPFFS {
    /// Where systemd and iproute2 mount it.
    public static let defaultMount = "/sys/fs/bpf"

    /// True when `path` exists and lies on a bpf filesystem (by the mount table: statfs is
    /// not reachable from Swift's Glibc module).
    public static func isBPFFS(_ path: String) -> Bool {
        guard access(path, F_OK) == 0, let table = try? MountTable.current() else { return false }
        return table.mount(containing: path)?.fsType == "bpf"
    }

    /// Makes `directory` exist on a bpf filesystem: if the nearest existing ancestor is not on
    /// bpffs, bpffs is mounted at /sys/fs/bpf (when `directory` is below it) or at `directory`
    /// itself; then the missing directories are created (mode 0700: pins grant map access).
    /// Returns true when this call mounted bpffs.
    @discardableResult
    public static func ensureDirectory(_ directory: String) throws -> Bool {
        guard directory.hasPrefix("/"), !directory.split(separator: "/").contains("..") else {
            throw BPFError("pin directory '\(directory)' must be an absolute path without '..'", errno: EINVAL)
        }
        var mounted = false
        if !isBPFFS(nearestExistingAncestor(of: directory)) {
            let target = directory == defaultMount || directory.hasPrefix(defaultMount + "/") ? defaultMount : directory
            try makeDirectories(target, mode: 0o755)
            guard mount("bpf", target, "bpf", 0, nil) == 0 else {
                // Mounting is the one step that would need CAP_SYS_ADMIN, which the unit does not grant:
                // systemd mounts bpffs at /sys/fs/bpf at boot, so this only fails where nobody did.
                let e = errno
                throw BPFError("mount bpffs at \(target)", errno: e, hint: e == EPERM
                    ? "mounting bpffs needs CAP_SYS_ADMIN; mount it first (systemd does at boot; by hand: mount -t bpf bpf \(target))"
                    : nil)
            }
            mounted = true
        }
        try makeDirectories(directory, mode: 0o700)
        guard isBPFFS(directory) else {
            throw BPFError("\(directory) is not on a bpf filesystem", errno: EINVAL)
        }
        return mounted
    }

    /// Whether something is pinned (or any file exists) at `path`.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Removes a pin; absent pins are fine.
    public static func unpin(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw BPFError("unpin \(path)", errno: errno) }
    }

    /// Removes an empty pin directory; a directory that still holds pins (or is gone) is left.
    public static func removeDirectoryIfEmpty(_ path: String) {
        _ = rmdir(path)
    }

    private static func nearestExistingAncestor(of path: String) -> String {
        var current = path
        while !current.isEmpty && current != "/" && access(current, F_OK) != 0 {
            current = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
        }
        return current.isEmpty ? "/" : current
    }

    private static func makeDirectories(_ path: String, mode: mode_t) throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw BPFError("create directory \(prefix)", errno: errno)
            }
        }
    }
}

extension BPFObject {
    /// Before load: makes `mapName` live at `path`. If a compatible map is pinned there, load
    /// reuses it (adoption: its entries survive); otherwise load creates the map and pins it.
    /// An incompatible pinned map (other key/value size or type) makes load fail with EINVAL.
    public func setPinPath(ofMap mapName: String, to path: String) throws {
        precondition(!isLoaded, "pin paths are set before load")
        let map = try self.map(mapName)
        try check(bpf_map__set_pin_path(map.handle, path), "set pin path of map \(mapName) to \(path)")
    }
}

extension BPFMap {
    /// True once the map is pinned (created and pinned, or reused from its pin path).
    public var isPinned: Bool { bpf_map__is_pinned(handle) }
}

extension BPFProgram {
    /// Pins the loaded program at `path` (the path must not exist yet).
    public func pin(at path: String) throws {
        try check(bpf_program__pin(handle, path), "pin program \(name) at \(path)")
    }

    /// Kernel id, tag (hash of the instructions, map references excluded) and name.
    public func info() throws -> BPFProgramInfo { try BPFProgramInfo(fd: fd, what: "program \(name)") }
}

/// Identity of a loaded program as the kernel reports it.
public struct BPFProgramInfo: Sendable, Equatable {
    public var id: UInt32
    /// The 8-byte tag as hex: equal tags mean the same instructions.
    public var tag: String
    public var name: String

    init(fd: Int32, what: String) throws {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else {
            throw BPFError("read info of \(what)", errno: errno)
        }
        id = info.id
        tag = withUnsafeBytes(of: info.tag) { bytes in
            bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        name = withUnsafeBytes(of: info.name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// A program pinned on bpffs, opened by path (BPF_OBJ_GET). Owns the fd.
public final class BPFPinnedProgram {
    public let path: String
    public let fd: Int32
    public let info: BPFProgramInfo

    /// Opens the program pinned at `path`; nil when nothing is pinned there.
    public init?(path: String) throws {
        let fd = bpf_obj_get(path)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw BPFError("open pinned program \(path)", errno: errno)
        }
        do {
            info = try BPFProgramInfo(fd: fd, what: "pinned program \(path)")
        } catch {
            close(fd)
            throw error
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }
}
