// The direct response writer must produce exactly what ExtenderJSON.encoder() produced: the
// golden tests pin whole bodies; these pin each piece (escapes, numbers, key order) against
// JSONEncoder itself, and `fmt` against printf.
import EdgeAPI
@testable import EdgeController
import EdgeCore
import Foundation
import XCTest

final class ExtenderResponseWriterTests: XCTestCase {
    private func written(_ s: String) -> String {
        var w = ExtenderResponseWriter(capacity: 16)
        w.string(s)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    private func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try ExtenderJSON.encoder().encode(value), as: UTF8.self)
    }

    func testEscapesMatchJSONEncoderForEveryASCIICharacter() throws {
        for c in 0..<0x80 {
            let s = "a" + String(UnicodeScalar(UInt8(c))) + "b"
            XCTAssertEqual(written(s), try encoded(s), "character 0x\(String(c, radix: 16))")
        }
    }

    func testEscapeForms() throws {
        XCTAssertEqual(written("\u{0}\u{1}\u{1f}"), #""\u0000\u0001\u001f""#, "lowercase hex, four digits")
        XCTAssertEqual(written("\u{8}\u{9}\u{a}\u{c}\u{d}"), #""\b\t\n\f\r""#)
        XCTAssertEqual(written("say \"hi\" \\ bye"), #""say \"hi\" \\ bye""#)
        XCTAssertEqual(written("a/b\u{7f}"), "\"a/b\u{7f}\"", "slash and DEL unescaped")
        let unicode = "café ☕ 😀 \u{2028}\u{2029}\u{feff}"
        XCTAssertEqual(written(unicode), "\"\(unicode)\"", "non-ASCII as UTF-8")
        XCTAssertEqual(written(unicode), try encoded(unicode))
        XCTAssertEqual(written(""), #""""#)
    }

    func testIntegers() {
        for v: Int64 in [0, 7, 10, -1, 1_000_000, .max, .min] {
            var w = ExtenderResponseWriter(capacity: 8)
            w.integer(v)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), String(v))
        }
    }

    func testRealsAsJSONValueThroughJSONEncoder() throws {
        for v in [0.25, -1.5, 1e20, 1.5e-7, 1.2345678901234568e+20, 1.7976931348623157e308, 5e-324, 3.0, -0.0, 9.3e18] {
            var w = ExtenderResponseWriter(capacity: 8)
            w.real(v)
            // What the Codable path wrote for the same number read as JSONValue.
            let viaCodable = try encoded(JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(v)))
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), viaCodable, "\(v)")
        }
    }

    func testHostPriorityListMatchesJSONEncoder() throws {
        let hosts = ["edge-a", "edge-\"quoted\"", "é-node", ""]
        let scores: [Int64] = [10, 0, 5, 3]
        let bytes = ExtenderResponseWriter.hostPriorityList(hosts: hosts, scores: scores)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       try encoded(zip(hosts, scores).map { HostPriority(host: $0, score: $1) }))
        XCTAssertEqual(String(decoding: ExtenderResponseWriter.hostPriorityList(hosts: [], scores: []), as: UTF8.self), "[]")
    }

    func testFilterResultKeyOrderMatchesJSONEncoder() throws {
        // UTF-8 byte order: uppercase before lowercase, "node-10" before "node-9", non-ASCII last.
        let failed = ["node-9": "x", "node-10": "y", "Node-1": "z", "é": "w", "ｚ": "v", "😀": "u", "a b": "t"]
        let unresolvable = ["gone": "edgenode: no telemetry received from this node"]
        let bytes = ExtenderResponseWriter.filterResult(nodeNames: ["ok-1", "ok-2"], failed: failed, unresolvable: unresolvable,
                                                        nodeList: nil, keptItems: [], error: "")
        let expected = ExtenderFilterResult(nodeNames: ["ok-1", "ok-2"], failedNodes: failed, failedAndUnresolvableNodes: unresolvable)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), try encoded(expected))
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains(#"{"Node-1":"z","a b":"t","node-10":"y","node-9":"x","é":"w","ｚ":"v","😀":"u"}"#))
    }

    func testErrorBodies() throws {
        XCTAssertEqual(String(decoding: ExtenderResponseWriter.filterError("edgenode: bad \"x\""), as: UTF8.self),
                       try encoded(ExtenderFilterResult(error: "edgenode: bad \"x\"")))
        XCTAssertEqual(String(decoding: ExtenderResponseWriter.prioritizeError("edgenode: bad"), as: UTF8.self),
                       #"{"Error":"edgenode: bad"}"#)
        XCTAssertEqual(String(decoding: ExtenderResponseWriter.prioritizeError("edgenode: bad"), as: UTF8.self),
                       try encoded(["Error": "edgenode: bad"]))
    }

    // MARK: - fmt (filter reasons)

    func testFmtExamples() {
        XCTAssertEqual(fmt(0.97), "0.97")
        XCTAssertEqual(fmt(180), "180")
        XCTAssertEqual(fmt(0.9), "0.9")
        XCTAssertEqual(fmt(0.0004), "0")
        XCTAssertEqual(fmt(-0.0004), "-0")
        XCTAssertEqual(fmt(9.9996), "10")
        XCTAssertEqual(fmt(0.0625), "0.062", "an exact tie rounds to even, as printf does")
        XCTAssertEqual(fmt(0.0015), "0.002")
        XCTAssertEqual(fmt(-2.5), "-2.5")
        XCTAssertEqual(fmt(.infinity), "inf")
        XCTAssertEqual(fmt(.nan), "nan")
    }

    func testFmtEqualsPrintfOnManyValues() {
        // A fixed linear congruential sequence (Knuth's MMIX constants), so a failure reproduces.
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        var values: [Double] = [0.0005, 0.0015, 0.0025, 1.0005, 2.0005, 0.1235, 0.9995, -0.9995, 1e12 + 0.5, 999_999_999.9995]
        for _ in 0..<50_000 {
            let magnitude = [1.0, 10, 1000, 1e6, 1e11][Int(next() % 5)]
            let v = (Double(next() % 2_000_001) / 1_000_000 - 1) * magnitude
            values.append(v)
            values.append((v * 1000).rounded() / 1000 + 0.0005) // near a tie
        }
        for v in values where fmt(v) != fmtPrintf(v) {
            XCTFail("fmt(\(v)) = \(fmt(v)), printf gives \(fmtPrintf(v))")
            return
        }
    }
}
