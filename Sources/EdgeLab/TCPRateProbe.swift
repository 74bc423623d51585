// Measures the goodput of one bulk TCP connection from one network namespace to another: what
// a shaped class really gets. The two ends are a small python3 program (python3 is a build
// and test dependency) so that the agent's own code stays free of raw socket C calls; the
// receiver counts bytes in a window that starts after a warm-up, so slow start and the
// horizon's initial burst do not count.
import Foundation

public enum TCPRateProbe {
    /// One measurement.
    public struct Result: Sendable {
        public var bytes: UInt64
        public var seconds: Double
        public var bitsPerSecond: Double { Double(bytes) * 8 / seconds }
    }

    static let program = #"""
    import json, socket, sys, time
    role = sys.argv[1]
    if role == "recv":
        addr, warm, dur = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
        srv = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
        srv.bind((addr, 0))
        srv.listen(1)
        srv.settimeout(15)
        print("ready", srv.getsockname()[1], flush=True)
        conn, _ = srv.accept()
        conn.settimeout(5)
        buf = bytearray(1 << 18)
        first, counted = None, 0
        while True:
            try:
                n = conn.recv_into(buf)
            except socket.timeout:
                break
            if n == 0:
                break
            now = time.monotonic()
            if first is None:
                first = now
            if now - first >= warm + dur:
                break
            if now - first >= warm:
                counted += n
        print(json.dumps({"bytes": counted}), flush=True)
    else:
        addr, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        c = socket.create_connection((addr, port), timeout=15)
        data = b"x" * 65536
        end = time.monotonic() + secs
        try:
            while time.monotonic() < end:
                c.sendall(data)
        except OSError:
            pass
        c.close()
    """#

    /// Streams from `sender` to `address` in `receiver` for `warmup + seconds` and returns what
    /// arrived during the last `seconds`.
    public static func measure(sender: String, receiver: String, address: String,
                               warmup: Double = 0.5, seconds: Double = 2.5) throws -> Result {
        let rx = Process()
        rx.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        rx.arguments = Netns.exec(receiver, ["python3", "-c", program, "recv", address, String(warmup), String(seconds)])
        let out = Pipe()
        rx.standardOutput = out
        rx.standardError = FileHandle.nullDevice
        try rx.run()
        defer { if rx.isRunning { rx.terminate() } }

        let reader = LineReader(out.fileHandleForReading)
        guard let ready = reader.next(), ready.hasPrefix("ready "), let port = Int(ready.dropFirst(6)) else {
            throw LabError("rate probe receiver in \(receiver) did not start")
        }
        let tx = Process()
        tx.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tx.arguments = Netns.exec(sender, ["python3", "-c", program, "send", address, String(port),
                                           String(warmup + seconds + 1)])
        tx.standardOutput = FileHandle.nullDevice
        tx.standardError = FileHandle.nullDevice
        try tx.run()
        defer { if tx.isRunning { tx.terminate() } }

        guard let line = reader.next(),
              let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let bytes = (json["bytes"] as? NSNumber)?.uint64Value else {
            throw LabError("rate probe receiver in \(receiver) gave no result")
        }
        rx.waitUntilExit()
        tx.waitUntilExit()
        return Result(bytes: bytes, seconds: seconds)
    }
}

/// Lines from a pipe, blocking until each is complete (nil at end of file).
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
