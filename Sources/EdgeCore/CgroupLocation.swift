// Where a cgroup lives: telemetry.cgroup names a directory of the cgroup v2 hierarchy; the agent
// needs its depth (for the BPF ancestor walk), and on v1/hybrid hosts the same relative path under
// the v1 cpu, cpuacct and cpuset mounts (where the CPU allowance is set). Mount points come from
// /proc/self/mountinfo, so the agent finds them wherever the distribution put them.
import Foundation

/// One cgroup mount from /proc/self/mountinfo.
public struct CgroupMount: Sendable, Equatable {
    /// Where it is mounted.
    public var mountPoint: String
    /// true for cgroup2, false for a v1 hierarchy.
    public var isV2: Bool
    /// v1 controllers bound to the hierarchy (e.g. ["cpu", "cpuacct"]); empty for v2.
    public var controllers: [String]

    public init(mountPoint: String, isV2: Bool, controllers: [String]) {
        self.mountPoint = mountPoint
        self.isV2 = isV2
        self.controllers = controllers
    }

    /// Every cgroup and cgroup2 mount in the text of a mountinfo file.
    /// Line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
    public static func parse(mountinfo text: String) -> [CgroupMount] {
        var out: [CgroupMount] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 7, let dash = f.firstIndex(of: "-"), dash >= 6, dash + 1 < f.count else { continue }
            let fstype = f[dash + 1]
            guard fstype == "cgroup" || fstype == "cgroup2" else { continue }
            let superOptions = dash + 3 < f.count ? f[dash + 3].split(separator: ",").map(String.init) : []
            let known = ["cpu", "cpuacct", "cpuset", "memory", "io", "blkio", "pids", "devices", "freezer",
                         "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc"]
            out.append(CgroupMount(mountPoint: unescape(f[4]), isV2: fstype == "cgroup2",
                                   controllers: fstype == "cgroup2" ? [] : superOptions.filter { known.contains($0) }))
        }
        return out
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 3 < u.count,
               let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v)
                i += 4
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A cgroup named by its directory in the v2 hierarchy.
public struct CgroupLocation: Sendable, Equatable {
    /// The directory as configured, e.g. /sys/fs/cgroup/kubepods.slice.
    public var path: String
    /// The cgroup2 mount it is under, e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified (hybrid).
    public var v2Mount: String
    /// Path below the mount, "/" for the root, e.g. "/kubepods.slice".
    public var relative: String
    /// Depth below the hierarchy's root (root = 0), the kernel's cgroup->level.
    public var level: Int
    /// The same cgroup in the v1 hierarchies, by controller (only those that exist).
    public var v1Dirs: [String: String]

    /// Resolves `path` against the mounts. Throws a reason (no key, no file: the caller adds them).
    public static func resolve(path: String, mounts: [CgroupMount],
                               exists: (String) -> Bool = { CgroupLocation.isDirectory($0) }) throws -> CgroupLocation {
        let clean = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard clean.hasPrefix("/") else {
            throw CgroupLocationError("expected an absolute path to a cgroup v2 directory, got \"\(path)\"")
        }
        let parts = clean.split(separator: "/")
        guard !parts.contains(".."), !parts.contains(".") else {
            throw CgroupLocationError("\"\(path)\" contains \".\" or \"..\"; write the cgroup's path as it is under the mount")
        }
        let v2 = mounts.filter(\.isV2)
        guard !v2.isEmpty else {
            throw CgroupLocationError("no cgroup2 mount on this host (/proc/self/mountinfo), so \"\(path)\" cannot be scoped; mount cgroup2 (hybrid hosts have it at /sys/fs/cgroup/unified)")
        }
        guard let mount = v2.filter({ clean == $0.mountPoint || clean.hasPrefix($0.mountPoint == "/" ? "/" : $0.mountPoint + "/") })
            .max(by: { $0.mountPoint.count < $1.mountPoint.count }) else {
            throw CgroupLocationError("\"\(path)\" is not under the cgroup v2 mount (\(v2.map(\.mountPoint).joined(separator: ", "))); name the cgroup's directory there, e.g. \(v2[0].mountPoint)/kubepods.slice")
        }
        guard exists(clean) else {
            throw CgroupLocationError("cgroup directory \"\(clean)\" does not exist")
        }
        let relative = clean == mount.mountPoint ? "/" : String(clean.dropFirst(mount.mountPoint == "/" ? 0 : mount.mountPoint.count))
        let level = relative.split(separator: "/").count
        var v1: [String: String] = [:]
        for m in mounts where !m.isV2 {
            let dir = relative == "/" ? m.mountPoint : m.mountPoint + relative
            for c in m.controllers where ["cpu", "cpuacct", "cpuset"].contains(c) && exists(dir) {
                v1[c] = dir
            }
        }
        return CgroupLocation(path: clean, v2Mount: mount.mountPoint, relative: relative, level: level, v1Dirs: v1)
    }

    /// Resolves against this host's mounts.
    public static func resolve(path: String, mountinfoPath: String = "/proc/self/mountinfo") throws -> CgroupLocation {
        let text: String
        do {
            text = try String(contentsOfFile: mountinfoPath, encoding: .utf8)
        } catch {
            throw CgroupLocationError("cannot read \(mountinfoPath) to find the cgroup mounts: \(error.localizedDescription)")
        }
        return try resolve(path: path, mounts: CgroupMount.parse(mountinfo: text))
    }

    public static func isDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }
}

public struct CgroupLocationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
