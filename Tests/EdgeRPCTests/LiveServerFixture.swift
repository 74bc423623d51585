// A real RPCServer on a fresh socket path under /tmp, with a few methods the live tests use.
import EdgeCore
@testable import EdgeRPC
import EdgeTelemetry
import Foundation
import Logging
import XCTest

struct EchoParams: Codable, Sendable, Equatable { var text: String; var repeatCount: Int? }
struct SumParams: Codable, Sendable { var values: [Int] }
struct SumResult: Codable, Sendable, Equatable { var total: Int; var callerUid: UInt32 }
struct SleepParams: Codable, Sendable { var milliseconds: Int }

enum Fixture {
    /// A new directory under /tmp (its socket path stays far below the 107-byte limit).
    static func scratchDirectory() throws -> String {
        let dir = "/tmp/edgerpc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        return dir
    }

    /// Quiet unless RPC_TEST_LOG is set (handler failures are expected in these tests).
    static var logger: Logger {
        var logger = Logger(label: "edgenode.rpc.test")
        logger.logLevel = ProcessInfo.processInfo.environment["RPC_TEST_LOG"] != nil ? .debug : .critical
        return logger
    }

    static func router() -> RPCRouter {
        var router = RPCRouter(logger: logger)
        router.register("echo", access: .read, summary: "Echo text.") { (p: EchoParams, _) in
            String(repeating: p.text, count: p.repeatCount ?? 1)
        }
        router.register("sum", access: .read, summary: "Add integers.") { (p: SumParams, peer: RPCPeer) in
            SumResult(total: p.values.reduce(0, +), callerUid: peer.uid)
        }
        router.register("sleep", access: .read, summary: "Sleep, then answer.") { (p: SleepParams, _) -> Bool in
            try await Task.sleep(for: .milliseconds(p.milliseconds))
            return true
        }
        router.register("fail", access: .read, summary: "Throws a plain error.") { _ -> Int in
            throw POSIXError(.EIO)
        }
        router.register("state.set", access: .write, summary: "Pretend to change state.") { peer in
            ["changed_by_uid": Int(peer.uid)]
        }
        router.register("telemetry.get", access: .read, summary: "A telemetry window.") { _ in
            Fixture.telemetryWindow
        }
        return router
    }

    /// A window the size of a real one (a few peers and drop reasons).
    static let telemetryWindow = TelemetryWindow(
        node: "edge-1", agentVersion: "0.1.0", generatedAt: 1_700_000_000, windowSeconds: 10,
        rttP50Ms: 0.42, rttP99Ms: 3.1, rttSamples: 18_233, retransRate: 0.0012, retransmits: 22, segmentsOut: 18_000,
        dropRate: 0.3, dropRateWeighted: 0.2,
        drops: [DropReasonStat(reason: "TCP_INVALID_SEQUENCE", count: 3, ratePerSecond: 0.3, weight: 0.5)],
        runqlatP95Ms: 0.08, runqlatSamples: 90_000, cpuUtilization: 0.37,
        peers: (1...8).map { PeerRTT(address: "10.0.0.\($0)", rttP50Ms: 0.4, rttP99Ms: 2.9, samples: 2000) })
}

/// Starts a server in setUp-style code and tears it down; blocking client calls then run on
/// the test's own thread (never on the cooperative pool the server's handlers use).
final class LiveServer {
    let directory: String
    let path: String
    let server: RPCServer
    private var runTask: Task<Void, any Error>?

    init(configure: (inout RPCServerConfiguration) -> Void = { _ in }) throws {
        directory = try Fixture.scratchDirectory()
        path = directory + "/edge-agent.sock"
        var configuration = RPCServerConfiguration(socketPath: path, socketGroup: nil)
        configure(&configuration)
        server = RPCServer(configuration: configuration, router: Fixture.router(), logger: Fixture.logger)
    }

    func start() async throws {
        try await server.start()
        let server = self.server
        runTask = Task { try await server.run() }
    }

    func stop() async throws {
        await server.shutdown()
        try await runTask?.value
        try? FileManager.default.removeItem(atPath: directory)
    }

    func client(timeout: Duration = .seconds(5)) -> RPCClient {
        RPCClient(path: path, timeout: timeout)
    }
}

/// Runs `body(i)` for i in 0..<count on `count` real threads at once; returns the errors.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [any Error] {
    let errors = NSLock()
    nonisolated(unsafe) var collected: [any Error] = []
    let group = DispatchGroup()
    var threads: [Thread] = []
    for i in 0..<count {
        group.enter()
        let thread = Thread {
            do { try body(i) } catch {
                errors.lock()
                collected.append(error)
                errors.unlock()
            }
            group.leave()
        }
        thread.stackSize = 1 << 20
        threads.append(thread)
    }
    threads.forEach { $0.start() }
    group.wait()
    return collected
}

/// Asserts that `body` throws an RPCClientError carrying server error `code`; returns its message.
@discardableResult
func assertServerError<T>(_ code: JSONRPCErrorCode, file: StaticString = #filePath, line: UInt = #line,
                          _ body: () throws -> T) -> String? {
    do {
        _ = try body()
        XCTFail("expected JSON-RPC error \(code.rawValue), got a result", file: file, line: line)
    } catch let error as RPCClientError {
        guard case .server(_, _, let object) = error else {
            XCTFail("expected JSON-RPC error \(code.rawValue), got \(error)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(object.code, code, object.message, file: file, line: line)
        return object.message
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}
