// A long-running process of the lab (a daemon under test, a workload server, a load generator)
// with its output in a log file, outside any systemd notify socket of ours, stopped with
// SIGTERM and then SIGKILL. The one launcher of the tests' fixtures, edge-soak's beds and
// edge-experiment's test bed; `init(name:executable:config:…)` is a daemon on a config written
// for the run.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class DaemonProcess: @unchecked Sendable {
    public let process = Process()
    /// What errors and logs call it.
    public let name: String
    public let logURL: URL
    public var logPath: String { logURL.path }
    /// Signal the whole process group, not only the process: for a process with children that
    /// must stop with it (a shell and its ssh, cpu_load.py's workers). swift-corelibs-foundation
    /// already starts every child as the leader of a process group of its own, so the group is
    /// the child's pid. (A `setsid` in front, as this once had, forks when its caller leads a group:
    /// the process that stayed behind was in another group and survived `stop()`.)
    public let ownGroup: Bool
    /// Seconds between SIGTERM and SIGKILL.
    public let stopGrace: Double
    /// Standard input, when it is a pipe kept open for the process's life (a remote daemon over
    /// SSH stops its remote side when this closes).
    private let stdin: Pipe?
    /// A log made here (no `logPath` given) goes with the process.
    private let ownsLog: Bool

    /// Starts `argv` (the first element searched in PATH, through /usr/bin/env, which execs in
    /// place: the pid is the command's own), inside `netns` when given, with `environment` added
    /// and NOTIFY_SOCKET removed unless `environment` sets it; stdout and stderr go to `logPath`
    /// (a temporary file removed on deinit when nil).
    public init(name: String, _ argv: [String], netns: String? = nil, logPath: String? = nil,
                environment: [String: String] = [:], ownGroup: Bool = false, stdinPipe: Bool = false,
                stopGrace: Double = 10) throws {
        self.name = name
        self.ownGroup = ownGroup
        self.stopGrace = stopGrace
        ownsLog = logPath == nil
        logURL = logPath.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("edgelab-\(UUID().uuidString).log")
        stdin = stdinPipe ? Pipe() : nil
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw LabError("cannot create log file \(logURL.path)")
        }
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = netns.map { Netns.exec($0, argv) } ?? argv
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        if ownGroup && getpgid(process.processIdentifier) != process.processIdentifier {
            // not started as a group leader (a Foundation that no longer does it): make it one;
            // racing its exec, so it may fail, and then stop() reaches the process alone
            _ = setpgid(process.processIdentifier, process.processIdentifier)
        }
    }

    /// Starts `executable` with `arguments` (the tests' form).
    public convenience init(_ executable: String, _ arguments: [String], netns: String? = nil,
                            environment: [String: String] = [:]) throws {
        try self.init(name: (executable as NSString).lastPathComponent, [executable] + arguments,
                      netns: netns, environment: environment)
    }

    /// A daemon on a config written for the run: writes `config` to `configPath`, then starts
    /// `wrapper + [executable, "--config", configPath] + extraArguments` like `init(name:…)`. The
    /// caller registers it for teardown, then waits for its socket (`waitForFile`).
    public convenience init(name: String, executable: String, config: String, configPath: String,
                            extraArguments: [String] = [], wrapper: [String] = [], netns: String? = nil,
                            logPath: String? = nil, environment: [String: String] = [:], stopGrace: Double = 10) throws {
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try self.init(name: name, wrapper + [executable, "--config", configPath] + extraArguments, netns: netns,
                      logPath: logPath, environment: environment, stopGrace: stopGrace)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 50 ms until `timeout`; once the process has exited, answers with
    /// the condition as it stands then.
    public func waitUntil(timeout: Double = 15, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicNow() + timeout
        while monotonicNow() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }

    /// Waits for `path` to exist (the daemon's socket); throws with the log when it does not.
    public func waitForFile(_ path: String, timeout: Double = 15) throws {
        guard waitUntil(timeout: timeout, { FileManager.default.fileExists(atPath: path) }) else {
            throw LabError("\(name) did not create \(path) (running: \(process.isRunning)):\n\(log)")
        }
    }

    /// Waits for the process to exit by itself, at most `timeout` seconds.
    public func waitExit(timeout: Double) -> Bool {
        waitUntil(timeout: timeout) { !process.isRunning }
    }

    /// Closes its stdin pipe (a remote daemon's shell stops it), then SIGTERM, SIGKILL after
    /// `stopGrace` seconds; waits (bounded) until it is gone. Safe to call twice.
    public func stop() {
        guard process.isRunning else { return }
        if let stdin {
            try? stdin.fileHandleForWriting.close()
            if waitExit(timeout: 5) { return }
        }
        let target = ownGroup ? -pid : pid
        kill(target, SIGTERM)
        if !waitExit(timeout: stopGrace) { kill(target, SIGKILL); _ = waitExit(timeout: 5) }
    }

    deinit {
        stop()
        if ownsLog { try? FileManager.default.removeItem(at: logURL) }
    }
}
