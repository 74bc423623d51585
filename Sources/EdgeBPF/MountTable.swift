// The mounts this process sees, from /proc/self/mountinfo: which filesystem a path lies on
// (is the pin directory on bpffs?) and where a filesystem type is mounted (cgroup2 is at
// /sys/fs/cgroup on unified hosts but at /sys/fs/cgroup/unified on hybrid ones).
import Glibc

/// One line of mountinfo (proc(5)).
public struct MountEntry: Sendable, Equatable {
    public var mountPoint: String
    public var fsType: String
    public var source: String
}

/// A parsed mountinfo table.
public struct MountTable: Sendable, Equatable {
    public var entries: [MountEntry]

    /// Parses mountinfo text. Lines that do not have the documented layout are skipped (the
    /// kernel never writes them; a partial read must not make the whole table unusable).
    public init(mountinfo text: String) {
        entries = text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // id parent major:minor root mount-point options [optional...] - type source superoptions
            guard fields.count >= 10, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 2 < fields.count else {
                return nil
            }
            return MountEntry(mountPoint: Self.unescape(fields[4]), fsType: String(fields[dash + 1]),
                              source: String(fields[dash + 2]))
        }
    }

    /// Reads /proc/self/mountinfo (or `path`).
    public static func current(path: String = "/proc/self/mountinfo") throws -> MountTable {
        guard let file = fopen(path, "r") else { throw BPFError("read \(path)", errno: errno) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n == 0 { break }
            bytes += chunk.prefix(n)
        }
        return MountTable(mountinfo: String(decoding: bytes, as: UTF8.self))
    }

    /// The mount `path` lies on: the last-mounted entry whose mount point is the longest
    /// prefix of `path` (later mounts hide earlier ones at the same point).
    public func mount(containing path: String) -> MountEntry? {
        var best: MountEntry?
        for entry in entries where Self.isPrefix(entry.mountPoint, of: path) {
            if best == nil || entry.mountPoint.count >= best!.mountPoint.count { best = entry }
        }
        return best
    }

    /// Mount points of a filesystem type, in mount order ("cgroup2", "bpf").
    public func mountPoints(ofType type: String) -> [String] {
        entries.filter { $0.fsType == type }.map(\.mountPoint)
    }

    static func isPrefix(_ mountPoint: String, of path: String) -> Bool {
        if mountPoint == "/" { return path.hasPrefix("/") }
        return path == mountPoint || path.hasPrefix(mountPoint + "/")
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo octal.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var out: [UInt8] = []
        var bytes = Array(field.utf8)[...]
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            if b == UInt8(ascii: "\\"), bytes.count >= 3,
               let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8) {
                out.append(v)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
