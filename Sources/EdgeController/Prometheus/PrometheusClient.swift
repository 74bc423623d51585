// PromQL instant queries over the Prometheus HTTP API (GET /api/v1/query), with the bearer token
// and CA of [source] in controller.toml.
import AsyncHTTPClient
import EdgeConfig
import Foundation
import NIOCore
import NIOSSL

/// An HTTP client for one Prometheus server.
public final class PrometheusClient: Sendable {
    /// Base URL without a trailing slash.
    public let baseURL: String
    let token: String?
    let timeout: Duration
    let client: HTTPClient
    /// Most bytes read from one answer: 20 000 nodes × ~200 bytes a series is 4 MB; this leaves room
    /// for label-heavy series while keeping a misdirected URL from filling memory.
    public static let maxBodyBytes = 64 << 20

    /// Reads the token and CA files; errors name the config key.
    public init(settings: ControllerConfig.Source) throws {
        guard let url = settings.prometheusURL else {
            throw ControllerStartupError(reason: "source.prometheus_url is empty")
        }
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        if let path = settings.bearerTokenFile {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ControllerStartupError(reason: "source.bearer_token_file \(path): cannot read the token: \(error.localizedDescription)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token?.isEmpty == false else {
                throw ControllerStartupError(reason: "source.bearer_token_file \(path) is empty")
            }
        } else {
            token = nil
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = settings.caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw ControllerStartupError(reason: "source.ca_file \(path): cannot load CA certificates: \(error)")
            }
        }
        let ms = Int64((settings.timeoutSeconds * 1000).rounded())
        timeout = .milliseconds(ms)
        var cfg = HTTPClient.Configuration(tlsConfiguration: tls)
        cfg.timeout = .init(connect: .milliseconds(ms), read: .milliseconds(ms))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: cfg)
    }

    /// Evaluates `promql` at `time` (Unix seconds; nil = Prometheus's own now).
    public func query(_ promql: String, at time: Double? = nil) async throws -> [PrometheusSample] {
        var request = HTTPClientRequest(url: Self.queryURL(base: baseURL, promql: promql, time: time))
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .init(timeout))
            status = Int(response.status.code)
            do {
                body = try await response.body.collect(upTo: Self.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                throw PrometheusQueryError.tooLarge(limit: Self.maxBodyBytes)
            }
        } catch let e as PrometheusQueryError {
            throw e
        } catch {
            throw PrometheusQueryError.transport("\(error)")
        }
        return try PrometheusResponse.vector(from: Data(body.readableBytesView), httpStatus: status)
    }

    /// `<base>/api/v1/query?query=…&time=…`, form-encoded the way Prometheus decodes it: in a query
    /// string "+" means a space, so every byte outside the unreserved set is percent-encoded
    /// (Foundation's URLQueryItem leaves "+" alone, which would turn `a + b` into `a   b`).
    public static func queryURL(base: String, promql: String, time: Double?) -> String {
        var url = "\(base)/api/v1/query?query=\(formEncode(promql))"
        if let time { url += "&time=\(String(format: "%.3f", time))" }
        return url
    }

    static func formEncode(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count * 3 / 2)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// Closes the connection pool; call once, when the source stops.
    public func shutdown() async {
        try? await client.shutdown()
    }
}
