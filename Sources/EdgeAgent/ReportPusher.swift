// Pushes the current window to every configured controller every push interval. It runs beside
// telemetry, never in its way: a down controller costs one log line per outage and a growing
// backoff, not a stalled tick. Each controller has its own loop, state and backoff, so one that is
// down or hung (a push waits up to `timeout`) never delays the pushes to the others: with one
// controller per control-plane host, every controller keeps the whole fleet.
import AsyncHTTPClient
import EdgeConfig
import EdgeCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle

public final class ReportPusher: Service, @unchecked Sendable {
    public enum State: Sendable, Equatable {
        case idle
        case ok(lastPush: Date)
        case failing(since: Date, failures: Int, reason: String)

        public var summary: String {
            switch self {
            case .idle: return "waiting for the first window"
            case let .ok(t): return "ok (last push \(Int(Date().timeIntervalSince(t)))s ago)"
            case let .failing(_, n, reason): return "failing (\(n) attempts: \(reason))"
            }
        }

        var isOK: Bool { if case .ok = self { return true } else { return false } }
    }

    /// One controller: its report URL and what happened to the last push there.
    final class Target: @unchecked Sendable {
        // @unchecked: `_state` is behind `lock`.
        let url: String
        private let lock = NSLock()
        private var _state: State = .idle
        var state: State { lock.withLock { _state } }

        init(baseURL: String) {
            url = baseURL.hasSuffix("/") ? baseURL + "v1/reports" : baseURL + "/v1/reports"
        }

        /// Returns the state before the change.
        func set(_ make: (State) -> State) -> State {
            lock.withLock {
                let previous = _state
                _state = make(previous)
                return previous
            }
        }
    }

    let targets: [Target]
    /// The first controller's report URL (the `url` key when set).
    var url: String { targets[0].url }
    let token: String?
    let interval: Duration
    let timeout: Duration
    let collector: TelemetryCollector
    let client: HTTPClient
    let logger: Logger
    /// The first controller's state (what a single-controller agent always showed).
    public var state: State { targets[0].state }

    /// One line for `edgectl status` and the STATUS= line: the state itself with one controller,
    /// "n/m ok" and each failing one otherwise.
    public var summary: String {
        guard targets.count > 1 else { return targets[0].state.summary }
        let states = targets.map { ($0.url, $0.state) }
        let ok = states.filter { $0.1.isOK }.count
        let others = states.filter { !$0.1.isOK }.map { "\($0.0): \($0.1.summary)" }
        return "\(ok)/\(targets.count) controllers ok" + (others.isEmpty ? "" : "; " + others.joined(separator: "; "))
    }

    /// - Parameters: see `[controller]` in agent.toml(5). `baseURLs` must not be empty.
    public convenience init(baseURL: String, tokenFile: String?, caFile: String?, interval: Double, timeout: Double,
                            collector: TelemetryCollector, logger: Logger) throws {
        try self.init(baseURLs: [baseURL], tokenFile: tokenFile, caFile: caFile, interval: interval, timeout: timeout,
                      collector: collector, logger: logger)
    }

    public init(baseURLs: [String], tokenFile: String?, caFile: String?, interval: Double, timeout: Double,
                collector: TelemetryCollector, logger: Logger) throws {
        precondition(!baseURLs.isEmpty, "ReportPusher needs at least one controller URL")
        targets = baseURLs.map(Target.init)
        if let tokenFile {
            do {
                token = try String(contentsOfFile: tokenFile, encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ConfigError(file: tokenFile, key: "controller.token_file", reason: "cannot read the token: \(error.localizedDescription)")
            }
        } else {
            token = nil
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ConfigError(file: caFile, key: "controller.ca_file", reason: "cannot load CA certificates: \(error)")
            }
        }
        var cfg = HTTPClient.Configuration(tlsConfiguration: tls)
        cfg.timeout = .init(connect: .milliseconds(Int64(timeout * 1000)), read: .milliseconds(Int64(timeout * 1000)))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: cfg)
        self.interval = .milliseconds(Int64(interval * 1000))
        self.timeout = .milliseconds(Int64(timeout * 1000))
        self.collector = collector
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { [self] in
            await withTaskGroup(of: Void.self) { group in
                for target in targets {
                    group.addTask { try? await self.loop(target) }
                }
            }
        }
        try? await client.shutdown()
    }

    /// Pushes to one controller until cancelled, backing off while it fails.
    private func loop(_ target: Target) async throws {
        var delay = interval
        while !Task.isCancelled {
            try await Task.sleep(for: delay)
            guard collector.ticks >= 2 else { continue }
            delay = await pushOnce(to: target) ? interval : backoff(after: delay)
        }
    }

    /// One push to every controller at once; true when all answered 2xx.
    func pushOnce() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for target in targets { group.addTask { await self.pushOnce(to: target) } }
            return await group.reduce(true) { $0 && $1 }
        }
    }

    /// One push; true on a 2xx answer.
    func pushOnce(to target: Target) async -> Bool {
        let url = target.url
        let body: Data
        do {
            body = try EdgeJSON.encoder().encode(collector.window())
        } catch {
            logger.error("cannot encode report: \(error)")
            return false
        }
        var req = HTTPClientRequest(url: url)
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/json")
        if let token { req.headers.add(name: "Authorization", value: "Bearer \(token)") }
        req.body = .bytes(ByteBuffer(data: body))
        do {
            let resp = try await client.execute(req, timeout: .init(timeout))
            if (200..<300).contains(resp.status.code) {
                recordSuccess(target)
                return true
            }
            let text = String(buffer: try await resp.body.collect(upTo: 4096))
            recordFailure(target, "HTTP \(resp.status.code) \(text.prefix(200))")
        } catch {
            recordFailure(target, "\(error)")
        }
        return false
    }

    private func recordSuccess(_ target: Target) {
        let previous = target.set { _ in .ok(lastPush: Date()) }
        if case let .failing(since, n, _) = previous {
            logger.notice("controller reachable again at \(target.url) after \(n) failed pushes (\(Int(Date().timeIntervalSince(since)))s)")
        }
    }

    private func recordFailure(_ target: Target, _ reason: String) {
        let previous = target.set { old in
            if case let .failing(since, n, _) = old { return .failing(since: since, failures: n + 1, reason: reason) }
            return .failing(since: Date(), failures: 1, reason: reason)
        }
        // once per outage: a controller down for an hour must not flood the journal
        if case .failing = previous { return }
        logger.warning("cannot push report to \(target.url) (controller.url/urls): \(reason); retrying with backoff")
    }

    /// Doubles the delay up to 60 s (or the push interval, if that is longer).
    func backoff(after delay: Duration) -> Duration {
        min(delay * 2, max(interval, .seconds(60)))
    }
}
