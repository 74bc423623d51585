// The shaper's notes in the state directory (the root qdisc found before shaping, which clsact
// we created, the host's previous congestion control). Each note is written before the kernel
// change it describes, so a note that cannot be written (disk full, read-only) stops the change
// and the error says which file and which errno.
import Foundation

/// A state file that could not be read or written: the path, the errno and what it means.
public struct StateFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    /// Positive errno value, 0 when the failure was not a system call's.
    public var errno: Int32
    public var detail: String

    public var description: String {
        let code = errno == 0 ? "" : " (\(StateFile.errnoName(errno)))"
        return "cannot \(operation) state file \(path): \(detail)\(code); nothing was changed"
    }
}

enum StateFile {
    /// Writes `value` as JSON to `path` atomically (a temporary file renamed over it), creating
    /// the directory when needed.
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let data = try JSONEncoder().encode(value)
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            let code = posixCode(error)
            throw StateFileError(operation: "write", path: path, errno: code ?? 0,
                                 detail: code.map { String(cString: strerror($0)) } ?? "\(error)")
        }
    }

    /// The decoded file, or nil when it does not exist.
    static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw StateFileError(operation: "read", path: path, errno: 0, detail: "not the JSON edge-agent writes (\(error))")
        }
    }

    /// Removes `path`; a missing file is fine.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The POSIX errno under a Foundation file error, if there is one.
    static func posixCode(_ error: Error) -> Int32? {
        if let posix = error as? POSIXError { return posix.code.rawValue }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        // Foundation's file errors (CocoaError) carry the errno as their underlying error, which
        // on Linux may be stored as a Swift error rather than an NSError.
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error {
            let inner = underlying as NSError
            if inner.domain == NSPOSIXErrorDomain { return Int32(inner.code) }
        }
        return nil
    }

    /// The symbolic name of the errno values a state directory gives, so logs can be grepped.
    static func errnoName(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "ENOSPC"
        case EDQUOT: return "EDQUOT"
        case EROFS: return "EROFS"
        case EACCES: return "EACCES"
        case EPERM: return "EPERM"
        case EIO: return "EIO"
        case ENOENT: return "ENOENT"
        case ENOTDIR: return "ENOTDIR"
        default: return "errno \(code)"
        }
    }
}
