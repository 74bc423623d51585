// A blocking AF_UNIX stream socket with deadlines, for the CLI side (no event loop needed).
// Every wait goes through poll() with the time left until the call's deadline, so one slow
// or dead server cannot hang the CLI.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A failed socket operation: which one and the errno (ETIMEDOUT for a missed deadline).
struct UnixSocketError: Error, Equatable {
    var operation: String
    var code: Int32
}

/// One connected Unix stream socket. Not thread-safe; closed on `close()` or deinit.
final class UnixStreamSocket {
    private(set) var fd: Int32

    /// sun_path holds 108 bytes including the terminating NUL.
    static let maxPathBytes = 107

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close()
    }

    /// Connects to `path`. The kernel makes a blocking AF_UNIX connect wait while the
    /// listener's backlog is full; SO_SNDTIMEO bounds that wait by `timeout`.
    static func connect(path: String, timeout: Duration) throws -> UnixStreamSocket {
        let pathBytes = Array(path.utf8)
        guard pathBytes.count <= maxPathBytes else {
            throw UnixSocketError(operation: "connect", code: ENAMETOOLONG)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UnixSocketError(operation: "socket", code: errno) }
        let sock = UnixStreamSocket(fd: fd)

        var tv = timeval(timeout)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let code = errno
            // EAGAIN/EINPROGRESS: the backlog stayed full for the whole timeout.
            throw UnixSocketError(operation: "connect", code: code == EAGAIN || code == EINPROGRESS ? ETIMEDOUT : code)
        }
        return sock
    }

    /// Sends all of `bytes` before `deadline`.
    func send(_ bytes: Data, deadline: ContinuousClock.Instant) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                try wait(for: Int16(POLLOUT), until: deadline, operation: "send")
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw UnixSocketError(operation: "send", code: errno)
                }
                offset += n
            }
        }
    }

    /// Receives up to `buffer.count` bytes before `deadline`; 0 means the peer closed.
    func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: ContinuousClock.Instant) throws -> Int {
        while true {
            try wait(for: Int16(POLLIN), until: deadline, operation: "receive")
            let n = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return n }
            if errno == EINTR || errno == EAGAIN { continue }
            throw UnixSocketError(operation: "receive", code: errno)
        }
    }

    /// True when the connection can carry another request: the peer has not closed it and
    /// no unsolicited bytes are waiting (either means the old exchange is not clean).
    func isReusable() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let rc = poll(&p, 1, 0)
        if rc == 0 { return true }
        return false
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    private func wait(for events: Int16, until deadline: ContinuousClock.Instant, operation: String) throws {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw UnixSocketError(operation: operation, code: ETIMEDOUT) }
            let ms = Int32(clamping: (left.components.seconds * 1000) + (left.components.attoseconds / 1_000_000_000_000_000) + 1)
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, ms)
            if rc > 0 { return }  // ready, or error/hangup that the following call reports
            if rc < 0, errno != EINTR { throw UnixSocketError(operation: operation, code: errno) }
        }
    }
}

extension timeval {
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
