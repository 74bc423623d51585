// The telemetry tick as a service: read, aggregate, export, and only then tell the systemd
// watchdog we are alive — a stuck kernel read therefore ends in a watchdog restart.
import EdgeSystemd
import Logging
import ServiceLifecycle

struct CollectorService: Service {
    let collector: TelemetryCollector
    let metrics: AgentMetrics
    let interval: Duration
    let notifier: SDNotifier
    let logger: Logger

    func run() async throws {
        // ticks stop at once on SIGTERM: the group then detaches BPF
        try? await cancelWhenGracefulShutdown { await loop() }
        metrics.markDown()
    }

    private func loop() async {
        let clock = ContinuousClock()
        var next = clock.now
        var failing = false
        while !Task.isCancelled {
            next = next.advanced(by: interval)
            do {
                try await clock.sleep(until: next)
            } catch {
                break
            }
            do {
                let w = try collector.tick()
                metrics.update(from: w)
                if failing {
                    logger.notice("telemetry reads recovered")
                    failing = false
                }
                notifier.watchdogPing()
            } catch {
                // a failed read keeps the old window; say so once, not every tick
                if !failing { logger.error("telemetry read failed: \(error)") }
                failing = true
            }
            // after a long stall (suspend, overload) resume from now instead of bursting
            if clock.now - next > interval * 2 { next = clock.now }
        }
    }
}
