// System users and a group made for the access-control tests (root only), deleted with them.
// Commands run as such a user through setpriv, with that user's own groups.
import EdgeTestSupport
import Foundation
import XCTest

/// A `useradd --system` user (and optionally a group it belongs to), removed on `remove()`.
final class AccessTestUsers {
    let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    /// The socket group the daemons are configured with.
    let group: String
    /// A user in `group`: may read, may not write.
    let member: String
    /// A user outside `group`: may not connect at all.
    let outsider: String

    init() throws {
        group = "edgtg-\(suffix)"
        member = "edgtm-\(suffix)"
        outsider = "edgto-\(suffix)"
        try sh(["groupadd", "--system", group])
        try sh(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", group, member])
        try sh(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", outsider])
    }

    func remove() {
        _ = try? sh(["userdel", member], check: false)
        _ = try? sh(["userdel", outsider], check: false)
        _ = try? sh(["groupdel", group], check: false)
    }

    /// Runs `args` as `user` (give executables by absolute path: root's PATH may point into
    /// directories the user cannot enter) with the user's own uid, gid and supplementary groups.
    @discardableResult
    func run(as user: String, _ args: [String]) throws -> ShellResult {
        try sh(["setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + args, check: false)
    }

    /// connect(2) to a Unix socket as `user`: "ok" or the errno name.
    func connect(as user: String, to path: String) throws -> String {
        try run(as: user, ["/usr/bin/python3", "-c", Self.connectScript, path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One JSON-RPC request line as `user` over a raw socket; returns the answer line.
    func rpc(as user: String, path: String, method: String, params: String = "{}") throws -> [String: Any] {
        let frame = #"{"jsonrpc":"2.0","id":7,"method":"\#(method)","params":\#(params)}"#
        let r = try run(as: user, ["/usr/bin/python3", "-c", Self.rpcScript, path, frame])
        guard let answer = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw AccessTestError("no JSON answer for \(method) as \(user): \(r.stdout) \(r.stderr)")
        }
        return answer
    }

    static let connectScript = """
        import errno, socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sys.argv[1]); print("ok")
        except OSError as e:
            print(errno.errorcode.get(e.errno, str(e.errno)))
        """

    static let rpcScript = """
        import socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(sys.argv[1])
        s.sendall(sys.argv[2].encode() + b"\\n")
        data = b""
        while not data.endswith(b"\\n"):
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
        print(data.decode())
        """
}

/// A directory every test user can traverse (the sockets inside carry their own mode).
func makeSharedTestDirectory(_ prefix: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    guard chmod(dir.path, 0o755) == 0 else { throw AccessTestError("chmod \(dir.path): errno \(errno)") }
    return dir
}

/// A fixture step that failed, with what it was doing.
struct AccessTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
