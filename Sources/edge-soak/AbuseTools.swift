// Tools of the abuse runs: raw TCP connections held open, a sd_notify socket that timestamps the
// daemon's WATCHDOG=1 pings, one HTTP exchange.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum AbuseSocket {
    /// A connected TCP socket to 127.0.0.1:`port`, or nil (errno in `error`).
    static func connect(port: Int, error: inout Int32) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { error = errno; return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { error = errno; close(fd); return nil }
        return fd
    }

    /// Sends `request` on a fresh connection and reads the answer's status line; nil on failure.
    /// `timeout` bounds each receive.
    static func exchange(port: Int, _ request: [UInt8], timeout: Int = 30) -> Int? {
        var err: Int32 = 0
        guard let fd = connect(port: port, error: &err) else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break } // the server may answer (503/413) before reading the whole body
            sent += n
        }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        guard n > 12 else { return nil }
        let line = String(decoding: buf[0..<n], as: UTF8.self)
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    static func get(_ path: String) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    }
}

/// A NOTIFY_SOCKET for the daemon: records when each WATCHDOG=1 arrives.
final class WatchdogListener: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var pings: [Date] = []

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, rc == 0 else { throw SoakError("cannot bind notify socket \(path): errno \(errno)") }
        Thread.detachNewThread { [self] in
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buf, buf.count, 0)
                if n < 0 { return }
                if String(decoding: buf[0..<n], as: UTF8.self).contains("WATCHDOG=1") {
                    lock.withLock { pings.append(Date()) }
                }
            }
        }
    }

    /// The longest time without a ping in [from, to] (the edges count as pings), in seconds.
    func longestGap(from: Date, to: Date = Date()) -> Double {
        let times = [from] + lock.withLock { pings.filter { $0 > from && $0 < to } } + [to]
        return zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? 0
    }

    /// How many pings arrived in [from, to].
    func count(from: Date, to: Date) -> Int { lock.withLock { pings.filter { $0 >= from && $0 <= to }.count } }
}
