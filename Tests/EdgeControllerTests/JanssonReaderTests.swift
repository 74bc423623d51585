// EdgeJansson: the jansson-backed reader the extender's live path parses with. Exact values for
// valid documents and jansson's exact message and position for each kind of bad input.
import EdgeJansson
import Foundation
import XCTest

final class JanssonReaderTests: XCTestCase {
    private func parse(_ text: String) throws -> JanssonDocument {
        try JanssonDocument(parsing: Data(text.utf8))
    }

    private func parseError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> JanssonParseError? {
        do {
            _ = try JanssonDocument(parsing: Data(bytes))
            XCTFail("parsed, expected an error", file: file, line: line)
            return nil
        } catch let e as JanssonParseError {
            return e
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JanssonParseError? {
        parseError(Array(text.utf8), file: file, line: line)
    }

    // MARK: - valid documents

    func testNodeNamesShape() throws {
        let doc = try parse(#"{"Pod":{"metadata":{"name":"web-1","namespace":"shop"}},"Nodes":null,"NodeNames":["edge-a","edge-b"]}"#)
        let root = doc.root
        XCTAssertEqual(root.kind, .object)
        XCTAssertEqual(root.count, 3)
        XCTAssertEqual(root["Pod"]?["metadata"]?["name"]?.stringValue, "web-1")
        XCTAssertEqual(root["Pod"]?["metadata"]?["namespace"]?.stringValue, "shop")
        XCTAssertEqual(root["Nodes"]?.kind, .null)
        XCTAssertTrue(root["Nodes"]?.isNull ?? false)
        XCTAssertEqual(try root["NodeNames"]?.stringElements(), ["edge-a", "edge-b"])
        XCTAssertNil(root["Missing"])
        XCTAssertEqual(root.members.map(\.key), ["Pod", "Nodes", "NodeNames"], "document order")
    }

    func testNodesShapeWithEveryScalarKind() throws {
        let doc = try parse("""
            {"Nodes":{"kind":"NodeList","items":[
              {"metadata":{"name":"n1"},"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
               "ratio":0.25,"ready":true,"cordoned":false,"note":null,"big":-9223372036854775808}}]}}
            """)
        let items = try XCTUnwrap(doc.root["Nodes"]?["items"])
        XCTAssertEqual(items.kind, .array)
        XCTAssertEqual(items.count, 1)
        let node = items.elements[0]
        XCTAssertEqual(node["metadata"]?["name"]?.stringValue, "n1")
        let status = try XCTUnwrap(node["status"])
        XCTAssertEqual(status["daemonEndpoints"]?["kubeletEndpoint"]?["Port"]?.integerValue, 10250)
        XCTAssertNil(status["daemonEndpoints"]?["kubeletEndpoint"]?["Port"]?.realValue, "integers are not reals")
        XCTAssertEqual(status["ratio"]?.realValue, 0.25)
        XCTAssertNil(status["ratio"]?.integerValue)
        XCTAssertEqual(status["ready"]?.boolValue, true)
        XCTAssertEqual(status["cordoned"]?.boolValue, false)
        XCTAssertEqual(status["note"]?.kind, .null)
        XCTAssertEqual(status["big"]?.integerValue, Int64.min)
        XCTAssertEqual(status["ratio"]?.kindDescription, "a number")
        XCTAssertEqual(status["ready"]?.kindDescription, "a boolean")
    }

    func testStringsKeepEscapesNULAndNonASCII() throws {
        let doc = try parse(#"["a\u0000b", "tab\tquote\"slash\/", "caf\u00e9 ☕", "\ud83d\ude00"]"#)
        XCTAssertEqual(try doc.root.stringElements(), ["a\u{0}b", "tab\tquote\"slash/", "café ☕", "😀"])
        XCTAssertEqual(doc.root.elements.map { $0.stringValue?.utf8.count }, [3, 16, 9, 4])
    }

    func testValuesOutliveTheDocumentVariable() throws {
        var value: JanssonValue?
        do {
            let doc = try parse(#"{"keep":{"name":"still here"}}"#)
            value = doc.root["keep"]
        }
        XCTAssertEqual(value?["name"]?.stringValue, "still here")
    }

    func testAccessorsOnTheWrongKindAnswerNil() throws {
        let doc = try parse(#"{"s":"x","a":[1],"n":1}"#)
        let s = try XCTUnwrap(doc.root["s"])
        XCTAssertNil(s["anything"])
        XCTAssertEqual(s.count, 0)
        XCTAssertEqual(s.elements.count, 0)
        XCTAssertEqual(s.members.count, 0)
        XCTAssertNil(try s.stringElements())
        XCTAssertNil(s.integerValue)
        XCTAssertNil(s.boolValue)
        XCTAssertNil(doc.root["a"]?.stringValue)
        XCTAssertNil(doc.root["n"]?.stringValue)
    }

    func testStringElementsNamesTheFirstNonString() throws {
        let doc = try parse(#"["a", "b", 3, null]"#)
        XCTAssertThrowsError(try doc.root.stringElements()) { error in
            XCTAssertEqual(error as? JanssonElementError, JanssonElementError(index: 2, found: "a number"))
        }
        XCTAssertThrowsError(try parse(#"[null]"#).root.stringElements()) { error in
            XCTAssertEqual(error as? JanssonElementError, JanssonElementError(index: 0, found: "null"))
        }
    }

    func testScalarTopLevelIsADocument() throws {
        XCTAssertEqual(try parse(#""just a string""#).root.stringValue, "just a string")
        XCTAssertEqual(try parse("null").root.kind, .null)
    }

    func testNestingUpToJanssonsLimit() throws {
        func nested(_ depth: Int) -> String {
            "{\"Pod\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        }
        // 2047 arrays inside the object: 2048 levels, jansson's JSON_PARSER_MAX_DEPTH.
        var v = try XCTUnwrap(parse(nested(2047)).root["Pod"])
        var depth = 1
        while v.count == 1 { v = v.elements[0]; depth += 1 }
        XCTAssertEqual(depth, 2047)
        XCTAssertEqual(parseError(nested(2048)),
                       JanssonParseError(text: "maximum parsing depth reached near '['", line: 1, column: 2055, position: 2055))
    }

    // MARK: - refused input

    func testTruncatedInput() {
        XCTAssertEqual(parseError(#"{"Pod":null,"NodeNames":["a","b""#),
                       JanssonParseError(text: "']' expected near end of file", line: 1, column: 32, position: 32))
        XCTAssertEqual(parseError(#"{"Nodes":{"items":[{"metadata":{"name":"n1"}}]"#),
                       JanssonParseError(text: "'}' expected near end of file", line: 1, column: 46, position: 46))
        XCTAssertEqual(parseError(""), JanssonParseError(text: "unexpected token near end of file", line: 1, column: 0, position: 0))
        XCTAssertEqual(parseError("   "), JanssonParseError(text: "unexpected token near end of file", line: 1, column: 3, position: 3))
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        XCTAssertEqual(parseError("{\n  \"NodeNames\": [\n    \"a\",\n    01\n  ]\n}"),
                       JanssonParseError(text: "invalid token near '0'", line: 4, column: 5, position: 33))
        XCTAssertEqual(parseError(#"{"NodeNames":["a",]}"#),
                       JanssonParseError(text: "unexpected token near ']'", line: 1, column: 19, position: 19))
        XCTAssertEqual(parseError(#"{"NodeNames":[]} x"#),
                       JanssonParseError(text: "end of file expected near 'x'", line: 1, column: 18, position: 18))
        XCTAssertEqual(parseError("{\"NodeNames\":[\"a\tb\"]}"),
                       JanssonParseError(text: "control character 0x9 near '\"a'", line: 1, column: 16, position: 16))
        XCTAssertEqual(parseError(#"{"NodeNames":["a"],"NodeNames":["b"]}"#),
                       JanssonParseError(text: "duplicate object key near '\"NodeNames\"'", line: 1, column: 30, position: 30))
    }

    func testNonUTF8IsRefusedAndTheMessageStaysValidText() throws {
        let e = try XCTUnwrap(parseError(Array(#"{"NodeNames":["a"#.utf8) + [0xFF] + Array(#""]}"#.utf8)))
        XCTAssertEqual(e, JanssonParseError(text: "unable to decode byte 0xff near '\"a'", line: 1, column: 16, position: 16))
        // An overlong encoding of "/" and a UTF-8-encoded surrogate are not UTF-8 either.
        XCTAssertEqual(parseError(Array(#"{"NodeNames":[""#.utf8) + [0xC0, 0xAF] + Array(#""]}"#.utf8))?.text,
                       "unable to decode byte 0xc0 near '\"'")
        XCTAssertEqual(parseError(Array(#"{"NodeNames":[""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""]}"#.utf8))?.text,
                       "unable to decode byte 0xed near '\"'")
        XCTAssertEqual(parseError(#"{"NodeNames":["\ud800"]}"#)?.text, #"invalid Unicode '\uD800' near '"\ud800"'"#)
    }

    func testNumbersOutsideInt64AndDoubleAreRefused() {
        XCTAssertEqual(parseError(#"{"Pod":{"x":99999999999999999999}}"#),
                       JanssonParseError(text: "too big integer near '99999999999999999999'", line: 1, column: 32, position: 32))
        XCTAssertEqual(parseError(#"{"Pod":{"x":1e400}}"#),
                       JanssonParseError(text: "real number overflow near '1e400'", line: 1, column: 17, position: 17))
    }

    func testErrorDescriptionNamesThePosition() {
        XCTAssertEqual(JanssonParseError(text: "unexpected token near ']'", line: 2, column: 7, position: 20).description,
                       "unexpected token near ']' (line 2, column 7)")
    }
}
