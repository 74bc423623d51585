// Running the system's own tools (ip, tc) from tests, to set up namespaces and cross-check results.
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

/// Runs an executable with arguments (searched in PATH), capturing output.
@discardableResult
public func sh(_ args: [String], check: Bool = true) throws -> ShellResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let r = ShellResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                        stderr: String(decoding: e, as: UTF8.self))
    if check && r.status != 0 {
        throw ShellError.failed(command: args.joined(separator: " "), status: r.status, stderr: r.stderr)
    }
    return r
}

@discardableResult
public func sh(_ command: String, check: Bool = true) throws -> ShellResult {
    try sh(["sh", "-c", command], check: check)
}

/// A network namespace made for one test and deleted with it.
public final class ScratchNetns {
    public let name: String
    public init(prefix: String = "edgetest") throws {
        name = "\(prefix)-\(UInt32.random(in: 0 ... UInt32.max))"
        try sh(["ip", "netns", "add", name])
        try sh(["ip", "-n", name, "link", "set", "lo", "up"])
    }
    /// Runs a command inside the namespace.
    @discardableResult
    public func run(_ args: [String], check: Bool = true) throws -> ShellResult {
        try sh(["ip", "netns", "exec", name] + args, check: check)
    }
    deinit { _ = try? sh(["ip", "netns", "delete", name], check: false) }
}
