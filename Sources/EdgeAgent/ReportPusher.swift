// Pushes the current window to the controller every push interval. It runs beside telemetry,
// never in its way: a down controller costs one log line per outage and a growing backoff,
// not a stalled tick.
import AsyncHTTPClient
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
    }

    let url: String
    let token: String?
    let interval: Duration
    let timeout: Duration
    let collector: TelemetryCollector
    let client: HTTPClient
    let logger: Logger
    private let lock = NSLock()
    private var _state: State = .idle
    public var state: State { lock.withLock { _state } }

    /// - Parameters: see `[controller]` in agent.toml(5).
    public init(baseURL: String, tokenFile: String?, caFile: String?, interval: Double, timeout: Double,
                collector: TelemetryCollector, logger: Logger) throws {
        url = baseURL.hasSuffix("/") ? baseURL + "v1/reports" : baseURL + "/v1/reports"
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
            var delay = interval
            while !Task.isCancelled {
                try await Task.sleep(for: delay)
                guard collector.ticks >= 2 else { continue }
                delay = await pushOnce() ? interval : backoff(after: delay)
            }
        }
        try? await client.shutdown()
    }

    /// One push; true on a 2xx answer.
    func pushOnce() async -> Bool {
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
                recordSuccess()
                return true
            }
            let text = String(buffer: try await resp.body.collect(upTo: 4096))
            recordFailure("HTTP \(resp.status.code) \(text.prefix(200))")
        } catch {
            recordFailure("\(error)")
        }
        return false
    }

    private func recordSuccess() {
        let previous: State = lock.withLock {
            defer { _state = .ok(lastPush: Date()) }
            return _state
        }
        if case let .failing(since, n, _) = previous {
            logger.notice("controller reachable again at \(url) after \(n) failed pushes (\(Int(Date().timeIntervalSince(since)))s)")
        }
    }

    private func recordFailure(_ reason: String) {
        let first: Bool = lock.withLock {
            if case let .failing(since, n, _) = _state {
                _state = .failing(since: since, failures: n + 1, reason: reason)
                return false
            }
            _state = .failing(since: Date(), failures: 1, reason: reason)
            return true
        }
        // once per outage: a controller down for an hour must not flood the journal
        if first { logger.warning("cannot push report to \(url): \(reason); retrying with backoff") }
    }

    /// Doubles the delay up to 60 s (or the push interval, if that is longer).
    func backoff(after delay: Duration) -> Duration {
        min(delay * 2, max(interval, .seconds(60)))
    }
}
