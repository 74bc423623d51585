// The figures of `make abuse`, taken the same way for every attack on either daemon: while an
// attack runs, the daemon's RSS and descriptors are sampled every 100 ms, every WATCHDOG=1 it
// sends is timestamped, and probes (health endpoints, ingest, root's RPC calls) run on fresh
// connections. Each attack becomes one row: longest watchdog gap, RSS and fds before / peak /
// after, each probe's latency and failures, and what the attack itself saw. The rows of both
// runs are printed again as one Markdown table at the end (docs/abuse-figures.md holds one).
import EdgeLab
import Foundation

/// One attack's figures.
struct AttackRow {
    var run: String
    var attack: String
    /// The issue 13 finding(s) the attack replays ("#3").
    var finding: String
    var seconds: Double
    var watchdogGap: Double
    var rssKiB: (before: Int, peak: Int, after: Int)
    var fds: (before: Int, peak: Int, after: Int)
    var probes: [(name: String, stats: LatencyStats, failed: Int)]
    var outcome: String

    static let header = "| run | attack | finding | s | longest watchdog gap | RSS MiB before / peak / after | fds before / peak / after | probes under attack: p50 / p99 / max (failed) | what the attack got |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"

    var markdown: String {
        let mib = { (k: Int) in String(format: "%.1f", Double(k) / 1024) }
        let probeText = probes.map { p -> String in
            p.stats.count == 0 ? "\(p.name): none answered (\(p.failed) failed)"
                : "\(p.name) " + String(format: "%.1f / %.1f / %.1f ms (%d)", p.stats.quantile(0.5) * 1000,
                                        p.stats.quantile(0.99) * 1000, p.stats.quantile(1) * 1000, p.failed)
        }.joined(separator: "; ")
        return "| \(run) | \(attack) | \(finding) | " + String(format: "%.1f", seconds) + " | "
            + String(format: "%.2f s", watchdogGap) + " | \(mib(rssKiB.before)) / \(mib(rssKiB.peak)) / \(mib(rssKiB.after)) | "
            + "\(fds.before) / \(fds.peak) / \(fds.after) | \(probeText) | \(outcome.replacingOccurrences(of: "|", with: "/")) |"
    }
}

/// Calls `body` every `interval` on a thread of its own (in network namespace `netns` when
/// given) and records when each call started, how long it took and whether it succeeded.
final class Probe: @unchecked Sendable {
    let name: String
    private let lock = NSLock()
    private var samples: [(at: Date, seconds: Double, ok: Bool)] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(_ name: String, every interval: Double, netns: String? = nil, _ body: @escaping @Sendable () -> Bool) {
        self.name = name
        let thread = Thread { [self] in
            if let netns, !enterNetworkNamespace(netns) {
                lock.withLock { samples.append((Date(), 0, false)) }
            } else {
                while lock.withLock({ running }) {
                    let at = Date()
                    let ok = body()
                    let took = Date().timeIntervalSince(at)
                    lock.withLock { samples.append((at, took, ok)) }
                    Thread.sleep(forTimeInterval: max(0, interval - took))
                }
            }
            done.signal()
        }
        thread.name = "probe \(name)"
        thread.start()
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }

    /// Latencies of the successful calls started in [from, to], and how many failed.
    func stats(from: Date, to: Date) -> (LatencyStats, Int) {
        lock.withLock {
            var s = LatencyStats(), failed = 0
            for x in samples where x.at >= from && x.at <= to {
                if x.ok { s.add(.nanoseconds(Int64(x.seconds * 1e9))) } else { failed += 1 }
            }
            return (s, failed)
        }
    }
}

/// Moves the calling thread (only) into network namespace `name` (/run/netns/NAME).
/// setns(2) is not in Swift's Glibc module; it is looked up in libc.
func enterNetworkNamespace(_ name: String) -> Bool {
    typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    guard let sym = dlsym(nil, "setns") else { return false }
    let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET
    return unsafeBitCast(sym, to: SetNS.self)(fd, cloneNewNet) == 0
}

/// RSS and descriptors of `pid` every 100 ms.
final class DaemonSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [(at: Date, sample: ProcessSample)] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                if let s = try? ProcessSample(pid: pid) { lock.withLock { samples.append((Date(), s)) } }
                Thread.sleep(forTimeInterval: 0.1)
            }
            done.signal()
        }
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }

    /// The largest RSS and descriptor count sampled in [from, to].
    func peak(from: Date, to: Date) -> (rssKiB: Int, fds: Int) {
        lock.withLock {
            let w = samples.filter { $0.at >= from && $0.at <= to }.map(\.sample)
            return (w.map(\.rssKiB).max() ?? 0, w.map(\.fds).max() ?? 0)
        }
    }
}

/// The watch kept on one daemon during a run of attacks, and the rows it produced.
final class AbuseMonitor {
    let run: String
    let pid: Int32
    let watchdog: NotifySocket
    private let sampler: DaemonSampler
    private var probes: [Probe] = []
    /// Every row of this invocation, both runs (a failed run keeps the rows it made).
    nonisolated(unsafe) private(set) static var rows: [AttackRow] = []

    init(run: String, pid: Int32, watchdog: NotifySocket) {
        self.run = run
        self.pid = pid
        self.watchdog = watchdog
        sampler = DaemonSampler(pid: pid)
    }

    func probe(_ name: String, every interval: Double, netns: String? = nil, _ body: @escaping @Sendable () -> Bool) {
        probes.append(Probe(name, every: interval, netns: netns, body))
    }

    /// Runs one attack (`body` returns what the attack saw) and prints its row.
    func attack(_ name: String, finding: String, _ body: () throws -> String) throws {
        RunGuard.phase("\(run): \(name)")
        let before = try ProcessSample(pid: pid)
        let start = Date()
        let outcome = try body()
        let end = Date()
        guard let after = try? ProcessSample(pid: pid) else {
            throw SoakError("\(run): the daemon (pid \(pid)) died during \(name): \(outcome)")
        }
        let peak = sampler.peak(from: start, to: end)
        let row = AttackRow(
            run: run, attack: name, finding: finding, seconds: end.timeIntervalSince(start),
            watchdogGap: watchdog.longestGap(of: "WATCHDOG=1", from: start, to: end),
            rssKiB: (before.rssKiB, max(peak.rssKiB, before.rssKiB, after.rssKiB), after.rssKiB),
            fds: (before.fds, max(peak.fds, before.fds, after.fds), after.fds),
            probes: probes.map { p -> (name: String, stats: LatencyStats, failed: Int) in
                let (s, f) = p.stats(from: start, to: end)
                return (p.name, s, f)
            },
            outcome: outcome)
        Self.rows.append(row)
        print("\(run): [\(name)] \(outcome)")
        let times = String(format: "%.1f s; longest watchdog gap %.2f s; ", row.seconds, row.watchdogGap)
        let rss = String(format: "RSS %.1f / %.1f / %.1f MiB", Double(row.rssKiB.before) / 1024, Double(row.rssKiB.peak) / 1024,
                         Double(row.rssKiB.after) / 1024)
        let fds = "fds \(row.fds.before) / \(row.fds.peak) / \(row.fds.after) (before / peak / after)"
        let probeText = row.probes.map { "\($0.name) \($0.stats.summary) (\($0.stats.count) ok, \($0.failed) failed)" }
        print("\(run): [\(name)] \(times)\(rss); \(fds); \(probeText.joined(separator: "; "))")
    }

    func stop() {
        probes.forEach { $0.stop() }
        sampler.stop()
    }

    /// All rows as one Markdown table.
    static func printTable() {
        guard !rows.isEmpty else { return }
        print("\nedge-soak: figures (Markdown)\n" + AttackRow.header)
        rows.forEach { print($0.markdown) }
    }
}

/// GET `path` on a fresh connection to 127.0.0.1:`port`; true on 200.
func httpGetOK(port: Int, _ path: String) -> Bool {
    AbuseSocket.exchange(port: port, AbuseSocket.get(path), timeout: 30) == 200
}
