// The controller's HTTP surface: report ingest, the scheduler extender, metrics and probes.
import EdgeCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Builds the router; each route only moves bytes between HTTP and the HTTP-free logic.
public struct ControllerHTTP: Sendable {
    public let ingest: ReportIngest
    public let extender: Extender
    public let metrics: ControllerMetrics
    public let maxExtenderBytes: Int
    public let admission: ExtenderAdmission
    public let logger: Logger
    /// One "rejected report" warning per 10 s for refused tokens (an unauthenticated flood must not
    /// fill the journal); the line written says how many were suppressed.
    let unauthorizedLog = LogRateLimiter(interval: .seconds(10))
    /// Same for extender requests turned away as busy.
    let busyLog = LogRateLimiter(interval: .seconds(10))
    /// Same for reports turned away because too many wait.
    let reportBusyLog = LogRateLimiter(interval: .seconds(10))
    /// `/readyz`'s answer (the warm-up rule lives in `ControllerCore`).
    public let readiness: @Sendable () -> ControllerCore.Readiness
    private let panicLog = PanicLog()

    /// Reports are decoded and stored off the cooperative pool, a bounded number at once.
    public let ingestQueue: IngestQueue

    public init(ingest: ReportIngest, extender: Extender, metrics: ControllerMetrics, maxExtenderBytes: Int,
                admission: ExtenderAdmission = ExtenderAdmission(maxRequests: 16, largeBytes: 1 << 20),
                ingestQueue: IngestQueue = IngestQueue(), logger: Logger,
                readiness: (@Sendable () -> ControllerCore.Readiness)? = nil) {
        self.ingest = ingest
        self.extender = extender
        self.metrics = metrics
        self.maxExtenderBytes = maxExtenderBytes
        self.admission = admission
        self.ingestQueue = ingestQueue
        self.logger = logger
        let registry = ingest.registry
        self.readiness = readiness ?? {
            let c = registry.counts()
            return ControllerCore.Readiness(ready: true, status: "ready", nodes: c.total, fresh: c.fresh, stale: c.stale,
                                            restored: 0, heard: 0)
        }
    }

    public func makeRouter() -> Router<ControllerRequestContext> {
        let router = Router(context: ControllerRequestContext.self)
        router.post("/v1/reports") { request, context in
            await self.postReport(request, context)
        }
        router.post("/filter") { request, _ in
            await self.extenderCall(verb: "filter", request) { [extender, logger] in
                extender.handleFilter(body: $0, details: logger.logLevel <= .debug)
            }
        }
        router.post("/prioritize") { request, _ in
            await self.extenderCall(verb: "prioritize", request) { [extender] in extender.handlePrioritize(body: $0) }
        }
        router.get("/metrics") { _, _ in
            let text = self.metrics.render(nodes: self.ingest.registry.snapshots())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("/healthz") { _, _ in
            Self.json(.ok, ["status": "ok"])
        }
        router.get("/readyz") { _, _ in
            // After a restart, not ready until most of the nodes the controller knew have reported
            // again (or the warm-up has passed): see ControllerCore.readiness.
            let r = self.readiness()
            return Self.json(r.ready ? .ok : .serviceUnavailable, r)
        }
        return router
    }

    // MARK: - routes

    private func postReport(_ request: Request, _ context: ControllerRequestContext) async -> Response {
        let outcome = await reportOutcome(request)
        metrics.recordReport(outcome)
        switch outcome {
        case .accepted:
            break
        case let .unauthorized(reason):
            // The presented token is never logged, only why it was refused; at most one line per 10 s.
            if let suppressed = unauthorizedLog.admit() {
                logger.warning("rejected report", metadata: ["remote": "\(context.remoteAddress ?? "?")", "reason": "\(reason)",
                                                             "suppressed_since_last": "\(suppressed)"])
            }
        case let .busy(reason):
            // Turned away before reading: one line per 10 s, however many.
            if let suppressed = reportBusyLog.admit() {
                logger.warning("report turned away", metadata: ["remote": "\(context.remoteAddress ?? "?")", "reason": "\(reason)",
                                                                "suppressed_since_last": "\(suppressed)"])
            }
        default:
            logger.info("rejected report", metadata: ["remote": "\(context.remoteAddress ?? "?")",
                                                      "status": "\(outcome.httpStatus)", "reason": "\(outcome.response.error ?? "")"])
        }
        var response = Self.json(HTTPResponse.Status(code: outcome.httpStatus), outcome.response)
        if case .unauthorized = outcome {
            response.headers[.wwwAuthenticate] = "Bearer realm=\"edgenode\""
        }
        return response
    }

    private func reportOutcome(_ request: Request) async -> IngestOutcome {
        // Authorisation before the body: an unauthenticated client cannot make us buffer anything.
        if let refused = ingest.authorize(request.headers[.authorization]) { return refused }
        // A place before the body: what is over the bound is never buffered.
        if let busy = ingestQueue.admit() { return .busy(reason: busy) }
        defer { ingestQueue.release() }
        switch await Self.readBody(request, limit: ingest.maxBytes) {
        case let .body(data):
            let ingest = self.ingest
            return await ingestQueue.run { ingest.accept(body: data) }
        case .tooLarge: return .tooLarge(limit: ingest.maxBytes)
        case let .failed(reason): return .malformed(reason: reason)
        }
    }

    private func extenderCall(verb: String, _ request: Request,
                              _ handle: @escaping @Sendable (Data) -> ExtenderReply) async -> Response {
        let start = ContinuousClock.now
        let reply: ExtenderReply
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > maxExtenderBytes {
            // Refused before a slot is taken or a byte is read.
            reply = Self.extenderError(status: 413, verb: verb, "request body larger than \(maxExtenderBytes) bytes (server.max_extender_body)")
        } else {
            switch admission.admit(contentLength: declared) {
            case let .failure(busy):
                reply = Self.extenderError(status: 503, verb: verb, "busy: \(busy.reason)")
            case let .success(lease):
                reply = await admitted(verb: verb, request, lease: lease, handle)
                admission.release(lease)
            }
        }
        metrics.recordExtender(verb: verb, status: reply.status, duration: ContinuousClock.now - start)
        metrics.recordDecision(reply)
        if reply.status == 200 { observe(verb: verb, reply) }
        if reply.status == 503 {
            if let suppressed = busyLog.admit() {
                logger.warning("extender request turned away", metadata: ["verb": "\(verb)", "suppressed_since_last": "\(suppressed)",
                                                                         "body": "\(String(decoding: reply.body.prefix(512), as: UTF8.self))"])
            }
        } else if reply.status != 200 {
            logger.warning("extender request failed", metadata: ["verb": "\(verb)", "status": "\(reply.status)",
                                                                 "body": "\(String(decoding: reply.body.prefix(512), as: UTF8.self))"])
        }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// Reads and answers one admitted request; a large body is parsed off the cooperative pool.
    private func admitted(verb: String, _ request: Request, lease: ExtenderAdmission.Lease,
                          _ handle: @escaping @Sendable (Data) -> ExtenderReply) async -> ExtenderReply {
        switch await Self.readBody(request, limit: maxExtenderBytes) {
        case let .body(data):
            return await admission.run(lease) { handle(data) }
        case .tooLarge:
            return Self.extenderError(status: 413, verb: verb, "request body larger than \(maxExtenderBytes) bytes (server.max_extender_body)")
        case let .failed(reason):
            return Self.extenderError(status: 400, verb: verb, reason)
        }
    }

    /// Panic and rejections to /metrics; panic transitions to the log (once each way, not per call);
    /// the live values of rejected nodes at debug level.
    private func observe(verb: String, _ reply: ExtenderReply) {
        metrics.recordPanic(verb: verb, reply.panic)
        if let f = reply.filter {
            metrics.recordFilter(f)
            if !f.details.isEmpty {
                logger.debug("filter rejected nodes", metadata: ["nodes": "\(f.details.joined(separator: "; "))"])
            }
        }
        switch panicLog.transition(reply.panic) {
        case true?:
            let share = reply.filter.map { "\($0.fresh) of \($0.candidates) candidates have fresh telemetry" } ?? "too few fresh candidates"
            let text = "panic: \(share), below registry.panic_threshold; \(verb) keeps every candidate and ranks them equal "
                + "until enough nodes report again"
            logger.warning("\(text)")
        case false?:
            logger.notice("panic over: enough candidates have fresh telemetry again; filtering and ranking resumed")
        case nil:
            break
        }
    }

    // MARK: - helpers

    enum BodyRead {
        case body(Data)
        case tooLarge
        case failed(String)
    }

    /// Reads the body up to `limit` bytes. A declared Content-Length over the limit is refused before
    /// reading; a chunked body is refused as soon as it passes the limit. (Hummingbird drains what is
    /// left after the response, so the connection stays usable.)
    static func readBody(_ request: Request, limit: Int) async -> BodyRead {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            return .tooLarge
        }
        var data = Data()
        do {
            for try await chunk in request.body {
                guard data.count + chunk.readableBytes <= limit else { return .tooLarge }
                data.append(contentsOf: chunk.readableBytesView)
            }
        } catch {
            return .failed("could not read request body: \(error)")
        }
        return .body(data)
    }

    static func extenderError(status: Int, verb: String, _ reason: String) -> ExtenderReply {
        let message = "edgenode: \(reason)"
        let body = verb == "filter" ? ExtenderResponseWriter.filterError(message) : ExtenderResponseWriter.prioritizeError(message)
        return ExtenderReply(status: status, body: Data(body))
    }

    static func json(_ status: HTTPResponse.Status, _ object: some Encodable) -> Response {
        let data = (try? EdgeJSON.encoder().encode(object)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Remembers whether the last extender answer was in panic, so that the log gets one line when
/// panic starts and one when it ends, not one per pod.
final class PanicLog: Sendable {
    private let state = Mutex(false)

    /// true = panic started, false = panic ended, nil = no change.
    func transition(_ panic: Bool) -> Bool? {
        state.withLock { was in
            defer { was = panic }
            return was == panic ? nil : panic
        }
    }
}
