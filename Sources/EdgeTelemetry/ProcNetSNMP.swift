// TCP segment counters from /proc/net/snmp.
//
// The file holds pairs of lines per protocol: a header line naming the columns and a value line,
// both starting with "Tcp:". Columns are looked up by name because their positions have changed
// between kernels (fields were added over time).
import EdgeCore
import Foundation

/// Cumulative TCP segment counters of one network namespace.
public struct TCPSegmentCounters: Sendable, Equatable {
    /// Segments sent (`OutSegs`).
    public var outSegs: UInt64
    /// Segments retransmitted (`RetransSegs`).
    public var retransSegs: UInt64

    /// Counters as read (or as a delta).
    public init(outSegs: UInt64, retransSegs: UInt64) {
        self.outSegs = outSegs
        self.retransSegs = retransSegs
    }

    /// Counts between an older reading and this one (wrapping, like the kernel's counters).
    public func delta(since older: TCPSegmentCounters) -> TCPSegmentCounters {
        TCPSegmentCounters(outSegs: outSegs &- older.outSegs, retransSegs: retransSegs &- older.retransSegs)
    }
}

/// Parser for /proc/net/snmp.
public enum ProcNetSNMP {
    /// The usual location (per network namespace of the reading process).
    public static let path = "/proc/net/snmp"

    /// All columns of one protocol's header/value line pair: column name -> value text. Values stay
    /// text because their types differ (`MaxConn` is signed, -1 for "no limit"; counters are unsigned).
    /// - Parameters:
    ///   - prefix: protocol name as printed, without the colon, e.g. "Tcp".
    ///   - file: name used in error messages.
    public static func parseSection(_ text: String, prefix: String, file: String = path) throws -> [String: String] {
        let tag = prefix + ":"
        let lines = text.split(separator: "\n").filter {
            $0.split(separator: " ", maxSplits: 1).first.map(String.init) == tag
        }
        guard lines.count >= 2 else {
            throw KernelTextError(file: file, reason: lines.isEmpty
                ? "no \"\(tag)\" lines"
                : "\"\(tag)\" header line without a value line")
        }
        guard lines.count == 2 else {
            throw KernelTextError(file: file, reason: "expected 2 \"\(tag)\" lines (header and values), found \(lines.count)")
        }
        let names = lines[0].split(separator: " ").dropFirst().map(String.init)
        let values = lines[1].split(separator: " ").dropFirst()
        guard names.count == values.count else {
            throw KernelTextError(file: file,
                                  reason: "\"\(tag)\" header has \(names.count) columns but the value line has \(values.count)")
        }
        var out: [String: String] = [:]
        for (name, value) in zip(names, values) {
            out[name] = String(value)
        }
        return out
    }

    /// `OutSegs` and `RetransSegs` from the text of /proc/net/snmp.
    public static func parseTCPSegments(_ text: String, file: String = path) throws -> TCPSegmentCounters {
        let tcp = try parseSection(text, prefix: "Tcp", file: file)
        func counter(_ name: String) throws -> UInt64 {
            guard let text = tcp[name] else {
                throw KernelTextError(file: file, reason: "Tcp has no \(name) column")
            }
            guard let v = UInt64(text) else {
                throw KernelTextError(file: file, reason: "Tcp \(name) is not an unsigned integer: \"\(text)\"")
            }
            return v
        }
        return TCPSegmentCounters(outSegs: try counter("OutSegs"), retransSegs: try counter("RetransSegs"))
    }

    /// Reads and parses the real /proc/net/snmp (or `path`).
    public static func readTCPSegments(path: String = path) throws -> TCPSegmentCounters {
        try parseTCPSegments(readKernelText(path), file: path)
    }
}
