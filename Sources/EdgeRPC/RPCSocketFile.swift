// The socket's file-system side: clearing a stale socket left by a crash (and nothing else),
// creating /run/<daemon>/ when missing, and the owner/mode that implement "read access for
// the group". Root-only is the fallback, never world access.
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not take its socket path.
public enum RPCServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Something that is not a socket sits at the path; we do not delete it.
    case pathNotASocket(String)
    /// Another process is listening on the path.
    case socketInUse(String)
    /// A file-system step failed.
    case fileSystem(operation: String, path: String, errno: Int32)
    /// `run()` or `start()` after `shutdown()`.
    case alreadyShutDown
    /// The admin group is gid 0 (see `RPCPermission`).
    case adminGroupIsRoot(String)
    /// The socket's directory can be changed by someone else, who could swap the socket for a
    /// link while we set its owner and mode.
    case unsafeDirectory(path: String, reason: String)

    public var description: String {
        switch self {
        case .pathNotASocket(let path):
            return "cannot listen on \(path): a file that is not a socket is in the way (remove it by hand)"
        case .socketInUse(let path):
            return "cannot listen on \(path): another process is already listening there"
        case .fileSystem(let operation, let path, let code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        case .alreadyShutDown:
            return "the RPC server was shut down and cannot be started again"
        case .adminGroupIsRoot(let group):
            return "rpc.admin_group \"\(group)\" is gid 0: choose a dedicated group (gid 0 cannot be told apart in SO_PEERGROUPS)"
        case .unsafeDirectory(let path, let reason):
            return "cannot listen in \(path): \(reason); the socket's directory must be writable only by root or the daemon's user (rpc.socket)"
        }
    }
}

enum RPCSocketFile {
    /// Makes `path` ready to bind: creates the parent directory (0755) if missing and
    /// removes a stale socket. Refuses a non-socket file and a socket someone listens on.
    static func prepare(path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            try makeDirectories(parent)
        }
        try checkDirectory(ofSocket: path)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw RPCServerError.fileSystem(operation: "inspect", path: path, errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw RPCServerError.pathNotASocket(path) }
        // Only a socket that refuses connections is stale. One that accepts, or keeps us
        // waiting (its backlog is full), belongs to a live server.
        do {
            let probe = try UnixStreamSocket.connect(path: path, timeout: .seconds(1))
            probe.close()
            throw RPCServerError.socketInUse(path)
        } catch let error as UnixSocketError {
            switch error.code {
            case ECONNREFUSED, ENOENT: break
            case ETIMEDOUT: throw RPCServerError.socketInUse(path)
            default: throw RPCServerError.fileSystem(operation: "probe", path: path, errno: error.code)
            }
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw RPCServerError.fileSystem(operation: "remove stale socket", path: path, errno: errno)
        }
    }

    /// Refuses a socket directory that someone other than root or us can write to (unless it
    /// is sticky, like /tmp): such a user could swap the socket for a link between bind and
    /// chown/chmod and have us change the owner and mode of a file of their choosing.
    static func checkDirectory(ofSocket path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        let dir = parent.isEmpty ? "." : parent
        var info = stat()
        guard stat(dir, &info) == 0 else {
            throw RPCServerError.fileSystem(operation: "inspect directory", path: dir, errno: errno)
        }
        let me = geteuid()
        if info.st_uid != 0 && info.st_uid != me {
            throw RPCServerError.unsafeDirectory(path: dir, reason: "it belongs to uid \(info.st_uid)")
        }
        let sticky = info.st_mode & S_ISVTX != 0
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 && !sticky {
            throw RPCServerError.unsafeDirectory(
                path: dir, reason: "it is writable by its group or others (mode \(String(info.st_mode & 0o7777, radix: 8)))")
        }
    }

    /// Gives the bound socket its owner group and mode: 0660 to `group`, or 0600 when no
    /// group is configured or it does not exist (with a warning in that case).
    ///
    /// Never follows a link: the path is opened with O_PATH|O_NOFOLLOW, must be the socket we
    /// bound (`inode`), and owner and mode are applied to that open inode, not to the name.
    static func applyAccess(path: String, inode: UInt64?, group: String?, logger: Logger) throws {
        var mode: mode_t = 0o600
        var gid: gid_t?
        if let group {
            if let found = groupID(named: group) {
                gid = found
                mode = 0o660
            } else {
                logger.warning(
                    "socket group does not exist; the socket stays root-only",
                    metadata: ["group": "\(group)", "path": "\(path)"])
            }
        }
        let fd = open(path, oPath | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw RPCServerError.fileSystem(operation: "open (no links)", path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw RPCServerError.fileSystem(operation: "inspect", path: path, errno: errno) }
        // O_PATH|O_NOFOLLOW on a symlink opens the link itself: S_IFLNK, refused here.
        guard st.st_mode & S_IFMT == S_IFSOCK, inode == nil || UInt64(st.st_ino) == inode else {
            throw RPCServerError.fileSystem(operation: "set owner and mode of (it is no longer the socket we bound)",
                                            path: path, errno: ELOOP)
        }
        if let gid, st.st_gid != gid {
            // A daemon running as the group (edge-controller as edgenode) already owns the
            // socket with it; skipping chown keeps it working under SystemCallFilter=~@privileged.
            guard fchownat(fd, "", uid_t.max, gid, atEmptyPath) == 0 else {  // uid_t.max (-1): keep the owner
                throw RPCServerError.fileSystem(operation: "chown", path: path, errno: errno)
            }
        }
        // chmod through the descriptor's /proc link reaches exactly the inode checked above.
        guard chmod("/proc/self/fd/\(fd)", mode) == 0 else {
            throw RPCServerError.fileSystem(operation: "chmod", path: path, errno: errno)
        }
    }

    /// O_PATH and AT_EMPTY_PATH (Linux, all architectures we build for); Glibc hides them
    /// behind _GNU_SOURCE.
    private static let oPath: Int32 = 0o10000000
    private static let atEmptyPath: Int32 = 0x1000

    /// Removes the socket file if it is still the one we bound (same inode), so that a
    /// successor that already took the path keeps its socket.
    static func remove(path: String, inode: UInt64?) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        if let inode, UInt64(info.st_ino) != inode { return }
        unlink(path)
    }

    /// Inode of the socket at `path`, nil if there is none.
    static func inode(path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    static func groupID(named name: String) -> gid_t? {
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = getgrnam_r(name, &group, &buffer, buffer.count, &result)
            if rc == ERANGE, buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard rc == 0, result != nil else { return nil }
            return group.gr_gid
        }
    }

    /// `mkdir -p` with mode 0755, failing with the real errno: Foundation's createDirectory reports
    /// EROFS (and others) without a POSIX code, which made the message say "Input/output error".
    private static func makeDirectories(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o755) != 0, errno != EEXIST {
                throw RPCServerError.fileSystem(operation: "create directory", path: path, errno: errno)
            }
        }
    }
}
