// Admission of /filter and /prioritize requests: a bounded number at once, and at most one with a
// large body (issue 13, finding 6: six concurrent 62 MiB bodies parsed side by side on the shared
// pool stalled the watchdog for 59 s and added 1.6 GB of RSS). What is over the bound gets 503 at
// once, before its body is read; kube-scheduler ignores prioritize errors and sends one request per
// pod at a time, so a legitimate scheduler never meets the bound.
import Dispatch
import Synchronization

/// Counts extender requests in progress.
public final class ExtenderAdmission: Sendable {
    public let maxRequests: Int
    /// Bodies over this many bytes, or of unknown length, take the single large slot.
    public let largeBytes: Int
    private let state = Mutex<(all: Int, large: Int)>((0, 0))
    /// Large bodies are parsed here, off Swift's cooperative pool (two threads on a 2-core host):
    /// a multi-second parse there would stall /healthz, ingest and the watchdog ping.
    private let parseQueue = DispatchQueue(label: "edge-controller.extender-parse", qos: .utility)

    public init(maxRequests: Int, largeBytes: Int) {
        self.maxRequests = max(1, maxRequests)
        self.largeBytes = largeBytes
    }

    /// A slot held for one request; `release()` exactly once.
    public struct Lease: Sendable {
        public let large: Bool
    }

    /// A slot for a request declaring `contentLength` bytes (nil: chunked, counted as large),
    /// or the reason there is none.
    public func admit(contentLength: Int?) -> Result<Lease, ExtenderBusy> {
        let large = contentLength.map { $0 > largeBytes } ?? true
        return state.withLock { s in
            if s.all >= maxRequests {
                return .failure(ExtenderBusy(reason: "\(s.all) extender requests in progress (server.max_extender_requests = \(maxRequests))"))
            }
            if large && s.large >= 1 {
                return .failure(ExtenderBusy(reason: "another request with a body over \(largeBytes) bytes is in progress"))
            }
            s.all += 1
            if large { s.large += 1 }
            return .success(Lease(large: large))
        }
    }

    public func release(_ lease: Lease) {
        state.withLock { s in
            s.all -= 1
            if lease.large { s.large -= 1 }
        }
    }

    /// Requests in progress (all, large): for metrics and tests.
    public var inProgress: (all: Int, large: Int) { state.withLock { $0 } }

    /// Runs `work` for `lease`: inline for a small body, on the parse thread for a large one.
    public func run<T: Sendable>(_ lease: Lease, _ work: @escaping @Sendable () -> T) async -> T {
        guard lease.large else { return work() }
        return await withCheckedContinuation { c in
            parseQueue.async { c.resume(returning: work()) }
        }
    }
}

/// Why an extender request was turned away (503).
public struct ExtenderBusy: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
