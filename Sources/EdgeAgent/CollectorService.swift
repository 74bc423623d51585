// The telemetry tick as a service: read, aggregate, export, and only then tell the systemd
// watchdog we are alive — a stuck kernel read therefore ends in a watchdog restart.
//
// The tick runs on a thread of its own, not in Swift's cooperative pool: RPC handlers, the
// shaping counters and HTTP run there and may block (map walks, locks), and on a 2-core node
// the pool has 2 threads. A busy local API must never stop ticks or watchdog pings.
import EdgeSystemd
import Foundation
import Logging
import ServiceLifecycle

struct CollectorService: Service {
    let collector: TelemetryCollector
    let metrics: AgentMetrics
    let interval: Duration
    let notifier: SDNotifier
    let logger: Logger

    func run() async throws {
        let ticker = TickThread(interval: interval, name: "edge-telemetry") { [collector, metrics, notifier, logger] failing in
            do {
                let w = try collector.tick()
                metrics.update(from: w)
                if failing {
                    logger.notice("telemetry reads recovered")
                }
                notifier.watchdogPing()
                return false
            } catch {
                // a failed read keeps the old window; say so once, not every tick
                if !failing { logger.error("telemetry read failed: \(error)") }
                return true
            }
        }
        ticker.start()
        // ticks stop at once on SIGTERM: the group then detaches BPF
        try? await gracefulShutdown()
        await ticker.stop()
        metrics.markDown()
    }
}

/// Runs `body` every `interval` on a dedicated thread until `stop()`. `body` gets whether the
/// previous call failed and returns whether this one did.
final class TickThread: @unchecked Sendable {
    private let interval: Duration
    private let name: String
    private let body: (Bool) -> Bool
    private let lock = NSLock()
    // guarded by `lock`
    private var stopping = false
    private var finished = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(interval: Duration, name: String, body: @escaping (Bool) -> Bool) {
        self.interval = interval
        self.name = name
        self.body = body
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to stop and waits until its current tick, if any, has finished.
    func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            stopping = true
            if finished {
                lock.unlock()
                c.resume()
                return
            }
            waiters.append(c)
            lock.unlock()
        }
    }

    private func loop() {
        let clock = ContinuousClock()
        var next = clock.now
        var failing = false
        while true {
            next = next.advanced(by: interval)
            // Relative sleeps on the monotonic clock, in slices so that stop() is seen within
            // 50 ms; a condition wait would take a wall-clock deadline, which a clock step stretches.
            var stop = false
            while true {
                stop = lock.withLock { stopping }
                let left = clock.now.duration(to: next)
                if stop || left <= .zero { break }
                let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
                Thread.sleep(forTimeInterval: min(seconds, 0.05))
            }
            if stop { break }
            failing = body(failing)
            // after a long stall (suspend, overload) resume from now instead of bursting
            if next.duration(to: clock.now) > interval * 2 { next = clock.now }
        }
        lock.lock()
        finished = true
        let resume = waiters
        waiters = []
        lock.unlock()
        for c in resume { c.resume() }
    }
}
