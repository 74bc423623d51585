// The workload: a TCP request/response server. A request is 8 bytes — the response size
// (UInt32, little endian) and a sequence number (UInt32) — and the answer is that many bytes.
// One thread per connection: the load generator keeps a small pool of persistent connections.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wire format shared by the server and the load generator.
enum WorkloadWire {
    static let requestBytes = 8
    /// Largest response a request may ask for (anything larger is a bad request: the connection closes).
    static let maxResponseBytes = 4 << 20
    /// The same bytes for every answer, shared by all connections: what is measured is the network path.
    static let payload = [UInt8](repeating: 0x5a, count: maxResponseBytes)

    static func request(responseBytes: Int, sequence: UInt32) -> [UInt8] {
        let size = UInt32(responseBytes)
        return [UInt8(size & 0xff), UInt8((size >> 8) & 0xff), UInt8((size >> 16) & 0xff), UInt8(size >> 24),
                UInt8(sequence & 0xff), UInt8((sequence >> 8) & 0xff), UInt8((sequence >> 16) & 0xff), UInt8(sequence >> 24)]
    }
}

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the workload server (one replica) until killed; prints 'listening' when ready.")

    @Option(help: "IPv4 address to listen on.") var host = "0.0.0.0"
    @Option(help: "TCP port.") var port: UInt16

    func run() throws {
        let listener = try TCPListener(host: host, port: port)
        print("listening on \(host):\(port)")
        fflush(stdout)
        while true {
            let fd = try listener.accept()
            let t = Thread { Self.serve(fd) }
            t.stackSize = 256 << 10
            t.start()
        }
    }

    static func serve(_ fd: Int32) {
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: WorkloadWire.requestBytes)
        let payload = WorkloadWire.payload
        while true {
            let ok = header.withUnsafeMutableBytes { BlockingIO.readExactly(fd, $0.baseAddress!, WorkloadWire.requestBytes) }
            guard ok else { return }
            let size = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
            guard size <= WorkloadWire.maxResponseBytes else { return }
            let sent = payload.withUnsafeBytes { BlockingIO.writeAll(fd, $0.baseAddress!, size) }
            guard sent else { return }
        }
    }
}
