// A stand-in for systemd's notify socket: a Unix datagram socket the daemon under test sends
// READY=1 / STATUS= / WATCHDOG=1 / STOPPING=1 to, exactly as it would under systemd.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class NotifySocket {
    public let path: String
    private let fd: Int32
    private var messages: [String] = []

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8)).sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw MissingRequirement(description: "socket(AF_UNIX, SOCK_DGRAM): errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw MissingRequirement(description: "bind \(path): errno \(errno)") }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Every datagram received so far (each one "KEY=value" lines).
    public func drain() -> [String] {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            messages.append(String(decoding: buf[0..<n], as: UTF8.self))
        }
        return messages
    }

    /// Waits up to `timeout` seconds for a datagram containing `line`.
    public func waitFor(_ line: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if drain().contains(where: { $0.split(separator: "\n").contains(Substring(line)) }) { return true }
        } while Date() < deadline
        return false
    }
}
