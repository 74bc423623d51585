// Where the package's own executables are: beside the test bundle in .build/<config>/.
// Integration tests run the real binaries, as an operator would.
import Foundation

public enum Products {
    public static var directory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .build/debug/edgenodePackageTests.xctest (a file on Linux, a bundle elsewhere)
        while url.pathComponents.count > 1 && !FileManager.default.fileExists(atPath: url.appendingPathComponent("edge-agent").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    public static func path(_ name: String) throws -> String {
        let p = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: p) else {
            throw MissingRequirement(description: "\(name) not built at \(p): run `swift build --build-tests` (make test does)")
        }
        return p
    }
}

/// A daemon process started for one test and stopped (SIGTERM, then SIGKILL) with it.
public final class DaemonProcess {
    public let process = Process()
    public let logURL: URL

    /// Starts `executable` with `arguments`; `netns` runs it inside that namespace.
    public init(_ executable: String, _ arguments: [String], netns: String? = nil, environment: [String: String] = [:]) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        if let netns {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip", "netns", "exec", netns, executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 50 ms for up to `timeout` seconds.
    public func waitUntil(timeout: Double = 15, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: logURL)
    }
}
