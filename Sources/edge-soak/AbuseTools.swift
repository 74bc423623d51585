// Tools of the abuse runs: raw TCP connections held open and one HTTP exchange, on the lab's
// deadline socket (EdgeLab). The notify socket that timestamps WATCHDOG=1 is the lab's too.
import EdgeLab
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum AbuseSocket {
    /// How long a connect may take: about what a blocking connect(2) waits before the kernel gives
    /// up on an unanswered SYN (tcp_syn_retries = 6), so a full accept queue still shows as such.
    static let connectSeconds = 130.0

    /// A connected TCP socket to 127.0.0.1:`port`, or nil (errno in `error`).
    static func connect(port: Int, error: inout Int32) -> DeadlineSocket? {
        var code = EINVAL
        do {
            return try DeadlineSocket.connect(host: "127.0.0.1", port: UInt16(port), deadline: monotonicNow() + connectSeconds)
        } catch let e as SocketError {
            code = e.code
        } catch {}
        error = code
        return nil
    }

    /// Sends `request` on a fresh connection and reads the answer's status line; nil on failure.
    /// `timeout` bounds the sending and then the receiving.
    static func exchange(port: Int, _ request: [UInt8], timeout: Int = 30) -> Int? {
        var err: Int32 = 0
        guard let socket = connect(port: port, error: &err) else { return nil }
        // the server may answer (503/413) before reading the whole body: a failed send is not the end
        try? socket.sendAll(request, deadline: monotonicNow() + Double(timeout))
        guard let answer = try? socket.receiveSome(max: 4096, deadline: monotonicNow() + Double(timeout)),
              answer.count > 12 else { return nil }
        let line = String(decoding: answer, as: UTF8.self)
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    static func get(_ path: String) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    }
}
