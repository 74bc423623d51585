// 1 000 concurrent clients on the agent's socket: every client connects and makes its first
// call, all wait until every one is connected (so the agent really holds them all at once),
// then each makes its remaining calls. Reported: successes, latency, and the agent's RSS and
// descriptors before, under load and after the clients have gone.
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation

enum RPCSoak {
    static func run(socket: String, pid: Int32, clients: Int, calls: Int) throws {
        let before = try ProcessSample(pid: pid)
        let results = RPCResults()
        let connected = DispatchGroup()
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        for _ in 0..<clients { connected.enter(); finished.enter() }
        let started = ContinuousClock.now
        for _ in 0..<clients {
            let thread = Thread {
                var local = LatencyStats()
                var errors: [String] = []
                let client = RPCClient(path: socket, timeout: .seconds(30))
                for call in 0..<calls {
                    if call == 1 { release.wait() }
                    let t = ContinuousClock.now
                    do {
                        let w = try client.call(AgentMethod.telemetryGet, params: TelemetryGetParams()).window
                        if w.node != "soak-agent" { errors.append("wrong node \(w.node)") }
                        local.add(ContinuousClock.now - t)
                    } catch {
                        errors.append("\(error)")
                    }
                    if call == 0 { connected.leave() }
                }
                if calls == 1 { release.wait() }
                results.add(local, errors)
                withExtendedLifetime(client) {}
                finished.leave()
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
        connected.wait()
        let underLoad = try ProcessSample(pid: pid)
        for _ in 0..<clients { release.signal() }
        finished.wait()
        let elapsed = ContinuousClock.now - started
        Thread.sleep(forTimeInterval: 1)  // let the agent see the clients close
        let after = try ProcessSample(pid: pid)
        let (stats, failures) = results.value
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("rpc: \(clients) concurrent clients × \(calls) telemetry.get: \(stats.count)/\(clients * calls) ok, "
              + "\(failures.count) failed, \(String(format: "%.0f", Double(stats.count) / seconds)) calls/s, \(stats.summary)")
        print("rpc: agent before \(before); with \(clients) clients connected \(underLoad); after \(after)")
        if let first = failures.first { print("rpc: first failure: \(first)") }
    }
}

/// Results of all client threads, merged under a lock as each thread finishes.
private final class RPCResults: @unchecked Sendable {
    private let lock = NSLock()
    private var stats = LatencyStats()
    private var failures: [String] = []

    func add(_ s: LatencyStats, _ errors: [String]) {
        lock.withLock {
            stats.merge(s)
            failures += errors
        }
    }

    var value: (LatencyStats, [String]) { lock.withLock { (stats, failures) } }
}
