// Open-loop load: requests are due at fixed times (rate r, round-robin over the replicas, as a
// Service spreads them over its endpoints), whatever the answers do. Latency is measured from
// the time a request was *due*, not from when a free connection picked it up, so a slow replica
// cannot hide its queueing (no coordinated omission). Every due request ends as exactly one
// record: ok, timeout, connect_failed or io_error.
import ArgumentParser
import EdgeLab
import Foundation

/// Where requests go: a replica (measured) or a node's probe server (for the score–latency correlation).
struct LoadTarget: Equatable {
    var kind: String
    var node: String
    var host: String
    var port: UInt16

    /// Parses "node-1@198.18.101.2:7000".
    init(kind: String, parsing text: String) throws {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"),
              let port = UInt16(parts[1][parts[1].index(after: colon)...]), port > 0 else {
            throw ValidationError("--\(kind) '\(text)': expected NODE@IPV4:PORT, e.g. node-1@198.18.101.2:7000")
        }
        let octets = parts[1][..<colon].split(separator: ".", omittingEmptySubsequences: false)
        guard !parts[0].isEmpty, octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else {
            throw ValidationError("--\(kind) '\(text)': expected NODE@IPV4:PORT with a node name and a dotted IPv4 address")
        }
        self.kind = kind
        self.node = parts[0]
        self.host = String(parts[1][..<colon])
        self.port = port
    }

    var argument: String { "\(node)@\(host):\(port)" }
}

/// How one due request ended.
enum RequestOutcome: String {
    case ok, timeout
    case connectFailed = "connect_failed"
    case ioError = "io_error"
}

/// A FIFO of schedule indices shared by the workers of one target.
private final class WorkQueue: @unchecked Sendable {
    private let cond = NSCondition()
    private var items: [Int] = []
    private var head = 0
    private var closed = false

    func push(_ i: Int) { cond.lock(); items.append(i); cond.signal(); cond.unlock() }
    func close() { cond.lock(); closed = true; cond.broadcast(); cond.unlock() }
    func pop() -> Int? {
        cond.lock(); defer { cond.unlock() }
        while head == items.count && !closed { cond.wait() }
        guard head < items.count else { return nil }
        head += 1
        return items[head - 1]
    }
}

private final class WorkerLog: @unchecked Sendable {
    var records: [(index: Int, latency: Double, outcome: RequestOutcome)] = []
}

/// The open-loop engine.
struct LoadEngine {
    var replicas: [LoadTarget]
    var probes: [LoadTarget]
    var rps: Double
    var probeRPS: Double
    var seconds: Double
    var timeout: Double
    var connectionsPerReplica: Int
    var responseBytes: Int
    /// CPU work per request on the server, microseconds.
    var cpuMicros = 0

    struct Entry { var offset: Double; var target: Int }

    /// The due times: the replica stream round-robin, each probe target at its own rate (phases staggered).
    func schedule() -> [Entry] {
        var s: [Entry] = []
        let n = Int((rps * seconds).rounded(.down))
        for i in 0..<n { s.append(Entry(offset: Double(i) / rps, target: i % replicas.count)) }
        if probeRPS > 0 {
            let m = Int((probeRPS * seconds).rounded(.down))
            for (p, _) in probes.enumerated() {
                let phase = (Double(p) + 0.5) / Double(probes.count)
                for j in 0..<m { s.append(Entry(offset: (Double(j) + phase) / probeRPS, target: replicas.count + p)) }
            }
        }
        return s.sorted { $0.offset < $1.offset }
    }

    /// Runs the load; returns one (entry, latency seconds, outcome) per due request, in due order.
    func run() -> [(Entry, Double, RequestOutcome)] {
        let targets = replicas + probes
        let plan = schedule()
        let queues = targets.map { _ in WorkQueue() }
        let group = DispatchGroup()
        var logs: [WorkerLog] = []
        let start = monotonicNow() + 0.2 // let the workers connect-free start before the first due time
        for (t, target) in targets.enumerated() {
            let workers = t < replicas.count ? connectionsPerReplica : 2
            for _ in 0..<workers {
                let log = WorkerLog()
                logs.append(log)
                group.enter()
                let thread = Thread { [queue = queues[t], responseBytes, timeout, cpuMicros] in
                    Self.work(queue: queue, target: target, plan: plan, start: start, timeout: timeout,
                              responseBytes: responseBytes, cpuMicros: cpuMicros, log: log)
                    group.leave()
                }
                thread.stackSize = 512 << 10
                thread.start()
            }
        }
        for (i, e) in plan.enumerated() {
            let wait = start + e.offset - monotonicNow()
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            queues[e.target].push(i)
        }
        queues.forEach { $0.close() }
        group.wait()
        var byIndex = [(Double, RequestOutcome)?](repeating: nil, count: plan.count)
        for log in logs { for r in log.records { byIndex[r.index] = (r.latency, r.outcome) } }
        return plan.enumerated().map { i, e in (e, byIndex[i]!.0, byIndex[i]!.1) }
    }

    private static func work(queue: WorkQueue, target: LoadTarget, plan: [Entry], start: Double, timeout: Double,
                             responseBytes: Int, cpuMicros: Int, log: WorkerLog) {
        var conn: DeadlineSocket?
        var buffer = [UInt8](repeating: 0, count: responseBytes)
        var sequence: UInt32 = 0
        while let index = queue.pop() {
            let due = start + plan[index].offset
            let deadline = due + timeout
            var outcome = RequestOutcome.ok
            if monotonicNow() >= deadline {
                outcome = .timeout // waited in the queue past its deadline: the user gave up
            } else {
                var connecting = false
                do {
                    if conn == nil {
                        connecting = true
                        conn = try DeadlineSocket.connect(host: target.host, port: target.port, deadline: deadline)
                        connecting = false
                    }
                    sequence &+= 1
                    try conn!.sendAll(WorkloadWire.request(responseBytes: responseBytes, sequence: sequence, cpuMicros: cpuMicros), deadline: deadline)
                    try conn!.receiveExactly(responseBytes, into: &buffer, deadline: deadline)
                } catch {
                    conn = nil // a late answer would arrive on the next request: start over
                    if let e = error as? SocketError, e.timedOut { outcome = .timeout }
                    else { outcome = connecting ? .connectFailed : .ioError }
                }
            }
            log.records.append((index, monotonicNow() - due, outcome))
        }
    }
}

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive open-loop request/response load at the replicas (and probes); write every request to a CSV.")

    @Option(name: .customLong("replica"), help: "A replica, NODE@IPV4:PORT (repeat).") var replicaArgs: [String] = []
    @Option(name: .customLong("probe"), help: "A node's probe server, NODE@IPV4:PORT (repeat).") var probeArgs: [String] = []
    @Option(help: "Requests per second over all replicas.") var rps: Double
    @Option(help: "Requests per second to each probe server.") var probeRps: Double = 0
    @Option(help: "Seconds of load.") var seconds: Double
    @Option(help: "Seconds before a request counts as timed out.") var timeout: Double = 1
    @Option(help: "Persistent connections per replica.") var connections = 8
    @Option(help: "Bytes in each response.") var responseBytes = 16384
    @Option(help: "CPU microseconds the server spends on each request.") var cpuMicros = 0
    @Option(help: "CSV of every request (offset_s,kind,node,port,latency_ms,outcome); none if omitted.") var out: String?

    func validate() throws {
        guard !replicaArgs.isEmpty else { throw ValidationError("give at least one --replica") }
        // malformed targets are refused here, before any load starts
        for r in replicaArgs { _ = try LoadTarget(kind: "replica", parsing: r) }
        for p in probeArgs { _ = try LoadTarget(kind: "probe", parsing: p) }
        guard rps > 0 && rps <= 100_000 else { throw ValidationError("--rps must be in (0, 100000], got \(rps)") }
        guard probeRps >= 0 && probeRps <= 1000 else { throw ValidationError("--probe-rps must be in [0, 1000], got \(probeRps)") }
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600], got \(seconds)") }
        guard timeout > 0 && timeout <= 60 else { throw ValidationError("--timeout must be in (0, 60], got \(timeout)") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be in 1…256, got \(connections)") }
        guard (1...WorkloadWire.maxResponseBytes).contains(responseBytes) else {
            throw ValidationError("--response-bytes must be in 1…\(WorkloadWire.maxResponseBytes), got \(responseBytes)")
        }
        guard (0...WorkloadWire.maxCPUMicros).contains(cpuMicros) else {
            throw ValidationError("--cpu-micros must be in 0…\(WorkloadWire.maxCPUMicros), got \(cpuMicros)")
        }
    }

    func run() throws {
        let engine = LoadEngine(
            replicas: try replicaArgs.map { try LoadTarget(kind: "replica", parsing: $0) },
            probes: try probeArgs.map { try LoadTarget(kind: "probe", parsing: $0) },
            rps: rps, probeRPS: probeRps, seconds: seconds, timeout: timeout,
            connectionsPerReplica: connections, responseBytes: responseBytes, cpuMicros: cpuMicros)
        let targets = engine.replicas + engine.probes
        let results = engine.run()
        if let out {
            var csv = "offset_s,kind,node,port,latency_ms,outcome\n"
            csv.reserveCapacity(results.count * 48)
            for (e, latency, outcome) in results {
                let t = targets[e.target]
                csv += "\(String(format: "%.6f", e.offset)),\(t.kind),\(t.node),\(t.port),\(String(format: "%.3f", latency * 1000)),\(outcome.rawValue)\n"
            }
            try csv.write(toFile: out, atomically: true, encoding: .utf8)
        }
        let ok = results.filter { $0.2 == .ok }.count
        print(#"{"requests":\#(results.count),"ok":\#(ok)}"#)
    }
}
