// What the controller process did during a measured run: CPU time from /proc/PID/stat, and the
// server-side extender latency from its own Prometheus histogram (the time the route measured
// from reading the body to the reply, without the client or the network).
import AsyncHTTPClient
import Foundation

enum ControllerProbe {
    /// utime + stime of `pid`, in seconds.
    static func cpuSeconds(pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the ")" closing comm: state is the 1st, utime the 12th, stime the 13th.
        guard let close = stat.lastIndex(of: ")") else { throw SoakError("unreadable /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw SoakError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Cumulative bucket counts of `edgenode_extender_request_duration_seconds{verb=…}`, keyed by
    /// the bucket's upper bound in seconds (+Inf as .infinity).
    static func latencyBuckets(url: String, verb: String) async throws -> [Double: Double] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(url)/metrics"), timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 64 << 20))
        var buckets: [Double: Double] = [:]
        for line in text.split(separator: "\n")
        where line.hasPrefix("edgenode_extender_request_duration_seconds_bucket{") && line.contains("verb=\"\(verb)\"") {
            guard let le = line.range(of: "le=\""), let endQuote = line[le.upperBound...].firstIndex(of: "\""),
                  let count = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            let bound = line[le.upperBound..<endQuote]
            buckets[bound == "+Inf" ? .infinity : Double(bound) ?? .nan] = count
        }
        return buckets
    }

    /// The smallest bucket bound holding the q-quantile of the requests counted between two
    /// samples: an upper bound for that quantile of the server-side time.
    static func quantileBound(before: [Double: Double], after: [Double: Double], _ q: Double) -> (bound: Double, count: Double)? {
        let bounds = after.keys.sorted()
        guard let total = bounds.last.map({ after[$0, default: 0] - before[$0, default: 0] }), total > 0 else { return nil }
        for b in bounds where after[b, default: 0] - before[b, default: 0] >= q * total {
            return (b, total)
        }
        return nil
    }

    /// "≤ 250 µs" style text for a bucket bound.
    static func describe(_ bound: Double) -> String {
        if bound.isInfinite { return "> largest bucket" }
        return bound < 1e-3 ? String(format: "≤ %.0f µs", bound * 1e6) : String(format: "≤ %g ms", bound * 1e3)
    }
}
