// The registry on disk (`registry.state_file`, in the controller's state directory), so that a
// restart does not forget the fleet: which nodes exist, their last window and score state, and the
// flap-damping penalties they earned.
//
// Times are stored as wall-clock ages at the moment of saving (the registry's own clock is
// monotonic and does not survive a reboot); on load they become instants before "now", so a node
// that reported a second before the restart is still fresh after it, and one that was silent for a
// minute is stale. The file is versioned; writing is atomic (temporary file, fsync, rename), and a
// file that cannot be read is moved aside (".bad") and the controller starts empty rather than not
// at all.
import EdgeCore
import EdgeTelemetry
import Foundation

/// The saved form of the registry.
struct RegistryFile: Codable {
    static let currentVersion = 1
    /// Largest file read back: 20 000 nodes at a few KiB each, with room to spare.
    static let maxBytes = 256 << 20

    var version: Int
    /// Unix time of the save.
    var savedAt: Double
    var nodes: [SavedNode]

    struct SavedNode: Codable {
        var window: TelemetryWindow
        var reportCount: UInt64
        /// Seconds between the last report and the save.
        var lastSeenAgeSeconds: Double
        var firstSeenAgeSeconds: Double
        var raw: RawScore
        var smoothing: SmoothedScore
        /// Damping penalty decayed to the save, whether the node was suppressed, transitions so far.
        var dampingPenalty: Double
        var suppressed: Bool
        var flaps: UInt64
    }
}

/// Why the state file was not used.
public struct RegistryStoreError: Error, CustomStringConvertible {
    public let description: String
}

public enum RegistryStore {
    /// Writes `registry` to `path` atomically. Peer lists are left out (they are per-report detail
    /// that the next report brings back, and the bulk of a window).
    public static func save(_ registry: NodeRegistry, to path: String, now: MonotonicInstant = .now,
                            wallNow: Date = Date()) throws {
        let file = RegistryFile(version: RegistryFile.currentVersion, savedAt: wallNow.timeIntervalSince1970,
                                nodes: registry.savedNodes(now: now))
        let data: Data
        do {
            data = try EdgeJSON.encoder().encode(file)
        } catch {
            throw RegistryStoreError(description: "registry.state_file \(path): cannot encode the registry: \(error)")
        }
        try writeAtomically(data, to: path)
    }

    /// Reads `path` into `registry` (which should be empty). A missing file is not an error (first
    /// start): returns 0. Anything else that is wrong throws, naming the file and the key.
    @discardableResult
    public static func load(into registry: NodeRegistry, from path: String, now: MonotonicInstant = .now,
                            wallNow: Date = Date()) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > RegistryFile.maxBytes {
            throw RegistryStoreError(description: "registry.state_file \(path): \(size) bytes, more than the "
                + "\(RegistryFile.maxBytes) this controller reads")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RegistryStoreError(description: "registry.state_file \(path): cannot read: \(error.localizedDescription)")
        }
        struct Header: Decodable { var version: Int }
        let header: Header
        do {
            header = try EdgeJSON.decoder().decode(Header.self, from: data)
        } catch {
            throw RegistryStoreError(description: "registry.state_file \(path): not a registry file (no \"version\"): \(error)")
        }
        guard header.version == RegistryFile.currentVersion else {
            throw RegistryStoreError(description: "registry.state_file \(path): version \(header.version), this controller "
                + "reads version \(RegistryFile.currentVersion)")
        }
        let file: RegistryFile
        do {
            file = try EdgeJSON.decoder().decode(RegistryFile.self, from: data)
        } catch {
            throw RegistryStoreError(description: "registry.state_file \(path): malformed: \(error)")
        }
        let sinceSave = max(0, wallNow.timeIntervalSince1970 - file.savedAt)
        return registry.restore(file.nodes, sinceSave: sinceSave, now: now)
    }

    /// Loads, and on failure moves the file aside (`<path>.bad`, so that the next save does not
    /// destroy the evidence) and returns the error for the caller to log. Never throws.
    public static func loadOrSetAside(into registry: NodeRegistry, from path: String,
                                      now: MonotonicInstant = .now) -> (restored: Int, error: RegistryStoreError?) {
        do {
            return (try load(into: registry, from: path, now: now), nil)
        } catch {
            let e = error as? RegistryStoreError ?? RegistryStoreError(description: "registry.state_file \(path): \(error)")
            try? FileManager.default.removeItem(atPath: path + ".bad")
            try? FileManager.default.moveItem(atPath: path, toPath: path + ".bad")
            return (0, e)
        }
    }

    /// Temporary file in the same directory, fsync, rename over `path`, fsync of the directory.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp").path
        do {
            guard FileManager.default.createFile(atPath: tmp, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw RegistryStoreError(description: "cannot create \(tmp)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw RegistryStoreError(description: "registry.state_file \(path): cannot write \(tmp) (is \(dir) writable?): \(error)")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw RegistryStoreError(description: "registry.state_file \(path): cannot rename \(tmp) over it: \(reason)")
        }
        if let d = FileHandle(forReadingAtPath: dir) {
            try? d.synchronize() // the rename itself reaches the disk
            try? d.close()
        }
    }
}
