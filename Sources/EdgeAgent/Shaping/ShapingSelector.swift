// What a class applies to: packets from a source prefix, or packets from sockets of a cgroup
// (and its sub-cgroups). Cgroups are named by path or by systemd unit and stored by id, the
// cgroup2 directory's inode number, which is what bpf_skb_cgroup_id() returns.
import EdgeBPF
import Foundation

public enum ShapingSelector: Hashable, Sendable, CustomStringConvertible {
    case prefix(IPPrefix)
    /// A cgroup2 directory (absolute path) and its id.
    case cgroup(path: String, id: UInt64)

    /// "prefix" or "cgroup".
    public var kind: String {
        switch self {
        case .prefix: return "prefix"
        case .cgroup: return "cgroup"
        }
    }

    /// Canonical text: "10.1.0.0/16", "cgroup:/sys/fs/cgroup/unified/system.slice/x.service".
    public var description: String {
        switch self {
        case .prefix(let p): return p.description
        case .cgroup(let path, _): return "cgroup:" + path
        }
    }

    /// What identifies the class in the kernel: the trie key of a prefix, the cgroup path. Two
    /// selectors name the same class exactly when their keys are equal (never compare texts: a
    /// class recorded by an older agent may be spelled differently).
    public var classKey: String {
        switch self {
        case .prefix(let p): return "prefix:" + p.trieKey
        case .cgroup(let path, _): return "cgroup:" + path
        }
    }

    /// The class key of a selector text recorded in the class table, without looking at the
    /// cgroup filesystem (a recorded cgroup may be gone); nil for a text we cannot read.
    public static func classKey(recorded text: String) -> String? {
        if text.hasPrefix("cgroup:") { return text }
        return (try? IPPrefix(parsing: text)).map { "prefix:" + $0.trieKey }
    }

    /// Parses a selector. `cgroupRoot` is where cgroup2 is mounted; cgroup selectors must
    /// name an existing directory below it (or a path relative to it).
    public static func parse(_ text: String, cgroupRoot: String?) throws -> ShapingSelector {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ShapingError.invalidSelector(text, "empty") }
        if trimmed.hasPrefix("cgroup:") {
            let path = String(trimmed.dropFirst("cgroup:".count))
            return try cgroup(selector: text, path: path, root: cgroupRoot)
        }
        if trimmed.hasPrefix("unit:") {
            let unit = String(trimmed.dropFirst("unit:".count))
            let root = try requireRoot(cgroupRoot, selector: text)
            return try cgroup(selector: text, path: try unitPath(unit, selector: text, root: root), root: root)
        }
        return .prefix(try IPPrefix(parsing: trimmed))
    }

    /// Where systemd puts a unit's cgroup: services under system.slice, slices nested by
    /// their dashes ("a-b.slice" is a.slice/a-b.slice).
    static func unitPath(_ unit: String, selector: String, root: String) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.-@\\")
        guard !unit.isEmpty, unit.count <= 255, unit.allSatisfy(allowed.contains), !unit.hasPrefix(".") else {
            throw ShapingError.invalidSelector(selector, "\"\(unit)\" is not a systemd unit name")
        }
        if unit.hasSuffix(".service") {
            return root + "/system.slice/" + unit
        }
        if unit.hasSuffix(".slice") {
            if unit == "-.slice" { return root }
            let stem = unit.dropLast(".slice".count)
            let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
            guard !parts.contains(where: \.isEmpty) else {
                throw ShapingError.invalidSelector(selector, "\"\(unit)\" is not a valid slice name")
            }
            let chain = (1...parts.count).map { parts.prefix($0).joined(separator: "-") + ".slice" }
            return root + "/" + chain.joined(separator: "/")
        }
        throw ShapingError.invalidSelector(selector, "unit \"\(unit)\" must be a .service or a .slice (use cgroup:PATH for others)")
    }

    private static func requireRoot(_ root: String?, selector: String) throws -> String {
        guard let root else {
            throw ShapingError.invalidSelector(selector, "no cgroup2 filesystem is mounted on this host")
        }
        return root
    }

    private static func cgroup(selector: String, path raw: String, root: String?) throws -> ShapingSelector {
        let root = try requireRoot(root, selector: selector)
        guard raw.hasPrefix("/"), !raw.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw ShapingError.invalidSelector(selector, "cgroup path must be absolute, without \".\" or \"..\"")
        }
        // "/system.slice/x.service" is read relative to the cgroup2 root.
        var path = MountTableText.isBelow(raw, root) ? raw : root + raw
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
              let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value
        else {
            throw ShapingError.missingCgroup(selector: selector, path: path)
        }
        return .cgroup(path: path, id: inode)
    }
}

/// The cgroup2 mount point, from the mount table.
public enum CgroupRoot {
    /// Where cgroup2 is mounted (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on
    /// hybrid ones), nil if it is not mounted.
    public static func find(mountInfo: String = "/proc/self/mountinfo") -> String? {
        (try? MountTable.current(path: mountInfo))?.mountPoints(ofType: "cgroup2").first
    }
}

enum MountTableText {
    static func isBelow(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }
}
