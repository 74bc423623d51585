// `--runs abuse-agent` (make abuse): issue 13's attacks by a member of the socket's group,
// replayed against the release edge-agent with shaping on a veth in a namespace of its own.
// Phases: idle, a write from a user namespace, 18,000-request batches, 1,024 classes and a
// flood of shaping.list, slow-loris connections, half-close. Meanwhile root calls agent.status
// every 200 ms and shaping.set every second, and every WATCHDOG=1 is timestamped. Per phase it
// prints the longest gap between watchdog pings, root's latencies, the agent's RSS and fds.
import EdgeCore
import EdgeRPC
import Foundation

enum AgentAbuseRun {
    static func run(binDir: String, seconds: Int) throws {
        let bed = try AbuseBed(binDir: binDir)
        defer { bed.stop() }
        print("abuse-agent: release edge-agent pid \(bed.pid) in netns \(bed.netns), shaping on veth0 (4 TX queues), "
              + "telemetry interval 1 s, rpc.max_clients_per_uid 64, rpc.idle_timeout 10 s")
        let prober = RootProber(socket: bed.socket)
        prober.start()
        defer { prober.stop() }

        var phases: [(String, Date, Date, String)] = []
        func phase(_ name: String, _ body: () throws -> String) rethrows {
            let start = Date()
            let result = try body()
            phases.append((name, start, Date(), result))
            report(name, start, Date(), result, bed: bed, prober: prober)
        }
        try phase("idle") {
            Thread.sleep(forTimeInterval: 5)
            return "no attack"
        }
        try phase("userns-write") {
            let r = try bed.attack(["/usr/bin/unshare", "-Ur"], mode: "write")
            return "shaping.set as root of a user namespace made by nobody: \(r["answer"]?["error"]?["message"]?.stringValue ?? "ANSWERED \(r)")"
        }
        try phase("big-batch") {
            let r = try bed.attack(mode: "batch", Double(seconds))
            return "\(r["sent"]?.intValue ?? 0) batches of 18,000 telemetry.get on 4 connections, \(r["refused"]?.intValue ?? 0) refused "
                + "(\(r["message"]?.stringValue ?? "-")), slowest answer \(ms(r["slowest"]?.doubleValue ?? 0))"
        }
        let fill = try bed.fillClasses(1024)
        try phase("list-1024") {
            var one = LatencyStats()
            for _ in 0..<10 {
                let t = ContinuousClock.now
                let list: ShapingListResult = try RPCClient(path: bed.socket, timeout: .seconds(60)).call("shaping.list")
                one.add(ContinuousClock.now - t)
                guard list.classes.count >= 1024 else { throw SoakError("shaping.list returned \(list.classes.count) classes") }
            }
            return "1,024 classes set in \(ms(fill)); one shaping.list (root, 10 calls): \(one.summary)"
        }
        try phase("list-flood") {
            let r = try bed.attack(mode: "flood", Double(seconds))
            return "\(r["batches"]?.intValue ?? 0) batches of 8 shaping.list + 8 telemetry.get on 4 connections "
                + "(\(String(format: "%.0f", Double(r["bytes"]?.intValue ?? 0) / 1_048_576)) MiB answered), \(r["lost"]?.intValue ?? 0) connections lost"
        }
        try phase("slow-loris") {
            let r = try bed.attack(mode: "loris", 15, extra: ["200"])
            return "200 half-frame connections: \(r["held"]?.intValue ?? 0) held, \(r["refused"]?.intValue ?? 0) refused "
                + "(\(r["message"]?.stringValue ?? "-")), \(r["failed"]?.intValue ?? 0) failed to connect, "
                + "\(r["closed_by_server"]?.intValue ?? 0) of the held closed by the server after the idle timeout"
        }
        try phase("half-close") {
            let r = try bed.attack(mode: "halfclose")
            return "shaping.list + telemetry.get then shutdown(SHUT_WR): \(r["answers"]?.intValue ?? 0) of 2 answered"
        }
        let gaps = bed.watchdogGaps(from: phases.first!.1, to: Date())
        print("abuse-agent: whole run: \(gaps.count) watchdog pings, longest gap \(String(format: "%.2f", gaps.max() ?? 0)) s "
              + "(WatchdogSec=30s in the unit); agent \(try ProcessSample(pid: bed.pid))")
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
    static func ms(_ d: Duration) -> String {
        ms(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    static func report(_ name: String, _ start: Date, _ end: Date, _ result: String, bed: AbuseBed, prober: RootProber) {
        let gaps = bed.watchdogGaps(from: start, to: end)
        let (status, set, failures) = prober.stats(from: start, to: end)
        let sample = (try? ProcessSample(pid: bed.pid).description) ?? "gone"
        print("abuse-agent: [\(name)] \(result)")
        print("abuse-agent: [\(name)] \(String(format: "%.1f", end.timeIntervalSince(start))) s; longest watchdog gap "
              + "\(String(format: "%.2f", gaps.max() ?? 0)) s; root agent.status \(status.summary) (\(status.count)); "
              + "root shaping.set \(set.summary) (\(set.count)); root failures \(failures); agent \(sample)")
    }
}

/// Root's calls during the attacks, with the time each was made.
final class RootProber: @unchecked Sendable {
    private let socket: String
    private let lock = NSLock()
    private var samples: [(Date, String, Double)] = []
    private var failures: [(Date, String)] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(socket: String) { self.socket = socket }

    func start() {
        let thread = Thread { [self] in
            var n = 0
            while lock.withLock({ running }) {
                let method = n % 5 == 4 ? "shaping.set" : "agent.status"
                let t = Date()
                do {
                    let client = RPCClient(path: socket, timeout: .seconds(30))
                    if method == "shaping.set" {
                        let _: ShapingClassInfo = try client.call(method, params: ShapingSetParams(selector: "10.99.0.1", rate: "10mbit"))
                    } else {
                        let _: AgentStatus = try client.call(method)
                    }
                    lock.withLock { samples.append((t, method, Date().timeIntervalSince(t))) }
                } catch {
                    lock.withLock { failures.append((t, "\(method): \(error)")) }
                }
                n += 1
                Thread.sleep(forTimeInterval: 0.2)
            }
            done.signal()
        }
        thread.start()
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }

    func stats(from: Date, to: Date) -> (LatencyStats, LatencyStats, Int) {
        lock.withLock {
            var status = LatencyStats(), set = LatencyStats()
            for (t, method, seconds) in samples where t >= from && t <= to {
                if method == "shaping.set" { set.add(.nanoseconds(Int64(seconds * 1e9))) } else { status.add(.nanoseconds(Int64(seconds * 1e9))) }
            }
            return (status, set, failures.filter { $0.0 >= from && $0.0 <= to }.count)
        }
    }
}
