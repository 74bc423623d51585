// The kube-scheduler side of the extender protocol, over plain HTTP/1.1 exactly as kube-scheduler
// sends it: POST /filter and /prioritize with an ExtenderArgs body {Pod, Nodes: null, NodeNames}
// (nodeCacheCapable), PascalCase keys. One connection per call, closed by the server. The bodies
// are EdgeAPI's extender wire types, the same the controller decodes and encodes.
import EdgeAPI
import EdgeLab
import Foundation

/// A controller base URL, "http://HOST:PORT" (IPv4; the runner only talks to namespaces it made).
struct ControllerURL {
    var host: String
    var port: UInt16

    init(parsing text: String) throws {
        guard text.hasPrefix("http://") else { throw ExtenderCallError("controller URL '\(text)': only http://IPV4:PORT is supported") }
        let rest = text.dropFirst("http://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
            throw ExtenderCallError("controller URL '\(text)': expected http://IPV4:PORT")
        }
        host = String(rest[..<colon])
        self.port = port
    }
}

struct ExtenderCallError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Blocking calls to the extender verbs.
struct ExtenderClient {
    var url: ControllerURL
    /// kube-scheduler's default extender timeout.
    var timeout: Double = 5

    private func post(_ path: String, body: Data) throws -> Data {
        let deadline = monotonicNow() + timeout
        let conn = try DeadlineSocket.connect(host: url.host, port: url.port, deadline: deadline)
        let head = "POST \(path) HTTP/1.1\r\nHost: \(url.host):\(url.port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try conn.sendAll(Array(head.utf8) + Array(body), deadline: deadline)
        let raw = try conn.receiveAll(limit: 8 << 20, deadline: deadline)
        let sep: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, raw.count - 3)).first(where: { Array(raw[$0..<$0 + 4]) == sep }) else {
            throw ExtenderCallError("\(path): incomplete HTTP answer (\(raw.count) bytes)")
        }
        let headers = String(decoding: raw[0..<end], as: UTF8.self).lowercased()
        let statusLine = headers.split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        var bodyBytes = Array(raw[(end + 4)...])
        if headers.contains("transfer-encoding: chunked") { bodyBytes = try Self.dechunk(bodyBytes) }
        guard status == 200 else {
            throw ExtenderCallError("\(path): HTTP \(status): \(String(decoding: bodyBytes.prefix(300), as: UTF8.self))")
        }
        return Data(bodyBytes)
    }

    private static func dechunk(_ b: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i < b.count {
            guard let lineEnd = (i..<b.count - 1).first(where: { b[$0] == 13 && b[$0 + 1] == 10 }),
                  let size = Int(String(decoding: b[i..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                      .trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw ExtenderCallError("bad chunked encoding")
            }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= b.count else { throw ExtenderCallError("truncated chunk") }
            out += b[start..<start + size]
            i = start + size + 2
        }
        return out
    }

    /// The body kube-scheduler sends a nodeCacheCapable extender: the pod, `Nodes: null`, the candidates.
    static func args(pod: String, nodeNames: [String]) throws -> Data {
        let pod = PodReference(metadata: .init(name: pod, namespace: "default"))
        return try ExtenderJSON.encoder().encode(ExtenderArgs(pod: pod, nodes: nil, nodeNames: nodeNames))
    }

    /// /filter: the nodes that passed and why the others failed. An `Error` in the answer or a
    /// transport failure fails the pod (kube-scheduler's behaviour for a non-ignorable extender).
    func filter(pod: String, nodeNames: [String]) throws -> (passed: [String], failed: [String: String]) {
        try Self.filterAnswer(post("/filter", body: Self.args(pod: pod, nodeNames: nodeNames)))
    }

    /// An `ExtenderFilterResult` as (passed, failed); both kinds of failure count as failed.
    static func filterAnswer(_ data: Data) throws -> (passed: [String], failed: [String: String]) {
        let answer: ExtenderFilterResult
        do { answer = try ExtenderJSON.decoder().decode(ExtenderFilterResult.self, from: data) } catch {
            throw ExtenderCallError("/filter: answer is not an ExtenderFilterResult: \(error)")
        }
        if !answer.error.isEmpty { throw ExtenderCallError("/filter: \(answer.error)") }
        let failed = answer.failedNodes.merging(answer.failedAndUnresolvableNodes) { _, unresolvable in unresolvable }
        return (answer.nodeNames ?? [], failed)
    }

    /// /prioritize: the extender's priority (0…10) per node.
    func prioritize(pod: String, nodeNames: [String]) throws -> [String: Int] {
        try Self.priorities(post("/prioritize", body: Self.args(pod: pod, nodeNames: nodeNames)))
    }

    /// A `HostPriorityList` as priority per node (a node listed twice keeps its last entry).
    static func priorities(_ data: Data) throws -> [String: Int] {
        let list: [HostPriority]
        do { list = try ExtenderJSON.decoder().decode([HostPriority].self, from: data) } catch {
            throw ExtenderCallError("/prioritize: answer is not a HostPriorityList: \(error)")
        }
        var out: [String: Int] = [:]
        for entry in list { out[entry.host] = Int(entry.score) }
        return out
    }
}
