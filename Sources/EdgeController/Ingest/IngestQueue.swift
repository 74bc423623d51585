// Reports are decoded and stored one at a time on a thread of their own, and at most
// `maxWaiting` are read or waiting at once; more get 503 before their body is read.
//
// Why (make abuse, issue 13 finding 10): a token holder sending 125 KB reports with 1 024 peers
// on 16 connections kept both threads of Swift's cooperative pool (a 2-core host) busy decoding;
// /healthz waited up to 10 s, and the controller's watchdog ping, which needs its own listener
// to answer, stopped for 78 s at 5 000 nodes (WatchdogSec is 4 s). Off the pool, the listener
// and the extender keep answering while reports queue; the registry lock serialised the stores
// anyway, so only decoding loses its second thread.
import Dispatch
import Synchronization

public final class IngestQueue: Sendable {
    /// Reports read or waiting at once; bounds the report bodies held in memory to
    /// `maxWaiting` × the report size limit.
    public let maxWaiting: Int
    private let waiting = Mutex(0)
    private let queue = DispatchQueue(label: "edge-controller.ingest", qos: .userInitiated)

    public init(maxWaiting: Int = 32) {
        self.maxWaiting = max(1, maxWaiting)
    }

    /// A place in the queue, or the reason there is none.
    public func admit() -> String? {
        waiting.withLock { n in
            guard n < maxWaiting else { return "\(n) reports are already waiting to be ingested" }
            n += 1
            return nil
        }
    }

    /// Gives back the place `admit()` handed out.
    public func release() {
        waiting.withLock { $0 -= 1 }
    }

    /// Runs `work` on the ingest thread.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in queue.async { c.resume(returning: work()) } }
    }

    /// Reports read or waiting now (for tests and metrics).
    public var inProgress: Int { waiting.withLock { $0 } }
}
