// Running the system's tools (ip, tc, taskset) and our own processes for the test bed, and
// reading a process's CPU time from /proc.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs `args` (first element searched in PATH) to completion; throws on a non-zero exit when `check`.
@discardableResult
func runCommand(_ args: [String], check: Bool = true) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // read both pipes concurrently so a chatty stderr cannot block the child
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let errDone = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    Thread.detachNewThread { errBox.data = errHandle.readDataToEndOfFile(); errDone.signal() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    p.waitUntilExit()
    let r = (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errBox.data, as: UTF8.self))
    if check && r.0 != 0 {
        throw CommandFailure(description: "`\(args.joined(separator: " "))` exited \(r.0): \(r.2.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    return r
}

/// A background process with its output in a log file; stopped with SIGTERM, then SIGKILL.
final class Spawned {
    let process = Process()
    let name: String
    let logPath: String
    /// Signal the whole process group, not only the process: for a process with children that
    /// must stop with it (a shell and its ssh, cpu_load.py's workers). swift-corelibs-foundation
    /// already starts every child as the leader of a process group of its own, so the group is
    /// the child's pid. (A `setsid` in front, as this once had, forks when its caller leads a group:
    /// the process that stayed behind was in another group and survived `stop()`.)
    let ownGroup: Bool
    /// Standard input, when it is a pipe kept open for the process's life (a `NodeHost.daemon`
    /// over SSH stops its remote side when this closes).
    private let stdin: Pipe?

    init(name: String, _ args: [String], logPath: String, ownGroup: Bool = false, stdinPipe: Bool = false) throws {
        self.name = name
        self.logPath = logPath
        self.ownGroup = ownGroup
        stdin = stdinPipe ? Pipe() : nil
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw CommandFailure(description: "cannot create log file \(logPath)")
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
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

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 50 ms until `timeout`; false early if the process exited.
    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicNow() + timeout
        while monotonicNow() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }

    /// Waits for the process to exit by itself, at most `timeout` seconds.
    func waitExit(timeout: Double) -> Bool {
        waitUntil(timeout: timeout) { !process.isRunning }
    }

    func stop() {
        guard process.isRunning else { return }
        if let stdin {
            // EOF first: a remote daemon is stopped by its shell and the SSH session ends by itself
            try? stdin.fileHandleForWriting.close()
            if waitExit(timeout: 5) { return }
        }
        let target = ownGroup ? -pid : pid
        kill(target, SIGTERM)
        if !waitExit(timeout: 5) { kill(target, SIGKILL); _ = waitExit(timeout: 5) }
    }
}

/// CPU seconds (user + system, all threads) of a live process, from /proc/PID/stat.
func processCPUSeconds(pid: Int32) -> Double? {
    (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).flatMap(procStatCPUSeconds)
}

/// CPU seconds from the text of a /proc/PID/stat (read here or on a node VM).
func procStatCPUSeconds(_ stat: String) -> Double? {
    guard let close = stat.lastIndex(of: ")") else { return nil }
    // after "comm)": state is field 3, utime field 14, stime field 15
    let rest = stat[stat.index(after: close)...].split(separator: " ")
    guard rest.count > 12, let u = Double(rest[11]), let s = Double(rest[12]) else { return nil }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
