// Keeps a flood of identical warnings out of the journal (issue 13: each 401 wrote a line, so an
// unauthenticated client could fill the journal). The first line of a kind is written; then at
// most one per interval, carrying how many were suppressed since the last one written.
import Synchronization

public final class LogRateLimiter: Sendable {
    public let interval: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// nil: suppress this line; otherwise write it, noting the returned count of lines suppressed
    /// since the previous one written.
    public func admit(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { s in
            if let last = s.last, now - last < interval {
                s.suppressed += 1
                return nil
            }
            let suppressed = s.suppressed
            s = (now, 0)
            return suppressed
        }
    }
}
