// libFuzzer target: bytes on a JSON-RPC socket. They go through the bounded line framer (fed
// in pieces, as reads arrive), then each line through RPCRouter.handle(frame:) with the
// controller's real methods plus a write method shaped like the agent's shaping.set, as a
// privileged or unprivileged peer; the client side decodes each answer as a response.
import EdgeAPI
import EdgeConfig
import EdgeController
import EdgeCore
import EdgeRPC
import Foundation
import FuzzSupport

let router: RPCRouter = {
    let config = ControllerConfig.defaults
    let registry = NodeRegistry(score: config.score, registry: config.registry)
    let extender = Extender(registry: registry, policy: ExtenderPolicy(
        filter: config.filter, stalePolicy: config.registry.stalePolicy, staleAfter: registry.staleAfter))
    var router = RPCRouter(logger: FuzzLogging.silent)
    let status = ControllerStatusResult(
        version: "fuzz", uptimeSeconds: 1, listen: "127.0.0.1:0", tls: false, authentication: true,
        nodesTotal: 0, nodesFresh: 0, nodesStale: 0, reportsAccepted: 0,
        normalisation: config.score.normalisation.rawValue, stalePolicy: config.registry.stalePolicy.rawValue,
        staleAfterSeconds: config.registry.staleAfterSeconds, smoothing: config.score.smoothing,
        hysteresis: config.score.hysteresis)
    ControllerRPC(registry: registry, extender: extender, config: config, status: { status }).register(on: &router)
    // Write access and text params, validated the way the agent validates shaping.set.
    router.register("fuzz.shaping.set", access: .write, summary: "fuzz") { (p: ShapingSetParams, _) -> String in
        let rate = try BandwidthRate(parsing: p.rate)
        let horizon = try p.horizon.map(DurationParser.seconds)
        return "\(p.selector) \(rate) \(horizon ?? 0)"
    }
    return router
}()

let reader = RPCPeer(pid: 1, uid: 1000, gid: 1000, canWrite: false)
let admin = RPCPeer(pid: 1, uid: 0, gid: 0, canWrite: true)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRPCFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    // A small limit so that the oversized path is reachable with short inputs.
    var framer = JSONRPCLineFramer(maxLineBytes: 4096)
    let chunk = Int(input.selector % 16) + 1
    let peer = input.selector & 0x80 != 0 ? admin : reader
    var lines: [Data] = []
    var index = input.payload.startIndex
    while index < input.payload.endIndex {
        let end = min(index + chunk, input.payload.endIndex)
        for event in framer.feed(input.payload[index..<end]) {
            if case .line(let line) = event { lines.append(line) }
        }
        index = end
    }
    precondition(framer.bufferedByteCount <= framer.maxLineBytes + 1, "framer buffered past its bound")
    guard !lines.isEmpty else { return 0 }
    let frames = lines
    let answers = runBlocking { () -> [Data?] in
        var answers: [Data?] = []
        for line in frames { answers.append(await router.handle(frame: line, peer: peer)) }
        return answers
    }
    for answer in answers.compactMap({ $0 }) {
        // Whatever the input, the answer is JSON the client can read (a batch is an array).
        precondition((try? JSONSerialization.jsonObject(with: answer)) != nil,
                     "answer is not JSON: \(String(decoding: answer, as: UTF8.self))")
        if answer.first != UInt8(ascii: "[") { _ = try? JSONRPCCodec.decodeResponse(answer) }
    }
    return 0
}
