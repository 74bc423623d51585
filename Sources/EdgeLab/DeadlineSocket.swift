// The lab's one deadline socket: a descriptor whose every operation ends by a deadline on the
// monotonic clock (non-blocking underneath, poll(2) between attempts). IPv4 TCP clients (the
// experiment's load generator and extender calls, edge-soak's HTTP probes and floods) and the
// Unix datagram receiver standing in for systemd's notify socket (`NotifySocket`) are made of it.
// The listener and blocking helpers below are the experiment's workload server side. Plain POSIX
// calls: the tools are test harnesses, and they measure the same syscalls a real client would
// make, with nothing in between. (EdgeRPC's UnixStreamSocket is the product's RPC client.)
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A socket call failed; `timedOut` when the deadline passed first.
public struct SocketError: Error, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var timedOut: Bool { code == ETIMEDOUT }
    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// Seconds on the monotonic clock (latencies and deadlines never use wall time).
public func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func ipv4Address(_ host: String, _ port: UInt16) throws -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
        throw SocketError(operation: "parse IPv4 address '\(host)'", code: EINVAL)
    }
    return addr
}

/// One socket; non-blocking underneath so every operation honours a deadline. Closed on deinit.
public final class DeadlineSocket {
    public let fd: Int32

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Connects to `host:port` (IPv4) before `deadline` (monotonic seconds).
    public static func connect(host: String, port: UInt16, deadline: Double) throws -> DeadlineSocket {
        var addr = try ipv4Address(host, port)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        let conn = DeadlineSocket(fd: fd)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else { throw SocketError(operation: "connect \(host):\(port)", code: errno) }
            try conn.wait(for: Int16(POLLOUT), until: deadline, operation: "connect \(host):\(port)")
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 { throw SocketError(operation: "connect \(host):\(port)", code: err) }
        }
        return conn
    }

    private func wait(for events: Int16, until deadline: Double, operation: String) throws {
        while true {
            let left = deadline - monotonicNow()
            if left <= 0 { throw SocketError(operation: operation, code: ETIMEDOUT) }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw SocketError(operation: operation, code: errno) }
        }
    }

    /// A Unix datagram socket bound at `path` (an old file there is removed first).
    public static func bindDatagram(path: String) throws -> DeadlineSocket {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket(AF_UNIX, SOCK_DGRAM)", code: errno) }
        let sock = DeadlineSocket(fd: fd)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SocketError(operation: "bind \(path) (path too long)", code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw SocketError(operation: "bind \(path)", code: errno) }
        return sock
    }

    /// Writes all of `bytes` before `deadline`.
    public func sendAll(_ bytes: [UInt8], deadline: Double) throws {
        var sent = 0
        try bytes.withUnsafeBytes { buf in
            while sent < buf.count {
                let n = send(fd, buf.baseAddress! + sent, buf.count - sent, Int32(MSG_NOSIGNAL))
                if n > 0 { sent += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EINTR) {
                    try wait(for: Int16(POLLOUT), until: deadline, operation: "send")
                    continue
                }
                throw SocketError(operation: "send", code: n == 0 ? EPIPE : errno)
            }
        }
    }

    /// Reads exactly `count` bytes into `buffer` (resized as needed) before `deadline`.
    public func receiveExactly(_ count: Int, into buffer: inout [UInt8], deadline: Double) throws {
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        var got = 0
        try buffer.withUnsafeMutableBytes { buf in
            while got < count {
                let n = recv(fd, buf.baseAddress! + got, count - got, 0)
                if n > 0 { got += n; continue }
                if n == 0 { throw SocketError(operation: "recv (peer closed)", code: ECONNRESET) }
                if errno == EAGAIN || errno == EINTR {
                    try wait(for: Int16(POLLIN), until: deadline, operation: "recv")
                    continue
                }
                throw SocketError(operation: "recv", code: errno)
            }
        }
    }

    /// Reads until the peer closes (at most `limit` bytes) before `deadline`.
    public func receiveAll(limit: Int, deadline: Double) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                out.append(contentsOf: chunk[0..<n])
                if out.count > limit { throw SocketError(operation: "recv (answer over \(limit) bytes)", code: EMSGSIZE) }
                continue
            }
            if n == 0 { return out }
            if errno == EAGAIN || errno == EINTR {
                try wait(for: Int16(POLLIN), until: deadline, operation: "recv")
                continue
            }
            throw SocketError(operation: "recv", code: errno)
        }
    }

    /// Reads what arrives first (at most `max` bytes; empty when the peer closed) before `deadline`.
    public func receiveSome(max: Int, deadline: Double) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: max)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n >= 0 { return Array(buf[0..<n]) }
            if errno == EAGAIN || errno == EINTR {
                try wait(for: Int16(POLLIN), until: deadline, operation: "recv")
                continue
            }
            throw SocketError(operation: "recv", code: errno)
        }
    }

    /// The next datagram (at most 4096 bytes), or nil when none arrives before `deadline`.
    public func receiveDatagram(deadline: Double) throws -> [UInt8]? {
        do {
            return try receiveSome(max: 4096, deadline: deadline)
        } catch let e as SocketError where e.timedOut {
            return nil
        }
    }
}

/// A listening socket whose accepted connections are blocking file descriptors.
public final class TCPListener {
    public let fd: Int32

    public init(host: String, port: UInt16) throws {
        var addr = try ipv4Address(host, port)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; close(fd); throw SocketError(operation: "bind \(host):\(port)", code: e) }
        guard listen(fd, 1024) == 0 else { let e = errno; close(fd); throw SocketError(operation: "listen", code: e) }
    }

    deinit { close(fd) }

    /// Blocks until a client connects; returns its descriptor (TCP_NODELAY set).
    public func accept() throws -> Int32 {
        while true {
            let c = Glibc.accept(fd, nil, nil)
            if c >= 0 {
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                var one: Int32 = 1
                setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return c
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            throw SocketError(operation: "accept", code: errno)
        }
    }
}

/// Blocking helpers on an accepted descriptor (the server side has no deadlines: the client's
/// timeout ends a stuck request, and the connection dies with the process).
public enum BlockingIO {
    /// Reads exactly `count` bytes; false on EOF or error.
    public static func readExactly(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        var got = 0
        while got < count {
            let n = recv(fd, buf + got, count - got, 0)
            if n > 0 { got += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    /// Writes exactly `count` bytes; false on error.
    public static func writeAll(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) -> Bool {
        var sent = 0
        while sent < count {
            let n = send(fd, buf + sent, count - sent, Int32(MSG_NOSIGNAL))
            if n > 0 { sent += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }
}
