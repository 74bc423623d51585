// Logs each problem once when it appears and once when it goes away: a Prometheus down for an
// hour, or a node missing a label for a week, must not write a line every poll.
import Logging

/// Problems keyed by a stable identifier, compared from one poll to the next. Not thread-safe: owned
/// by the one task that polls.
struct ProblemLog {
    private(set) var current: [String: String] = [:]
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Replaces the current set: new keys are logged at `level`, vanished keys as resolved.
    mutating func update(_ problems: [String: String], level: Logger.Level = .warning) {
        for key in problems.keys.sorted() where current[key] == nil {
            logger.log(level: level, "prometheus source: \(problems[key]!)")
        }
        for key in current.keys.sorted() where problems[key] == nil {
            logger.notice("prometheus source: resolved: \(current[key]!)")
        }
        current = problems
    }
}
