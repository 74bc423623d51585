// The controller's telemetry from Prometheus instead of agent pushes ([source] kind = "prometheus"):
// every query_interval, one PromQL instant query per agent gauge, joined per node and fed into the
// same NodeRegistry the push path fills, so the score, the extender and edgectl see no difference.
//
// A Prometheus that is down, slow or answering errors costs one log line per outage; the nodes are
// simply not refreshed and go stale after registry.stale_after, as with agents that stop pushing.
import EdgeConfig
import EdgeCore
import Foundation
import Logging
import ServiceLifecycle

/// What one poll did.
public enum PrometheusPoll: Sendable, Equatable {
    case ok(PrometheusPollSummary)
    /// No usable answer; nothing was ingested.
    case failed(PrometheusQueryError)
}

public struct PrometheusPollSummary: Sendable, Equatable {
    /// Nodes with a scrape newer than the previous poll's, taken into the registry.
    public var ingested: [String]
    /// Nodes whose latest scrape was already ingested (scrape interval longer than query interval).
    public var unchanged: [String]
    /// Nodes whose agent exports edgenode_agent_up 0.
    public var agentsDown: [String]
    /// Problems with the data (see `JoinedTelemetry.problems`).
    public var problems: [String: String]
    /// PromQL queries sent.
    public var queries: Int
    /// Wall time from the first request to the last answer.
    public var roundTrip: Duration
}

/// Polls Prometheus for the agents' gauges and feeds the registry.
public final class PrometheusSource: Service, @unchecked Sendable {
    // @unchecked: the mutable poll state is behind `lock`; polls do not overlap (one `run` loop).
    public let settings: ControllerConfig.Source
    public let queries: AgentQueries
    let client: PrometheusClient
    let registry: NodeRegistry
    let logger: Logger
    let interval: Duration

    private let lock = NSLock()
    /// Scrape time of the window last ingested per node: the same scrape is not ingested twice, which
    /// would count one observation several times in the score's moving average.
    private var lastScrape: [String: Double] = [:]
    private var problems: ProblemLog
    private var outage: (since: ContinuousClock.Instant, failures: Int)?
    private var succeeded = false

    /// Builds the client (token and CA files are read here; errors name the key).
    public init(settings: ControllerConfig.Source, registry: NodeRegistry, logger: Logger) throws {
        self.settings = settings
        self.queries = AgentQueries(matchers: settings.matchers)
        self.client = try PrometheusClient(settings: settings)
        self.registry = registry
        self.logger = logger
        self.interval = .milliseconds(Int64((settings.queryIntervalSeconds * 1000).rounded()))
        self.problems = ProblemLog(logger: logger)
    }

    public func run() async throws {
        logger.info("reading node telemetry from Prometheus", metadata: [
            "url": "\(client.baseURL)", "interval": "\(DurationParser.format(seconds: settings.queryIntervalSeconds))",
            "node_label": "\(settings.nodeLabel)", "matchers": "\(settings.matchers)"])
        try? await cancelWhenGracefulShutdown { [self] in
            let clock = ContinuousClock()
            var next = clock.now
            while !Task.isCancelled {
                _ = await pollOnce()
                // Fixed cadence; after a poll slower than the interval, start again at once rather than
                // sending a burst to catch up.
                next = max(next.advanced(by: interval), clock.now)
                try await Task.sleep(until: next, clock: clock)
            }
        }
        await shutdown()
    }

    /// Closes the HTTP client; `run` does it when it ends, call it only for a source that never ran.
    public func shutdown() async {
        await client.shutdown()
    }

    /// One poll: query, join, ingest, log what changed. Never throws: failures are the result.
    @discardableResult
    public func pollOnce() async -> PrometheusPoll {
        let clock = ContinuousClock()
        let started = clock.now
        let answers: (times: [PrometheusSample], gauges: [AgentGauge: [PrometheusSample]])
        do {
            answers = try await fetch()
        } catch {
            let e = error as? PrometheusQueryError ?? .transport("\(error)")
            recordFailure(e)
            return .failed(e)
        }
        let roundTrip = clock.now - started
        let joined: JoinedTelemetry
        if answers.times.isEmpty {
            joined = JoinedTelemetry(windows: [], agentsDown: [], problems: ["no-agents":
                "no series of \(queries.selector(.up)): Prometheus scrapes no edge-agent (check its scrape config and source.matchers)"])
        } else {
            joined = TelemetryJoin.join(scrapeTimes: answers.times, gauges: answers.gauges, nodeLabel: settings.nodeLabel)
        }
        return record(joined, roundTrip: roundTrip, queries: answers.times.isEmpty ? 1 : 1 + AgentGauge.allCases.count)
    }

    /// The scrape times first, without a time (Prometheus's own clock, so a skewed controller clock
    /// does not matter); then every gauge at that same evaluation time, concurrently, so that all
    /// values of a node come from one scrape.
    private func fetch() async throws -> (times: [PrometheusSample], gauges: [AgentGauge: [PrometheusSample]]) {
        let times = try await client.query(queries.scrapeTime)
        guard let at = times.first?.timestamp else { return ([], [:]) }
        let gauges = try await withThrowingTaskGroup(of: (AgentGauge, [PrometheusSample]).self) { group in
            for gauge in AgentGauge.allCases {
                group.addTask { [client, queries] in (gauge, try await client.query(queries.selector(gauge), at: at)) }
            }
            var out: [AgentGauge: [PrometheusSample]] = [:]
            for try await (gauge, samples) in group { out[gauge] = samples }
            return out
        }
        return (times, gauges)
    }

    private func record(_ joined: JoinedTelemetry, roundTrip: Duration, queries: Int) -> PrometheusPoll {
        var ingested: [String] = []
        var unchanged: [String] = []
        var problemSet = joined.problems
        let (recovered, first): ((ContinuousClock.Instant, Int)?, Bool) = lock.withLock {
            var scraped: [String: Double] = [:]
            for w in joined.windows {
                scraped[w.node] = w.generatedAt
                if lastScrape[w.node] == w.generatedAt {
                    unchanged.append(w.node)
                    continue
                }
                do {
                    try registry.ingest(w)
                    ingested.append(w.node)
                } catch {
                    problemSet["registry"] = "\(error)"
                    scraped[w.node] = nil
                }
            }
            lastScrape = scraped
            problems.update(problemSet)
            defer { outage = nil; succeeded = true }
            return (outage, !succeeded)
        }
        let ms = String(format: "%.1f", roundTrip.seconds * 1000)
        if let (since, failures) = recovered {
            let outage = Int((ContinuousClock.now - since).seconds)
            logger.notice("Prometheus at \(client.baseURL) answering again after \(failures) failed polls (\(outage) s)")
        }
        if first {
            logger.info("first Prometheus poll: \(ingested.count) nodes from \(queries) queries, round trip \(ms) ms")
        }
        logger.debug("Prometheus poll: \(ingested.count) nodes ingested, \(unchanged.count) unchanged, \(joined.agentsDown.count) agents down, round trip \(ms) ms")
        return .ok(PrometheusPollSummary(ingested: ingested, unchanged: unchanged, agentsDown: joined.agentsDown,
                                         problems: problemSet, queries: queries, roundTrip: roundTrip))
    }

    private func recordFailure(_ error: PrometheusQueryError) {
        let first: Bool = lock.withLock {
            if var o = outage {
                o.failures += 1
                outage = o
                return false
            }
            outage = (ContinuousClock.now, 1)
            return true
        }
        if first {
            let every = DurationParser.format(seconds: settings.queryIntervalSeconds)
            logger.warning("cannot read telemetry from Prometheus at \(client.baseURL): \(error); retrying every \(every), nodes go stale meanwhile")
        }
    }
}
