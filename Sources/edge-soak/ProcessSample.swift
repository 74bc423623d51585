// What a daemon holds at one moment, read from /proc: resident memory and open descriptors.
// Memory growth and descriptor leaks are judged by comparing samples over a run.
import Foundation

struct ProcessSample: CustomStringConvertible {
    /// VmRSS in KiB.
    var rssKiB: Int
    /// Entries in /proc/PID/fd.
    var fds: Int

    /// Reads `pid`'s sample; throws when the process is gone or /proc is unreadable.
    init(pid: Int32) throws {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
            throw SoakError("no VmRSS in /proc/\(pid)/status")
        }
        rssKiB = kib
        fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    var description: String { String(format: "RSS %.1f MiB, %d fds", Double(rssKiB) / 1024, fds) }
}

/// A failure of the soak run itself (not of the daemon under load), with what went wrong.
struct SoakError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
