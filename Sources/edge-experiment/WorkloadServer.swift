// The workload: a TCP request/response server. A request is 12 bytes — the response size, a
// sequence number and the CPU work in microseconds (UInt32 each, little endian) — and the answer,
// after that much CPU time spent on the serving thread, is that many bytes. CPU time, not wall
// time: on a node whose CPU is contended the same work takes longer, as an inference request does.
// One thread per connection: the load generator keeps a small pool of persistent connections.
import ArgumentParser
import EdgeLab
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wire format shared by the server and the load generator.
enum WorkloadWire {
    static let requestBytes = 12
    /// Most CPU work a request may ask for (1 s).
    static let maxCPUMicros = 1_000_000
    /// Largest response a request may ask for (anything larger is a bad request: the connection closes).
    static let maxResponseBytes = 4 << 20
    /// The same bytes for every answer, shared by all connections: what is measured is the network path.
    static let payload = [UInt8](repeating: 0x5a, count: maxResponseBytes)

    static func request(responseBytes: Int, sequence: UInt32, cpuMicros: Int = 0) -> [UInt8] {
        func le(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }
        return le(UInt32(responseBytes)) + le(sequence) + le(UInt32(cpuMicros))
    }

    /// Spends `micros` of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) on arithmetic.
    static func burnCPU(micros: Int) {
        guard micros > 0 else { return }
        func now() -> Int {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
        }
        let end = now() + micros
        var x: UInt64 = 0x9e3779b97f4a7c15
        while now() < end {
            for _ in 0..<256 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
        }
        if x == 42 { print("") } // keeps the loop from being optimised away
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
            func field(_ at: Int) -> Int { Int(header[at]) | Int(header[at + 1]) << 8 | Int(header[at + 2]) << 16 | Int(header[at + 3]) << 24 }
            let size = field(0), cpu = field(8)
            guard size <= WorkloadWire.maxResponseBytes, cpu <= WorkloadWire.maxCPUMicros else { return }
            WorkloadWire.burnCPU(micros: cpu)
            let sent = payload.withUnsafeBytes { BlockingIO.writeAll(fd, $0.baseAddress!, size) }
            guard sent else { return }
        }
    }
}
