// The live extender path (jansson read + direct write) against the Codable reference path:
// identical bytes for every body both accept, the same accept/reject decision for mutated
// kube-scheduler bodies (jansson is only ever the stricter one), and exact reasons for bodies
// of the wrong shape.
import EdgeAPI
import EdgeConfig
@testable import EdgeController
import EdgeControllerLab
import EdgeCore
import Foundation
import XCTest

final class ExtenderLivePathTests: XCTestCase {
    let t0 = ContinuousClock.now
    var now: ContinuousClock.Instant { t0 + .seconds(21) }

    /// edge-a healthy, edge-b over the CPU limit, edge-s stale; anything else never reported.
    func makeExtender() throws -> Extender {
        let reg = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 15))
        try reg.ingest(Fixtures.window("edge-s"), now: t0)
        try reg.ingest(Fixtures.window("edge-a"), now: t0 + .seconds(20))
        try reg.ingest(Fixtures.window("edge-b", rtt: 150, cpu: 0.97), now: t0 + .seconds(20))
        var filter = ControllerConfig.defaults.filter
        filter[.cpu] = 0.9
        return Extender(registry: reg, policy: ExtenderPolicy(filter: filter, stalePolicy: .filter, staleAfter: reg.staleAfter))
    }

    private func text(_ d: Data) -> String { String(decoding: d, as: UTF8.self) }

    /// Both verbs on both paths; returns (live, foundation) per verb.
    private func both(_ ext: Extender, _ body: Data) -> [(verb: String, live: ExtenderReply, foundation: ExtenderReply)] {
        [("filter", ext.handleFilter(body: body, now: now), ext.handleFilterWithFoundation(body: body, now: now)),
         ("prioritize", ext.handlePrioritize(body: body, now: now), ext.handlePrioritizeWithFoundation(body: body, now: now))]
    }

    func testValidBodiesGiveIdenticalBytes() throws {
        let ext = try makeExtender()
        let pod = Fixtures.podObject
        let bodies: [String] = [
            text(Fixtures.argsWithNames(["edge-a", "edge-b", "edge-s", "edge-x"])),
            text(Fixtures.argsWithNames(["edge-b", "edge-b", "edge-x", "edge-x", "edge-a"])), // repeated names
            text(Fixtures.argsWithNames([])),
            text(Fixtures.argsWithNodes([("edge-a", "192.168.10.11"), ("edge-b", "192.168.10.12"), ("edge-x", "192.168.10.19")])),
            text(Fixtures.argsWithNodes([])),
            #"{"Pod":null,"Nodes":{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":null},"NodeNames":null}"#,
            #"{"Nodes":{"kind":"NodeList"}}"#, // no items at all: an empty list, and "items" is added to the echo
            #"{"NodeNames":["edge-a"]}"#, // no Pod
            #"{"Pod":{"metadata":null},"NodeNames":["edge-a"]}"#,
            #"{"Pod":{},"NodeNames":["edge-a"],"Extra":[1,2,{"x":null}]}"#, // unknown keys ignored
            #"{"Pod":\#(pod),"NodeNames":["edge-a","caf\u00e9","tab\there","quote\"d","slash\/ok","nul\u0000"]}"#,
            // Both shapes (kube-scheduler never sends this): names from NodeNames, items whose name passed.
            #"{"Nodes":{"items":[{"metadata":{"name":"edge-a"}},{"metadata":{"name":"edge-b"}},{"metadata":{}},7]},"NodeNames":["edge-a","edge-b"]}"#,
            #"{"Nodes":"not a list","NodeNames":["edge-a"]}"#, // Nodes ignored when NodeNames is there
            // Numbers in echoed node objects: how each kind is written back.
            #"{"Nodes":{"items":[{"metadata":{"name":"edge-a"},"n":[0,-0,7,-7,9223372036854775807,-9223372036854775808,1.0,1e2,1.5,-0.0,1e20,2.5e-7,1.7976931348623157e308,123456789.125,1E+3]}]}}"#,
            // Non-ASCII and escapes in echoed keys; key order of the echo.
            #"{"Nodes":{"zeta":1,"Alpha":2,"items":[{"metadata":{"name":"edge-a","labels":{"b":"\u00e9","a/b":"\"","\u0001":"x","é":"y"}}}]}}"#,
        ]
        for body in bodies {
            for (verb, live, foundation) in both(ext, Data(body.utf8)) {
                XCTAssertEqual(live.status, 200, "\(verb) \(body): \(text(live.body))")
                XCTAssertEqual(live.status, foundation.status, "\(verb) \(body)")
                XCTAssertEqual(text(live.body), text(foundation.body), "\(verb) \(body)")
            }
        }
    }

    func testWrongShapesGiveExactReasons() throws {
        let ext = try makeExtender()
        let cases: [(String, String)] = [
            ("[]", "invalid ExtenderArgs: <top level>: expected an object, got an array"),
            (#""x""#, "invalid ExtenderArgs: <top level>: expected an object, got a string"),
            (#"{"Pod":"x","NodeNames":[]}"#, "invalid ExtenderArgs: Pod: expected an object, got a string"),
            (#"{"Pod":{"metadata":[]},"NodeNames":[]}"#, "invalid ExtenderArgs: Pod.metadata: expected an object, got an array"),
            (#"{"Pod":{"metadata":{"name":5}},"NodeNames":[]}"#, "invalid ExtenderArgs: Pod.metadata.name: expected a string, got a number"),
            (#"{"Pod":{"metadata":{"uid":true}},"NodeNames":[]}"#, "invalid ExtenderArgs: Pod.metadata.uid: expected a string, got a boolean"),
            (#"{"NodeNames":{}}"#, "invalid ExtenderArgs: NodeNames: expected an array, got an object"),
            (#"{"NodeNames":["a",2]}"#, "invalid ExtenderArgs: NodeNames[1]: expected a string, got a number"),
            (#"{"NodeNames":[null]}"#, "invalid ExtenderArgs: NodeNames[0]: expected a string, got null"),
            (#"{"Nodes":"x"}"#, "Nodes must be a v1.NodeList object"),
            (#"{"Nodes":{"items":{}}}"#, "Nodes.items must be an array"),
            (#"{"Nodes":{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":""}}]}}"#, "Nodes.items[1] has no metadata.name"),
            (#"{"Nodes":null,"NodeNames":null}"#, "ExtenderArgs has neither Nodes nor NodeNames"),
            ("{}", "ExtenderArgs has neither Nodes nor NodeNames"),
            ("not json", "invalid ExtenderArgs: not JSON: invalid token near 'not' (line 1, column 3)"),
            (#"{"NodeNames":["a"],"NodeNames":["b"]}"#,
             #"invalid ExtenderArgs: not JSON: duplicate object key near '"NodeNames"' (line 1, column 30)"#),
        ]
        for (body, reason) in cases {
            let p = ext.handlePrioritize(body: Data(body.utf8), now: now)
            XCTAssertEqual(p.status, 400, body)
            XCTAssertEqual(text(p.body), text(ExtenderResponseWriter.prioritizeError("edgenode: " + reason).data), body)
            XCTAssertEqual(try JSONDecoder().decode([String: String].self, from: p.body)["Error"], "edgenode: " + reason, body)
            let f = ext.handleFilter(body: Data(body.utf8), now: now)
            XCTAssertEqual(f.status, 400, body)
            let r = try JSONDecoder().decode(ExtenderFilterResult.self, from: f.body)
            XCTAssertEqual(r.error, "edgenode: " + reason, body)
            XCTAssertNil(r.nodeNames, body)
            // The reference path refuses the same bodies (its reasons are worded by JSONDecoder),
            // except duplicate keys, which JSONDecoder takes (the first one wins).
            if !reason.contains("duplicate") {
                XCTAssertEqual(ext.handlePrioritizeWithFoundation(body: Data(body.utf8), now: now).status, 400, body)
            }
        }
    }

    func testPodReferenceIsRead() throws {
        let args = try ParsedExtenderArgs.read(Fixtures.argsWithNames(["edge-a"]))
        XCTAssertEqual(args.pod?.displayName, "media/video-transcode-7d9f8")
        XCTAssertEqual(args.pod?.metadata?.uid, "b2f5e4a1-3c6d-4e8f-9a0b-1c2d3e4f5a6b")
        XCTAssertEqual(args.nodeNames, ["edge-a"])
        XCTAssertNil(args.nodeList)
        XCTAssertNil(try ParsedExtenderArgs.read(Data(#"{"Pod":null,"NodeNames":[]}"#.utf8)).pod)
        XCTAssertNil(try ParsedExtenderArgs.read(Data(#"{"Pod":{"metadata":null},"NodeNames":[]}"#.utf8)).pod?.metadata)
    }

    /// Mutated kube-scheduler bodies (bytes dropped, repeated or replaced by JSON punctuation):
    /// whenever the live path answers 200, the reference path gives the same bytes; whenever the
    /// reference path refuses a body, so does the live path.
    func testMutatedBodiesNeverMakeTheLivePathLaxer() throws {
        let ext = try makeExtender()
        let seeds = [Array(Fixtures.argsWithNames(["edge-a", "edge-b", "edge-x"])),
                     Array(Fixtures.argsWithNodes([("edge-a", "192.168.10.11"), ("edge-b", "192.168.10.12")]))]
        let punctuation = Array(#"{}[]":,.-e0 \"#.utf8) + [0x00, 0x09, 0xC3, 0xFF]
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var accepted = 0, strictOnly = 0
        for n in 0..<3000 {
            var body = seeds[n % seeds.count]
            for _ in 0..<(1 + next(3)) {
                let i = next(body.count)
                switch next(3) {
                case 0: body.remove(at: i)
                case 1: body.insert(body[i], at: i)
                default: body[i] = punctuation[next(punctuation.count)]
                }
            }
            for (verb, live, foundation) in both(ext, Data(body)) {
                if live.status == 200 {
                    accepted += 1
                    XCTAssertEqual(foundation.status, 200, "\(verb): \(text(Data(body)))")
                    XCTAssertEqual(text(live.body), text(foundation.body), "\(verb): \(text(Data(body)))")
                } else if foundation.status == 200 {
                    strictOnly += 1 // e.g. a trailing comma or a raw tab inside an ignored string
                }
                XCTAssertTrue(foundation.status == 200 || live.status == 400, "\(verb): \(text(Data(body)))")
            }
        }
        XCTAssertGreaterThan(accepted, 100, "the mutations must leave enough valid bodies to compare")
        print("mutated bodies: \(accepted) answered by both paths, \(strictOnly) refused only by the stricter live path")
    }
}

private extension Array where Element == UInt8 {
    var data: Data { Data(self) }
}
