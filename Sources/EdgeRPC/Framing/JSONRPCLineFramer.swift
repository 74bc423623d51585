// Splits a byte stream into newline-terminated frames with a hard bound on frame size, so
// that a peer can neither make us buffer without limit nor desynchronise the stream: an
// over-long line is reported once and skipped up to its newline, and framing resumes there.
import EdgeCore
import Foundation

/// A bounded line splitter. Feed it bytes as they arrive; it returns the complete lines.
///
/// - A line ends at `\n`; one `\r` before it is dropped (CRLF tolerance).
/// - Lines that are empty or only spaces/tabs are ignored.
/// - A line longer than `maxLineBytes` (not counting its terminator) yields one
///   `.oversized` event; its remaining bytes are discarded up to the next `\n`.
/// - At most `maxLineBytes + 1` bytes are ever buffered.
public struct JSONRPCLineFramer: Sendable {
    /// What the framer found in the bytes fed so far.
    public enum Event: Sendable, Equatable {
        /// A complete line, without its terminator.
        case line(Data)
        /// A line exceeded the limit; its content is dropped.
        case oversized(limit: Int)
    }

    /// The largest accepted line, in bytes, terminator excluded.
    public let maxLineBytes: Int
    /// Bytes of the current, unterminated line.
    private var pending: [UInt8] = []
    /// True while skipping the rest of an over-long line.
    private var discarding = false

    /// A buffer above this size is released rather than kept for reuse, so that one large
    /// frame does not pin a megabyte per idle connection.
    private static let retainedCapacity = 64 * 1024

    public init(maxLineBytes: Int = JSONRPCCodec.defaultMaxFrameBytes) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes held for a line whose terminator has not arrived yet.
    public var bufferedByteCount: Int { pending.count }

    /// True when a line has started but not ended (a peer stalled mid-frame).
    public var hasPartialLine: Bool { !pending.isEmpty || discarding }

    /// Consumes `bytes` and returns the events they complete, in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        var start = 0
        let end = bytes.count
        while start < end {
            guard let newline = Self.indexOfNewline(in: bytes, from: start) else {
                consumeUnterminated(bytes, from: start, into: &events)
                break
            }
            if discarding {
                discarding = false
            } else {
                completeLine(with: UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), into: &events)
            }
            resetPending()
            start = newline + 1
        }
        return events
    }

    /// Convenience for arrays, `Data` and other contiguous byte collections.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Event] where Bytes.Element == UInt8 {
        if let events = bytes.withContiguousStorageIfAvailable({ feed(UnsafeRawBufferPointer($0)) }) {
            return events
        }
        return Array(bytes).withUnsafeBytes { feed($0) }
    }

    // MARK: - Internals

    private static func indexOfNewline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count else { return nil }
        guard let hit = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Bytes with no newline after them: keep them, or start discarding once the line
    /// cannot fit any more (the extra byte allowed is a possible `\r`).
    private mutating func consumeUnterminated(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into events: inout [Event]
    ) {
        if discarding { return }
        let tail = UnsafeRawBufferPointer(rebasing: bytes[start...])
        if pending.count + tail.count > maxLineBytes + 1 {
            events.append(.oversized(limit: maxLineBytes))
            discarding = true
            resetPending()
        } else {
            pending.append(contentsOf: tail)
        }
    }

    /// `tail` ends the current line (the newline itself excluded).
    private mutating func completeLine(with tail: UnsafeRawBufferPointer, into events: inout [Event]) {
        var line: Data
        if pending.isEmpty {
            line = Data(tail)
        } else {
            line = Data(pending)
            line.append(contentsOf: tail)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.count > maxLineBytes {
            events.append(.oversized(limit: maxLineBytes))
        } else if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            events.append(.line(line))
        }
    }

    private mutating func resetPending() {
        if pending.capacity > Self.retainedCapacity {
            pending = []
        } else {
            pending.removeAll(keepingCapacity: true)
        }
    }
}
