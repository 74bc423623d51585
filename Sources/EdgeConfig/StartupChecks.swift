// What a daemon refuses at start, in one place, so that `--check-config` and the daemon agree
// (issue 17 item 7). Two layers:
//
// - `validateForStart(file:)`: rules over the values alone (e.g. no token on a non-loopback
//   listener). `parse` runs it, so every loaded config, the one `--check-config` prints
//   included, has passed it; the daemons run it again for configs built in code.
// - `startupFileProblems()`: the files the daemon opens before it listens (tokens, TLS, CA).
//   `--check-config` reports them the same way; the daemon's own loaders go further (PEM
//   parsing) with errors that name the same key.
//
// Whatever else the daemon can only learn by trying (a port in use, BPF, a read-only /run) is
// not knowable from the file: those errors name the key at start instead (see ListenFailure).
import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension ControllerConfig {
    /// The rules the controller checks before it starts, over the values alone.
    public func validateForStart(file: String) throws {
        if server.tokenFile == nil, !Self.isLoopback(server.listen.host) {
            throw ConfigError(file: file, key: "server.token_file",
                              reason: "is empty but server.listen \(server.listen) is not a loopback address: "
                                  + "refusing to accept unauthenticated reports from the network "
                                  + "(set a token file, or listen on 127.0.0.1 / ::1)")
        }
    }

    /// Loopback hosts: the only listeners that may run without a token.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Files the controller reads before it listens, each with the key that names it.
    public var startupFiles: [StartupFile] {
        var files: [StartupFile] = []
        if let t = server.tokenFile { files.append(StartupFile(key: "server.token_file", path: t, secret: true)) }
        if let c = server.tlsCert { files.append(StartupFile(key: "server.tls_cert", path: c)) }
        if let k = server.tlsKey { files.append(StartupFile(key: "server.tls_key", path: k)) }
        if source.kind == .prometheus {
            if let t = source.bearerTokenFile { files.append(StartupFile(key: "source.bearer_token_file", path: t, secret: true)) }
            if let c = source.caFile { files.append(StartupFile(key: "source.ca_file", path: c)) }
        }
        return files
    }

    /// One line per unusable file (empty when all can be read).
    public func startupFileProblems() -> [String] { startupFiles.compactMap { $0.problem() } }
}

extension AgentConfig {
    /// The rules the agent checks before it starts, over the values alone.
    public func validateForStart(file: String) throws {
        // BPFFS.ensureDirectory refuses these when shaping starts; refusing them here means the
        // file is rejected before a node runs without shaping.
        if shaping.pinPath.split(separator: "/").contains("..") {
            throw ConfigError(file: file, key: "shaping.pin_path",
                              reason: "must not contain \"..\", got \"\(shaping.pinPath)\"")
        }
    }

    /// Files the agent reads before it runs, each with the key that names it.
    public var startupFiles: [StartupFile] {
        var files: [StartupFile] = []
        // Read only when reports are pushed (ReportPusher), like the daemon.
        if controller.url != nil {
            if let t = controller.tokenFile { files.append(StartupFile(key: "controller.token_file", path: t, secret: true)) }
            if let c = controller.caFile { files.append(StartupFile(key: "controller.ca_file", path: c)) }
        }
        return files
    }

    public func startupFileProblems() -> [String] { startupFiles.compactMap { $0.problem() } }
}

/// A file named by a config key that the daemon opens at start.
public struct StartupFile: Sendable, Equatable {
    public var key: String
    public var path: String
    /// A token: must also hold something besides white space.
    public var secret = false

    public init(key: String, path: String, secret: Bool = false) {
        self.key = key
        self.path = path
        self.secret = secret
    }

    /// `key path: reason`, or nil when the file can be read (and, for a secret, is not empty).
    public func problem() -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            return "\(key) \(path): cannot open: \(String(cString: strerror(errno)))"
        }
        guard st.st_mode & S_IFMT == S_IFREG else { return "\(key) \(path): not a regular file" }
        guard access(path, R_OK) == 0 else {
            return "\(key) \(path): cannot read: \(String(cString: strerror(errno)))"
        }
        if secret {
            guard let data = FileManager.default.contents(atPath: path) else {
                return "\(key) \(path): cannot read"
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { return "\(key) \(path): file is empty" }
        }
        return nil
    }
}
