// A stand-in for systemd's notify socket: a Unix datagram socket the daemon under test sends
// READY=1 / STATUS= / WATCHDOG=1 / STOPPING=1 to, exactly as it would under systemd. Tests read
// it on demand (`drain`, `waitFor`); edge-soak's abuse runs have it timestamp every datagram as
// it arrives (`listenInBackground`) to measure the longest gap between WATCHDOG=1 pings.
import Foundation

public final class NotifySocket: @unchecked Sendable {
    public let path: String
    private let socket: DeadlineSocket
    private let lock = NSLock()
    private var received: [(at: Date, text: String)] = []

    /// A socket in the temporary directory.
    public convenience init() throws {
        try self.init(path: FileManager.default.temporaryDirectory
            .appendingPathComponent("notify-\(UUID().uuidString.prefix(8)).sock").path)
    }

    public init(path: String) throws {
        self.path = path
        socket = try DeadlineSocket.bindDatagram(path: path)
    }

    deinit { unlink(path) }

    /// Every datagram received so far (each one "KEY=value" lines), after reading what is waiting
    /// (each read waits up to 100 ms for the next datagram).
    public func drain() -> [String] {
        while let datagram = try? socket.receiveDatagram(deadline: monotonicNow() + 0.1) { record(datagram) }
        return lock.withLock { received.map(\.text) }
    }

    /// Waits up to `timeout` seconds for a datagram containing `line`.
    public func waitFor(_ line: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if drain().contains(where: { Self.has($0, line) }) { return true }
        } while Date() < deadline
        return false
    }

    /// Reads on a thread of its own from now on, timestamping each datagram when it arrives; for a
    /// run that keeps the socket for the life of the process (the thread holds it).
    public func listenInBackground() {
        Thread.detachNewThread { [self] in
            while true {
                do {
                    if let datagram = try socket.receiveDatagram(deadline: monotonicNow() + 3600) { record(datagram) }
                } catch {
                    return
                }
            }
        }
    }

    /// The longest time without a datagram containing `line` in [from, to] (the edges count), in seconds.
    public func longestGap(of line: String, from: Date, to: Date = Date()) -> Double {
        let times = [from] + lock.withLock { received.filter { $0.at > from && $0.at < to && Self.has($0.text, line) }.map(\.at) } + [to]
        return zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? 0
    }

    /// How many datagrams containing `line` arrived in [from, to].
    public func count(of line: String, from: Date, to: Date) -> Int {
        lock.withLock { received.filter { $0.at >= from && $0.at <= to && Self.has($0.text, line) }.count }
    }

    private func record(_ datagram: [UInt8]) {
        let text = String(decoding: datagram, as: UTF8.self)
        lock.withLock { received.append((Date(), text)) }
    }

    private static func has(_ datagram: String, _ line: String) -> Bool {
        datagram.split(separator: "\n").contains(Substring(line))
    }
}
