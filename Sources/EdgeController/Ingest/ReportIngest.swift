// Report ingest without HTTP: authorise, size-check, decode, validate, store. The HTTP route only
// moves bytes in and out of this, so the rules are tested directly.
import EdgeCore
import EdgeTelemetry
import Foundation
import Logging

/// What happened to one pushed report; maps onto an HTTP status.
public enum IngestOutcome: Equatable, Sendable {
    case accepted(node: String, reportCount: UInt64)
    case unauthorized(reason: String)
    case tooLarge(limit: Int)
    case malformed(reason: String)
    case registryFull(reason: String)
    /// Too many reports waiting (`IngestQueue`): the agent retries on its next push.
    case busy(reason: String)

    public var httpStatus: Int {
        switch self {
        case .accepted: return 200
        case .unauthorized: return 401
        case .tooLarge: return 413
        case .malformed: return 400
        case .registryFull, .busy: return 503
        }
    }

    /// Label for the reports counter.
    public var metricLabel: String {
        switch self {
        case .accepted: return "accepted"
        case .unauthorized: return "unauthorized"
        case .tooLarge: return "too_large"
        case .malformed: return "malformed"
        case .registryFull: return "registry_full"
        case .busy: return "busy"
        }
    }

    /// Response body (encoded with EdgeJSON, snake_case like every wire format we own).
    public var response: IngestResponse {
        switch self {
        case let .accepted(node, count): return IngestResponse(status: "accepted", node: node, reportCount: count)
        case let .unauthorized(reason): return IngestResponse(status: "rejected", error: reason)
        case let .tooLarge(limit): return IngestResponse(status: "rejected", error: "report body larger than \(limit) bytes")
        case let .malformed(reason): return IngestResponse(status: "rejected", error: "malformed report: \(reason)")
        case let .registryFull(reason): return IngestResponse(status: "rejected", error: reason)
        case let .busy(reason): return IngestResponse(status: "rejected", error: "busy: \(reason); retry later")
        }
    }
}

/// What `/v1/reports` answers.
public struct IngestResponse: Codable, Sendable, Equatable {
    /// "accepted" or "rejected".
    public var status: String
    public var node: String?
    /// Reports accepted from this node so far.
    public var reportCount: UInt64?
    /// Why the report was rejected.
    public var error: String?

    public init(status: String, node: String? = nil, reportCount: UInt64? = nil, error: String? = nil) {
        self.status = status
        self.node = node
        self.reportCount = reportCount
        self.error = error
    }
}

/// The `/v1/reports` rules.
public struct ReportIngest: Sendable {
    /// nil = authentication off (only allowed on a loopback listener, see `ControllerCore`).
    public let token: BearerToken?
    public let registry: NodeRegistry
    public let maxBytes: Int
    private let decoder = EdgeJSON.decoder()

    public init(token: BearerToken?, registry: NodeRegistry, maxBytes: Int) {
        self.token = token
        self.registry = registry
        self.maxBytes = maxBytes
    }

    /// Checked before the body is read, so an unauthenticated client cannot make us buffer anything.
    public func authorize(_ authorization: String?) -> IngestOutcome? {
        guard let token else { return nil }
        return token.check(authorization: authorization).map { .unauthorized(reason: $0) }
    }

    /// Decodes, validates and stores one report body.
    public func accept(body: Data, now: MonotonicInstant = .now) -> IngestOutcome {
        guard body.count <= maxBytes else { return .tooLarge(limit: maxBytes) }
        let window: TelemetryWindow
        do {
            window = try decoder.decode(TelemetryWindow.self, from: body)
        } catch {
            return .malformed(reason: describeDecodingError(error, snakeCase: true))
        }
        do {
            let r = registry.settings
            try ReportValidation.validate(window, limits: ReportLimits(maxPeers: r.maxPeers, maxDropReasons: r.maxDropReasons))
        } catch {
            return .malformed(reason: "\(error)")
        }
        do {
            let snap = try registry.ingest(window, now: now)
            return .accepted(node: snap.name, reportCount: snap.reportCount)
        } catch {
            return .registryFull(reason: "\(error)")
        }
    }
}
