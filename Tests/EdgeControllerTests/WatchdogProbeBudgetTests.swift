// The self-probe's retry budget: a slow /healthz answer is retried, and the watchdog ping is
// withheld only when the last ping is 7/8 of WatchdogSec old (the live "hung listener" case is
// ControllerWatchdogTests).
@testable import EdgeController
import XCTest

final class WatchdogProbeBudgetTests: XCTestCase {
    /// The shipped unit: WatchdogSec=4s, so pings every 2 s and a withhold after 3.5 s.
    func testTheShippedWatchdogRetriesUntilSevenEighthsOfTheWindow() {
        let budget = WatchdogProbeBudget(interval: .seconds(2))
        XCTAssertEqual(budget.withholdAfter, .milliseconds(3500))
        XCTAssertEqual(budget.retryPause, .milliseconds(250))
        // a probe that failed 2.5 s after the last ping (2 s sleep + 0.5 s of a 1 s probe) is retried
        // with what is left: 3.5 − 2.5 − 0.25 = 0.75 s
        XCTAssertEqual(budget.retryTimeout(sinceLastPing: .milliseconds(2500)), .milliseconds(750))
        // after a full 1 s probe timeout (3.0 s) there is still a short retry
        XCTAssertEqual(budget.retryTimeout(sinceLastPing: .seconds(3)), .milliseconds(250))
        // past the budget: withhold
        XCTAssertNil(budget.retryTimeout(sinceLastPing: .milliseconds(3250)))
        XCTAssertNil(budget.retryTimeout(sinceLastPing: .seconds(10)))
    }

    /// A retry never ends after the next ping would have been due by systemd's clock.
    func testARetryAlwaysEndsBeforeTheWatchdogFires() {
        for ms in [200, 1_000, 2_000, 4_000, 30_000] {
            let interval = Duration.milliseconds(ms)
            let budget = WatchdogProbeBudget(interval: interval)
            var elapsed = interval  // the first probe starts one interval after the last ping
            while let left = budget.retryTimeout(sinceLastPing: elapsed) {
                elapsed += budget.retryPause + left  // worst case: the retry times out
                XCTAssertLessThanOrEqual(elapsed, budget.withholdAfter, "interval \(ms) ms")
            }
            XCTAssertLessThan(budget.withholdAfter, interval * 2, "withheld before WatchdogSec, interval \(ms) ms")
        }
    }
}
