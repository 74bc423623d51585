// The Prometheus HTTP API's answer to an instant query (GET /api/v1/query), decoded into samples.
//
//   {"status":"success","data":{"resultType":"vector","result":[
//       {"metric":{"__name__":"ebpf_cpu_utilization","node":"n1"},"value":[1700000000.123,"0.25"]}]}}
//   {"status":"error","errorType":"bad_data","error":"1:5: parse error: ..."}
//
// Sample values are strings so that NaN and ±Inf survive JSON: "NaN", "+Inf", "-Inf".
import Foundation

/// One series of an instant vector at the evaluation time.
public struct PrometheusSample: Sendable, Equatable {
    /// All labels of the series, `__name__` included when the query kept it.
    public var labels: [String: String]
    /// Evaluation time, Unix seconds.
    public var timestamp: Double
    /// The value; NaN and ±infinity are possible.
    public var value: Double

    public init(labels: [String: String], timestamp: Double, value: Double) {
        self.labels = labels
        self.timestamp = timestamp
        self.value = value
    }
}

/// Why an instant query gave no vector.
public enum PrometheusQueryError: Error, Equatable, CustomStringConvertible {
    /// No HTTP answer: connection refused, DNS, TLS, timeout.
    case transport(String)
    /// An HTTP status without a Prometheus error body (a proxy in between, a wrong URL path).
    case http(status: Int, body: String)
    /// Prometheus answered `"status": "error"`, e.g. `bad_data` for a PromQL syntax error.
    case api(errorType: String, error: String, httpStatus: Int)
    /// The body is not the API's JSON.
    case malformed(String)
    /// The expression did not give an instant vector (a scalar, a string, a range vector).
    case notAVector(resultType: String)
    /// The body exceeds the limit.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case let .transport(reason): return "cannot reach Prometheus: \(reason)"
        case let .http(status, body): return "Prometheus answered HTTP \(status): \(body)"
        case let .api(type, error, status): return "Prometheus rejected the query (HTTP \(status), \(type)): \(error)"
        case let .malformed(reason): return "Prometheus answer is not the expected API JSON: \(reason)"
        case let .notAVector(type): return "the query gave a \(type), not an instant vector"
        case let .tooLarge(limit): return "Prometheus answer larger than \(limit) bytes"
        }
    }
}

public enum PrometheusResponse {
    /// Decodes an instant-query body. `httpStatus` is the answer's status: Prometheus sends its JSON
    /// error body with 400/422/503, anything else non-2xx without one is reported as HTTP.
    public static func vector(from body: Data, httpStatus: Int = 200) throws -> [PrometheusSample] {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: body)
        } catch {
            guard (200..<300).contains(httpStatus) else {
                throw PrometheusQueryError.http(status: httpStatus, body: excerpt(body))
            }
            throw PrometheusQueryError.malformed(describeDecodingError(error))
        }
        switch envelope.status {
        case "success":
            guard (200..<300).contains(httpStatus) else {
                throw PrometheusQueryError.http(status: httpStatus, body: excerpt(body))
            }
            guard let data = envelope.data else { throw PrometheusQueryError.malformed("\"status\": \"success\" without \"data\"") }
            return try data.samples()
        case "error":
            throw PrometheusQueryError.api(errorType: envelope.errorType ?? "unknown",
                                           error: envelope.error ?? "(no message)", httpStatus: httpStatus)
        default:
            throw PrometheusQueryError.malformed("\"status\" is \"\(envelope.status)\", expected \"success\" or \"error\"")
        }
    }

    /// A sample value as Prometheus formats it (Go's strconv.FormatFloat plus its NaN/Inf spellings).
    public static func number(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            // Double(String) would also take "nan"/"infinity" in any case and hex floats; Prometheus
            // never writes those, so anything else with letters other than an exponent is refused.
            guard !text.isEmpty, text.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(empty body)" : text
    }

    // MARK: wire shapes

    private struct Envelope: Decodable {
        var status: String
        var data: VectorData?
        var errorType: String?
        var error: String?
    }

    /// `data`; `result` is only decoded once `resultType` says it is a vector, because the other
    /// types have other shapes (a scalar is a bare [ts, "v"] pair).
    private struct VectorData: Decodable {
        var resultType: String
        var result: [Series]?

        enum CodingKeys: String, CodingKey { case resultType, result }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            resultType = try c.decode(String.self, forKey: .resultType)
            result = resultType == "vector" ? try c.decode([Series].self, forKey: .result) : nil
        }

        func samples() throws -> [PrometheusSample] {
            guard resultType == "vector", let result else { throw PrometheusQueryError.notAVector(resultType: resultType) }
            return result.map { PrometheusSample(labels: $0.metric, timestamp: $0.value.timestamp, value: $0.value.value) }
        }
    }

    private struct Series: Decodable {
        var metric: [String: String]
        var value: Pair

        enum CodingKeys: String, CodingKey { case metric, value, histogram }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            metric = try c.decode([String: String].self, forKey: .metric)
            guard c.contains(.value) || !c.contains(.histogram) else {
                throw DecodingError.dataCorruptedError(forKey: .histogram, in: c,
                    debugDescription: "a native histogram sample; the controller reads gauges, which have a \"value\"")
            }
            value = try c.decode(Pair.self, forKey: .value)
        }
    }

    /// `[1700000000.123, "0.25"]`.
    private struct Pair: Decodable {
        var timestamp: Double
        var value: Double

        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            if c.count != 2 {
                throw DecodingError.dataCorruptedError(in: c, debugDescription:
                    "expected [timestamp, \"value\"], got \(c.count.map(String.init) ?? "?") elements")
            }
            timestamp = try c.decode(Double.self)
            let text = try c.decode(String.self)
            guard let v = PrometheusResponse.number(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "sample value \"\(text.prefix(40))\" is not a number")
            }
            value = v
        }
    }
}
