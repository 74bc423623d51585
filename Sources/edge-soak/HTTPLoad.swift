// A fixed number of workers sending HTTP requests back to back for a bounded time over a
// keep-alive connection pool (AsyncHTTPClient), the way many agents or a busy kube-scheduler
// would. Each worker records its own latencies; the caller merges them.
import AsyncHTTPClient
import Foundation
import NIOCore

struct HTTPLoadResult {
    var stats = LatencyStats()
    var statuses: [UInt: Int] = [:]
    var errors: [String] = []
    var seconds: Double = 0

    var ok: Int { statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) }
    var perSecond: Double { seconds > 0 ? Double(stats.count) / seconds : 0 }
}

enum HTTPLoad {
    /// Runs `workers` loops until `duration` has passed (or `limit` requests in total have
    /// been sent); `request(worker, n)` builds each worker's n-th request.
    static func run(client: HTTPClient, workers: Int, duration: Duration, limit: Int = .max,
                    request: @escaping @Sendable (Int, Int) -> HTTPClientRequest) async -> HTTPLoadResult {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let perWorker = limit == .max ? Int.max : (limit + workers - 1) / workers
        var total = HTTPLoadResult()
        await withTaskGroup(of: HTTPLoadResult.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var r = HTTPLoadResult()
                    var n = 0
                    while clock.now < deadline && n < perWorker {
                        let t = clock.now
                        do {
                            let response = try await client.execute(request(w, n), timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 64 << 20)
                            r.stats.add(clock.now - t)
                            r.statuses[response.status.code, default: 0] += 1
                        } catch {
                            if r.errors.count < 5 { r.errors.append("\(error)") }
                        }
                        n += 1
                    }
                    return r
                }
            }
            for await r in group {
                total.stats.merge(r.stats)
                total.statuses.merge(r.statuses, uniquingKeysWith: +)
                total.errors += r.errors
            }
        }
        let elapsed = clock.now - start
        total.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return total
    }

    /// A POST with a JSON body and optional bearer token.
    static func post(_ url: String, body: Data, token: String?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }
}
