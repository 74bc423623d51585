// Running the system's own tools (ip, tc, taskset, python3) to completion: the one command
// runner of the lab, used by the tests, edge-soak, edge-bench and edge-experiment.
import Foundation

public struct ShellResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum ShellError: Error, CustomStringConvertible {
    case failed(command: String, status: Int32, stderr: String)
    public var description: String {
        switch self {
        case let .failed(command, status, stderr): return "`\(command)` exited \(status): \(stderr)"
        }
    }
}

/// Runs an executable with arguments (the first searched in PATH), capturing both outputs;
/// throws `ShellError.failed` on a non-zero exit when `check`.
@discardableResult
public func sh(_ args: [String], check: Bool = true) throws -> ShellResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // both pipes are read at once: a child that fills one while we block on the other would hang
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let errDone = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    Thread.detachNewThread { errBox.data = errHandle.readDataToEndOfFile(); errDone.signal() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    p.waitUntilExit()
    let r = ShellResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                        stderr: String(decoding: errBox.data, as: UTF8.self))
    if check && r.status != 0 {
        throw ShellError.failed(command: args.joined(separator: " "), status: r.status, stderr: r.stderr)
    }
    return r
}

/// Runs `command` through `sh -c`.
@discardableResult
public func sh(_ command: String, check: Bool = true) throws -> ShellResult {
    try sh(["sh", "-c", command], check: check)
}
