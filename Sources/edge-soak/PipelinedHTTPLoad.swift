// A lean HTTP/1.1 load generator for throughput figures: blocking loopback sockets, one thread
// per keep-alive connection, `depth` requests in flight per connection (pipelining), request
// bytes built before the clock starts. On a 2-core machine the client competes with the server
// for the same cores; AsyncHTTPClient spent more CPU per request than the controller did, so the
// figures measured the client. This one costs a few µs per request, and the run reports both
// processes' CPU time so what remains of the client's share is visible.
import Foundation

struct PipelinedLoadResult {
    var stats = LatencyStats()
    var statuses: [Int: Int] = [:]
    var errors: [String] = []
    var seconds: Double = 0
    /// CPU time this process (the client) used during the run.
    var clientCPUSeconds: Double = 0

    var perSecond: Double { seconds > 0 ? Double(stats.count) / seconds : 0 }
}

enum PipelinedHTTPLoad {
    /// Sends requests on `connections` connections to 127.0.0.1:`port`, keeping `depth` in
    /// flight on each, until `duration` has passed or `limit` requests in all were sent.
    /// `request(connection, n)` gives the complete request bytes (`PipelinedHTTPLoad.post`).
    static func run(port: Int, connections: Int, depth: Int, duration: Duration, limit: Int = .max,
                    request: @escaping @Sendable (Int, Int) -> [UInt8]) -> PipelinedLoadResult {
        let perConnection = limit == .max ? Int.max : (limit + connections - 1) / connections
        let clock = ContinuousClock()
        let cpuStart = processCPUSeconds()
        let start = clock.now
        let deadline = start + duration
        let results = LockedResults()
        let group = DispatchGroup()
        for c in 0..<connections {
            group.enter()
            let thread = Thread {
                results.add(connection(port: port, depth: depth, deadline: deadline, limit: perConnection, clock: clock) {
                    request(c, $0)
                })
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        var total = results.merged()
        total.seconds = (clock.now - start).secondsValue
        total.clientCPUSeconds = processCPUSeconds() - cpuStart
        return total
    }

    /// `POST path` with a JSON body (and a bearer token when given), as bytes.
    static func post(_ path: String, body: [UInt8], token: String? = nil) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    // MARK: - one connection

    private static func connection(port: Int, depth: Int, deadline: ContinuousClock.Instant, limit: Int,
                                   clock: ContinuousClock, request: (Int) -> [UInt8]) -> PipelinedLoadResult {
        var r = PipelinedLoadResult()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { r.errors.append("socket: errno \(errno)"); return r }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { r.errors.append("connect 127.0.0.1:\(port): errno \(errno)"); return r }

        var sent = 0
        var inFlight: [ContinuousClock.Instant] = [] // send times, oldest first
        var head = 0
        func send(_ n: Int) -> Bool {
            let bytes = request(n)
            inFlight.append(clock.now)
            return bytes.withUnsafeBytes { writeAll(fd, $0) }
        }
        while sent < min(depth, limit), clock.now < deadline {
            guard send(sent) else { r.errors.append("send: errno \(errno)"); return r }
            sent += 1
        }
        var reader = ResponseReader(fd: fd)
        while head < inFlight.count {
            guard let status = reader.next() else {
                r.errors.append(reader.error ?? "connection closed")
                return r
            }
            r.stats.add(clock.now - inFlight[head])
            r.statuses[status, default: 0] += 1
            head += 1
            if sent < limit, clock.now < deadline {
                guard send(sent) else { r.errors.append("send: errno \(errno)"); return r }
                sent += 1
            }
            if head > 4096 { inFlight.removeFirst(head); head = 0 }
        }
        return r
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = Foundation.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// User + system CPU seconds of this process.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}

/// Reads HTTP/1.1 responses with a Content-Length body off a socket, one at a time.
private struct ResponseReader {
    let fd: Int32
    var buffer: [UInt8] = []
    var start = 0
    var error: String?

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    /// The next response's status code (its body is skipped); nil on error or EOF.
    mutating func next() -> Int? {
        while true {
            if let (status, length) = parse() {
                start += length
                if start > 1 << 15 { buffer.removeFirst(start); start = 0 }
                return status
            }
            if error != nil { return nil }
            guard fill() else { return nil }
        }
    }

    /// (status, bytes of the whole response) when a complete response is buffered.
    private mutating func parse() -> (Int, Int)? {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        var end = start
        while end + 4 <= buffer.count {
            if buffer[end] == 13, buffer[end..<end + 4].elementsEqual(crlf2) { break }
            end += 1
        }
        guard end + 4 <= buffer.count else { return nil }
        let header = String(decoding: buffer[start..<end], as: UTF8.self)
        let lines = header.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
              let status = Int(statusLine.dropFirst(9).prefix(3)) else {
            error = "malformed status line: \(lines.first ?? "")"
            return nil
        }
        guard let lengthLine = lines.first(where: { $0.lowercased().hasPrefix("content-length:") }),
              let length = Int(lengthLine.dropFirst(15).trimmingCharacters(in: .whitespaces)) else {
            error = "response without Content-Length (chunked bodies are not read by this client)"
            return nil
        }
        let total = end + 4 - start + length
        return buffer.count - start >= total ? (status, total) : nil
    }

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                error = n == 0 ? "server closed the connection" : "recv: errno \(errno)"
                return false
            }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }
}

/// The per-connection results, merged as the threads finish.
private final class LockedResults: @unchecked Sendable {
    // @unchecked: `all` is only touched under `lock`.
    private let lock = NSLock()
    private var all: [PipelinedLoadResult] = []

    func add(_ r: PipelinedLoadResult) {
        lock.lock()
        all.append(r)
        lock.unlock()
    }

    func merged() -> PipelinedLoadResult {
        lock.lock()
        defer { lock.unlock() }
        var total = PipelinedLoadResult()
        for r in all {
            total.stats.merge(r.stats)
            total.statuses.merge(r.statuses, uniquingKeysWith: +)
            total.errors += r.errors.prefix(5)
        }
        return total
    }
}

extension Duration {
    /// Seconds as a Double.
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
