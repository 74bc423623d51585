import Foundation

/// The kernel's packet-scheduler clock from `/proc/net/psched`, needed to express TBF and HTB
/// bursts as "ticks" (struct tc_tbf_qopt.buffer, tc_htb_opt.buffer/cbuffer).
///
/// The file holds four hex words: ns per µs (t2us), ns per tick (us2t), clock resolution, and
/// hrtimer frequency. A tick is PSCHED_TICKS2NS(1) nanoseconds (64 on current kernels).
public struct PacketSchedulerClock: Equatable, Sendable {
    /// Scheduler ticks per microsecond (15.625 on current kernels).
    public var ticksPerMicrosecond: Double

    public init(ticksPerMicrosecond: Double) {
        self.ticksPerMicrosecond = ticksPerMicrosecond
    }

    /// Parses the contents of `/proc/net/psched`.
    public init(pschedText: String) throws {
        let words = pschedText.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt32($0, radix: 16) }
        guard words.count >= 3, let t2us = words[0], let us2tWord = words[1], let clockRes = words[2],
              t2us > 0, us2tWord > 0, clockRes > 0 else {
            throw NetlinkParseError("/proc/net/psched", "expected at least three hex words, got '\(pschedText)'")
        }
        // Kernels with a nanosecond clock advertise t2us = 1000 for old tools' sake; with that
        // resolution the real ratio is 1 (the same correction iproute2 applies).
        let perMicrosecond = clockRes == 1_000_000_000 ? us2tWord : t2us
        ticksPerMicrosecond = Double(perMicrosecond) / Double(us2tWord) * (Double(clockRes) / 1_000_000)
    }

    /// Reads `/proc/net/psched` of the running kernel.
    public static func system() throws -> PacketSchedulerClock {
        do {
            return try PacketSchedulerClock(pschedText: String(contentsOfFile: "/proc/net/psched", encoding: .utf8))
        } catch let error as NetlinkParseError {
            throw error
        } catch {
            throw NetlinkParseError("/proc/net/psched", "cannot read: \(error)")
        }
    }

    /// Ticks needed to send `bytes` at `bytesPerSecond` (how long a full bucket lasts),
    /// clamped to the 32-bit field.
    public func ticks(toSend bytes: UInt64, atBytesPerSecond rate: UInt64) -> UInt32 {
        guard rate > 0 else { return 0 }
        let microseconds = 1_000_000 * Double(bytes) / Double(rate)
        return UInt32(min(Double(UInt32.max), (microseconds * ticksPerMicrosecond).rounded(.down)))
    }

    /// Bytes that `ticks` of time carry at `bytesPerSecond` (inverse of `ticks(toSend:)`,
    /// rounded to the nearest byte because the kernel stores the time with tick granularity).
    public func bytes(in ticks: UInt32, atBytesPerSecond rate: UInt64) -> UInt64 {
        let microseconds = Double(ticks) / ticksPerMicrosecond
        return UInt64((microseconds * Double(rate) / 1_000_000).rounded())
    }
}
